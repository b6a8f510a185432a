"""The quarantine: records that failed validation, kept with the reason and the raw payload."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from phoenix_assets.storage.documents import Document, to_bson_value

QUARANTINE_COLLECTION = "quarantine"


def quarantine_entry(
    *,
    asset: str,
    partition_key: str,
    source: str,
    source_id: str,
    reason: str,
    payload: Any,
) -> Document:
    """One quarantined record; its natural ``_id`` makes a re-run replace, not duplicate, it."""
    return {
        "_id": f"{asset}:{source}:{source_id}:{partition_key}",
        "asset": asset,
        "partition_key": partition_key,
        "source": source,
        "source_id": source_id,
        "reason": reason,
        "payload": to_bson_value(payload),
        "quarantined_at": dt.datetime.now(dt.UTC),
    }


def replace_quarantine(
    db: Database[Document],
    asset: str,
    partition_keys: Sequence[str],
    entries: list[Document],
) -> None:
    """Replace the quarantine of ``asset`` for these partitions with ``entries``."""
    collection = db[QUARANTINE_COLLECTION]
    collection.create_index([("asset", ASCENDING), ("partition_key", ASCENDING)])
    for key in partition_keys:  # equality deletes: see storage.io_manager.delete_partitions
        collection.delete_many({"asset": asset, "partition_key": key})
    if entries:
        collection.insert_many(entries, ordered=False)
