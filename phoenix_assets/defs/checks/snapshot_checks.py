"""Data-quality checks on ``property_snapshots``, evaluated for every partition of a run.

They are the asset's own checks (``check_specs``): the asset stores a range day by day
and judges each day in memory right after storing it (``SnapshotChecks.judge``), instead
of reading every day back from MongoDB in two more steps; a day's records are then
freed. Only what the run does not hold is read: each day's manifest count (to confirm it
was stored whole), the trailing week's counts and the on-market listings of a day before
that is not in the run.

- BLOCKING checks (severity ERROR): a failure fails the asset's step once its partitions
  are stored, so ``property_events``, ``daily_market_summary`` and the report do not run
  on bad data (nor on a day whose on-market inventory collapsed against the day before).
- WARNING checks (severity WARN): they never stop a run.

A single-run backfill materializes a range of days in one run; Dagster's
``AssetCheckResult`` would record one result for the whole range, with no partition.
So the asset yields one ``AssetCheckEvaluation`` per check per day (the day as its
partition), then each check's output: the UI shows every day's result, and a blocking
failure on any day still gates the downstream steps.
"""

import datetime as dt
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
from pymongo.database import Database

from phoenix_assets.dagster_compat import AssetCheckEvaluationTargetMaterializationData
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.quality import integrity, inventory, profile
from phoenix_assets.quality.settings import QualitySettings
from phoenix_assets.quality.verdict import Verdict
from phoenix_assets.storage.documents import Document, to_document
from phoenix_assets.storage.partition_store import collection_name, partition_projection
from phoenix_assets.storage.store import PartitionStore

ASSET = dg.AssetKey("property_snapshots")
COLLECTION = collection_name(ASSET)
# The resource key of the thresholds (a QualitySettings, parsed when the code loads).
QUALITY_RESOURCE = "snapshot_quality"
# The resource key of the hard bounds (a HardBounds, parsed when the code loads).
HARD_BOUNDS_RESOURCE = "hard_bounds"

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
        "Blocking. Every snapshot document, as stored, validates against the `Property` "
        "schema and is dated its partition's day, and the partition is stored whole (the "
        "manifest counts every document built). Metadata: invalid documents, the fields "
        "at fault, examples with their errors, the documents stored.",
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


# Every check, in the order the asset yields them.
SNAPSHOT_CHECK_SPECS = [*INTEGRITY_SPECS, *PROFILE_SPECS]
# The fields the rules read beyond the schema rule (which reads the whole document).
_RULE_FIELDS = tuple(
    dict.fromkeys(
        [*integrity.IDENTITY_FIELDS, *profile.PROFILE_FIELDS, *inventory.INVENTORY_FIELDS]
    )
)


def _on_market_days_before(
    db: Database[Document], keys: Sequence[str], counted: Mapping[str, inventory.OnMarket]
) -> dict[str, inventory.OnMarket | None]:
    """For each day, the on-market listings per ZIP of the day before's stored snapshot,
    or None when that snapshot is not stored (completely written, by the manifest).

    A day before inside the run's range was stored before the checks ran and is already
    ``counted``; the others are read once, two fields of each document.
    """
    before = {key: inventory.day_before(key) for key in keys}
    snapshots = PartitionStore(db, COLLECTION)
    stored = set(snapshots.written(sorted(set(before.values()))))
    to_read = sorted(stored - set(counted))
    read: dict[str, Counter[str]] = {key: Counter() for key in to_read}
    # Whole, or from the snapshot history when the day has been compacted.
    for document in snapshots.read(
        to_read, projection=partition_projection(inventory.INVENTORY_FIELDS)
    ):
        counts = read.get(document.get("partition_key", ""))
        if counts is not None:
            inventory.tally(document, counts)
    return {
        key: (counted[day] if day in counted else dict(read[day])) if day in stored else None
        for key, day in before.items()
    }


def _target_materializations(
    context: dg.AssetExecutionContext, keys: Sequence[str]
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
    context: dg.AssetExecutionContext,
    spec: dg.AssetCheckSpec,
    verdicts: Mapping[str, Verdict],
    targets: Mapping[str, AssetCheckEvaluationTargetMaterializationData],
) -> Iterator[dg.AssetCheckEvaluation | dg.Output[None]]:
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


def _stored_counts(db: Database[Document], keys: Sequence[str]) -> dict[str, int]:
    """Documents per completely written partition, from the storage's manifest."""
    entries = PartitionStore(db, COLLECTION).entries(keys, ["documents"])
    return {key: int(entry.get("documents") or 0) for key, entry in entries.items()}


def _as_stored(record: Any, key: str) -> Document:
    """A built record as the IO manager stores it: the same conversion, and its ``_id``
    (the natural key, ``<property_id>:<day>``), which the verdicts' examples name."""
    document = to_document(record)
    document.setdefault("_id", f"{document.get('property_id')}:{key}")
    return document


def _as_dicts(rows: Iterable[tuple[Any, ...]]) -> Iterator[Document]:
    """Rule-field tuples as documents, one at a time."""
    for row in rows:
        yield dict(zip(_RULE_FIELDS, row, strict=True))


