"""Which MongoDB commands does a day of a range run send, and how long do they take?

Runs ``daily_pipeline`` over a range of days in this process (the in-process executor,
so one PyMongo command listener sees every step's commands), after an unmeasured day
before it, on the demo source and the ten default ZIPs, into an empty database. Prints
the round-trip time of each kind of command (name, collection, filter fields) per day of
the range, the largest first, and the total against the range's wall time: where a day
waits on the server, and which reads and writes go beyond the storage floor that
``backfill.py`` measures (each document written once, read once).

    uv run python benchmarks/day_commands.py             # 10 days, ~1 min
    uv run python benchmarks/day_commands.py --days 30 --mongo-uri mongodb://localhost:27017
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import time
from collections import defaultdict
from typing import Any

from pymongo import monitoring
from support import dagster_home, machine, mongo_uri, prepare_run_environment, server_name

LAST_DAY = dt.date(2026, 11, 15)
# A command's kind: its name, its collection and the fields its filter names.
Kind = tuple[str, str, str]


def _filter_fields(name: str, command: dict[str, Any]) -> str:
    if name == "find":
        found = command.get("filter")
    elif name in ("delete", "update"):
        found = (command.get(f"{name}s") or [{}])[0].get("q")
    elif name in ("count", "distinct"):
        found = command.get("query")
    elif name == "aggregate":
        return ",".join(next(iter(stage)) for stage in command.get("pipeline", []))
    else:
        return ""
    return ",".join(sorted(found)) if isinstance(found, dict) else ""


class CommandTimes(monitoring.CommandListener):
    """Per kind of command: how many, and their summed round-trip seconds."""

    def __init__(self) -> None:
        self.times: dict[Kind, list[float]] = defaultdict(lambda: [0, 0.0])
        self._kinds: dict[int, Kind] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        command = event.command
        name = event.command_name
        collection = command.get("collection") if name == "getMore" else command.get(name)
        self._kinds[event.request_id] = (
            name,
            collection if isinstance(collection, str) else "",
            _filter_fields(name, command),
        )

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        kind = self._kinds.pop(event.request_id, (event.command_name, "", ""))
        self.times[kind][0] += 1
        self.times[kind][1] += event.duration_micros / 1e6

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        self._kinds.pop(event.request_id, None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10)
    parser.add_argument("--mongo-uri", help="a real MongoDB (default: embedded server)")
    args = parser.parse_args(argv)
    listener = CommandTimes()
    monitoring.register(listener)  # before any client exists, so every client has it
    prepare_run_environment(os.environ)
    os.environ["MONGODB_DATABASE"] = f"bench_day_commands_{os.getpid()}"
    first = LAST_DAY - dt.timedelta(days=args.days - 1)
    import dagster as dg

    with mongo_uri(args.mongo_uri) as uri, dagster_home():
        os.environ["MONGODB_URI"] = uri
        from phoenix_assets.definitions import defs

        job = defs.resolve_job_def("daily_pipeline")
        with dg.DagsterInstance.get() as instance:
            before = (first - dt.timedelta(days=1)).isoformat()
            job.execute_in_process(instance=instance, tags={"dagster/partition": before})
            listener.times.clear()
            started = time.perf_counter()
            job.execute_in_process(
                instance=instance,
                tags={
                    "dagster/asset_partition_range_start": first.isoformat(),
                    "dagster/asset_partition_range_end": LAST_DAY.isoformat(),
                },
            )
            wall = time.perf_counter() - started
        from pymongo import MongoClient

        with MongoClient(uri) as client:
            client.drop_database(os.environ["MONGODB_DATABASE"])
        name = server_name(uri, args.mongo_uri)

    total = sum(seconds for _, seconds in listener.times.values())
    print(f"Machine: {machine()}")
    print(f"Server: {name}; {args.days} days as one run, in process: {wall:.1f}s")
    print(
        f"round trips: {total:.2f}s = {total / args.days:.3f}s a day, "
        f"{total / wall:.0%} of the run's wall time"
    )
    print(f"  {'command':14} {'collection':26} {'filter':28} {'count':>6} {'s/day':>7}")
    ranked = sorted(listener.times.items(), key=lambda item: -item[1][1])
    for (command, collection, fields), (count, seconds) in ranked[:25]:
        print(
            f"  {command:14} {collection:26} {fields[:28]:28} {int(count):6d} "
            f"{seconds / args.days:7.3f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
