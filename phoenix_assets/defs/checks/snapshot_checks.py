"""Data-quality checks on ``property_snapshots``, evaluated for every partition of a run.

Two ops, each reading the run's partition range from MongoDB once:

- ``property_snapshots_integrity``: BLOCKING checks (severity ERROR). A failure fails
  the step, so ``property_events``, ``daily_market_summary`` and the report do not run on
  bad data (nor on a day whose on-market inventory collapsed against the day before).
- ``property_snapshots_profile``: WARNING checks (severity WARN); they never stop a run.

A single-run backfill materializes a range of days in one run; Dagster's
``AssetCheckResult`` would record one result for the whole range, with no partition.
So each op yields one ``AssetCheckEvaluation`` per check per day (the day as its
partition), then the check's output: the UI shows every day's result, and a blocking
failure on any day still gates the downstream steps.
"""

import datetime as dt
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence

import dagster as dg

# The record an evaluation uses to point at the materialization it judged; Dagster
# builds it only inside AssetCheckResult, which cannot carry a partition of a range.
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)
from pymongo.database import Database

from phoenix_assets.defs.assets.property_snapshots import HARD_BOUNDS_RESOURCE
from phoenix_assets.defs.automation.policies import STEP_RETRY_POLICY
from phoenix_assets.failures import retry_transient_only
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.quality import integrity, inventory, profile
from phoenix_assets.quality.settings import QualitySettings, load_bounds
from phoenix_assets.quality.verdict import Verdict
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import (
    MANIFEST_COLLECTION,
    collection_name,
    partition_projection,
    written_partitions,
)
from phoenix_assets.storage.quarantine import QUARANTINE_COLLECTION

ASSET = dg.AssetKey("property_snapshots")
COLLECTION = collection_name(ASSET)
# The resource key of the thresholds (a QualitySettings, parsed when the code loads).
QUALITY_RESOURCE = "snapshot_quality"

SCHEMA = "schema_valid"
DUPLICATES = "no_duplicate_properties"
NULL_RATES = "key_fields_filled"
RANGES = "values_plausible"
ROW_COUNT = "row_count_steady"
ZIP_COVERAGE = "target_zips_present"
QUARANTINE = "quarantine_share_low"
INVENTORY_KEPT = "on_market_inventory_kept"
INVENTORY_STEADY = "on_market_inventory_steady"


def _spec(name: str, description: str, *, blocking: bool) -> dg.AssetCheckSpec:
    # Partitioned checks are a preview feature in Dagster 1.13; they are what lets the UI
    # show each day's result, so the warning is expected here.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", dg.PreviewWarning)
        return dg.AssetCheckSpec(
            name,
            asset=ASSET,
            description=description,
            blocking=blocking,
            partitions_def=daily_partitions,
        )


