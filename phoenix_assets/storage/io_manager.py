"""The Mongo IO manager: Dagster's bridge to the storage contract (``partition_store``).

Accepts a DataFrame, a list of dicts or a list of pydantic models; a partition write
replaces exactly that partition; loading one partition or a range is one query and
returns the type the consuming asset declares (a ``PartitionReader`` reads each
partition lazily instead).

Its errors are judged like a compute function's (``phoenix_assets.failures``): MongoDB
unreachable is retried; a partition never materialized fails the step at once, naming
the command that makes it. A disabled source's raw partition is not required: missing,
it loads as empty.
"""

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
import pandas as pd
from pydantic import BaseModel
from pymongo.database import Database

from phoenix_assets.failures import MissingPartitionError, step_failures
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.storage.documents import (
    Document,
    frame_of,
    from_documents,
    records_of,
    to_bson_value,
    to_document,
)
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_reader import PartitionReader
from phoenix_assets.storage.partition_store import (
    ALLOW_MISSING,
    COLUMNS,
    FIRST_PARTITION_ONLY,
    MATCHING,
    NATURAL_KEY,
    PARTITION_FIELD,
    SOURCE,
    UNPARTITIONED,
    assign_id,
    check_unique_ids,
    collection_name,
    partition_projection,
    replace_partitions,
    write_metadata,
    written_partitions,
)
from phoenix_assets.storage.snapshot_history import compacted_generations, iter_days

# Documents shown in a materialization's preview.
PREVIEW_ROWS = 5


def _fields(record: Any, names: list[str]) -> Document:
    """These fields of a record (a dict or a model), converted as ``to_document`` would."""
    if isinstance(record, dict):
        return {name: to_bson_value(record[name]) for name in names if name in record}
    if isinstance(record, BaseModel):
        return {
            name: to_bson_value(getattr(record, name)) for name in names if hasattr(record, name)
        }
    return to_document(record)


@dataclass
class StoredRecords:
    """What ``store_records`` wrote: for the materialization's metadata."""

    name: str
    partitions: list[str]
    written: int = 0
    replaced: int = 0
    preview: list[Document] = field(default_factory=list)

    def add(self, other: "StoredRecords") -> None:
        """Count another write of the same asset (another day of a range)."""
        self.partitions.extend(other.partitions)
        self.written += other.written
        self.replaced += other.replaced
        self.preview = self.preview or other.preview

    def metadata(self, db_name: str, preview_rows: int) -> dict[str, Any]:
        return write_metadata(
            db_name,
            self.name,
            self.partitions,
            self.preview,
            self.replaced,
            preview_rows,
            written=self.written,
        )


def store_records(
    db: Database[Document],
    name: str,
    partitions: list[str],
    records: Iterable[Any],
    *,
    natural_key: Sequence[str] | None,
    partition_field: str,
    asset: str,
    run_id: str | None,
    preview_rows: int = PREVIEW_ROWS,
    id_fields: Iterable[Document] | None = None,
    observe: Callable[[Document], None] | None = None,
) -> StoredRecords:
    """Replace these partitions of collection ``name`` with ``records`` (dicts or models),
    as the storage contract says: natural ids checked first, so a bad value leaves the
    stored partitions as they were; then converted and written one batch at a time.

    ``records`` is read twice (the ids, then the documents) unless ``id_fields`` gives,
    up front, the fields each record's id is made of: then it is read once, as it is
    written (a generator will do), and a record whose id was not announced fails the
    write before the partitions are marked complete. ``observe`` sees each document as
    it is written (checks that judge a day on the way).

    The IO manager stores every output this way; an asset that stores a range day by
    day, so no more than a day is ever held, calls it for each day."""
    id_names = [*(natural_key or ["_id"]), "partition_key", partition_field]

    def with_id(doc: Document) -> Document:
        assign_id(
            doc,
            partitions=partitions,
            natural_key=natural_key,
            partition_field=partition_field,
            asset=asset,
        )
        return doc

    # First every id, from the fields it is made of, before anything is deleted: a
    # bad value leaves the stored partition as it was.
    if id_fields is None:
        announced = None
        ids: Iterable[str] = (with_id(_fields(record, id_names))["_id"] for record in records)
    else:
        announced = [with_id(_fields(fields, id_names))["_id"] for fields in id_fields]
        ids = announced
    written = check_unique_ids(ids, asset)
    expected = set(announced) if announced is not None else None
    preview: list[Document] = []

    def documents() -> Iterator[Document]:
        # Converted as they are written, one batch at a time: a partition's value and
        # a full copy of it as documents are never in memory together.
        for record in records:
            document = with_id(to_document(record))
            if expected is not None:
                if document["_id"] not in expected:
                    raise ValueError(
                        f"{asset}: record {document['_id']!r} was not among the ids "
                        "announced; the partition is left unmarked (missing)"
                    )
                expected.remove(document["_id"])
            if len(preview) < preview_rows:
                preview.append(document)
            if observe is not None:
                observe(document)
            yield document
        if expected:
            raise ValueError(
                f"{asset}: {len(expected)} announced record(s) never came, e.g. "
                f"{sorted(expected)[:3]}; the partition is left unmarked (missing)"
            )

    replaced = replace_partitions(db, name, partitions, documents(), run_id=run_id)
    return StoredRecords(name, list(partitions), written, replaced, preview)


