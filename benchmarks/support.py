"""What the benchmarks share: a MongoDB to measure against, the machine's description,
and robust timing (the median of interleaved repeats)."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def mongo_uri(uri: str | None) -> Iterator[str]:
    """``uri`` if given (a real MongoDB), else a fresh embedded server in a temp dir."""
    if uri:
        yield uri
        return
    from phoenix_assets.storage.embedded_mongo import (
        ensure_embedded_server,
        stop_embedded_server,
    )

    with tempfile.TemporaryDirectory(prefix="phoenix-bench-mongo-") as state:
        server = ensure_embedded_server(Path(state))
        try:
            yield server.uri
        finally:
            stop_embedded_server(Path(state))


def server_name(uri: str, given: str | None) -> str:
    if given:
        from phoenix_assets.settings import mask_uri

        return f"MongoDB at {mask_uri(uri)}"
    import importlib.metadata as md

    return f"embedded nx-27017 {md.version('nx-27017')} (SQLite)"


def machine() -> str:
    """One line: cores, CPU model, memory, OS, Python."""
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = ""
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f", {kib / 1024**2:.0f} GiB RAM"
    return (
        f"{os.cpu_count()} cores ({model or platform.processor() or 'unknown CPU'}){memory}, "
        f"{platform.system()} {platform.release()} {platform.machine()}, "
        f"Python {sys.version.split()[0]}"
    )


def interleaved_medians(
    cases: dict[str, Callable[[], None]],
    repeats: int,
    *,
    before_each: Callable[[str], None] | None = None,
) -> dict[str, list[float]]:
    """Run every case ``repeats`` times, interleaved (A B C A B C ...), so a noisy
    neighbour slows all of them alike; returns each case's timings in seconds."""
    timings: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, case in cases.items():
            if before_each is not None:
                before_each(name)
            started = time.perf_counter()
            case()
            timings[name].append(time.perf_counter() - started)
    return timings


def median(values: list[float]) -> float:
    return statistics.median(values)


def verdict(ratio: float, target: float) -> str:
    return f"ok (target <= {target:g}x)" if ratio <= target else f"MISSED (target <= {target:g}x)"


# -- Dagster runs -------------------------------------------------------------------
def prepare_run_environment(env: dict[str, str] | os._Environ[str]) -> None:
    """Let step processes import ``run_jobs`` from here, and keep automation off.

    Set it before the first run: the run's forkserver keeps the environment it started
    with for as long as the process that started it lives."""
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")])
    )
    env["PHOENIX_AUTOMATION"] = "off"


@contextlib.contextmanager
def dagster_home() -> Iterator[Path]:
    """A fresh ``DAGSTER_HOME`` with the project's instance config, set in the environment."""
    project = Path(__file__).resolve().parents[1]
    previous = os.environ.get("DAGSTER_HOME")
    with tempfile.TemporaryDirectory(prefix="phoenix-bench-home-") as home:
        (Path(home) / "dagster.yaml").write_text((project / "dagster.yaml").read_text())
        os.environ["DAGSTER_HOME"] = home
        try:
            yield Path(home)
        finally:
            if previous is None:
                os.environ.pop("DAGSTER_HOME", None)
            else:
                os.environ["DAGSTER_HOME"] = previous


def step_times(instance: object, run_id: str) -> dict[str, tuple[float, float, float]]:
    """Per step: (start offset from the run's start, process start-up s, body s)."""
    from dagster import DagsterInstance

    assert isinstance(instance, DagsterInstance)
    marks: dict[str, dict[str, float]] = {}
    run_start = None
    for record in instance.all_logs(run_id):
        event = record.dagster_event
        if event is None:
            continue
        if event.event_type_value == "PIPELINE_START":
            run_start = record.timestamp
        if record.step_key and event.event_type_value in (
            "STEP_WORKER_STARTING",
            "STEP_START",
            "STEP_SUCCESS",
            "STEP_FAILURE",
        ):
            marks.setdefault(record.step_key, {})[event.event_type_value] = record.timestamp
    origin = run_start or min(m.get("STEP_START", 0.0) for m in marks.values())
    times = {}
    for step, mark in marks.items():
        started = mark.get("STEP_WORKER_STARTING", mark.get("STEP_START", origin))
        body_start = mark.get("STEP_START", started)
        end = mark.get("STEP_SUCCESS", mark.get("STEP_FAILURE", body_start))
        times[step] = (started - origin, body_start - started, end - body_start)
    return times


def print_steps(times: dict[str, tuple[float, float, float]]) -> None:
    print(f"  {'step':34} {'starts at s':>11} {'start-up s':>10} {'work s':>7}")
    for step, (offset, startup, body) in sorted(times.items(), key=lambda item: item[1][0]):
        print(f"  {step:34} {offset:11.1f} {startup:10.2f} {body:7.2f}")