INTEGRITY_SPECS = [
    _spec(
        SCHEMA,
        "Blocking. Every stored snapshot document validates against the `Property` schema "
        "and is dated its partition's day. Metadata: invalid documents, the fields at "
        "fault, examples with their errors.",
        blocking=True,
    ),
    _spec(
        DUPLICATES,
        "Blocking. No property twice in a day: no repeated `property_id`, no parcel number "
        "or normalized address claimed by two properties (a merge failure). Two distinct "
        "parcels at one street address are legitimate and only counted.",
        blocking=True,
    ),
    _spec(
        INVENTORY_KEPT,
        "Blocking. The day's on-market listings (statuses `ON_MARKET_STATUSES`) did not drop "
        "by more than PHOENIX_QUALITY_MAX_INVENTORY_DROP against the day before's stored "
        "snapshot (an incremental source's listings lost, e.g. built without the day "
        "before); passes with a note when the day before is not stored. Metadata: today, "
        "the day before, the change, the ZIP codes that lost the most.",
        blocking=True,
    ),
]
PROFILE_SPECS = [
    _spec(
        NULL_RATES,
        "Warning. Null rates of key fields under thresholds: list price among listed "
        "properties (PHOENIX_QUALITY_MAX_NULL_LIST_PRICE), living area "
        "(..._MAX_NULL_LIVING_AREA), ZIP code (..._MAX_NULL_POSTAL_CODE), coordinates "
        "(..._MAX_NULL_COORDINATES).",
        blocking=False,
    ),
    _spec(
        RANGES,
        "Warning. Plausible values: list price, price per square foot, year built and "
        "coordinates (inside Maricopa County's bounding box) each have at most "
        "PHOENIX_QUALITY_MAX_OUT_OF_RANGE of their values out of bounds "
        "(PHOENIX_QUALITY_MIN_/MAX_LIST_PRICE, ..._PRICE_PER_SQFT, ..._MIN_YEAR_BUILT).",
        blocking=False,
    ),
    _spec(
        ROW_COUNT,
        "Warning. The day's row count is within PHOENIX_QUALITY_ROW_COUNT_TOLERANCE of the "
        "mean of the stored partitions of the 7 days before; passes with a note when "
        "there are none.",
        blocking=False,
    ),
    _spec(
        ZIP_COVERAGE,
        "Warning. Every target ZIP code (PHOENIX_ZIP_CODES) has at least one property.",
        blocking=False,
    ),
    _spec(
        QUARANTINE,
        "Warning. Records quarantined while building the day (collection `quarantine`) are "
        "at most PHOENIX_QUALITY_MAX_QUARANTINE of stored plus quarantined.",
        blocking=False,
    ),
    _spec(
        INVENTORY_STEADY,
        "Warning. The day's on-market listings are within "
        "PHOENIX_QUALITY_INVENTORY_CHANGE_TOLERANCE (either way) of the day before's stored "
        "snapshot; passes with a note when the day before is not stored.",
        blocking=False,
    ),
]


def _read_partitions(
    db: Database[Document],
    keys: Sequence[str],
    projection: Sequence[str] | None = None,
) -> dict[str, list[Document]]:
    """The stored documents of these partitions, by partition, in one query."""
    by_day: dict[str, list[Document]] = {key: [] for key in keys}
    query = {"partition_key": keys[0]} if len(keys) == 1 else {"partition_key": {"$in": keys}}
    for document in db[COLLECTION].find(query, partition_projection(projection)):
        by_day.setdefault(document.get("partition_key", ""), []).append(document)
    return by_day


def _stream(
    db: Database[Document], key: str, projection: Sequence[str] | None = None
) -> Iterator[Document]:
    """One partition's stored documents, straight from the cursor."""
    yield from db[COLLECTION].find({"partition_key": key}, partition_projection(projection))


def _on_market_days_before(
    db: Database[Document], keys: Sequence[str], counted: Mapping[str, inventory.OnMarket]
) -> dict[str, inventory.OnMarket | None]:
    """For each day, the on-market listings per ZIP of the day before's stored snapshot,
    or None when that snapshot is not stored (completely written, by the manifest).

    A day before inside the run's range was stored before the checks ran and is already
    ``counted``; the others are read in one query: their on-market documents only, two
    fields each.
    """
    before = {key: inventory.day_before(key) for key in keys}
    stored = written_partitions(db, COLLECTION, sorted(set(before.values())))
    to_read = sorted(stored - set(counted))
    read: dict[str, Counter[str]] = {key: Counter() for key in to_read}
    if to_read:
        query = {
            "partition_key": to_read[0] if len(to_read) == 1 else {"$in": to_read},
            "standard_status": {"$in": sorted(inventory.ON_MARKET)},
        }
        for document in db[COLLECTION].find(
            query, partition_projection(inventory.INVENTORY_FIELDS)
        ):
            counts = read.get(document.get("partition_key", ""))
            if counts is not None:
                inventory.tally(document, counts)
    return {
        key: (counted[day] if day in counted else dict(read[day])) if day in stored else None
        for key, day in before.items()
    }


