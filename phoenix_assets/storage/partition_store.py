"""The storage contract's mechanics: natural ids, partition replacement, the manifest.

- the collection is named after the asset key (``raw_demo_listings``);
- each document of a partitioned asset carries its partition key in ``partition_key``;
- ``_id`` is a natural key string, ``"<key fields>:<partition_key>"``, built from the
  fields the asset names in its ``natural_key`` metadata, so writes are idempotent;
- writing a partition deletes it, then inserts the new documents (as Dagster's own
  DbIOManager does); a ``partition_manifest`` entry, written last and removed first,
  marks a partition as complete, so a half-written partition never reads as data.

``store.PartitionStore`` is the door to these for everything outside ``storage/``: the
IO manager's replace, the raw network sources' merge and mark (they add to their
partitions and never replace them; the MLS version log is ``version_log``).
"""

import datetime as dt
import itertools
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import dagster as dg
from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.cursor import Cursor
from pymongo.database import Database

from phoenix_assets.storage.documents import Document

MANIFEST_COLLECTION = "partition_manifest"
UNPARTITIONED = "*"
# Metadata keys an asset (or its AssetIn) sets to tell the storage how to store it.
NATURAL_KEY = "natural_key"  # fields that identify a record within a partition
PARTITION_FIELD = "partition_field"  # field holding each record's partition (range writes)
COLUMNS = "columns"  # on an AssetIn: load only these top-level fields
ALLOW_MISSING = "allow_missing"  # on an AssetIn: a missing partition loads as empty
SOURCE = "source"  # on a raw asset: its source; when disabled, a missing partition is empty
# On an AssetIn: of the mapped range, load only its first partition (a self-dependency
# run over a range needs only the day before the range; it builds the rest itself).
FIRST_PARTITION_ONLY = "first_partition_only"
# On an AssetIn: load only the documents matching this MongoDB filter.
MATCHING = "matching"
INSERT_BATCH = 2_000

_COLLECTION_NAME = re.compile(r"^[a-z0-9_]+$")


def collection_name(asset_key: dg.AssetKey) -> str:
    """The collection that stores ``asset_key``: its path joined with ``_``."""
    name = "_".join(asset_key.path).lower()
    if not _COLLECTION_NAME.match(name):
        raise ValueError(
            f"asset key {asset_key.to_user_string()!r} gives an invalid collection name"
        )
    return name


def assign_id(
    doc: Document,
    *,
    partitions: Sequence[str],
    natural_key: Sequence[str] | None,
    partition_field: str,
    asset: str,
) -> None:
    """Set ``partition_key`` and the natural ``_id`` on one document, or raise."""
    if partitions:
        key = doc.get("partition_key") or doc.get(partition_field)
        if key is None and len(partitions) == 1:
            key = partitions[0]
        if key not in partitions:
            raise ValueError(
                f"{asset}: a document belongs to partition {key!r}, outside the "
                f"partitions being written ({partitions[0]}...{partitions[-1]}); "
                f"set '{partition_field}' on every record of a multi-partition output"
            )
        doc["partition_key"] = key
    if natural_key:
        missing = [f for f in natural_key if doc.get(f) in (None, "")]
        if missing:
            raise ValueError(f"{asset}: a document lacks its natural key field(s) {missing}")
        parts = [str(doc[f]) for f in natural_key]
        if partitions:
            parts.append(doc["partition_key"])
        doc["_id"] = ":".join(parts)
    elif "_id" not in doc:
        raise ValueError(
            f"{asset}: documents need a natural key: set the asset's metadata "
            f"'{NATURAL_KEY}' to the fields that identify a record, or give each an '_id'"
        )


def check_unique_ids(ids: Iterable[str], asset: str) -> int:
    """Raise if an ``_id`` occurs twice; returns how many there are."""
    counts = Counter(ids)
    duplicates = [k for k, n in counts.items() if n > 1]
    if duplicates:
        raise ValueError(
            f"{asset}: {len(duplicates)} natural key(s) occur more than once, e.g. "
            f"{duplicates[:3]}; nothing was written"
        )
    return sum(counts.values())


def assign_ids(
    documents: list[Document],
    *,
    partitions: list[str],
    natural_key: Sequence[str] | None,
    partition_field: str,
    asset: str,
) -> None:
    """Set ``partition_key`` and the natural ``_id`` on every document, or raise."""
    for doc in documents:
        assign_id(
            doc,
            partitions=partitions,
            natural_key=natural_key,
            partition_field=partition_field,
            asset=asset,
        )
    check_unique_ids((doc["_id"] for doc in documents), asset)