def _previous_attempts(context: dg.InputContext | dg.OutputContext) -> int:
    try:
        return context.step_context.previous_attempt_count
    except dg.DagsterInvariantViolationError:  # a context built outside a run (tests)
        return 0


def missing_partition_message(asset: str, partition_key: str | None) -> str:
    """What was missing, and the two ways to make it: the UI and the command line."""
    if partition_key is None:
        return (
            f"{asset} has never been materialized. Materialize it first: in the UI "
            f"(Assets > {asset} > Materialize) or with `dagster asset materialize "
            f"-m phoenix_assets.definitions --select {asset}`."
        )
    return (
        f"{asset} partition {partition_key} has never been materialized (or its last write "
        f"did not finish). Materialize it first: in the UI (Assets > {asset} > Materialize, "
        f"partition {partition_key}) or with `dagster asset materialize "
        f"-m phoenix_assets.definitions --select {asset} --partition {partition_key}`."
    )


class MongoIOManager(dg.ConfigurableIOManager):
    """Stores each asset in its own MongoDB collection, replacing partitions whole.

    Accepts a DataFrame, a list of dicts or a list of pydantic models, and loads back the
    type the consuming asset asks for.
    """

    mongo: MongoResource
    # Which sources are enabled; None (a bare IO manager, in tests) treats all as enabled.
    pipeline: PipelineConfig | None = None
    preview_rows: int = PREVIEW_ROWS

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        with step_failures(context.log, _previous_attempts(context), what="writing the output"):
            self._handle_output(context, obj)

    def load_input(self, context: dg.InputContext) -> Any:
        with step_failures(context.log, _previous_attempts(context), what="reading an input"):
            return self._load_input(context)

    def _source_disabled(self, context: dg.InputContext) -> str | None:
        """The source of the upstream raw asset when it is not enabled, else None."""
        if self.pipeline is None or context.upstream_output is None:
            return None
        source = (context.upstream_output.definition_metadata or {}).get(SOURCE)
        if isinstance(source, str) and source not in self.pipeline.source_list:
            return source
        return None

    def _handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        metadata = context.definition_metadata or {}
        stored = store_records(
            self.mongo.get_database(),
            collection_name(context.asset_key),
            list(context.asset_partition_keys) if context.has_asset_partitions else [],
            records_of(obj),
            natural_key=metadata.get(NATURAL_KEY),
            partition_field=metadata.get(PARTITION_FIELD, "partition_key"),
            asset=context.asset_key.to_user_string(),
            run_id=context.run_id,
            preview_rows=self.preview_rows,
        )
        context.add_output_metadata(stored.metadata(self.mongo.database, self.preview_rows))

    # -- reading ------------------------------------------------------------------
    def _load_input(self, context: dg.InputContext) -> Any:
        if not context.has_asset_key:
            raise TypeError("the Mongo IO manager only loads asset inputs")
        db = self.mongo.get_database()
        typing_type = context.dagster_type.typing_type
        part = self._slice(context, db)
        handler = _HANDLERS.get(typing_type, _load_documents)
        value, loaded = handler(db, part, typing_type)
        if part.missing and hasattr(value, "attrs"):  # a DataFrame carries what was missing
            value.attrs["missing_partitions"] = part.missing
        if part.single and loaded is not None:  # Dagster records single-partition loads only
            context.add_input_metadata({"documents_loaded": loaded})
        return value

    def _slice(self, context: dg.InputContext, db: Database[Document]) -> "PartitionSlice":
        """What the input reads: which of its partitions are stored whole, which are
        missing (logged, or an error when one partition was asked for and it is
        required), and how each is read."""
        name = collection_name(context.asset_key)
        asset = context.asset_key.to_user_string()
        options = context.definition_metadata or {}
        if not context.has_asset_partitions:
            if not written_partitions(db, name, [UNPARTITIONED]):
                raise MissingPartitionError(missing_partition_message(asset, None))
            return PartitionSlice(name, [], [], None, None, single=False, whole=True)
        keys = sorted(context.asset_partition_keys)
        if keys and options.get(FIRST_PARTITION_ONLY):
            keys = keys[:1]
        written = written_partitions(db, name, keys)
        missing = [key for key in keys if key not in written]
        disabled = self._source_disabled(context) if missing else None
        if disabled is not None:
            # Not required: the source is off. One line, and the partitions read as empty.
            context.log.info(
                f"{asset}: {', '.join(missing)} never collected, and source {disabled!r} is "
                "not in PHOENIX_SOURCES: read as empty"
            )
            missing = []
        elif len(keys) == 1 and missing:
            if not options.get(ALLOW_MISSING):
                raise MissingPartitionError(missing_partition_message(asset, keys[0]))
            context.log.warning(f"{asset} partition {keys[0]} has never been materialized")
            missing = []
        if missing:
            context.log.warning(
                f"{asset}: {len(missing)} of {len(keys)} partitions missing: {', '.join(missing)}"
            )
        return PartitionSlice(
            name,
            sorted(written),
            missing,
            options.get(COLUMNS),
            options.get(MATCHING),
            single=len(context.asset_partition_keys) == 1,
        )


