"""One asset's collection and its manifest entries, behind one object.

``PartitionStore`` is the door through which the IO manager, the assets that store a
range day by day, the checks, the reports and the CLI write partitions, delete them,
read them (each day whole or from the snapshot history, as its manifest entry says)
and ask which partitions were completely written. The mechanics behind it live in
``partition_store`` (natural ids, replace, merge, the manifest) and ``snapshot_history``
(compacted days); nothing outside ``storage/`` calls those directly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg
from pydantic import BaseModel
from pymongo.cursor import Cursor
from pymongo.database import Database

from phoenix_assets.storage import partition_store as mechanics
from phoenix_assets.storage import snapshot_history as history
from phoenix_assets.storage.documents import Document, to_bson_value, to_document
from phoenix_assets.storage.partition_reader import PartitionReader

# Documents shown in a materialization's preview.
PREVIEW_ROWS = 5


@dataclass
class StoredRecords:
    """What ``PartitionStore.store`` wrote: for the materialization's metadata."""

    name: str
    partitions: list[str]
    written: int = 0
    replaced: int = 0
    preview: list[Document] = field(default_factory=list)

    def add(self, other: StoredRecords) -> None:
        """Count another write of the same asset (another day of a range)."""
        self.partitions.extend(other.partitions)
        self.written += other.written
        self.replaced += other.replaced
        self.preview = self.preview or other.preview

    def metadata(self, db_name: str, preview_rows: int) -> dict[str, Any]:
        return mechanics.write_metadata(
            db_name,
            self.name,
            self.partitions,
            self.preview,
            self.replaced,
            preview_rows,
            written=self.written,
        )


def _fields(record: Any, names: list[str]) -> Document:
    """These fields of a record (a dict or a model), converted as ``to_document`` would."""
    if isinstance(record, dict):
        return {name: to_bson_value(record[name]) for name in names if name in record}
    if isinstance(record, BaseModel):
        return {
            name: to_bson_value(getattr(record, name)) for name in names if hasattr(record, name)
        }
    return to_document(record)


