"""How a run executes its steps: each in its own process, forked from a server process
that has already imported the code location and the instance's storage.

Dagster's default starts every step in a fresh interpreter that imports Dagster, pandas,
PyMongo, the code location and the instance's storage (SQLAlchemy, Alembic) again:
4-8 s a step on two cores, more than most steps' own work. A ``forkserver`` that
preloads them once per run makes that a fork (~0.5 s), and each step still runs in its
own process, so a crash or an out-of-memory kill takes down one step, never the run
worker. Measured in ``benchmarks/daily_run.py``.

The steps that hold a day's data (the snapshots, the summary, the events, the report)
run one at a time: two of them side by side on top of the run worker and the forkserver
took a 50,000-listing day past 500 MB (``benchmarks/memory.py``). They wait on one
another anyway: the snapshots feed the other three.

The forkserver lives as long as the process that started it, and its steps see the
environment it started with: right for a run worker, which executes one run and exits;
a process that executes several runs (a benchmark) must not change settings between them.
"""

import dagster as dg

PRELOADED_MODULES = ["phoenix_assets.step_preload"]
# The three sources wait on their APIs, not on the CPU: let them all run at once.
MAX_CONCURRENT_STEPS = 4
# Op tag of the steps that hold a day's data in memory; at most one runs at a time.
HOLDS_DAY_DATA = {"phoenix/memory": "holds_day_data"}


@dg.definitions
def executor() -> dg.Definitions:
    return dg.Definitions(
        executor=dg.multiprocess_executor.configured(
            {
                "start_method": {"forkserver": {"preload_modules": PRELOADED_MODULES}},
                "max_concurrent": MAX_CONCURRENT_STEPS,
                "tag_concurrency_limits": [
                    {"key": key, "value": value, "limit": 1}
                    for key, value in HOLDS_DAY_DATA.items()
                ],
            },
            name="forkserver_multiprocess",
        )
    )