@dataclass(frozen=True)
class PartitionSlice:
    """The part of an asset's collection one input reads: the partitions stored whole
    (``written``, sorted), those asked for but missing (each logged), the fields read
    (``columns``, all when None) and a filter within each day (``matching``). ``whole``:
    an unpartitioned asset, read as the whole collection."""

    name: str
    written: list[str]
    missing: list[str]
    columns: Sequence[str] | None
    matching: Mapping[str, Any] | None
    single: bool  # one partition was asked for (its documents' count is recorded)
    whole: bool = False


# One handler per type an asset may declare: (the value, the documents loaded or None).
Handler = Callable[[Database[Document], PartitionSlice, Any], tuple[Any, int | None]]


def _load_reader(db: Database[Document], part: PartitionSlice, _: Any) -> tuple[Any, int | None]:
    """A ``PartitionReader``: each partition read lazily, when the asset asks for it."""
    compacted = compacted_generations(db, part.name, part.written)
    reader = PartitionReader(db[part.name], part.written, part.columns, compacted=compacted)
    return reader, None


def _documents(db: Database[Document], part: PartitionSlice) -> Iterator[Document]:
    """The slice's documents from a cursor: the whole collection, or each day read whole
    or from the snapshot history when it was compacted."""
    if part.whole:
        return iter(db[part.name].find({}))
    projection = partition_projection(part.columns)
    return iter_days(db, part.name, part.written, part.matching, projection)


def _load_frame(db: Database[Document], part: PartitionSlice, _: Any) -> tuple[Any, int | None]:
    """A DataFrame, straight from the cursor: the documents are never all held."""
    frame = frame_of(_documents(db, part))
    return frame, len(frame)  # a row per document


def _load_documents(
    db: Database[Document], part: PartitionSlice, typing_type: Any
) -> tuple[Any, int | None]:
    """Dicts or pydantic models, as the asset declares."""
    documents = list(_documents(db, part))
    loaded = len(documents)
    return from_documents(documents, typing_type), loaded  # consumes ``documents``


_HANDLERS: dict[Any, Handler] = {PartitionReader: _load_reader, pd.DataFrame: _load_frame}