def replace_partitions(
    db: Database[Document],
    name: str,
    partitions: Sequence[str],
    documents: Iterable[Document],
    *,
    run_id: str | None = None,
) -> int:
    """Replace these partitions of collection ``name`` (all of it when ``partitions`` is
    empty) with ``documents``, which already carry ``_id`` and ``partition_key``.

    ``documents`` may be a generator: it is consumed one insert batch at a time, so a
    large partition is never held whole as documents. Returns how many documents were
    replaced.
    """
    ensure_indexes(db, name)
    collection = db[name]
    keys = list(partitions) or [UNPARTITIONED]
    manifest = db[MANIFEST_COLLECTION]
    manifest_ids = [f"{name}:{key}" for key in keys]
    # Un-mark first, write, mark last: a run that dies in between leaves the
    # partition missing (and re-runnable), never half-present.
    manifest.delete_many({"_id": {"$in": manifest_ids}})
    deleted = (
        delete_partitions(collection, partitions)
        if partitions
        else collection.delete_many({}).deleted_count
    )
    counts: Counter[str] = Counter()
    iterator = iter(documents)
    while batch := list(itertools.islice(iterator, INSERT_BATCH)):
        counts.update(doc.get("partition_key", UNPARTITIONED) for doc in batch)
        collection.insert_many(batch, ordered=False)

    written_at = dt.datetime.now(dt.UTC)
    manifest.insert_many(
        [_manifest_document(name, key, counts.get(key, 0), written_at, run_id) for key in keys]
    )
    return deleted


def _manifest_document(
    name: str, key: str, documents: int, written_at: dt.datetime, run_id: str | None
) -> Document:
    """The manifest entry that marks partition ``key`` of ``name`` complete."""
    return {
        "_id": f"{name}:{key}",
        "collection": name,
        "partition_key": key,
        "documents": documents,
        "written_at": written_at,
        "run_id": run_id,
    }


def mark_written(
    db: Database[Document], name: str, partition_keys: Sequence[str], *, run_id: str | None
) -> None:
    """Mark these partitions complete in the manifest, with the documents they hold now.

    For stores that are added to rather than replaced (a raw source's log): only the
    manifest entries are rewritten; no document is touched.
    """
    ensure_indexes(db, name)
    manifest = db[MANIFEST_COLLECTION]
    written_at = dt.datetime.now(dt.UTC)
    for key in partition_keys:
        manifest.delete_one({"_id": f"{name}:{key}"})
        held = db[name].count_documents({"partition_key": key})
        manifest.insert_one(_manifest_document(name, key, held, written_at, run_id))


def merge_into_partition(
    db: Database[Document],
    name: str,
    partition_key: str,
    documents: Sequence[Document],
    *,
    key_field: str,
    run_id: str | None,
) -> int:
    """Add ``documents`` to a partition: a document replaces the stored one with the same
    ``key_field``; every other stored document stays. Returns how many were replaced.

    For raw data, which a re-run must never lose: a re-run that collected less than the
    first run (a ZIP failing this time) adds what it got and deletes nothing else.
    """
    ensure_indexes(db, name)
    collection = db[name]
    db[MANIFEST_COLLECTION].delete_one({"_id": f"{name}:{partition_key}"})
    replaced = 0
    keys = [doc[key_field] for doc in documents]
    for start in range(0, len(keys), 1_000):
        replaced += collection.delete_many(
            {"partition_key": partition_key, key_field: {"$in": keys[start : start + 1_000]}}
        ).deleted_count
    for start in range(0, len(documents), INSERT_BATCH):
        collection.insert_many(list(documents[start : start + INSERT_BATCH]), ordered=False)
    mark_written(db, name, [partition_key], run_id=run_id)
    return replaced


def partition_projection(fields: Sequence[str] | None) -> dict[str, int] | None:
    """A projection of these top-level fields plus ``partition_key``; all fields if none."""
    return {name: 1 for name in [*fields, "partition_key"]} if fields else None


def manifest_entries(
    db: Database[Document],
    name: str,
    keys: Iterable[str],
    fields: Sequence[str] | None = None,
) -> dict[str, Document]:
    """The manifest entries of these partitions of ``name`` that were completely written,
    by partition key, in one query (``fields``: only these, and the partition key)."""
    return {
        str(entry["partition_key"]): entry
        for entry in db[MANIFEST_COLLECTION].find(
            {"_id": {"$in": [f"{name}:{key}" for key in keys]}}, partition_projection(fields)
        )
    }


