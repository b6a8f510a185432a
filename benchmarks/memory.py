"""How much memory does a daily run of ~50,000 listings take?

Runs one day of ``daily_pipeline`` on the demo source with ``PHOENIX_DEMO_SCALE`` set so
the ten default ZIPs give ~50,000 listings, as a real Dagster run in a child process (the
run worker; its steps fork from the run's forkserver), after an unmeasured run of the day
before, so the measured day reads a stored previous day as every daily run does. While
it runs, the whole process tree is sampled every 0.1 s; afterwards each step process is
named from the run's event log. Printed:

- the peak RSS of every step process (and of the run worker and the forkserver), the
  largest of which is judged (target <= 300 MB): each step is a process of its own, so
  this is what one step needs;
- the peak of the tree's summed PSS (shared pages split between the processes that
  share them), what the whole run takes from the machine at its worst moment (target
  <= 500 MB), and each process's PSS at that moment.

    uv run python benchmarks/memory.py
    uv run python benchmarks/memory.py --listings 50000 --mongo-uri mongodb://localhost:27017
    uv run python benchmarks/memory.py --listings 2300 --range-days 30   # a month's backfill
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import time

import psutil
from support import dagster_home, machine, mongo_uri, prepare_run_environment, server_name

from phoenix_assets.settings import DEFAULT_ZIP_CODES
from phoenix_assets.sources.demo import demo_listings

TARGET_MB = 300
# The whole run: the sum of its processes' PSS.
RUN_TARGET_MB = 500
DAY = "2026-11-17"
MB = 1024 * 1024
# The run worker: one run of the daily job for a day, printing its run id.
# The run worker: one run of the daily job for a day or a range ("first..last"),
# printing its run id.
RUN_WORKER = """
import sys, dagster as dg, run_jobs
first, _, last = sys.argv[1].partition("..")
tags = ({"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
        if last else {"dagster/partition": first})
with dg.DagsterInstance.get() as instance:
    result = dg.execute_job(dg.reconstructable(run_jobs.daily_pipeline), instance, tags=tags)
    print(result.run_id, result.success)
"""


def scale_for(listings: int) -> tuple[float, int]:
    """The demo scale giving at least ``listings`` listings on DAY, and the count."""
    day = dt.date.fromisoformat(DAY)

    def count(scale: float) -> int:
        return sum(len(demo_listings(z, day, scale=scale)) for z in DEFAULT_ZIP_CODES)

    scale = 1.0
    found = count(scale)
    while found < listings:
        scale = round(scale * listings / found + 0.5, 1)
        found = count(scale)
    return scale, found


def sample_tree(
    root: psutil.Process, peaks: dict[int, float], pss_peak: list[float], at_peak: dict[int, float]
) -> None:
    """One sample: each process's RSS peak; the tree's PSS sum, and when it is the
    largest yet, each process's PSS at that moment (``at_peak``)."""
    total = 0.0
    pss: dict[int, float] = {}
    for process in [root, *root.children(recursive=True)]:
        try:
            info = process.memory_full_info()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        peaks[process.pid] = max(peaks.get(process.pid, 0.0), info.rss)
        pss[process.pid] = getattr(info, "pss", info.rss)
        total += pss[process.pid]
    if total > pss_peak[0]:
        pss_peak[0] = total
        at_peak.clear()
        at_peak.update(pss)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listings", type=int, default=50_000)
    parser.add_argument("--mongo-uri", help="a real MongoDB (default: embedded server)")
    parser.add_argument(
        "--range-days",
        type=int,
        default=1,
        help="measure a single-run backfill of this many days ending on the day",
    )
    args = parser.parse_args(argv)
    first = dt.date.fromisoformat(DAY) - dt.timedelta(days=args.range_days - 1)
    measured = DAY if args.range_days == 1 else f"{first}..{DAY}"
    previous = (first - dt.timedelta(days=1)).isoformat()
    scale, listings = scale_for(args.listings)
    env = dict(os.environ)
    prepare_run_environment(env)
    env.update(
        PHOENIX_DEMO_SCALE=str(scale),
        MONGODB_DATABASE=f"bench_memory_{os.getpid()}",
    )
    peaks: dict[int, float] = {}
    pss_peak = [0.0]
    at_peak: dict[int, float] = {}
    with mongo_uri(args.mongo_uri) as uri, dagster_home() as home:
        env.update(MONGODB_URI=uri, DAGSTER_HOME=str(home))
        # The day before first, unmeasured: a daily run reads the previous day's snapshot.
        subprocess.run(
            [sys.executable, "-c", RUN_WORKER, previous],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        started = time.perf_counter()
        worker = subprocess.Popen(
            [sys.executable, "-c", RUN_WORKER, measured],
            env=env,
            stdout=subprocess.PIPE,
            text=True,
        )
        root = psutil.Process(worker.pid)
        while worker.poll() is None:
            sample_tree(root, peaks, pss_peak, at_peak)
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        output = (worker.stdout.read() if worker.stdout else "").split()
        if worker.returncode != 0 or len(output) < 2 or output[-1] != "True":
            raise SystemExit(f"the run failed (exit {worker.returncode}): {output}")
        run_id = output[-2]
        os.environ["DAGSTER_HOME"] = str(home)
        import dagster as dg

        with dg.DagsterInstance.get() as instance:
            step_of_pid = {
                record.dagster_event.pid: record.step_key
                for record in instance.all_logs(run_id)
                if record.step_key and record.dagster_event and record.dagster_event.is_step_start
            }
        from pymongo import MongoClient

        with MongoClient(uri) as client:
            db = client[env["MONGODB_DATABASE"]]
            snapshots = db["property_snapshots"].count_documents(
                {"partition_key": {"$gte": first.isoformat(), "$lte": DAY}}
            )
            client.drop_database(env["MONGODB_DATABASE"])
        name = server_name(uri, args.mongo_uri)

    def label_of(pid: int) -> str:
        label = step_of_pid.get(pid)
        if label is None:
            label = "run worker" if pid == worker.pid else "forkserver / helper process"
        return label

    rows = [(rss, label_of(pid), pid) for pid, rss in peaks.items()]
    rows.sort(reverse=True)
    steps = [row for row in rows if row[1] in step_of_pid.values()]
    largest = steps[0] if steps else rows[0]
    print(f"Machine: {machine()}")
    print(
        f"Server: {name}; PHOENIX_DEMO_SCALE={scale}: {listings} listings on {DAY}; "
        f"{'one day' if args.range_days == 1 else f'{args.range_days} days as one run'}, "
        f"{snapshots} snapshot documents; run took {seconds:.0f}s"
    )
    print(f"{'process':36} {'peak RSS MB':>11}")
    small = [row for row in rows if row[0] < 20 * MB]
    for rss, label, _ in rows:
        if rss >= 20 * MB:
            print(f"{label:36} {rss / MB:11.0f}")
    if small:
        print(f"({len(small)} short-lived helper processes under 20 MB each)")
    verdict = "ok" if largest[0] / MB <= TARGET_MB else "MISSED"
    print(
        f"largest step: {largest[1]} {largest[0] / MB:.0f} MB  {verdict} (target <= {TARGET_MB} MB)"
    )
    run_verdict = "ok" if pss_peak[0] / MB <= RUN_TARGET_MB else "MISSED"
    print(
        f"whole run at its peak (sum of PSS over the process tree): {pss_peak[0] / MB:.0f} MB  "
        f"{run_verdict} (target <= {RUN_TARGET_MB} MB)"
    )
    alive = sorted(
        ((pss, label_of(pid)) for pid, pss in at_peak.items() if pss >= 20 * MB), reverse=True
    )
    print("  at that moment: " + ", ".join(f"{label} {pss / MB:.0f}" for pss, label in alive))
    return 0 if verdict == run_verdict == "ok" else 1


if __name__ == "__main__":
    sys.exit(main())
