"""Raw retention: a weekly job drops raw partitions older than ``PHOENIX_RAW_RETENTION_DAYS``
(the demo source's, which it regenerates exactly, older than ``PHOENIX_DEMO_RAW_RETENTION_DAYS``).

Only the raw collections are pruned (see ``phoenix_assets.storage.retention``); snapshots,
events, summaries and trends are kept for ever. A dry run (`dry_run: true` in the
launchpad) reports what would go and drops nothing. Each run reports in its log, in the
op's output metadata (a Markdown table and the totals) and, on each raw asset it pruned,
as an asset observation, so the asset's own page shows when and how much was dropped.
"""

import dagster as dg
from pydantic import Field

from phoenix_assets.defs.automation.policies import run_tags
from phoenix_assets.defs.automation.settings import (
    PHOENIX_BACKFILL_LOOKBACK_DAYS,
    MissedDaySettings,
    schedule_default_status,
)
from phoenix_assets.settings import ConfigError
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.retention import (
    DEMO_RAW_COLLECTION,
    PHOENIX_DEMO_RAW_RETENTION_DAYS,
    PHOENIX_RAW_RETENTION_DAYS,
    RetentionReport,
    demo_raw_retention_days,
    enforce_raw_retention,
    phoenix_today,
    raw_retention_days,
)

JOB_NAME = "raw_retention_cleanup"
OP_NAME = "drop_old_raw_partitions"
# Sundays at 11:00 UTC (04:00 in Phoenix): after the daily run, away from its retries.
CRON_SCHEDULE = "0 11 * * 0"


class RetentionConfig(dg.Config):
    """How a retention run behaves."""

    dry_run: bool = Field(
        default=False, description="Report what would be dropped, and drop nothing."
    )


def _observations(report: RetentionReport) -> list[dg.AssetObservation]:
    """One observation per raw asset that lost partitions, for the asset's page."""
    return [
        dg.AssetObservation(
            asset_key=part.collection,
            description=f"raw retention: partitions before {part.cutoff} dropped",
            metadata={
                "partitions_dropped": len(part.partitions),
                "documents_dropped": part.documents,
                "oldest_dropped": part.partitions[0],
                "newest_dropped": part.partitions[-1],
                "oldest_kept": part.oldest_kept or "none",
                "retention_days": part.retention_days,
            },
        )
        for part in report.collections
        if part.partitions
    ]


def _log_lines(report: RetentionReport) -> list[str]:
    verb = "would drop" if report.dry_run else "dropped"
    lines = []
    for part in report.collections:
        if part.partitions:
            lines.append(
                f"{part.collection}: {verb} {len(part.partitions)} partitions "
                f"({part.partitions[0]}...{part.partitions[-1]}), {part.documents} documents; "
                f"oldest kept {part.oldest_kept or 'none'}"
            )
        else:
            lines.append(f"{part.collection}: nothing before {part.cutoff}")
    return lines


def retention_job(retention_days: int, demo_days: int | None = None) -> dg.JobDefinition:
    """The ``raw_retention_cleanup`` job, keeping ``retention_days`` days of raw partitions
    (``demo_days`` of the demo source's, when shorter)."""
    windows = {DEMO_RAW_COLLECTION: demo_days} if demo_days is not None else {}

    @dg.op(
        name=OP_NAME,
        out=dg.Out(dg.Nothing),
        description=f"Drops raw partitions older than {retention_days} days "
        f"({PHOENIX_RAW_RETENTION_DAYS}) and their manifest entries.",
    )
    def drop_old_raw_partitions(
        context: dg.OpExecutionContext, config: RetentionConfig, mongo: MongoResource
    ) -> dg.Output[None]:
        report = enforce_raw_retention(
            mongo.get_database(),
            today=phoenix_today(),
            retention_days=retention_days,
            dry_run=config.dry_run,
            windows=windows,
        )
        prefix = "dry run: " if report.dry_run else ""
        for line in _log_lines(report):
            context.log.info(prefix + line)
        for observation in [] if report.dry_run else _observations(report):
            context.log_event(observation)
        return dg.Output(
            None,
            metadata={
                "report": dg.MetadataValue.md(report.markdown()),
                "dry_run": report.dry_run,
                "partitions_dropped": report.partitions_dropped,
                "documents_dropped": report.documents_dropped,
                "cutoff": report.cutoff,
                "retention_days": retention_days,
                **{
                    f"documents_dropped_{part.collection}": part.documents
                    for part in report.collections
                },
            },
        )

    @dg.job(
        name=JOB_NAME,
        tags=run_tags(),
        description=f"Drops raw partitions older than {retention_days} days; snapshots, "
        "events, summaries and trends are kept. Set dry_run to see what would go.",
    )
    def raw_retention_cleanup() -> None:
        drop_old_raw_partitions()

    return raw_retention_cleanup


@dg.definitions
def retention() -> dg.Definitions:
    """The retention job and its weekly schedule; the window is validated at load."""
    days = raw_retention_days()
    demo_days = demo_raw_retention_days()
    lookback = MissedDaySettings.from_env().lookback_days
    for name, window in (
        (PHOENIX_RAW_RETENTION_DAYS, days),
        (PHOENIX_DEMO_RAW_RETENTION_DAYS, demo_days),
    ):
        if window <= lookback:
            # A backfilled day must still find its raw data (and the days after it that
            # the backfill rebuilds without collecting again).
            raise ConfigError(
                f"{name}: {window} must be above {PHOENIX_BACKFILL_LOOKBACK_DAYS} "
                f"({lookback}), the days the missed-day sensor backfills"
            )
    job = retention_job(days, demo_days)
    schedule = dg.ScheduleDefinition(
        name=f"{JOB_NAME}_weekly",
        job=job,
        cron_schedule=CRON_SCHEDULE,
        execution_timezone="UTC",
        default_status=schedule_default_status(),
        description="Weekly, Sundays at 11:00 UTC: drop raw partitions past the retention window.",
    )
    return dg.Definitions(jobs=[job], schedules=[schedule])