def _target_materializations(
    context: dg.AssetCheckExecutionContext, keys: Sequence[str]
) -> dict[str, AssetCheckEvaluationTargetMaterializationData]:
    """The latest materialization of each partition: what each day's evaluation judged."""
    targets = {}
    for key in keys:
        records = context.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=ASSET, asset_partitions=[key]), limit=1
        ).records
        if records:
            targets[key] = AssetCheckEvaluationTargetMaterializationData(
                storage_id=records[0].storage_id,
                run_id=records[0].run_id,
                timestamp=records[0].timestamp,
            )
    return targets


def _evaluate(
    context: dg.AssetCheckExecutionContext,
    spec: dg.AssetCheckSpec,
    verdicts: Mapping[str, Verdict],
    targets: Mapping[str, AssetCheckEvaluationTargetMaterializationData],
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """One evaluation per day, then the check's output (what downstream steps wait on)."""
    severity = dg.AssetCheckSeverity.ERROR if spec.blocking else dg.AssetCheckSeverity.WARN
    for key, verdict in verdicts.items():
        yield dg.AssetCheckEvaluation(
            asset_key=spec.asset_key,
            check_name=spec.name,
            passed=verdict.passed,
            metadata=verdict.metadata,
            severity=severity,
            description=verdict.summary,
            blocking=spec.blocking,
            partition=key,
            target_materialization_data=targets.get(key),
        )
    failed = {key: v.summary for key, v in verdicts.items() if not v.passed}
    if failed:
        lines = "\n".join(f"  {key}: {summary}" for key, summary in failed.items())
        context.log.warning(
            f"{spec.name} failed on {len(failed)} of {len(verdicts)} days:\n{lines}"
        )
    else:
        context.log.info(f"{spec.name} passed on all {len(verdicts)} days")
    yield dg.Output(None, output_name=spec.get_python_identifier())


@dg.multi_asset_check(
    name="property_snapshots_integrity",
    specs=INTEGRITY_SPECS,
    retry_policy=STEP_RETRY_POLICY,
)
@retry_transient_only
def property_snapshots_integrity(
    context: dg.AssetCheckExecutionContext,
    mongo: MongoResource,
    snapshot_quality: dg.ResourceParam[QualitySettings],
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """Blocking checks of every day in the run: schema, duplicate properties, on-market
    inventory kept against the day before.

    Streams each day from a cursor, once for the schema (every field, counting the
    on-market listings on the way) and once for the identities (four fields), so a large
    day is never held in memory whole; the day before, when outside the run, is read as
    its on-market documents' ZIP codes. A failure on any day fails this step, so the
    assets downstream of the snapshots do not run.
    """
    keys = list(context.partition_keys)
    db = mongo.get_database()
    targets = _target_materializations(context, keys)
    on_market: dict[str, Counter[str]] = {key: Counter() for key in keys}
    yield from _evaluate(
        context,
        INTEGRITY_SPECS[0],
        {
            key: integrity.schema_violations(
                inventory.tallying(_stream(db, key), on_market[key]), key
            )
            for key in keys
        },
        targets,
    )
    yield from _evaluate(
        context,
        INTEGRITY_SPECS[1],
        {
            key: integrity.duplicate_properties(_stream(db, key, integrity.IDENTITY_FIELDS))
            for key in keys
        },
        targets,
    )
    days_before = _on_market_days_before(db, keys, on_market)
    yield from _evaluate(
        context,
        INTEGRITY_SPECS[2],
        {
            key: inventory.inventory_kept(
                on_market[key],
                days_before[key],
                day=key,
                max_drop=snapshot_quality.max_inventory_drop,
            )
            for key in keys
        },
        targets,
    )


def _stored_counts(db: Database[Document], keys: Sequence[str]) -> dict[str, int]:
    """Documents per completely written partition, from the storage's manifest."""
    entries = db[MANIFEST_COLLECTION].find(
        {"_id": {"$in": [f"{COLLECTION}:{key}" for key in keys]}},
        {"partition_key": 1, "documents": 1},
    )
    return {entry["partition_key"]: int(entry.get("documents") or 0) for entry in entries}


def _quarantined(db: Database[Document], keys: Sequence[str]) -> dict[str, list[Document]]:
    by_day: dict[str, list[Document]] = defaultdict(list)
    query = {"asset": COLLECTION, "partition_key": keys[0] if len(keys) == 1 else {"$in": keys}}
    fields = {"partition_key": 1, "rule": 1, "source": 1, "source_id": 1}
    for entry in db[QUARANTINE_COLLECTION].find(query, fields):
        by_day[entry.get("partition_key", "")].append(entry)
    return by_day


@dg.multi_asset_check(
    name="property_snapshots_profile",
    specs=PROFILE_SPECS,
    retry_policy=STEP_RETRY_POLICY,
)
@retry_transient_only
def property_snapshots_profile(
    context: dg.AssetCheckExecutionContext,
    mongo: MongoResource,
    pipeline: PipelineConfig,
    snapshot_quality: dg.ResourceParam[QualitySettings],
) -> Iterator[dg.AssetCheckEvaluation | dg.Output]:
    """Warning checks of every day in the run: null rates, value ranges, row count
    against the trailing week, ZIP coverage, quarantine share, on-market inventory
    steady against the day before.

    Reads only the fields the rules need, once for the whole range; the trailing
    week's row counts come from the storage manifest, not from the documents, and the
    day before's on-market listings (when outside the run) from its on-market documents.
    """
    keys = list(context.partition_keys)
    settings = snapshot_quality
    db = mongo.get_database()
    frames = {
        key: profile.profile_frame(documents)
        for key, documents in _read_partitions(db, keys, profile.PROFILE_FIELDS).items()
        if key in keys
    }
    history_keys = sorted({k for key in keys for k in profile.trailing_days(key)} - set(keys))
    counts = {**_stored_counts(db, history_keys), **{key: len(frames[key]) for key in keys}}
    quarantined = _quarantined(db, keys)
    targets = _target_materializations(context, keys)

    on_market = {key: inventory.on_market_in_frame(frames[key]) for key in keys}
    days_before = _on_market_days_before(db, keys, on_market)

    def history(key: str) -> dict[str, int]:
        return {k: counts[k] for k in profile.trailing_days(key) if k in counts}

    rules = [
        {key: profile.null_rates(frames[key], settings) for key in keys},
        {
            key: profile.value_ranges(frames[key], settings, dt.date.fromisoformat(key))
            for key in keys
        },
        {
            key: profile.row_count(len(frames[key]), history(key), settings.row_count_tolerance)
            for key in keys
        },
        {key: profile.zip_coverage(frames[key], pipeline.zip_code_list) for key in keys},
        {
            key: profile.quarantine_share(
                len(frames[key]), quarantined.get(key, []), settings.max_quarantine
            )
            for key in keys
        },
        {
            key: inventory.inventory_steady(
                on_market[key],
                days_before[key],
                day=key,
                tolerance=settings.inventory_change_tolerance,
            )
            for key in keys
        },
    ]
    for spec, verdicts in zip(PROFILE_SPECS, rules, strict=True):
        yield from _evaluate(context, spec, verdicts, targets)


@dg.definitions
def snapshot_checks() -> dg.Definitions:
    # Thresholds are parsed now: a bad value fails the code location's load, naming the
    # variable, instead of a run hours later. The soft bounds (these checks') and the hard
    # ones (property_snapshots' quarantine) are parsed together: each soft maximum must
    # lie below its hard one.
    quality, hard = load_bounds()
    return dg.Definitions(
        asset_checks=[property_snapshots_integrity, property_snapshots_profile],
        resources={QUALITY_RESOURCE: quality, HARD_BOUNDS_RESOURCE: hard},
    )
