"""The version log of an incremental source: every version of every record, append-only.

An incremental source (MLS through RESO) serves only each record's latest version, so
what was collected is the only history there is. Its raw collection is therefore a log,
never replaced: one document per version,

    _id            "mls:<ListingKey>:<ModificationTimestamp, UTC, microseconds>"
    modified_at    the version's ModificationTimestamp (a datetime; when unreadable or
                   impossibly far ahead, when it was collected, and the _id takes the
                   payload's hash instead)
    partition_key  the Phoenix day of ``modified_at``: a day's partition is the versions
                   made that day, whenever they were collected
    stored_at      when this version first reached the log
    modified_us,   the same two instants in microseconds since the Unix epoch: what
    stored_us      queries compare (integers compare exactly on every server; dates
                   are kept to the millisecond by BSON and to the second by some servers)

plus the raw envelope (``source``, ``source_id``, ``zip_code``, ``collected_at``,
``payload_sha256``, ``payload``). A version is inserted once: a re-run, a retry, an
overlapping window or a backfill that meets it again changes nothing (duplicate ``_id``\\ s
are skipped), so a run may add versions but never remove one. Only the retention job
deletes from it.

The state of the source at the end of day D is, per record, its latest version with
``modified_at`` before the end of D (``latest_versions``). Snapshots compute it from the
day before's snapshot plus the versions in between (``versions_between``) when that
snapshot saw every version older than the overlap (``stored_after``), and from the whole
log otherwise. ``record_log_read`` keeps, per written partition and run, when the log was
read, which is what ``stored_after`` compares with.

``source_inventory_baselines`` remembers, per source and ZIP, the days whose collection
took the ZIP's whole standing inventory: a day after a baseline is complete with the
versions of its window; a day before every baseline needs one of its own.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import itertools
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from pymongo import ASCENDING
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import BulkWriteError, DuplicateKeyError

from phoenix_assets.partitions import phoenix_day
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.partition_store import INSERT_BATCH, ensure_indexes

BASELINE_COLLECTION = "source_inventory_baselines"
LOG_READS_COLLECTION = "version_log_reads"
_DUPLICATE_KEY = 11000
_ISO = "%Y-%m-%dT%H:%M:%S.%fZ"


_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_micros(value: dt.datetime) -> int:
    """Microseconds since the Unix epoch (naive values are UTC)."""
    return (_utc(value) - _EPOCH) // dt.timedelta(microseconds=1)


def modified_time(version: Document) -> dt.datetime:
    """A stored version's modification time, exact to the microsecond."""
    return _EPOCH + dt.timedelta(microseconds=int(version["modified_us"]))


def _utc(value: dt.datetime) -> dt.datetime:
    """Aware UTC (PyMongo returns naive UTC datetimes unless told otherwise)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def version_id(source: str, source_id: str, modified: dt.datetime | None, sha256: str) -> str:
    """A version's natural key: the record's key and its modification time (or its hash)."""
    stamp = _utc(modified).strftime(_ISO) if modified is not None else f"sha:{sha256[:16]}"
    return f"{source}:{source_id}:{stamp}"


def dated_by_source(version: Document) -> bool:
    """Whether a stored version is dated by the source's ModificationTimestamp (not by
    when it was collected, its ``_id`` then ending in the payload's hash)."""
    return str(version.get("_id", "")).split(":")[-2:-1] != ["sha"]


def version_document(
    raw: Document, *, modified: dt.datetime | None, collected_at: dt.datetime
) -> Document:
    """A raw envelope (``sources.envelope.raw_document``) made a version of the log."""
    effective = _utc(modified if modified is not None else collected_at)
    return {
        **raw,
        "_id": version_id(raw["source"], raw["source_id"], modified, raw["payload_sha256"]),
        "modified_at": effective,
        "modified_us": to_micros(effective),
        "partition_key": phoenix_day(effective),
    }


@dataclass(frozen=True)
class Appended:
    """What one append did: versions new to the log, and versions it already held."""

    new: int
    known: int
    new_by_partition: dict[str, int]


def _ensure_log_indexes(collection: Collection[Document]) -> None:
    collection.create_index([("modified_us", ASCENDING)])
    collection.create_index([("stored_us", ASCENDING)])


