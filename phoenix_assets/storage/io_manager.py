"""The Mongo IO manager: Dagster's bridge to the storage contract, through
``store.PartitionStore``.

Accepts a DataFrame, a list of dicts or a list of pydantic models; a partition write
replaces exactly that partition; loading one partition or a range is one query and
returns the type the consuming asset declares (a ``PartitionReader`` reads each
partition lazily instead).

Its errors are judged like a compute function's (``phoenix_assets.failures``): MongoDB
unreachable is retried; a partition never materialized fails the step at once, naming
the command that makes it. A disabled source's raw partition is not required: missing,
it loads as empty.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dagster as dg
import pandas as pd

from phoenix_assets.failures import MissingPartitionError, step_failures
from phoenix_assets.pipeline_config import PipelineConfig
from phoenix_assets.storage.documents import Document, frame_of, from_documents, records_of
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
    partition_projection,
)
from phoenix_assets.storage.store import PREVIEW_ROWS, PartitionStore


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
        store = PartitionStore.for_asset(self.mongo.get_database(), context.asset_key)
        stored = store.store(
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
        store = PartitionStore.for_asset(self.mongo.get_database(), context.asset_key)
        typing_type = context.dagster_type.typing_type
        part = self._slice(context, store)
        handler = _HANDLERS.get(typing_type, _load_documents)
        value, loaded = handler(store, part, typing_type)
        if part.missing and hasattr(value, "attrs"):  # a DataFrame carries what was missing
            value.attrs["missing_partitions"] = part.missing
        if part.single and loaded is not None:  # Dagster records single-partition loads only
            context.add_input_metadata({"documents_loaded": loaded})
        return value

    def _slice(self, context: dg.InputContext, store: PartitionStore) -> "PartitionSlice":
        """What the input reads: which of its partitions are stored whole, which are
        missing (logged, or an error when one partition was asked for and it is
        required), and how each is read."""
        asset = context.asset_key.to_user_string()
        options = context.definition_metadata or {}
        if not context.has_asset_partitions:
            if not store.written([UNPARTITIONED]):
                raise MissingPartitionError(missing_partition_message(asset, None))
            return PartitionSlice([], {}, [], None, None, single=False, whole=True)
        keys = sorted(context.asset_partition_keys)
        if keys and options.get(FIRST_PARTITION_ONLY):
            keys = keys[:1]
        written = store.written(keys)  # one manifest query: written, and how each is kept
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
            sorted(written),
            {key: generation for key, generation in written.items() if generation},
            missing,
            options.get(COLUMNS),
            options.get(MATCHING),
            single=len(context.asset_partition_keys) == 1,
        )


@dataclass(frozen=True)
class PartitionSlice:
    """The part of an asset's collection one input reads: the partitions completely
    written (``written``, sorted; of those, the ones kept in the snapshot history, with
    their generation, in ``compacted``), those asked for but missing (each logged), the
    fields read (``columns``, all when None) and a filter within each day
    (``matching``). ``whole``: an unpartitioned asset, read as the whole collection."""

    written: list[str]
    compacted: Mapping[str, str]
    missing: list[str]
    columns: Sequence[str] | None
    matching: Mapping[str, Any] | None
    single: bool  # one partition was asked for (its documents' count is recorded)
    whole: bool = False


# One handler per type an asset may declare: (the value, the documents loaded or None).
Handler = Callable[[PartitionStore, PartitionSlice, Any], tuple[Any, int | None]]


def _load_reader(store: PartitionStore, part: PartitionSlice, _: Any) -> tuple[Any, int | None]:
    """A ``PartitionReader``: each partition read lazily, when the asset asks for it."""
    return store.reader(part.written, part.columns, compacted=part.compacted), None


def _documents(store: PartitionStore, part: PartitionSlice) -> Iterator[Document]:
    """The slice's documents from a cursor: the whole collection, or each day read whole
    or from the snapshot history when it was compacted."""
    if part.whole:
        return store.read_all()
    projection = partition_projection(part.columns)
    return store.read(part.written, part.matching, projection, compacted=part.compacted)


def _load_frame(store: PartitionStore, part: PartitionSlice, _: Any) -> tuple[Any, int | None]:
    """A DataFrame, straight from the cursor: the documents are never all held."""
    frame = frame_of(_documents(store, part))
    return frame, len(frame)  # a row per document


def _load_documents(
    store: PartitionStore, part: PartitionSlice, typing_type: Any
) -> tuple[Any, int | None]:
    """Dicts or pydantic models, as the asset declares."""
    documents = list(_documents(store, part))
    loaded = len(documents)
    return from_documents(documents, typing_type), loaded  # consumes ``documents``


_HANDLERS: dict[Any, Handler] = {PartitionReader: _load_reader, pd.DataFrame: _load_frame}