def written_partitions(db: Database[Document], name: str, keys: Sequence[str]) -> set[str]:
    """Which of these partitions of ``name`` were completely written."""
    return set(manifest_entries(db, name, keys, ["partition_key"]))


def manifest_entry(db: Database[Document], name: str, key: str) -> Document | None:
    """The manifest entry of a completely written partition (when, by which run), or None."""
    return db[MANIFEST_COLLECTION].find_one({"_id": f"{name}:{key}"})


def days_filter(days: Sequence[str]) -> Any:
    """A ``partition_key`` filter for these days: equality for one (which the embedded
    server answers from the index), ``$in`` for several."""
    return days[0] if len(days) == 1 else {"$in": list(days)}


def holds_anything(db: Database[Document], name: str) -> bool:
    """Whether collection ``name`` holds any document (a source that was ever collected)."""
    return db[name].find_one({}, {"_id": 1}) is not None


def partition_documents(
    db: Database[Document], name: str, key: str, projection: Mapping[str, int] | None = None
) -> Cursor[Document]:
    """The documents of partition ``key`` of an append-only store (a raw source's day, which
    is added to, never replaced or compacted), as a cursor."""
    return db[name].find({"partition_key": key}, projection)


def latest_by_source_id(
    db: Database[Document], name: str, source_ids: Iterable[str], *, since: str, before: str
) -> dict[str, Document]:
    """Of a raw store, the latest stored record of each of these source ids among the days
    from ``since`` up to (not including) ``before``, by source id."""
    latest: dict[str, Document] = {}
    cursor = db[name].find(
        {"partition_key": {"$gte": since, "$lt": before}, "source_id": {"$in": sorted(source_ids)}}
    )
    for document in cursor:
        kept = latest.get(document["source_id"])
        if kept is None or document["partition_key"] > kept["partition_key"]:
            latest[document["source_id"]] = document
    return latest


def write_metadata(
    db_name: str,
    name: str,
    partitions: Sequence[str],
    documents: Sequence[Document],
    replaced: int,
    preview_rows: int = 5,
    *,
    written: int | None = None,
) -> dict[str, Any]:
    """The metadata every write attaches to its materialization.

    ``documents``: the documents written, or only the first few (then ``written`` is
    how many were written)."""
    count = len(documents) if written is None else written
    metadata: dict[str, Any] = {
        "dagster/row_count": count,
        "documents_written": count,
        "documents_replaced": replaced,
        "collection": f"{db_name}.{name}",
        "preview": dg.MetadataValue.md(markdown_preview(documents, preview_rows)),
    }
    if partitions:
        metadata["partitions"] = partitions_label(partitions)
    return metadata


def partitions_label(partitions: Sequence[str]) -> str:
    """``2026-11-24``, or ``2026-11-03...2026-11-24`` for a range."""
    return partitions[0] if len(partitions) == 1 else f"{partitions[0]}...{partitions[-1]}"


def markdown_preview(documents: Sequence[Document], rows: int, columns: int = 8) -> str:
    if not documents:
        return "_no documents_"
    keys = [k for k in documents[0] if k not in ("_id", "partition_key")][:columns]

    def cell(value: Any) -> str:
        text = str(value).replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= 40 else text[:37] + "..."

    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(cell(doc.get(k)) for k in keys) + " |" for doc in documents[:rows]]
    return "\n".join(lines)


def delete_partitions(collection: Collection[Document], partition_keys: Sequence[str]) -> int:
    """Delete the documents of these partitions; returns how many were deleted.

    One equality delete per key: exact on every server (the embedded one mishandles
    ``$in`` of date-like strings in deletes), and each uses the ``partition_key`` index.
    """
    return sum(
        collection.delete_many({"partition_key": key}).deleted_count for key in partition_keys
    )


_indexed: set[tuple[str, str, str]] = set()


def ensure_indexes(db: Database[Document], name: str) -> None:
    """Create the collection's indexes once per process (create_index is idempotent anyway)."""
    marker = (str(id(db.client)), db.name, name)
    if marker in _indexed:
        return
    collection: Collection[Document] = db[name]
    collection.create_index([("partition_key", ASCENDING)])
    db[MANIFEST_COLLECTION].create_index([("collection", ASCENDING)])
    _indexed.add(marker)
