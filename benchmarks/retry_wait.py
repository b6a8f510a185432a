"""The CPU a run spends while a failing step waits to be retried: the executor's delay
(a ``RetryPolicy`` with a delay) against the product's way (no delay in the policy; the
failing step sleeps its backoff in its own process, ``phoenix_assets.failures``).

Dagster's multiprocess executor busy-waits while a step waits out its policy's delay,
so a core spins for the whole wait. Both runs here use the product's executor (a
forkserver, a process per step) and a step that fails on a transient error three
times (two retries); the figure is the run process's CPU time per second the step
waited (the run's events say how long), an upper bound on its CPU while waiting: all
of the run's CPU is charged to the wait.

    uv run python benchmarks/retry_wait.py   # ~30 s

Target: the product's run process under 10 % of one core; exits 1 otherwise.
"""

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg

sys.path.insert(0, str(Path(__file__).resolve().parent))
from support import machine

from phoenix_assets.defs.executor import executor
from phoenix_assets.failures import STEP_BACKOFF_SECONDS, retry_transient_only
from phoenix_assets.failures import step_retry_policy as product_policy

TARGET_SHARE_OF_A_CORE = 0.10
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}
EXECUTOR = executor().executor


def _fail(context: dg.OpExecutionContext) -> None:
    raise ConnectionResetError(f"the source reset the connection (attempt {context.retry_number})")


def executor_waits_job() -> dg.JobDefinition:
    """Before: the policy's delay (the product's base delay), waited out by the executor."""

    @dg.op(
        retry_policy=dg.RetryPolicy(
            max_retries=2, delay=STEP_BACKOFF_SECONDS, backoff=dg.Backoff.EXPONENTIAL
        )
    )
    def flaky_source(context: dg.OpExecutionContext) -> None:
        _fail(context)

    @dg.job(executor_def=EXECUTOR)
    def executor_waits() -> None:
        flaky_source()

    return executor_waits


def step_sleeps_job() -> dg.JobDefinition:
    """After: the product's policy (no delay) and its step-side backoff."""

    @dg.op(retry_policy=product_policy())
    @retry_transient_only
    def flaky_source(context: dg.OpExecutionContext) -> None:
        _fail(context)

    @dg.job(executor_def=EXECUTOR)
    def step_sleeps() -> None:
        flaky_source()

    return step_sleeps


@dataclass
class Figures:
    label: str
    wall: float
    cpu: float
    waited: float  # the retry waits the run went through, as its events say
    attempts: int

    @property
    def share(self) -> float:
        """CPU seconds per second waited: all the run process's CPU, charged to the wait."""
        return self.cpu / self.waited if self.waited else float("inf")


def measure(label: str, job: Any, instance: dg.DagsterInstance) -> Figures:
    cpu_before, wall_before = time.process_time(), time.perf_counter()
    result = dg.execute_job(job, instance=instance, raise_on_error=False, run_config=QUIET)
    cpu, wall = time.process_time() - cpu_before, time.perf_counter() - wall_before
    assert not result.success, "the step must fail: it raises every time"
    entries = [e for e in instance.all_logs(result.run_id) if e.dagster_event is not None]

    def times(*types: dg.DagsterEventType) -> list[float]:
        return [e.timestamp for e in entries if e.dagster_event_type in types]

    retries = [
        e.get_dagster_event().step_retry_data
        for e in entries
        if e.dagster_event_type == dg.DagsterEventType.STEP_UP_FOR_RETRY
    ]
    executor_waited = sum(r.seconds_to_wait or 0 for r in retries)
    # The product's step sleeps before it fails: from each attempt's start to its end.
    starts = times(dg.DagsterEventType.STEP_START, dg.DagsterEventType.STEP_RESTARTED)
    ends = times(dg.DagsterEventType.STEP_UP_FOR_RETRY, dg.DagsterEventType.STEP_FAILURE)
    in_step = sum(end - start for start, end in zip(starts, ends, strict=True))
    return Figures(label, wall, cpu, executor_waited + in_step, len(retries) + 1)


def main() -> int:
    argparse.ArgumentParser(description=__doc__.splitlines()[0]).parse_args()
    print(f"machine: {machine()}")
    print(
        "a step failing 3 times on a transient error (2 retries); "
        f"base delay {STEP_BACKOFF_SECONDS:g} s"
    )
    with dg.instance_for_test() as instance:
        # Start the forkserver first, so neither measured run pays for it.
        measure("warm-up", dg.reconstructable(step_sleeps_job), instance)
        before = measure(
            "executor waits (RetryPolicy delay)", dg.reconstructable(executor_waits_job), instance
        )
        after = measure("step sleeps (product)", dg.reconstructable(step_sleeps_job), instance)
    print(
        f"{'run':<36} {'attempts':>8} {'waited s':>9} {'wall s':>7} {'CPU s':>6} {'CPU/waited':>10}"
    )
    for f in (before, after):
        print(
            f"{f.label:<36} {f.attempts:>8} {f.waited:>9.1f} {f.wall:>7.1f} {f.cpu:>6.2f} "
            f"{f.share:>10.1%}"
        )
    ratio = after.share / before.share if before.share else float("inf")
    ok = after.share < TARGET_SHARE_OF_A_CORE
    print(
        f"run process CPU while waiting: {after.share:.1%} of a core vs {before.share:.1%} "
        f"({ratio:.2f}x)  {'ok' if ok else 'MISSED'} (target < {TARGET_SHARE_OF_A_CORE:.0%})"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
