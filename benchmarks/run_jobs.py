"""The jobs the run benchmarks launch, importable by the step processes Dagster starts.

- ``daily_pipeline``: the product's daily job, from the code location itself, so its
  steps run with the product's executor (see ``phoenix_assets/defs/executor.py``);
- ``trivial``: Dagster's floor, three one-line assets in a chain with Dagster's
  defaults (multiprocess executor, filesystem IO manager).
"""

import time

import dagster as dg


def daily_pipeline() -> dg.JobDefinition:
    from phoenix_assets.definitions import defs

    return defs.resolve_job_def("daily_pipeline")


@dg.asset
def first() -> int:
    return 1


@dg.asset
def second(first: int) -> int:
    return first + 1


@dg.asset
def third(second: int) -> int:
    return second + 1


def trivial() -> dg.JobDefinition:
    job = dg.define_asset_job("trivial")
    return dg.Definitions(assets=[first, second, third], jobs=[job]).resolve_job_def("trivial")


def timed_run(
    instance: dg.DagsterInstance, job: str, tags: dict[str, str] | None = None
) -> tuple[float, str]:
    """Execute the job named ``job`` here as a real run; its seconds and run id."""
    started = time.perf_counter()
    result = dg.execute_job(dg.reconstructable(globals()[job]), instance, tags=tags)
    seconds = time.perf_counter() - started
    if not result.success:
        raise SystemExit(f"the {job} run {result.run_id} failed; see its event log")
    return seconds, result.run_id
