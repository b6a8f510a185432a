"""Emergency stop: cancel every backfill and run of the instance, queued or running.

Schedules and sensors are stopped with Dagster's own commands (``dagster schedule
stop``, ``dagster sensor stop``) or in the UI; this module covers what Dagster's CLI
lacks: terminating runs. It goes through the instance's run coordinator, as the UI's
"Terminate" does, so a queued run is cancelled before it starts and a running one is
terminated by its run launcher (a process, a container, a pod).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import dagster as dg

from phoenix_assets.dagster_compat import BulkActionsFilter, BulkActionStatus

UNFINISHED_RUNS = [
    dg.DagsterRunStatus.QUEUED,
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
]


@dataclass
class StopReport:
    """What an emergency stop cancelled."""

    backfills: list[str] = field(default_factory=list)
    runs: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)  # run id -> why it could not stop


def stop_all_runs(instance: dg.DagsterInstance) -> StopReport:
    """Cancel running backfills first (so they launch nothing more), then every unfinished run."""
    report = StopReport()
    requested = BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])
    for backfill in instance.get_backfills(filters=requested):
        # The backfill daemon terminates the backfill's runs and marks it canceled.
        instance.update_backfill(backfill.with_status(BulkActionStatus.CANCELING))
        report.backfills.append(backfill.backfill_id)
    for record in instance.get_run_records(filters=dg.RunsFilter(statuses=UNFINISHED_RUNS)):
        run_id = record.dagster_run.run_id
        try:
            if instance.run_coordinator.cancel_run(run_id):
                report.runs.append(run_id)
            else:
                report.failed[run_id] = "the run launcher could not terminate it"
        except Exception as exc:  # one run that cannot stop must not keep the others going
            report.failed[run_id] = str(exc)
    return report