def append_versions(
    db: Database[Document], name: str, versions: Iterable[Document], *, stored_at: dt.datetime
) -> Appended:
    """Insert the versions the log does not hold yet; never replace or delete one."""
    ensure_indexes(db, name)
    collection = db[name]
    _ensure_log_indexes(collection)
    new = known = 0
    new_by_partition: dict[str, int] = {}
    iterator = iter(versions)
    while batch := list(itertools.islice(iterator, INSERT_BATCH)):
        stamp = {"stored_at": _utc(stored_at), "stored_us": to_micros(stored_at)}
        unique = list({doc["_id"]: {**doc, **stamp} for doc in batch}.values())
        known += len(batch) - len(unique)
        failed: set[int] = set()
        try:
            collection.insert_many(unique, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            others = [e for e in errors if e.get("code") != _DUPLICATE_KEY]
            if others:
                raise
            failed = {int(e["index"]) for e in errors}
        known += len(failed)
        new += len(unique) - len(failed)
        for index, doc in enumerate(unique):
            if index not in failed:
                key = doc["partition_key"]
                new_by_partition[key] = new_by_partition.get(key, 0) + 1
    return Appended(new=new, known=known, new_by_partition=new_by_partition)


def _range_query(after: dt.datetime | None, before: dt.datetime) -> dict[str, Any]:
    """Versions modified in ``(after, before)``; the partition bounds let the index help."""
    modified: dict[str, int] = {"$lt": to_micros(before)}
    partition: dict[str, str] = {"$lte": phoenix_day(_utc(before))}
    if after is not None:
        modified["$gt"] = to_micros(after)
        partition["$gte"] = phoenix_day(_utc(after))
    return {"partition_key": partition, "modified_us": modified}


def versions_between(
    db: Database[Document], name: str, after: dt.datetime | None, before: dt.datetime
) -> Iterator[Document]:
    """Every version modified after ``after`` (None: from the start) and before ``before``."""
    for document in db[name].find(_range_query(after, before)):
        document["modified_at"] = modified_time(document)
        yield document


def latest_by_record(versions: Iterable[Document]) -> dict[str, Document]:
    """Per record (``source_id``), its latest version (the later stored on a tie)."""
    latest: dict[str, Document] = {}
    for version in versions:
        kept = latest.get(version["source_id"])
        if kept is None or version["modified_us"] >= kept["modified_us"]:
            latest[version["source_id"]] = version
    return latest


def latest_versions(db: Database[Document], name: str, before: dt.datetime) -> dict[str, Document]:
    """The source's state just before ``before``: per record, its latest version."""
    return latest_by_record(versions_between(db, name, None, before))


def stored_after(
    db: Database[Document], name: str, *, stored_since: dt.datetime, modified_before: dt.datetime
) -> bool:
    """Whether a version modified before ``modified_before`` reached the log after
    ``stored_since`` (then a state built at ``stored_since`` did not see it).

    Compared in integer microseconds (``stored_us``, ``modified_us``): exact on every
    server, where dates are compared to the second by some.
    """
    query = {
        "stored_us": {"$gt": to_micros(stored_since)},
        "modified_us": {"$lt": to_micros(modified_before)},
    }
    return db[name].find_one(query, {"_id": 1}) is not None


def record_log_read(
    db: Database[Document],
    asset: str,
    partition_keys: Sequence[str],
    run_id: str,
    read_at: dt.datetime,
) -> None:
    """Remember when ``asset``'s partitions written by ``run_id`` read the log."""
    collection = db[LOG_READS_COLLECTION]
    collection.create_index([("asset", ASCENDING), ("partition_key", ASCENDING)])
    for key in partition_keys:
        document = {"_id": f"{asset}:{key}:{run_id}", "asset": asset, "partition_key": key}
        # A retried step of the same run keeps the first read, the earlier one.
        with contextlib.suppress(DuplicateKeyError):
            collection.insert_one(
                {
                    **document,
                    "run_id": run_id,
                    "read_at": _utc(read_at),
                    "read_us": to_micros(read_at),
                }
            )


def log_read_at(
    db: Database[Document], asset: str, partition_key: str, run_id: str | None
) -> dt.datetime | None:
    """When the run that wrote this partition read the log (None if it is not known)."""
    if not run_id:
        return None
    document = db[LOG_READS_COLLECTION].find_one({"_id": f"{asset}:{partition_key}:{run_id}"})
    if document is None:
        return None
    return _EPOCH + dt.timedelta(microseconds=int(document["read_us"]))


def baseline_zips(
    db: Database[Document], source: str, zip_codes: Sequence[str], on_or_before: str
) -> set[str]:
    """The ZIPs whose whole standing inventory was collected on ``on_or_before`` or earlier."""
    found = db[BASELINE_COLLECTION].find(
        {"source": source, "day": {"$lte": on_or_before}}, {"zip_code": 1}
    )
    wanted = set(zip_codes)
    return {doc["zip_code"] for doc in found if doc.get("zip_code") in wanted}


def record_baselines(
    db: Database[Document], source: str, zip_codes: Iterable[str], day: str
) -> None:
    """Record that these ZIPs' whole standing inventory as of ``day`` is in the log."""
    collection = db[BASELINE_COLLECTION]
    collection.create_index([("source", ASCENDING), ("day", ASCENDING)])
    for zip_code in zip_codes:
        with contextlib.suppress(DuplicateKeyError):
            collection.insert_one(
                {
                    "_id": f"{source}:{zip_code}:{day}",
                    "source": source,
                    "zip_code": zip_code,
                    "day": day,
                    "recorded_at": dt.datetime.now(dt.UTC),
                }
            )


def state_versions(
    db: Database[Document],
    name: str,
    source: str,
    *,
    before: dt.datetime,
    carried: dict[str, dt.datetime] | None,
    after: dt.datetime,
) -> dict[str, Document]:
    """Per record, its latest version modified before ``before``: the source's state.

    ``carried``: the state as of ``after`` or later (record -> its version's modification
    time), known to include every version modified up to ``after``; the versions since
    ``after`` are applied to it and only the carried versions are read back, by ``_id``.
    None: the whole log up to ``before`` is read.
    """
    if carried is None:
        return latest_versions(db, name, before)
    state = latest_by_record(versions_between(db, name, after, before))
    wanted = {
        version_id(source, key, modified, ""): key
        for key, modified in carried.items()
        if key not in state or state[key]["modified_us"] < to_micros(modified)
    }
    ids = list(wanted)
    found: set[str] = set()
    for start in range(0, len(ids), 1_000):
        for document in db[name].find({"_id": {"$in": ids[start : start + 1_000]}}):
            document["modified_at"] = modified_time(document)
            state[document["source_id"]] = document
            found.add(document["_id"])
    lost = sorted({key for version, key in wanted.items() if version not in found})
    if lost:  # e.g. a version stored under its hash: read those records' history
        older = db[name].find({"source_id": {"$in": lost}, **_range_query(None, before)})
        for key, document in latest_by_record(
            {**d, "modified_at": modified_time(d)} for d in older
        ).items():
            if key not in state or state[key]["modified_us"] < document["modified_us"]:
                state[key] = document
    return state
