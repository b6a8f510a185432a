"""Market reports people read: daily and weekly, as JSON, CSV and an HTML page with charts.

Each partition writes its files to the reports folder (``PHOENIX_REPORTS_DIR``, default
``$DAGSTER_HOME/reports``) and stores one small document (paths, headline figures,
data-quality facts, delivery outcome). Only the newest partition is delivered (email,
webhook): a backfill of past days rewrites their files but sends nothing.
"""

import datetime as dt
import time
from collections.abc import Sequence
from typing import Any

import dagster as dg
import pandas as pd
from pymongo.database import Database

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY
from phoenix_assets.defs.checks.snapshot_checks import INTEGRITY_SPECS, PROFILE_SPECS
from phoenix_assets.defs.executor import HOLDS_DAY_DATA
from phoenix_assets.domain.market import week_days
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.metrics.figures import row_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import START_DATE, daily_partitions, weekly_partitions
from phoenix_assets.reports.assemble import (
    DAILY_HISTORY_DAYS,
    WEEKLY_HISTORY_WEEKS,
    ReportData,
    ReportDataError,
    daily_report_data,
    trailing_days,
    trailing_weeks,
    week_missing_days,
    weekly_report_data,
)
from phoenix_assets.reports.build import build_and_write, report_message
from phoenix_assets.reports.delivery import ReportDelivery
from phoenix_assets.reports.quality import (
    QualityFacts,
    quality_facts,
    quality_metadata,
    read_check_outcomes,
    read_stored_facts,
    wait_for_run_checks,
)
from phoenix_assets.reports.settings import ReportsDirectory
from phoenix_assets.reports.writers import markdown_table
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import NATURAL_KEY

# The checks whose results a report shows: those on property_snapshots, judged per day.
SNAPSHOT_CHECK_KEYS: tuple[dg.AssetCheckKey, ...] = tuple(
    spec.key for spec in [*INTEGRITY_SPECS, *PROFILE_SPECS]
)
# A report and a warning check of the same run may run side by side: how long the
# report waits for the check's result before saying it was not finished.
CHECK_WAIT_SECONDS = 120.0
# A run over a range of days (a backfill) draws the charts of its newest days only: they
# are the reports someone opens, and drawing is most of a report's time. Every day still
# gets its JSON, CSV and HTML; an older day's page says why it has no charts.
CHARTED_DAYS = 7


def _delivery_target(context: dg.AssetExecutionContext) -> tuple[str | None, str]:
    """The partition to deliver (the newest partition of the asset, if this run has it),
    and why the other partitions are not delivered."""
    partitions_def = context.assets_def.partitions_def
    newest = partitions_def.get_last_partition_key() if partitions_def else None
    reason = f"not delivered: only the newest partition ({newest}) is delivered"
    return (newest if newest in context.partition_keys else None), reason


def _headline_metadata(data: ReportData) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        f"metro_{name}": round(value, 4) if isinstance(value, float) else value
        for name, value in data.headline.items()
        if value is not None
    }
    if data.kind == "weekly":
        for name in ("median_list_price", "active_listings"):
            pct = data.metro.get(f"{name}_vs_prev_week_pct")
            if pct is not None:
                metadata[f"metro_{name}_vs_prev_week_pct"] = round(pct, 3)
    return metadata


def _checks_of_this_run(context: dg.AssetExecutionContext) -> list[dg.AssetCheckKey]:
    """The snapshot checks this run evaluates (a daily_pipeline run does, a report alone not)."""
    selected = context.run.asset_check_selection
    if selected is None:  # no selection recorded: every check of the job
        selected = set(context.job_def.asset_layer.asset_graph.asset_check_keys)
    return [key for key in SNAPSHOT_CHECK_KEYS if key in selected]


def _charts_skipped(keys: Sequence[str], key: str) -> str | None:
    """Why the report of ``key`` is drawn without charts in a run of ``keys``, or None
    when it has them (one of the run's newest ``CHARTED_DAYS`` days)."""
    charted = list(keys)[-CHARTED_DAYS:]
    if key in charted:
        return None
    return (
        f"No charts on this page: it was made by one run over {keys[0]} to {keys[-1]}, "
        f"which draws the charts of its newest {len(charted)} days only ({charted[0]} to "
        f"{charted[-1]}). Materialize this day's report on its own to draw them; the JSON "
        f"file holds the charts' data."
    )


