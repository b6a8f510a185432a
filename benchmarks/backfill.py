"""What does catching up on 30 missed days cost, against one day?

The missed-day sensor repairs a gap as one backfill run over the range (every daily
asset has ``BackfillPolicy.single_run()``). On a fresh ``DAGSTER_HOME`` and a fresh
MongoDB database per measurement, as real Dagster runs (``execute_job``, steps in their
own processes), this times:

- one day of ``daily_pipeline`` (demo source, ten default ZIPs);
- the same job over 30 days as one run (the partition-range tags a backfill sets).

Target: 30 days <= 5x one day. Each step's time is printed so the per-day cost is
visible, and the projected figure is split into a fixed part and a per-day part.

    uv run python benchmarks/backfill.py
    uv run python benchmarks/backfill.py --days 30 --mongo-uri mongodb://localhost:27017
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
    mongo_uri,
    prepare_run_environment,
    print_steps,
    server_name,
    step_times,
)
from support import verdict as judge

TARGET = 5.0
LAST_DAY = dt.date(2026, 11, 15)


def run(instance: dg.DagsterInstance, tags: dict[str, str], uri: str) -> tuple[float, str]:
    # Every measurement writes into an empty database, as a first backfill does. One
    # database name throughout: the run's forkserver keeps the environment it started
    # with for as long as this process lives.
    from pymongo import MongoClient

    with MongoClient(uri) as client:
        client.drop_database(os.environ["MONGODB_DATABASE"])
    return timed_run(instance, "daily_pipeline", tags)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--mongo-uri", help="a real MongoDB (default: embedded server)")
    args = parser.parse_args(argv)
    prepare_run_environment(os.environ)
    first = LAST_DAY - dt.timedelta(days=args.days - 1)
    range_tags = {
        "dagster/asset_partition_range_start": first.isoformat(),
        "dagster/asset_partition_range_end": LAST_DAY.isoformat(),
    }
    database = os.environ["MONGODB_DATABASE"] = f"bench_backfill_{os.getpid()}"
    one_day_tags = {"dagster/partition": LAST_DAY.isoformat()}
    with mongo_uri(args.mongo_uri) as uri, dagster_home():
        os.environ["MONGODB_URI"] = uri
        with dg.DagsterInstance.get() as instance:
            run(instance, one_day_tags, uri)  # warm-up: instance storage, indexes
            one_day, one_run = run(instance, one_day_tags, uri)
            many_days, many_run = run(instance, range_tags, uri)
            one_steps = step_times(instance, one_run)
            many_steps = step_times(instance, many_run)
        from pymongo import MongoClient

        with MongoClient(uri) as client:
            snapshots = client[database]["property_snapshots"].count_documents({})
            client.drop_database(database)
        name = server_name(uri, args.mongo_uri)

    ratio = many_days / one_day
    per_day = (many_days - one_day) / (args.days - 1)
    print(f"Machine: {machine()}")
    print(f"Server: {name}; {snapshots} properties over {args.days} days")
    print(f"one day:                  {one_day:7.1f}s")
    print(f"{args.days} days as one run:      {many_days:7.1f}s")
    print(f"{args.days} days / one day = {ratio:.2f}x  {judge(ratio, TARGET)}")
    print(
        f"{args.days} runs of one day would take ~{args.days * one_day:.0f}s: one run saves "
        f"{1 - many_days / (args.days * one_day):.0%}"
    )
    print(
        f"each extra day costs {per_day:.2f}s; the fixed part of a run is ~{one_day - per_day:.1f}s"
    )
    print("Steps of the one-day run:")
    print_steps(one_steps)
    print(f"Steps of the {args.days}-day run:")
    print_steps(many_steps)
    return 0 if ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
