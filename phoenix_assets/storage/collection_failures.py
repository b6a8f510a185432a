"""Collection failures: which ZIP of which source failed on which day, and why.

One document per (source, ZIP, day), replaced by each run of that day, so the record
always says what the latest attempt found. A failed ZIP is retried by the next run.

Each document also says how much of the ZIP was read before the failure
(``records_read``: what the run stored for it) and, when known, how many records it
could have expected (``records_expected``, see ``expected_records``): a ZIP with records
read is "partly collected", one with none "not collected" (``domain.collection``). A
document without ``records_read`` (recorded before it was kept) reads as nothing read.
"""

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from phoenix_assets.domain.collection import Shortfall
from phoenix_assets.sources.collection import ZipFailure
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.partition_store import days_filter
from phoenix_assets.storage.snapshot_history import SNAPSHOTS_COLLECTION
from phoenix_assets.storage.store import PartitionStore

COLLECTION_FAILURES = "collection_failures"
# Where the expectation of a ZIP's records comes from: the day before's snapshot.


def day_before(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def expected_records(
    db: Database[Document], source: str, zip_codes: Sequence[str], partition_key: str
) -> dict[str, int | None]:
    """About how many records a whole collection of each ZIP from ``source`` returns:
    the ZIP's snapshot records naming that source on the day before (None when there are
    none, e.g. the first day, or a backfill whose day before is not built yet).

    One count per ZIP, on the snapshot's indexed partition key.
    """
    before = day_before(partition_key)
    expected: dict[str, int | None] = {}
    snapshots = PartitionStore(db, SNAPSHOTS_COLLECTION)
    for zip_code in zip_codes:
        count = snapshots.count([before], {"postal_code": zip_code, "sources": source})
        expected[zip_code] = count or None
    return expected


def replace_collection_failures(
    db: Database[Document],
    source: str,
    partition_key: str,
    failures: Sequence[ZipFailure],
    *,
    records_read: Mapping[str, int] | None = None,
    records_expected: Mapping[str, int | None] | None = None,
) -> None:
    """Record this run's failures of ``source`` for the day, replacing earlier attempts'.

    ``records_read``: per ZIP, the records read (and stored) before its failure;
    ``records_expected``: per ZIP, about how many a whole collection returns (None:
    unknown)."""
    read = records_read or {}
    expected = records_expected or {}
    collection = db[COLLECTION_FAILURES]
    collection.create_index([("source", ASCENDING), ("partition_key", ASCENDING)])
    collection.delete_many({"source": source, "partition_key": partition_key})
    now = dt.datetime.now(dt.UTC)
    documents = {
        f"{source}:{failure.zip_code}:{partition_key}": {
            "_id": f"{source}:{failure.zip_code}:{partition_key}",
            "source": source,
            "zip_code": failure.zip_code,
            "partition_key": partition_key,
            "kind": failure.kind,
            "reason": failure.reason,
            "records_read": int(read.get(failure.zip_code, 0)),
            "records_expected": expected.get(failure.zip_code),
            "failed_at": now,
        }
        for failure in failures
    }
    if documents:
        collection.insert_many(list(documents.values()), ordered=False)


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)


def shortfall_of(document: Mapping[str, Any]) -> Shortfall:
    """The shortfall a ``collection_failures`` document records."""
    return Shortfall(
        source=str(document.get("source", "")),
        zip_code=str(document.get("zip_code", "")),
        day=str(document.get("partition_key", "")),
        records_read=_count(document.get("records_read")) or 0,
        records_expected=_count(document.get("records_expected")),
    )


def read_failures(db: Database[Document], days: Sequence[str]) -> list[Document]:
    """The recorded failed collections of ``days`` (one query), as stored."""
    if not days:
        return []
    when = days_filter(days)
    return list(db[COLLECTION_FAILURES].find({"partition_key": when}))


def read_shortfalls(db: Database[Document], days: Sequence[str]) -> list[Shortfall]:
    """The recorded failed collections of ``days`` (one query), by day, source and ZIP."""
    return sorted(
        (shortfall_of(doc) for doc in read_failures(db, days)),
        key=lambda s: (s.day, s.source, s.zip_code),
    )
