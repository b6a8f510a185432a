"""How long does the README's main job take a new user?

Runs ``phoenix-assets run --day DAY`` exactly as the README's quick start does (the
embedded defaults: no ``MONGODB_URI``, the demo source, the ten default ZIPs), in a
fresh ``DAGSTER_HOME`` whose embedded MongoDB starts empty, as a child process. ``DAY``
is pinned (2026-12-04) so every run does the same work: an 18-day single-run backfill
(2026-11-16 to 12-03), the day, and the weekly trends of 11-16 and 11-23. Printed: each
run's time as the command reports it and the pipeline time (their sum, its "Done in"),
against the target of 60 s; the wall clock (start-up, the embedded server, the summary
printed) is printed too. Exit 1 when the pipeline time is over the target.

    uv run python benchmarks/first_run.py
    uv run python benchmarks/first_run.py --repeats 3    # the median of three
    uv run python benchmarks/first_run.py --show-output  # and what the command printed
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

from support import machine, median, verdict

TARGET_SECONDS = 60.0
DAY = "2026-12-04"
_RUN_LINE = re.compile(r"^\s+(?P<label>.+): (?P<outcome>ok|FAILED) in (?P<seconds>[\d.]+)s")
_DONE = re.compile(r"Done in (?P<seconds>[\d.]+)s")


def first_run() -> tuple[float, float, list[tuple[str, float]], str]:
    """(pipeline seconds, wall-clock seconds, each run's label and seconds, the output)."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("MONGODB_", "PHOENIX_", "DAGSTER_"))
    }
    with tempfile.TemporaryDirectory(prefix="phoenix-first-run-") as home:
        env["DAGSTER_HOME"] = home
        started = time.perf_counter()
        done = subprocess.run(
            ["phoenix-assets", "run", "--day", DAY],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        wall = time.perf_counter() - started
        subprocess.run(["phoenix-assets", "mongo", "stop"], env=env, capture_output=True)
    output = done.stdout + done.stderr
    runs = [
        (match["label"], float(match["seconds"]))
        for match in map(_RUN_LINE.match, output.splitlines())
        if match and match["outcome"] == "ok"
    ]
    total = _DONE.search(output)
    if done.returncode != 0 or total is None or "FAILED" in output:
        raise SystemExit(f"phoenix-assets run failed:\n{output[-3000:]}")
    return float(total["seconds"]), wall, runs, done.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument(
        "--show-output",
        action="store_true",
        help="print what the command printed (document counts, the metro's figures)",
    )
    args = parser.parse_args(argv)
    print(f"Machine: {machine()}")
    print(f"phoenix-assets run --day {DAY}, embedded defaults, fresh DAGSTER_HOME each time")
    totals = []
    for attempt in range(1, args.repeats + 1):
        total, wall, runs, output = first_run()
        totals.append(total)
        print(f"run {attempt}: pipeline {total:.1f}s, wall clock {wall:.1f}s")
        for label, seconds in runs:
            print(f"  {label:50} {seconds:6.1f}s")
        if args.show_output:
            print(output)
    pipeline = median(totals)
    print(
        f"pipeline time (median of {len(totals)}): {pipeline:.1f}s / {TARGET_SECONDS:.0f}s = "
        f"{pipeline / TARGET_SECONDS:.2f}x  {verdict(pipeline / TARGET_SECONDS, 1.0)}"
    )
    return 0 if pipeline <= TARGET_SECONDS else 1


if __name__ == "__main__":
    sys.exit(main())