def _publish(
    context: dg.AssetExecutionContext,
    data: ReportData,
    *,
    mongo: MongoResource,
    reports: ReportsDirectory,
    report_delivery: ReportDelivery,
    deliver: bool,
    not_delivered: str,
    charts_skipped: str | None = None,
) -> dict[str, Any]:
    """Write one partition's report, deliver it when it is the newest, describe it in the
    partition's metadata, and return the document stored for it."""
    report, files = build_and_write(
        data, reports.path(), email=deliver, charts_skipped=charts_skipped
    )
    if deliver:
        outcome = report_delivery.deliver(
            mongo.get_database(), report_message(report, files), context.log
        )
        delivery: dict[str, Any] = {"attempted": True, "channels": dict(outcome.channels)}
        delivery_metadata = outcome.metadata()
    else:
        delivery = {"attempted": False, "reason": not_delivered}
        delivery_metadata = {"delivery": not_delivered}
    facts = data.quality
    context.add_asset_metadata(
        {
            **_headline_metadata(data),
            "report": dg.MetadataValue.md(f"**{data.title}**\n\n{markdown_table(data)}"),
            "html": dg.MetadataValue.path(str(files.html)),
            "json": dg.MetadataValue.path(str(files.json)),
            "csv": dg.MetadataValue.path(str(files.csv)),
            "demo_data": facts.demo,
            "quality": facts.verdict(),
            **quality_metadata(facts),
            **(
                {"missing_day_list": dg.MetadataValue.json(list(facts.missing_days))}
                if data.kind == "weekly"
                else {}
            ),
            "build_seconds": round(report.seconds, 3),
            "charts_drawn": len(report.charts),
            **({"charts_not_drawn": charts_skipped} if charts_skipped else {}),
            **delivery_metadata,
        },
        partition_key=data.period,
    )
    context.log.info(f"{data.title}: {files.html} ({report.seconds:.2f}s); {facts.verdict()}")
    return {
        "report": data.kind,
        "partition_key": data.period,
        "title": data.title,
        "first_day": data.first_day,
        "last_day": data.last_day,
        "generated_at": data.generated_at,
        "files": files.as_dict(),
        "headline": data.headline,
        "quality": {
            **quality_metadata(facts),
            "missing_days": list(facts.missing_days),
            "verdict": facts.verdict(),
            "demo": facts.demo,
        },
        "delivery": delivery,
        "build_seconds": round(report.seconds, 3),
    }


def _history_note(present: Sequence[str], window: Sequence[str], unit: str) -> list[str]:
    """Say how much of the charts' window has data (the first partitions have little)."""
    expected = [key for key in window if key >= START_DATE]
    missing = [key for key in expected if key not in set(present)]
    if not missing:
        return []
    return [
        f"The charts cover {len(expected) - len(missing)} of the {len(window)} {unit} of "
        f"their window; {len(missing)} {unit} have no stored figures."
    ]


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    group_name="reports",
    op_tags=HOLDS_DAY_DATA,
    kinds={"html", "csv", "json"},
    metadata={NATURAL_KEY: ["report"]},
    ins={
        # The day and the 29 before it, for the charts; before the first partition
        # there is nothing, and that is fine.
        "daily_market_summary": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-(DAILY_HISTORY_DAYS - 1), allow_nonexistent_upstream_partitions=True
            )
        )
    },
)
@retry_transient_only
def daily_market_report(
    context: dg.AssetExecutionContext,
    mongo: MongoResource,
    reports: ReportsDirectory,
    report_delivery: ReportDelivery,
    metrics: MetricsExporter,
    daily_market_summary: pd.DataFrame,
) -> list[dict[str, Any]]:
    """The day's market report: JSON, CSV and an HTML page with charts.

    Per ZIP and for the metro: inventory (active listings), new listings, pending,
    closed, median list price, median price per sq ft, median days on market and price
    cuts; charts of the trailing 30 days (median list price, inventory, price-cut share,
    days on market); the day's data-quality facts (records quarantined, ZIP codes that
    failed, snapshot checks that warned or failed). Files land in PHOENIX_REPORTS_DIR
    as `daily/phoenix-market-<day>.{json,csv,html}`. Only the newest day is delivered.
    A run over a range of days (a backfill) draws the charts of its newest 7 days only;
    the older days' pages say so (their JSON and CSV are the same either way).
    """
    started = time.monotonic()
    db = mongo.get_database()
    keys = list(context.partition_keys)
    run_checks = _checks_of_this_run(context)
    if run_checks and not wait_for_run_checks(
        context.instance, context.run.run_id, run_checks, keys, timeout_seconds=CHECK_WAIT_SECONDS
    ):
        context.log.warning("some snapshot checks of this run had no result yet; reported so")
    target, not_delivered = _delivery_target(context)
    present = (
        sorted(set(daily_market_summary["partition_key"])) if len(daily_market_summary) else []
    )
    documents = []
    for key in keys:
        facts = quality_facts(
            read_stored_facts(db, [key]),
            read_check_outcomes(context.instance, SNAPSHOT_CHECK_KEYS, [key]),
            [key],
            notes=_history_note(present, trailing_days(key), "days"),
        )
        try:
            data = daily_report_data(daily_market_summary, key, facts)
        except ReportDataError as error:
            raise dg.Failure(str(error), allow_retries=False) from error
        documents.append(
            _publish(
                context,
                data,
                mongo=mongo,
                reports=reports,
                report_delivery=report_delivery,
                deliver=key == target,
                not_delivered=not_delivered,
                charts_skipped=_charts_skipped(keys, key),
            )
        )
    record_run_figures(
        context, metrics, row_figures(started=started, rows=len(documents), metadata_key="reports")
    )
    return documents