@dataclass(frozen=True)
class PartitionStore:
    """The collection ``name`` of ``db`` (an asset's, named after its key) and the
    manifest entries that say which of its partitions are stored whole."""

    db: Database[Document]
    name: str

    @classmethod
    def for_asset(cls, db: Database[Document], asset_key: dg.AssetKey) -> PartitionStore:
        return cls(db, mechanics.collection_name(asset_key))

    # -- which partitions were written ----------------------------------------------
    def written(self, keys: Iterable[str]) -> dict[str, str | None]:
        """Which of these partitions were completely written, in one manifest query: each
        with the snapshot-history generation that holds it, or None when stored whole."""
        entries = mechanics.manifest_entries(self.db, self.name, keys, [history.COMPACTED])
        return {key: _generation(entry) for key, entry in entries.items()}

    def entries(
        self, keys: Iterable[str], fields: Sequence[str] | None = None
    ) -> dict[str, Document]:
        """The manifest entries of these partitions that were completely written (when,
        by which run, how many documents), by partition key (``fields``: only these)."""
        return mechanics.manifest_entries(self.db, self.name, keys, fields)

    def entry(self, key: str) -> Document | None:
        """The manifest entry of partition ``key`` when it was completely written."""
        return mechanics.manifest_entry(self.db, self.name, key)

    def partition_keys(self) -> set[str]:
        """Every partition the collection holds documents of or has a manifest entry for
        (a day stored empty, or a write that died before its documents)."""
        keys = {key for key in self.db[self.name].distinct("partition_key") if isinstance(key, str)}
        manifest = self.db[mechanics.MANIFEST_COLLECTION]
        for entry in manifest.find({"collection": self.name}, {"partition_key": 1}):
            if isinstance(entry.get("partition_key"), str):
                keys.add(entry["partition_key"])
        return keys

    def holds_anything(self) -> bool:
        """Whether the collection holds any document (a source that was ever collected)."""
        return mechanics.holds_anything(self.db, self.name)

    # -- writing ----------------------------------------------------------------------
    def store(
        self,
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
        """Replace these partitions with ``records`` (dicts or models), as the storage
        contract says: natural ids checked first, so a bad value leaves the stored
        partitions as they were; then converted and written one batch at a time.

        ``records`` is read twice (the ids, then the documents) unless ``id_fields``
        gives, up front, the fields each record's id is made of: then it is read once, as
        it is written (a generator will do), and a record whose id was not announced
        fails the write before the partitions are marked complete. ``observe`` sees each
        document as it is written (checks that judge a day on the way).

        The IO manager stores every output this way; an asset that stores a range day by
        day, so no more than a day is ever held, calls it for each day."""
        id_names = [*(natural_key or ["_id"]), "partition_key", partition_field]

        def with_id(doc: Document) -> Document:
            mechanics.assign_id(
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
        written = mechanics.check_unique_ids(ids, asset)
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

        replaced = self.replace(partitions, documents(), run_id=run_id)
        return StoredRecords(self.name, list(partitions), written, replaced, preview)

    def replace(
        self, partitions: Sequence[str], documents: Iterable[Document], *, run_id: str | None
    ) -> int:
        """Replace these partitions (the whole collection when none) with ``documents``,
        which carry their ``_id`` and ``partition_key``; how many documents were replaced."""
        return mechanics.replace_partitions(
            self.db, self.name, partitions, documents, run_id=run_id
        )

    def merge(
        self,
        partition_key: str,
        documents: Sequence[Document],
        *,
        key_field: str,
        run_id: str | None,
    ) -> int:
        """Add ``documents`` to a partition of raw data, replacing only the stored ones
        with the same ``key_field``; how many were replaced."""
        return mechanics.merge_into_partition(
            self.db, self.name, partition_key, documents, key_field=key_field, run_id=run_id
        )

    def mark_written(self, keys: Sequence[str], *, run_id: str | None) -> None:
        """Mark these partitions complete with the documents they hold now (a store that
        is added to, never replaced)."""
        mechanics.mark_written(self.db, self.name, keys, run_id=run_id)

    def delete(self, keys: Sequence[str]) -> int:
        """Drop these partitions: each un-marked first (a drop cut short leaves it
        missing, not empty), then its documents; how many documents were deleted."""
        manifest = self.db[mechanics.MANIFEST_COLLECTION]
        deleted = 0
        for key in keys:
            manifest.delete_one({"_id": f"{self.name}:{key}"})
            deleted += mechanics.delete_partitions(self.db[self.name], [key])
        return deleted

    # -- reading ----------------------------------------------------------------------
    def read(
        self,
        keys: Sequence[str],
        query: Mapping[str, Any] | None = None,
        projection: Mapping[str, int] | None = None,
        *,
        compacted: Mapping[str, str] | None = None,
    ) -> Iterator[Document]:
        """The documents of these partitions matching ``query`` (equality), one at a
        time, each day read whole or from the snapshot history. ``compacted``: the
        compacted days as ``written`` gave them, so the manifest is not asked again."""
        return history.iter_days(self.db, self.name, keys, query, projection, compacted)

    def read_all(self) -> Iterator[Document]:
        """Every document of an unpartitioned asset."""
        return iter(self.db[self.name].find({}))

    def count(self, keys: Sequence[str], query: Mapping[str, Any] | None = None) -> int:
        """How many documents of these partitions match ``query`` (equality)."""
        return history.count_days(self.db, self.name, keys, query)

    def values_on_day(self, day: str, field_name: str) -> set[Any]:
        """The distinct values of ``field_name`` in partition ``day``."""
        return history.values_on_day(self.db, self.name, day, field_name)

    def reader(
        self,
        keys: Sequence[str],
        columns: Sequence[str] | None = None,
        *,
        compacted: Mapping[str, str] | None = None,
    ) -> PartitionReader:
        """These partitions, each read lazily when asked for."""
        if compacted is None:
            compacted = history.compacted_generations(self.db, self.name, keys)
        return PartitionReader(self.db[self.name], keys, columns, compacted=compacted)

    def day_documents(
        self, key: str, projection: Mapping[str, int] | None = None
    ) -> Cursor[Document]:
        """Partition ``key`` of an append-only store (a raw source's day, added to,
        never replaced or compacted), as a cursor."""
        return mechanics.partition_documents(self.db, self.name, key, projection)

    def latest_by_source_id(
        self, source_ids: Iterable[str], *, since: str, before: str
    ) -> dict[str, Document]:
        """Of a raw store, the latest record of each of these source ids among the days
        from ``since`` up to (not including) ``before``, by source id."""
        return mechanics.latest_by_source_id(
            self.db, self.name, source_ids, since=since, before=before
        )


def _generation(entry: Document) -> str | None:
    generation = entry.get(history.COMPACTED)
    return str(generation) if generation else None


def document_counts(db: Database[Document]) -> dict[str, int]:
    """Every collection of the database but the manifest, with how many documents it
    holds (the CLI's end-of-run summary)."""
    return {
        name: db[name].count_documents({})
        for name in sorted(db.list_collection_names())
        if name != mechanics.MANIFEST_COLLECTION
    }
