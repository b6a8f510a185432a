"""Market statistics: daily summaries per ZIP and metro, and weekly trends."""

import datetime as dt
import time

import dagster as dg
import pandas as pd

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY
from phoenix_assets.defs.executor import HOLDS_DAY_DATA
from phoenix_assets.domain.market import (
    METRO,
    SNAPSHOT_COLUMNS,
    summarize_day,
    summarize_week,
    week_days,
)
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.metrics.figures import row_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import daily_partitions, weekly_partitions
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.storage.collection_failures import read_shortfalls
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import COLUMNS, NATURAL_KEY

# The metro's figures a daily summary's materialization shows, as `metro_<name>`.
METRO_HEADLINE = ("active_listings", "new_listings", "closed_sales", "median_list_price")


def _metro_headline(rows: pd.DataFrame, day: str) -> dict[str, float | int]:
    """The metro's figures of ``day``, as its materialization shows them."""
    metro = rows[(rows["area"] == METRO) & (rows["partition_key"] == day)]
    if metro.empty:
        return {}
    row = metro.iloc[-1]
    return {f"metro_{name}": row[name].item() for name in METRO_HEADLINE if not pd.isna(row[name])}


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    group_name="market",
    op_tags=HOLDS_DAY_DATA,
    kinds={"pandas", "mongodb"},
    metadata={NATURAL_KEY: ["area"]},
    # The summary reads a few fields of each snapshot: load only those.
    ins={"property_snapshots": dg.AssetIn(metadata={COLUMNS: list(SNAPSHOT_COLUMNS)})},
)
@retry_transient_only
def daily_market_summary(
    context: dg.AssetExecutionContext,
    pipeline: PipelineConfig,
    mongo: MongoResource,
    metrics: MetricsExporter,
    property_snapshots: pd.DataFrame,
) -> pd.DataFrame:
    """The day's market per ZIP and for the whole metro.

    Active, new, pending and closed listings; median and mean list price; median price
    per square foot and days on market (active listings); price cuts and rises that day.
    Every configured ZIP gets a row, with zeros where it had no listings.

    `mean_list_price` is a trimmed mean (10 % of the listings off each end, rounded up;
    the median for 3 or 4 listings) over the same listings as `median_list_price`: one
    absurd price cannot move it by orders of magnitude.

    Each row says how its ZIP was collected (`collection`: `complete`, `partial` or
    `not collected`; `collection_label`, e.g. "partly collected (4 of about 40
    records)"; `records_read`, `records_expected`), from `collection_failures`. A partly
    collected ZIP keeps its figures, marked; the metro row names the partly collected
    (`partial_zips`) and not collected (`not_collected_zips`) ZIPs.
    """
    started = time.monotonic()
    shortfalls = read_shortfalls(mongo.get_database(), list(context.partition_keys))
    by_day = (
        dict(tuple(property_snapshots.groupby("partition_key"))) if len(property_snapshots) else {}
    )
    no_listings = property_snapshots.iloc[0:0]
    rows = [
        row
        for partition_key in context.partition_keys
        for row in summarize_day(
            by_day.get(partition_key, no_listings),
            partition_key,
            pipeline.zip_code_list,
            shortfalls,
        )
    ]
    summary = pd.DataFrame.from_records(rows)
    partial = sorted({f"{s.zip_code} ({s.day})" for s in shortfalls if s.records_read})
    if partial:
        context.log.warning(f"figures of partly collected ZIP codes, marked: {partial}")
    # Each day of a range shows its own metro figures, not the range's last day's.
    for partition_key in context.partition_keys:
        context.add_asset_metadata(
            _metro_headline(summary, partition_key), partition_key=partition_key
        )
    context.add_output_metadata(
        {
            "zip_codes_partly_collected": dg.MetadataValue.json(partial),
            "zip_codes_not_collected": dg.MetadataValue.json(
                sorted({f"{s.zip_code} ({s.day})" for s in shortfalls if not s.records_read})
            ),
        }
    )
    record_run_figures(
        context, metrics, row_figures(started=started, rows=len(summary), metadata_key="areas")
    )
    return summary


@dg.asset(
    partitions_def=weekly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    group_name="market",
    kinds={"pandas", "mongodb"},
    metadata={NATURAL_KEY: ["area"]},
    ins={
        # This week's seven days and the week before (for week-over-week change);
        # the first week has no week before.
        "daily_market_summary": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-1, allow_nonexistent_upstream_partitions=True
            )
        )
    },
)
@retry_transient_only
def weekly_market_trends(
    context: dg.AssetExecutionContext,
    metrics: MetricsExporter,
    daily_market_summary: pd.DataFrame,
) -> pd.DataFrame:
    """The week's market per ZIP and metro, with week-over-week change.

    Levels (inventory, prices, days on market) are averaged over the week's days;
    flows (new listings, closings, price cuts) are summed. A week with days missing is
    computed from the days present and names the missing ones (`missing_days`).
    """
    started = time.monotonic()
    rows = []
    missing: dict[str, list[str]] = {}
    for partition_key in context.partition_keys:
        week = summarize_week(daily_market_summary, dt.date.fromisoformat(partition_key))
        missing[partition_key] = (
            week[0]["missing_days"] if week else week_days(dt.date.fromisoformat(partition_key))
        )
        rows.extend(week)
    if any(missing.values()):
        context.log.warning(f"weeks computed with days missing: {missing}")
    context.add_output_metadata(
        {
            "missing_days": dg.MetadataValue.json(missing),
            "complete_weeks": sum(1 for days in missing.values() if not days),
        }
    )
    record_run_figures(
        context, metrics, row_figures(started=started, rows=len(rows), metadata_key="areas")
    )
    return pd.DataFrame.from_records(rows)
