"""Property events: new listings, price changes, status changes, delistings, per day."""

import datetime as dt
import time

import dagster as dg
import pandas as pd

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY
from phoenix_assets.defs.executor import HOLDS_DAY_DATA
from phoenix_assets.domain.events import (
    EVENT_COLUMNS,
    EVENT_TYPES,
    Listed,
    events_between,
    listed_properties,
)
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.metrics.figures import event_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.storage.partition_reader import PartitionReader
from phoenix_assets.storage.partition_store import COLUMNS, NATURAL_KEY


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    group_name="properties",
    op_tags=HOLDS_DAY_DATA,
    kinds={"pandas", "mongodb"},
    metadata={NATURAL_KEY: ["property_id", "event_type"]},
    ins={
        # The day and the day before: events are the difference between them.
        "property_snapshots": dg.AssetIn(
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-1, allow_nonexistent_upstream_partitions=True
            ),
            metadata={COLUMNS: list(EVENT_COLUMNS)},
        )
    },
)
@retry_transient_only
def property_events(
    context: dg.AssetExecutionContext,
    metrics: MetricsExporter,
    property_snapshots: PartitionReader,
) -> pd.DataFrame:
    """What changed since the day before: `new_listing`, `price_cut`, `price_rise`,
    `status_change` (active -> pending -> closed), `back_on_market`, `delisting`.

    Derived from two consecutive snapshots. A day whose previous snapshot is missing
    gets no events (every listing would look new) and says so in its metadata.
    """
    started = time.monotonic()
    stored = set(property_snapshots.partition_keys)

    def listed(partition_key: str) -> Listed | None:
        """The day's listed properties, read once from a cursor; None if not stored."""
        if partition_key not in stored:
            return None
        return listed_properties(property_snapshots.documents(partition_key))

    rows = []
    without_previous = []
    first = dt.date.fromisoformat(context.partition_keys[0])
    before = listed((first - dt.timedelta(days=1)).isoformat())
    for partition_key in context.partition_keys:
        # Each day is read once: it is the day before of the next one.
        after = listed(partition_key)
        if before is None or after is None:
            without_previous.append(partition_key)
        else:
            rows.extend(events_between(before, after, partition_key))
        before = after
    if without_previous:
        context.log.warning(f"no events for {without_previous}: a snapshot is missing")
    events = pd.DataFrame.from_records(
        rows, columns=None if rows else ["property_id", "event_type"]
    )
    counts = events["event_type"].value_counts().to_dict() if len(events) else {}
    by_type = {k: int(counts.get(k, 0)) for k in EVENT_TYPES}
    context.add_output_metadata(
        {
            "events_by_type": dg.MetadataValue.json(by_type),
            "days_without_previous_snapshot": dg.MetadataValue.json(without_previous),
        }
    )
    record_run_figures(context, metrics, event_figures(started=started, events_by_type=by_type))
    return events
