"""The quarantine: records that failed validation, kept with the rule and the raw payload.

An entry says why in three parts: ``rule``, a stable name to count by
(``phoenix_assets.domain.rules``); ``reason``, the product's own sentence; ``detail``,
what was wrong in the record's own terms (an adapter's message may quote the source's
values). Source text is only ever data: ``detail`` is cut to ``MAX_DETAIL_LENGTH``
characters and whitespace-folded, and whatever renders it escapes it; the payload keeps
the record whole for whoever must see it all.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database

from phoenix_assets.domain.rules import reason_for
from phoenix_assets.storage.documents import Document, to_bson_value
from phoenix_assets.storage.partition_store import days_filter

QUARANTINE_COLLECTION = "quarantine"
# Enough for an adapter's message on several fields (each about 60-80 characters), and
# short enough that a hostile megabyte string never fills an entry, a log line or a page.
MAX_DETAIL_LENGTH = 300


def short_detail(text: object, limit: int = MAX_DETAIL_LENGTH) -> str:
    """``text`` on one line (whitespace and control characters folded to single spaces),
    cut to ``limit`` characters with an ellipsis."""
    line = " ".join("".join(c if c.isprintable() else " " for c in str(text)).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def quarantine_entry(
    *,
    asset: str,
    partition_key: str,
    source: str,
    source_id: str,
    rule: str,
    payload: Any,
    reason: str | None = None,
    detail: object = "",
) -> Document:
    """One quarantined record; its natural ``_id`` makes a re-run replace, not duplicate, it.

    ``reason`` defaults to the rule's sentence; ``detail`` (source text allowed) is kept
    short (``short_detail``).
    """
    return {
        "_id": f"{asset}:{source}:{source_id}:{partition_key}",
        "asset": asset,
        "partition_key": partition_key,
        "source": source,
        "source_id": source_id,
        "rule": rule,
        "reason": reason if reason is not None else reason_for(rule),
        "detail": short_detail(detail),
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


def quarantined_source_ids(
    db: Database[Document], asset: str, partition_key: str, source: str
) -> list[str]:
    """The source ids of ``source``'s records that ``asset`` quarantined on that day."""
    found = db[QUARANTINE_COLLECTION].find(
        {"asset": asset, "partition_key": partition_key, "source": source}, {"source_id": 1}
    )
    return [str(entry["source_id"]) for entry in found]


def quarantine_rules(db: Database[Document], days: Sequence[str]) -> list[str | None]:
    """The rule of every record quarantined on these days (one query)."""
    if not days:
        return []
    when = days_filter(days)
    found = db[QUARANTINE_COLLECTION].find({"partition_key": when}, {"rule": 1})
    return [entry.get("rule") for entry in found]
