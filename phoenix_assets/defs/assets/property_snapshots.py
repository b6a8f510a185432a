"""Property snapshots: every property seen on a day, adapted to ``Property`` and merged."""

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import dagster as dg
import pandas as pd
from pymongo.database import Database

from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY
from phoenix_assets.defs.checks.snapshot_checks import (
    SNAPSHOT_CHECK_SPECS,
    DayReading,
    SnapshotChecks,
)
from phoenix_assets.defs.executor import HOLDS_DAY_DATA
from phoenix_assets.domain import rules
from phoenix_assets.domain.adapters import AdapterError, property_from_reso
from phoenix_assets.domain.maricopa_adapter import property_from_maricopa
from phoenix_assets.domain.property import Property
from phoenix_assets.domain.provenance import source_of
from phoenix_assets.domain.snapshots import ASSESSOR_WINDOW_DAYS, DaySnapshot, as_of, shown_on
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.metrics.figures import snapshot_figures
from phoenix_assets.metrics.recording import record_run_figures
from phoenix_assets.metrics.resource import MetricsExporter
from phoenix_assets.partitions import daily_partitions, day_end, day_start
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.quality.bounds import hard_bound_violation
from phoenix_assets.quality.settings import HardBounds, QualitySettings
from phoenix_assets.sources.mls import MISSING_KEY_PREFIX, parse_timestamp
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_reader import PartitionReader
from phoenix_assets.storage.partition_store import (
    ALLOW_MISSING,
    COLUMNS,
    FIRST_PARTITION_ONLY,
    MATCHING,
    NATURAL_KEY,
    PARTITION_FIELD,
)
from phoenix_assets.storage.quarantine import (
    quarantine_entry,
    quarantined_source_ids,
    replace_quarantine,
)
from phoenix_assets.storage.store import PREVIEW_ROWS, PartitionStore, StoredRecords
from phoenix_assets.storage.version_log import (
    dated_by_source,
    log_read_at,
    record_log_read,
    state_versions,
    stored_after,
)

ASSET_NAME = "property_snapshots"
# The incremental source: its state on a day comes from its version log.
INCREMENTAL_SOURCE = "mls"
INCREMENTAL_ASSET = "raw_mls_listings"
ASSESSOR_ASSET = "raw_maricopa_parcels"
# The storage contract's natural key and day field of a snapshot (``<property_id>:<day>``).
SNAPSHOT_KEY = ["property_id"]
SNAPSHOT_DAY_FIELD = "snapshot_date"
# A day's new versions are read from this long before the day began: versions that
# reached the log late (an overlapping collection) but were made the day before.
LOG_OVERLAP = dt.timedelta(days=1)
_UNKNOWN_TIME = dt.datetime.min.replace(tzinfo=dt.UTC)

Adapter = Callable[[dict[str, Any], dt.date], Property]
ADAPTERS: dict[str, Adapter] = {
    "demo": lambda payload, day: property_from_reso(payload, source="demo", day=day),
    "mls": lambda payload, day: property_from_reso(payload, source="mls", day=day),
    "maricopa": lambda payload, day: property_from_maricopa(payload, day=day),
}


def _untrackable(raw: Document) -> tuple[str, str] | None:
    """Why an incremental source's version cannot be placed in its listing's history, as
    its rule and the product's sentence."""
    if str(raw.get("source_id", "")).startswith(MISSING_KEY_PREFIX):
        return (
            rules.MISSING_RECORD_KEY,
            "no ListingKey: an MLS listing without one cannot be followed from day to day",
        )
    if not dated_by_source(raw):
        payload = raw.get("payload")
        stamp = payload.get("ModificationTimestamp") if isinstance(payload, dict) else None
        if parse_timestamp(stamp) is not None:  # readable, so too far ahead to be trusted
            return (
                rules.MODIFIED_IN_THE_FUTURE,
                "ModificationTimestamp more than a day ahead of its collection: the version "
                "cannot be placed in time",
            )
        return (
            rules.UNUSABLE_MODIFICATION_TIME,
            "no usable ModificationTimestamp (missing or unreadable): the version cannot be "
            "placed in time",
        )
    return None