def _schema_and_store(verdict: Verdict, stored: int | None) -> Verdict:
    """The schema rule's verdict on the day's documents, and the day stored whole: the
    manifest (written last by the IO manager) counts as many documents as were built."""
    built = verdict.metadata["documents"]
    metadata = {**verdict.metadata, "stored_documents": stored}
    if stored == built:
        return Verdict(passed=verdict.passed, summary=verdict.summary, metadata=metadata)
    missing = "no complete partition is stored" if stored is None else f"{stored} are stored"
    return Verdict(
        passed=False,
        summary=f"{built} documents were built but {missing}; {verdict.summary}",
        metadata=metadata,
    )


class DayReading:
    """What the checks take from each of a day's documents as it is written (call it
    with each one, e.g. as ``PartitionStore.store``'s ``observe``): the schema rule's tally, the
    rule fields as tuples (a day of 50,000 properties as dicts was ~30 MB more), the
    on-market inventory."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.schema = integrity.SchemaTally(key)
        self.fields: list[tuple[Any, ...]] = []
        self.on_market: Counter[str] = Counter()

    def __call__(self, document: Document) -> None:
        self.schema.add(document)
        self.fields.append(tuple(document.get(name) for name in _RULE_FIELDS))
        inventory.tally(document, self.on_market)


@dataclass
class _DayVerdicts:
    """What the checks keep of a judged day: its verdicts, its size, its inventory."""

    verdicts: dict[str, Verdict]
    properties: int
    on_market: inventory.OnMarket


class SnapshotChecks:
    """The snapshot checks of a run, fed one stored day at a time (``judge_read`` after a
    ``DayReading`` saw its documents written, or ``judge`` from its records), so a day's
    records can be freed before the next is built; ``events`` then yields every check's
    evaluation of every day, and each check's output.

    The schema rule reads each whole document; the other rules a few fields of each
    (``_RULE_FIELDS``). What
    needs other days waits for ``events``: the row count against the trailing week, the
    inventory against the day before, the quarantine share.
    """

    def __init__(
        self, db: Database[Document], settings: QualitySettings, zip_codes: Sequence[str]
    ) -> None:
        self._db = db
        self._settings = settings
        self._zip_codes = list(zip_codes)
        self._days: dict[str, _DayVerdicts] = {}

    def judge(self, key: str, records: Iterable[Any]) -> None:
        """Judge one day, stored already, from its records (converted as the IO manager
        stores them)."""
        reading = DayReading(key)
        for record in records:
            reading(_as_stored(record, key))
        self.judge_read(reading)

    def judge_read(self, reading: DayReading) -> None:
        """Judge one day from what was read of it as it was stored (the manifest counts
        its documents)."""
        key = reading.key
        stored = _stored_counts(self._db, [key]).get(key)
        schema = _schema_and_store(reading.schema.verdict(), stored)
        frame = profile.profile_frame(_as_dicts(reading.fields))
        settings = self._settings
        self._days[key] = _DayVerdicts(
            verdicts={
                SCHEMA: schema,
                DUPLICATES: integrity.duplicate_properties(_as_dicts(reading.fields)),
                NULL_RATES: profile.null_rates(frame, settings),
                RANGES: profile.value_ranges(frame, settings, dt.date.fromisoformat(key)),
                ZIP_COVERAGE: profile.zip_coverage(frame, self._zip_codes),
            },
            properties=len(frame),
            on_market=dict(reading.on_market),
        )

    def events(
        self, context: dg.AssetExecutionContext, quarantined: Iterable[Document]
    ) -> Iterator[dg.AssetCheckEvaluation | dg.Output[None]]:
        """Every check's evaluation of every judged day, then each check's output.

        Yielded after the asset's own output, so its partitions are materialized (each
        evaluation names the materialization it judged). ``quarantined``: the quarantine
        entries the asset stored for these days."""
        keys = list(self._days)
        settings = self._settings
        history_keys = sorted({k for key in keys for k in profile.trailing_days(key)} - set(keys))
        counts_by_day = {
            **_stored_counts(self._db, history_keys),
            **{key: day.properties for key, day in self._days.items()},
        }
        on_market = {key: day.on_market for key, day in self._days.items()}
        days_before = _on_market_days_before(self._db, keys, on_market)
        by_day: dict[str, list[Document]] = defaultdict(list)
        for entry in quarantined:
            by_day[str(entry.get("partition_key", ""))].append(entry)
        for key, day in self._days.items():
            trailing = {
                k: counts_by_day[k] for k in profile.trailing_days(key) if k in counts_by_day
            }
            day.verdicts |= {
                INVENTORY_KEPT: inventory.inventory_kept(
                    day.on_market, days_before[key], day=key, max_drop=settings.max_inventory_drop
                ),
                ROW_COUNT: profile.row_count(
                    day.properties, trailing, settings.row_count_tolerance
                ),
                QUARANTINE: profile.quarantine_share(
                    day.properties, by_day.get(key, []), settings.max_quarantine
                ),
                INVENTORY_STEADY: inventory.inventory_steady(
                    day.on_market,
                    days_before[key],
                    day=key,
                    tolerance=settings.inventory_change_tolerance,
                ),
            }
        targets = _target_materializations(context, keys)
        for spec in SNAPSHOT_CHECK_SPECS:
            verdicts = {key: day.verdicts[spec.name] for key, day in self._days.items()}
            yield from _evaluate(context, spec, verdicts, targets)
