"""Snapshot history: a daily job moves snapshot days older than
``PHOENIX_SNAPSHOT_DAILY_DAYS`` from whole copies into the month's history of changes
(``phoenix_assets.storage.snapshot_history``).

Nothing is lost: each compacted day reads back as the documents it was stored as, through
the IO manager and every other reader. It is what keeps a year of daily snapshots inside
a small MongoDB (see ``benchmarks/storage_growth.py``). Each run says, in its log, its
output metadata and an observation on ``property_snapshots``, which days it moved and
what they take now against what they took whole.
"""

import dagster as dg

from phoenix_assets.defs.automation.policies import run_tags
from phoenix_assets.defs.automation.settings import schedule_default_status
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.retention import phoenix_today
from phoenix_assets.storage.snapshot_history import (
    PHOENIX_SNAPSHOT_DAILY_DAYS,
    SNAPSHOTS_COLLECTION,
    MonthCompaction,
    compact_snapshots,
    snapshot_daily_days,
)

JOB_NAME = "snapshot_history_compaction"
OP_NAME = "compact_old_snapshot_days"
# Daily at 11:30 UTC (04:30 in Phoenix): after the daily run and the Sunday retention.
CRON_SCHEDULE = "30 11 * * *"
MB = 1024**2


def _summary(results: list[MonthCompaction]) -> dict[str, str | int | float]:
    moved = [day for result in results for day in result.days_compacted]
    history = sum(r.history_bytes for r in results)
    whole = sum(r.whole_bytes for r in results)
    return {
        "days_compacted": len(moved),
        "first_day_compacted": moved[0] if moved else "none",
        "last_day_compacted": moved[-1] if moved else "none",
        "documents_removed": sum(r.documents_removed for r in results),
        "months_rewritten": ", ".join(r.month for r in results) or "none",
        "history_mb": round(history / MB, 2),
        "whole_mb": round(whole / MB, 2),
    }


def snapshot_history_job(daily_days: int) -> dg.JobDefinition:
    """The ``snapshot_history_compaction`` job, keeping ``daily_days`` recent days whole."""

    @dg.op(
        name=OP_NAME,
        out=dg.Out(dg.Nothing),
        description=f"Moves property_snapshots days older than {daily_days} days "
        f"({PHOENIX_SNAPSHOT_DAILY_DAYS}) into their month's history of changes.",
    )
    def compact_old_snapshot_days(
        context: dg.OpExecutionContext, mongo: MongoResource
    ) -> dg.Output[None]:
        results = compact_snapshots(
            mongo.get_database(),
            SNAPSHOTS_COLLECTION,
            today=phoenix_today(),
            daily_days=daily_days,
        )
        for result in results:
            context.log.info(
                f"{result.month}: {len(result.days_compacted)} days moved into the history "
                f"({result.days_held} held), {result.documents_removed} whole documents "
                f"removed; {result.history_bytes / MB:.2f} MB for what took "
                f"{result.whole_bytes / MB:.2f} MB whole"
            )
        summary = _summary(results)
        if not results:
            context.log.info(f"nothing older than {daily_days} days left to compact")
        else:
            context.log_event(
                dg.AssetObservation(
                    asset_key=SNAPSHOTS_COLLECTION,
                    description="old days moved into the snapshot history",
                    metadata=summary,
                )
            )
        return dg.Output(None, metadata={**summary, "daily_days": daily_days})

    @dg.job(
        name=JOB_NAME,
        tags=run_tags(),
        description=f"Keeps the last {daily_days} days of property snapshots whole and "
        "older days as each month's changes; every day reads back the same.",
    )
    def snapshot_history_compaction() -> None:
        compact_old_snapshot_days()

    return snapshot_history_compaction


@dg.definitions
def snapshot_history() -> dg.Definitions:
    """The compaction job and its daily schedule; the window is validated at load."""
    job = snapshot_history_job(snapshot_daily_days())
    schedule = dg.ScheduleDefinition(
        name=f"{JOB_NAME}_daily",
        job=job,
        cron_schedule=CRON_SCHEDULE,
        execution_timezone="UTC",
        default_status=schedule_default_status(),
        description="Daily at 11:30 UTC: move snapshot days past the window into the history.",
    )
    return dg.Definitions(jobs=[job], schedules=[schedule])