class _Adapting:
    """Adapts raw documents, collecting for the quarantine the ones that fail to adapt or
    break a hard bound (``phoenix_assets.quality.bounds``)."""

    def __init__(self, bounds: HardBounds) -> None:
        self._bounds = bounds
        # Per day, by quarantine id: a record quarantined twice on a day is one entry.
        self._quarantined: dict[str, dict[str, Document]] = {}
        self.adapted: Counter[str] = Counter()

    @property
    def quarantined(self) -> list[Document]:
        return [entry for day in self._quarantined.values() for entry in day.values()]

    def quarantined_on(self, partition_key: str) -> list[Document]:
        return list(self._quarantined.get(partition_key, {}).values())

    def one(self, raw: Document, day: dt.date) -> Property | None:
        """The record adapted, or None (then it is quarantined under ``day``)."""
        source = raw["source"]
        detail = ""
        try:
            untrackable = _untrackable(raw) if source == INCREMENTAL_SOURCE else None
            if untrackable is None:
                record = ADAPTERS[source](raw["payload"], day)
                violation = hard_bound_violation(record, day, self._bounds)
                if violation is None:
                    self.adapted[source] += 1
                    return record
                rule, reason, detail = violation.rule, violation.reason, violation.detail
            else:
                rule, reason = untrackable
        except AdapterError as exc:
            # The adapter's message may quote the source's values: kept as the detail.
            rule, reason, detail = exc.rule, rules.reason_for(exc.rule), str(exc)
        entry = quarantine_entry(
            asset=ASSET_NAME,
            partition_key=day.isoformat(),
            source=source,
            source_id=raw["source_id"],
            rule=rule,
            reason=reason,
            detail=detail,
            payload=raw["payload"],
        )
        self._quarantined.setdefault(entry["partition_key"], {})[entry["_id"]] = entry
        return None

    def each(self, raws: Iterable[Document], day: dt.date) -> Iterator[Property]:
        """The records that adapt, one at a time."""
        for raw in raws:
            if (record := self.one(raw, day)) is not None:
                yield record

    def __call__(self, raws: Iterable[Document], day: dt.date) -> list[Property]:
        return list(self.each(raws, day))


def _latest_parcels(
    db: Database[Document], apns: set[str], day: dt.date, bounds: HardBounds
) -> dict[str, Property]:
    """By APN, the latest Assessor record of these parcels within the window before ``day``.

    A record that does not adapt was quarantined on its own day; it is skipped here.
    """
    if not apns:
        return {}
    start = (day - dt.timedelta(days=ASSESSOR_WINDOW_DAYS)).isoformat()
    latest = PartitionStore(db, ASSESSOR_ASSET).latest_by_source_id(
        apns, since=start, before=day.isoformat()
    )
    adapted = _Adapting(bounds)(latest.values(), day)
    return {p.parcel_number: p for p in adapted if p.parcel_number}


def _carried_versions(
    db: Database[Document], previous_key: str, entry: Document | None, previous: pd.DataFrame
) -> tuple[dict[str, dt.datetime] | None, str]:
    """The incremental source's state on the day before, as listing -> version time, when
    that day's stored snapshot (manifest ``entry``) holds it whole; else None (read the
    log) and why."""
    if entry is None:
        return None, f"no snapshot for {previous_key}"
    read_at = log_read_at(db, ASSET_NAME, previous_key, entry.get("run_id"))
    if read_at is None:
        return None, f"the snapshot of {previous_key} does not say when it read the log"
    if stored_after(
        db,
        INCREMENTAL_ASSET,
        stored_since=read_at,
        modified_before=day_end(previous_key) - LOG_OVERLAP,
    ):
        return None, f"versions of {previous_key} or before reached the log after its snapshot"
    carried: dict[str, dt.datetime] = {}
    if len(previous):
        for key, modified, provenance in zip(
            previous["listing_key"],
            previous["modification_timestamp"],
            previous["provenance"],
            strict=True,
        ):
            if (
                isinstance(key, str)
                and source_of(provenance, "listing_key", valued=True) == INCREMENTAL_SOURCE
                and isinstance(modified, dt.datetime)
                and pd.notna(modified)
            ):
                carried[key.strip()] = modified  # the log keys a listing as the source did
    # Versions that did not adapt were the day before's state too (see the loop below).
    for source_id in quarantined_source_ids(db, ASSET_NAME, previous_key, INCREMENTAL_SOURCE):
        # The time is unknown here: the log is asked for the record's latest version.
        carried.setdefault(source_id, _UNKNOWN_TIME)
    return carried, f"the snapshot of {previous_key}"


