"""What does catching up on 30 missed days cost, against one day?

The missed-day sensor repairs a gap as one backfill run over the range (every daily
asset has ``BackfillPolicy.single_run()``). On a fresh ``DAGSTER_HOME`` and a fresh
MongoDB database per measurement, as real Dagster runs (``execute_job``, steps in their
own processes), this times:

- one day of ``daily_pipeline`` (demo source, ten default ZIPs);
- the same job over 30 days as one run (the partition-range tags a backfill sets).

Target: 30 days <= 5x one day. Each step's time is printed so the per-day cost is
visible, and the projected figure is split into a fixed part and a per-day part.

Second target: each extra day of the range run costs <= 1.5x the storage
floor of a day, measured in the same run on the same server: one day of the range (its
middle one) has its documents copied out of every collection (everything the day wrote:
raw listings, snapshots, events, summary, report, quarantine, manifest entries), then
a plain ``insert_many`` of them into a scratch database and a plain ``find`` of what the
day must read once (its raw listings, its snapshots, its summary), three times, median.

Beside the wall clock, the machine's busy CPU time (all cores, from ``/proc/stat``) and
the database server's own CPU time (when it runs on this machine) are taken over each
run, so an extra day's CPU work is printed too. Divided by the cores, it is the least
wall time any schedule of that work could take: when that bound is already above 1.5x
the floor, only doing less work a day can reach the target, not overlapping it better.
The server's CPU for an extra day, set against its CPU for the floor's insert and find,
is how much more a day asks of the server than the floor does.

    uv run python benchmarks/backfill.py
    uv run python benchmarks/backfill.py --days 30 --mongo-uri mongodb://localhost:27017
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time

import dagster as dg
import psutil
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

TARGET = 5.0
FLOOR_TARGET = 1.5
FLOOR_REPEATS = 3
LAST_DAY = dt.date(2026, 11, 15)
# What a day must read once: its raw feed (by the snapshots), its snapshots (by the
# events and the summary), its summary (by the report).
READ_ONCE = ("raw_demo_listings", "property_snapshots", "daily_market_summary")


class CpuUse:
    """CPU seconds used between ``start`` and ``stop``: the whole machine's busy time
    (user, nice, system, interrupts; every core) and the database server's own, when it
    is a process on this machine."""

    def __init__(self, uri: str) -> None:
        from pymongo import MongoClient

        with MongoClient(uri) as client:
            pid = client.admin.command("serverStatus").get("pid")
        try:
            self.server: psutil.Process | None = psutil.Process(int(pid)) if pid else None
        except (psutil.Error, ValueError):
            self.server = None  # a remote server: only the machine's total is known

    @staticmethod
    def _machine() -> float:
        times = psutil.cpu_times()
        return float(times.user + times.nice + times.system + times.irq + times.softirq)

    def _server(self) -> float:
        if self.server is None:
            return 0.0
        times = self.server.cpu_times()
        return float(times.user + times.system)

    def start(self) -> None:
        self._started = (self._machine(), self._server())

    def stop(self) -> tuple[float, float]:
        """(machine busy s, server s) since ``start``."""
        return self._machine() - self._started[0], self._server() - self._started[1]


def run(
    instance: dg.DagsterInstance, tags: dict[str, str], uri: str, cpu: CpuUse
) -> tuple[float, str, tuple[float, float]]:
    """One run of the daily job into an empty database: (seconds, run id, CPU used)."""
    # Every measurement writes into an empty database, as a first backfill does. One
    # database name throughout: the run's forkserver keeps the environment it started
    # with for as long as this process lives.
    from pymongo import MongoClient

    with MongoClient(uri) as client:
        client.drop_database(os.environ["MONGODB_DATABASE"])
    cpu.start()
    seconds, run_id = timed_run(instance, "daily_pipeline", tags)
    return seconds, run_id, cpu.stop()


def storage_floor(
    uri: str, database: str, day: str, cpu: CpuUse
) -> tuple[float, float, int, int, float]:
    """The plain-driver cost of ``day``'s storage: (insert s, find s, documents written,
    documents read, the server's CPU s), each the median of ``FLOOR_REPEATS``, into a
    scratch database."""
    from pymongo import MongoClient

    with MongoClient(uri) as client:
        source = client[database]
        written = {
            name: list(source[name].find({"partition_key": day}))
            for name in sorted(source.list_collection_names())
        }
        written = {name: documents for name, documents in written.items() if documents}
        scratch_name = f"{database}_floor"
        scratch = client[scratch_name]
        inserts: list[float] = []
        finds: list[float] = []
        server: list[float] = []
        for _ in range(FLOOR_REPEATS):
            client.drop_database(scratch_name)
            cpu.start()
            started = time.perf_counter()
            for name, documents in written.items():
                scratch[name].insert_many(documents)
            inserts.append(time.perf_counter() - started)
            started = time.perf_counter()
            read = sum(len(list(scratch[name].find({"partition_key": day}))) for name in READ_ONCE)
            finds.append(time.perf_counter() - started)
            server.append(cpu.stop()[1])
        client.drop_database(scratch_name)
    return (
        median(inserts),
        median(finds),
        sum(map(len, written.values())),
        read,
        median(server),
    )


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
        cpu = CpuUse(uri)
        with dg.DagsterInstance.get() as instance:
            run(instance, one_day_tags, uri, cpu)  # warm-up: instance storage, indexes
            one_day, one_run, one_cpu = run(instance, one_day_tags, uri, cpu)
            many_days, many_run, many_cpu = run(instance, range_tags, uri, cpu)
            one_steps = step_times(instance, one_run)
            many_steps = step_times(instance, many_run)
        floor_day = (first + (LAST_DAY - first) / 2).isoformat()
        insert_s, find_s, floor_written, floor_read, floor_server = storage_floor(
            uri, database, floor_day, cpu
        )
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
    floor = insert_s + find_s
    floor_ratio = per_day / floor
    print(
        f"storage floor of {floor_day}: insert_many of the {floor_written} documents it writes "
        f"{insert_s:.2f}s + find of the {floor_read} it reads once {find_s:.2f}s = {floor:.2f}s"
    )
    print(
        f"each extra day costs {per_day:.2f}s / floor {floor:.2f}s = {floor_ratio:.2f}x  "
        f"{judge(floor_ratio, FLOOR_TARGET)}"
    )
    cores = os.cpu_count() or 1
    per_extra_day = [
        (many - one) / (args.days - 1) for many, one in zip(many_cpu, one_cpu, strict=True)
    ]
    day_cpu, day_server = per_extra_day
    bound = day_cpu / cores
    print(
        f"each extra day uses {day_cpu:.2f} CPU-s of the machine: on {cores} cores no "
        f"schedule takes less than {bound:.2f}s a day = {bound / floor:.2f}x the floor"
    )
    if cpu.server:
        print(
            f"the database server's own CPU: {day_server:.2f}s an extra day, "
            f"{floor_server:.2f}s for the floor's insert and find"
        )
    print("Steps of the one-day run:")
    print_steps(one_steps)
    print(f"Steps of the {args.days}-day run:")
    print_steps(many_steps)
    return 0 if ratio <= TARGET and floor_ratio <= FLOOR_TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
