"""How long does a day take, against what any Dagster run costs on this machine?

In one process, on a fresh ``DAGSTER_HOME`` (the project's instance config) and a fresh
MongoDB, runs as real Dagster runs (``execute_job``: the run's steps in their own
processes, as a launched run executes them):

- the floor: a trivial 3-asset job with Dagster's defaults (``run_jobs.trivial``);
- the product's ``daily_pipeline`` for one day on the demo source with the ten default
  ZIPs (~2,800 listings): three sources, snapshots, two check steps, events, the
  market summary and the day's report.

One warm-up run of each, then ``--repeats`` interleaved pairs (each daily run on the next
day, so every day has the day before it, as in production); medians are compared
(target: daily <= 2x the floor) and the median daily run's steps are broken down.

    uv run python benchmarks/daily_run.py
    uv run python benchmarks/daily_run.py --mongo-uri mongodb://localhost:27017
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

import dagster as dg
from run_jobs import timed_run
from support import (
    dagster_home,
    machine,
    median,
    mongo_uri,
    prepare_run_environment,
    print_steps,
    server_name,
    step_times,
)
from support import verdict as judge

TARGET = 2.0
FIRST_DAY = dt.date(2026, 11, 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--mongo-uri", help="a real MongoDB (default: embedded server)")
    args = parser.parse_args(argv)
    prepare_run_environment(os.environ)  # and MONGODB_DATABASE is set once, below
    days = [(FIRST_DAY + dt.timedelta(days=n)).isoformat() for n in range(args.repeats + 1)]
    floor: list[float] = []
    daily: list[tuple[float, str]] = []
    with mongo_uri(args.mongo_uri) as uri, dagster_home():
        os.environ["MONGODB_URI"] = uri
        os.environ["MONGODB_DATABASE"] = f"bench_daily_{os.getpid()}"
        with dg.DagsterInstance.get() as instance:
            timed_run(instance, "trivial")  # warm-up: instance storage, imports
            timed_run(instance, "daily_pipeline", {"dagster/partition": days[0]})
            for day in days[1:]:
                floor.append(timed_run(instance, "trivial")[0])
                daily.append(timed_run(instance, "daily_pipeline", {"dagster/partition": day}))
            daily_median = median([seconds for seconds, _ in daily])
            typical = min(daily, key=lambda run: abs(run[0] - daily_median))
            steps = step_times(instance, typical[1])
        from pymongo import MongoClient

        with MongoClient(uri) as client:
            snapshots = client[os.environ["MONGODB_DATABASE"]]["property_snapshots"]
            per_day = snapshots.count_documents({"partition_key": days[-1]})
            client.drop_database(os.environ["MONGODB_DATABASE"])
        name = server_name(uri, args.mongo_uri)

    floor_median = median(floor)
    ratio = daily_median / floor_median
    print(f"Machine: {machine()}")
    print(f"Server: {name}; {per_day} properties a day; {args.repeats} interleaved pairs")
    print(f"{'run':38} {'median s':>9} {'runs s':>24}")
    print(f"{'floor: trivial 3-asset job':38} {floor_median:9.1f} {_list(floor):>24}")
    print(
        f"{'daily_pipeline, one day, 10 ZIPs':38} {daily_median:9.1f} "
        f"{_list([s for s, _ in daily]):>24}"
    )
    print(f"daily / floor = {ratio:.2f}x  {judge(ratio, TARGET)}")
    print(f"Steps of the median daily run ({typical[0]:.1f}s):")
    print_steps(steps)
    return 0 if ratio <= TARGET else 1


def _list(values: list[float]) -> str:
    return " ".join(f"{value:.1f}" for value in values)


if __name__ == "__main__":
    sys.exit(main())