@dg.asset(
    partitions_def=daily_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    retry_policy=STEP_RETRY_POLICY,
    group_name="properties",
    op_tags=HOLDS_DAY_DATA,
    kinds={"python", "mongodb"},
    metadata={NATURAL_KEY: SNAPSHOT_KEY, PARTITION_FIELD: SNAPSHOT_DAY_FIELD},
    # Its data-quality checks judge what it built, in memory, once it is stored (blocking
    # ones fail the step, so nothing downstream runs): defs/checks/snapshot_checks.py.
    check_specs=SNAPSHOT_CHECK_SPECS,
    ins={
        # The day before's snapshot: which version of each MLS listing it showed. Only
        # the properties the incremental source reported are read, and three fields.
        "previous_snapshots": dg.AssetIn(
            key=ASSET_NAME,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-1, end_offset=-1, allow_nonexistent_upstream_partitions=True
            ),
            metadata={
                ALLOW_MISSING: True,
                FIRST_PARTITION_ONLY: True,
                MATCHING: {"sources": INCREMENTAL_SOURCE},
                COLUMNS: ["listing_key", "modification_timestamp", "provenance"],
            },
        ),
    },
    deps=[
        # The MLS version log, read directly: a day's state can need versions of any day.
        dg.AssetDep(INCREMENTAL_ASSET),
        # The Assessor's recent records, read for the listed parcels only (one query a day).
        dg.AssetDep(
            ASSESSOR_ASSET,
            partition_mapping=dg.TimeWindowPartitionMapping(
                start_offset=-ASSESSOR_WINDOW_DAYS, allow_nonexistent_upstream_partitions=True
            ),
        ),
    ],
)
@retry_transient_only
def property_snapshots(
    context: dg.AssetExecutionContext,
    mongo: MongoResource,
    metrics: MetricsExporter,
    pipeline: PipelineConfig,
    hard_bounds: dg.ResourceParam[HardBounds],
    snapshot_quality: dg.ResourceParam[QualitySettings],
    previous_snapshots: pd.DataFrame,
    raw_demo_listings: PartitionReader,
) -> Iterator[dg.Output[Any] | dg.AssetCheckEvaluation]:
    """The state of every property seen that day, adapted to `Property` and merged across sources.

    Demo listings are the day's whole feed. MLS listings are, per listing, its latest
    version in the MLS version log modified before the day ended: the day before's
    snapshot plus the versions made since, or, when that snapshot is missing or older
    than versions stored since, the whole log; so a missed day never shrinks the next
    one. An ended listing leaves a week after it ended. Listed properties take the
    Assessor's facts from their parcel's latest record of the last 60 days, and parcels
    fetched that day are included. Records join on parcel number (APN) first,
    normalized address second; each field keeps the source that said it (`provenance`).
    Records that fail validation or break a hard bound (a price above any Arizona sale,
    a modification far in the future, a year built years ahead, an area of zero, no
    record key) go to the `quarantine` collection with their rule, the reason and the
    raw payload, never silently dropped. A range is built, stored and checked one day at
    a time, so a backfill holds no more than a day in memory. Each day is checked in memory:
    blocking checks (schema, duplicate properties, on-market inventory kept) fail the
    step so nothing downstream runs; warnings (null rates, plausible values, row count,
    ZIP coverage, quarantine share, inventory steady) never stop it.
    """
    started = time.monotonic()
    read_at = dt.datetime.now(dt.UTC)
    db = mongo.get_database()
    adapt = _Adapting(hard_bounds)
    first_day = dt.date.fromisoformat(context.partition_keys[0])
    previous_key = (first_day - dt.timedelta(days=1)).isoformat()
    snapshots = PartitionStore(db, ASSET_NAME)
    previous_entry = snapshots.entry(previous_key)
    carried, why = _carried_versions(db, previous_key, previous_entry, previous_snapshots)
    state_from = "the day before's snapshot" if carried is not None else f"the version log ({why})"
    if carried is None and PartitionStore(db, INCREMENTAL_ASSET).holds_anything():
        # Only worth a warning when MLS data exists: the whole log is read instead.
        context.log.warning(f"{why}: the MLS state of {first_day} is read from its log")
    checks = SnapshotChecks(db, snapshot_quality, pipeline.zip_code_list)
    assessor = PartitionStore(db, ASSESSOR_ASSET)
    stored = StoredRecords(ASSET_NAME, [])
    by_source: Counter[str] = Counter()
    for partition_key in context.partition_keys:
        day = dt.date.fromisoformat(partition_key)
        snapshot = DaySnapshot(day)
        # Read from cursors and added as adapted: a day's raw payloads are never all in
        # memory at once, and its models are held compactly past a few thousand.
        for listing in adapt.each(raw_demo_listings.documents(partition_key), day):
            snapshot.add_listing(listing)
        versions = state_versions(
            db,
            INCREMENTAL_ASSET,
            INCREMENTAL_SOURCE,
            before=day_end(day),
            carried=carried,
            after=day_start(day) - LOG_OVERLAP,
        )
        # Per listing (its log key), the version adapted; a version that does not adapt
        # is quarantined and stays the listing's state (quarantined again each day).
        next_carried: dict[str, dt.datetime] = {}
        for source_id, version in versions.items():
            record = adapt.one(version, day)
            if record is None or shown_on(record, day):
                next_carried[source_id] = version["modified_at"]
                if record is not None:
                    snapshot.add_listing(as_of(record, day))
        del versions
        parcels_today = adapt(assessor.day_documents(partition_key), day)
        merged = snapshot.merged(
            parcels_today=parcels_today,
            latest_parcels=_latest_parcels(db, snapshot.listed_parcels, day, hard_bounds),
        )
        carried = next_carried  # a range is built day after day, each from the one before
        # Stored and judged day by day, each property as it is merged: neither a range
        # nor a day is ever held as a list of merged models or of documents.
        record_log_read(db, ASSET_NAME, [partition_key], context.run.run_id, read_at)
        replace_quarantine(db, ASSET_NAME, [partition_key], adapt.quarantined_on(partition_key))
        reading = DayReading(partition_key)

        def observe(document: Document, reading: DayReading = reading) -> None:
            reading(document)
            by_source.update(document.get("sources") or [])

        stored.add(
            snapshots.store(
                [partition_key],
                merged,
                natural_key=SNAPSHOT_KEY,
                partition_field=SNAPSHOT_DAY_FIELD,
                asset=ASSET_NAME,
                run_id=context.run.run_id,
                id_fields=(
                    {"property_id": property_id, SNAPSHOT_DAY_FIELD: partition_key}
                    for property_id in merged.property_ids
                ),
                observe=observe,
            )
        )
        # The day's merge groups go before its checks run on what was read as it was stored.
        del snapshot, merged, parcels_today
        checks.judge_read(reading)

    if adapt.quarantined:
        context.log.warning(
            f"{len(adapt.quarantined)} records quarantined (collection 'quarantine')"
        )
    metadata: dict[str, Any] = {
        "quarantine_by_rule": dg.MetadataValue.json(
            dict(Counter(q["rule"] for q in adapt.quarantined).most_common())
        ),
        "adapted_by_source": dg.MetadataValue.json(dict(adapt.adapted)),
        "properties_by_source": dg.MetadataValue.json(dict(by_source)),
        "previous_snapshot_found": previous_entry is not None,
        "mls_state_from": state_from,
    }
    figures = snapshot_figures(
        started=started, properties=stored.written, quarantined=len(adapt.quarantined)
    )
    record_run_figures(context, metrics, figures)
    # Stored already, day by day (the IO manager stores nothing for None).
    yield dg.Output(None, metadata={**stored.metadata(mongo.database, PREVIEW_ROWS), **metadata})
    yield from checks.events(context, adapt.quarantined)