def _weekly_facts(
    db: Database[Document],
    instance: dg.DagsterInstance,
    week: str,
    trends: pd.DataFrame,
    present: Sequence[str],
) -> QualityFacts:
    """The week's quality facts: all seven days' quarantine and failures, the checks of
    the days it was built from, its missing days."""
    days = week_days(dt.date.fromisoformat(week))
    missing = week_missing_days(trends, week)
    return quality_facts(
        read_stored_facts(db, days),
        # Checks judge days that were built; a missing day is reported as missing.
        read_check_outcomes(instance, SNAPSHOT_CHECK_KEYS, [d for d in days if d not in missing]),
        days,
        missing_days=missing,
        notes=_history_note(present, trailing_weeks(week), "weeks"),
    )


@dg.asset(
    partitions_def=weekly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    group_name="reports",
    kinds={"html", "csv", "json"},
    metadata={NATURAL_KEY: ["report"]},
    ins={
        # The week and the 11 before it: the charts' 12 weeks, the week before and the
        # four weeks of the average.
        "weekly_market_trends": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-(WEEKLY_HISTORY_WEEKS - 1),
                allow_nonexistent_upstream_partitions=True,
            )
        )
    },
)
@retry_transient_only
def weekly_market_report(
    context: dg.AssetExecutionContext,
    mongo: MongoResource,
    reports: ReportsDirectory,
    report_delivery: ReportDelivery,
    metrics: MetricsExporter,
    weekly_market_trends: pd.DataFrame,
) -> list[dict[str, Any]]:
    """The week's market report: JSON, CSV and an HTML page with charts.

    The same figures as the daily report for the week (levels averaged over its days,
    flows summed), with the change against the week before and against the average week
    of the four weeks before; charts of the trailing 12 weeks; the week's data-quality
    facts, including the days missing from it (a week with missing days still reports,
    and names them). Files land in PHOENIX_REPORTS_DIR as
    `weekly/phoenix-market-week-<monday>.{json,csv,html}`. Only the newest week is delivered.
    """
    started = time.monotonic()
    db = mongo.get_database()
    trends = weekly_market_trends
    never_built = set(trends.attrs.get("missing_partitions", []))
    target, not_delivered = _delivery_target(context)
    present = sorted(set(trends["partition_key"])) if len(trends) else []
    documents = []
    for week in context.partition_keys:
        if week in never_built:
            raise dg.Failure(
                f"weekly_market_trends has not been materialized for the week of {week}: "
                "run the weekly_trends job for it first",
                allow_retries=False,
            )
        facts = _weekly_facts(db, context.instance, week, trends, present)
        data = weekly_report_data(trends, week, facts)
        documents.append(
            _publish(
                context,
                data,
                mongo=mongo,
                reports=reports,
                report_delivery=report_delivery,
                deliver=week == target,
                not_delivered=not_delivered,
            )
        )
    record_run_figures(
        context, metrics, row_figures(started=started, rows=len(documents), metadata_key="reports")
    )
    return documents


@dg.definitions
def market_reports() -> dg.Definitions:
    """The two report assets (the ``reports`` folder is bound in ``defs/resources.py``)."""
    return dg.Definitions(assets=[daily_market_report, weekly_market_report])
