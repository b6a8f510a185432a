"""Property snapshots: every property seen on a day, adapted to ``Property`` and merged."""

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

import dagster as dg
from pymongo.database import Database

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY
from phoenix_assets.domain.adapters import AdapterError, property_from_reso
from phoenix_assets.domain.maricopa_adapter import property_from_maricopa
from phoenix_assets.domain.property import Property
from phoenix_assets.domain.snapshots import ASSESSOR_WINDOW_DAYS, build_snapshot
from phoenix_assets.metrics.figures import snapshot_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_reader import PartitionReader
from phoenix_assets.storage.partition_store import (
    ALLOW_MISSING,
    FIRST_PARTITION_ONLY,
    MATCHING,
    NATURAL_KEY,
    PARTITION_FIELD,
    written_partitions,
)
from phoenix_assets.storage.quarantine import quarantine_entry, replace_quarantine

ASSET_NAME = "property_snapshots"
# The incremental source whose listings carry forward from the day before.
INCREMENTAL_SOURCE = "mls"
ASSESSOR_ASSET = "raw_maricopa_parcels"

Adapter = Callable[[dict[str, Any], dt.date], Property]
ADAPTERS: dict[str, Adapter] = {
    "demo": lambda payload, day: property_from_reso(payload, source="demo", day=day),
    "mls": lambda payload, day: property_from_reso(payload, source="mls", day=day),
    "maricopa": lambda payload, day: property_from_maricopa(payload, day=day),
}


class _Adapting:
    """Adapts raw documents, collecting the ones that fail for the quarantine."""

    def __init__(self) -> None:
        self._quarantined: dict[str, Document] = {}
        self.adapted: Counter[str] = Counter()

    @property
    def quarantined(self) -> list[Document]:
        return list(self._quarantined.values())

    def __call__(self, raws: Iterable[dict[str, Any]], day: dt.date) -> list[Property]:
        records = []
        for raw in raws:
            try:
                records.append(ADAPTERS[raw["source"]](raw["payload"], day))
                self.adapted[raw["source"]] += 1
            except AdapterError as exc:
                entry = quarantine_entry(
                    asset=ASSET_NAME,
                    partition_key=raw["partition_key"],
                    source=raw["source"],
                    source_id=raw["source_id"],
                    reason=str(exc),
                    payload=raw["payload"],
                )
                self._quarantined[entry["_id"]] = entry
        return records


def _latest_parcels(db: Database[Document], apns: set[str], day: dt.date) -> dict[str, Property]:
    """By APN, the latest Assessor record of these parcels within the window before ``day``.

    A record that does not adapt was quarantined on its own day; it is skipped here.
    """
    if not apns:
        return {}
    start = (day - dt.timedelta(days=ASSESSOR_WINDOW_DAYS)).isoformat()
    latest: dict[str, dict[str, Any]] = {}
    cursor = db[ASSESSOR_ASSET].find(
        {
            "partition_key": {"$gte": start, "$lt": day.isoformat()},
            "source_id": {"$in": sorted(apns)},
        }
    )
    for raw in cursor:
        kept = latest.get(raw["source_id"])
        if kept is None or raw["partition_key"] > kept["partition_key"]:
            latest[raw["source_id"]] = raw
    adapted = _Adapting()(latest.values(), day)
    return {p.parcel_number: p for p in adapted if p.parcel_number}


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    group_name="properties",
    kinds={"python", "mongodb"},
    metadata={NATURAL_KEY: ["property_id"], PARTITION_FIELD: "snapshot_date"},
    ins={
        # Yesterday's snapshot: an incremental source's listings carry forward from it.
        # Only the properties an incremental source reported are read: the rest are
        # rebuilt from today's data, and a day of 50,000 would cost ~230 MB as models.
        "previous_snapshots": dg.AssetIn(
            key=ASSET_NAME,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
            ),
            metadata={
                ALLOW_MISSING: True,
                FIRST_PARTITION_ONLY: True,
                MATCHING: {"sources": INCREMENTAL_SOURCE},
            },
        ),
    },
    deps=[
        # The Assessor's recent records, read for the listed parcels only (one query a day).
        dg.AssetDep(
            ASSESSOR_ASSET,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-ASSESSOR_WINDOW_DAYS, allow_nonexistent_upstream_partitions=True
            ),
        )
    ],
)
def property_snapshots(
    context: dg.AssetExecutionContext,
    mongo: MongoResource,
    metrics: MetricsExporter,
    previous_snapshots: list[Property],
    raw_demo_listings: PartitionReader,
    raw_mls_listings: PartitionReader,
) -> list[Property]:
    """The state of every property seen that day, adapted to `Property` and merged across sources.

    Demo listings are the day's whole feed; MLS listings are yesterday's carried forward
    with the day's changes applied (an ended listing leaves a week after it ended);
    listed properties take the Assessor's facts from their parcel's latest record of
    the last 60 days, and parcels fetched that day are included. Records join on parcel
    number (APN) first, normalized address second; each field keeps the source that said
    it (`provenance`). Records that fail validation go to the `quarantine` collection with
    the reason and the raw payload, never silently dropped.
    """
    started = time.monotonic()
    db = mongo.get_database()
    adapt = _Adapting()
    first_day = dt.date.fromisoformat(context.partition_keys[0])
    previous_key = (first_day - dt.timedelta(days=1)).isoformat()
    previous = [p for p in previous_snapshots if p.snapshot_date.isoformat() == previous_key]
    previous_found = bool(written_partitions(db, ASSET_NAME, [previous_key]))
    if not previous_found:
        context.log.warning(
            f"no snapshot for {previous_key}: incremental sources start from this day's data"
        )
    snapshots: list[Property] = []
    for partition_key in context.partition_keys:
        day = dt.date.fromisoformat(partition_key)
        # Read from cursors: a day's raw payloads are never all in memory at once.
        listings_today = adapt(raw_demo_listings.documents(partition_key), day)
        mls_today = adapt(raw_mls_listings.documents(partition_key), day)
        parcels_today = adapt(db[ASSESSOR_ASSET].find({"partition_key": partition_key}), day)
        listed_apns = {
            p.parcel_number
            for p in [*listings_today, *mls_today, *previous]
            if p.parcel_number and p.standard_status is not None
        }
        snapshot = build_snapshot(
            day,
            previous=previous,
            full_state=listings_today,
            incremental={INCREMENTAL_SOURCE: mls_today},
            parcels_today=parcels_today,
            latest_parcels=_latest_parcels(db, listed_apns, day),
        )
        snapshots.extend(snapshot)
        previous = snapshot  # a range is built day after day, each from the one before

    replace_quarantine(db, ASSET_NAME, context.partition_keys, adapt.quarantined)
    if adapt.quarantined:
        context.log.warning(
            f"{len(adapt.quarantined)} records quarantined (collection 'quarantine')"
        )
    context.add_output_metadata(
        {
            "quarantine_reasons": dg.MetadataValue.json(
                dict(Counter(q["reason"] for q in adapt.quarantined).most_common(5))
            ),
            "adapted_by_source": dg.MetadataValue.json(dict(adapt.adapted)),
            "properties_by_source": dg.MetadataValue.json(
                dict(Counter(s for p in snapshots for s in p.sources))
            ),
            "previous_snapshot_found": previous_found,
        }
    )
    figures = snapshot_figures(
        started=started, properties=len(snapshots), quarantined=len(adapt.quarantined)
    )
    record_run_figures(context, metrics, figures)
    return snapshots
