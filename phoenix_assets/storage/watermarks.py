"""Per-source, per-ZIP watermarks: how far an incremental source has been read.

One document per (source, ZIP) in ``source_watermarks``::

    {"_id": "mls:85018", "source": "mls", "zip_code": "85018",
     "watermark": "2026-11-24T17:03:12.000000Z", "watermark_us": 1795539792000000,
     "updated_at": "2026-11-25T10:00:04.123456Z"}

``watermark`` is the value (a fixed-width ISO 8601 UTC string: a string survives a
``$set`` on every server, where the embedded test server turns a ``$set`` datetime into
a string); ``watermark_us`` is the same instant in microseconds since the Unix epoch,
written with it, and is what writes compare: the embedded server compares date-like
strings in an update's filter to the second only (``"...12.000001Z" $lt`` does not
match ``"...12.000000Z"``), integers exactly everywhere.

A watermark only moves forwards, and a write never leaves a moment without one:

- the first watermark of a ZIP is an ``insert_one`` (natural string ``_id``);
- advancing is one conditional update, ``{"_id": ..., "watermark_us": {"$lt": new}}``,
  ``$set`` of a string and an integer, so it applies only if the stored value is older,
  atomically on MongoDB, with no delete in between (a delete-then-insert that died
  half-way would lose the watermark, and the next run would restart from the initial
  look-back and could skip what was modified before it).

Two writers racing (an insert losing to another insert) re-read and try again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from pymongo import ASCENDING
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError

WATERMARK_COLLECTION = "source_watermarks"

_ISO_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def to_iso(value: dt.datetime) -> str:
    """A fixed-width ISO 8601 UTC string: ``2026-11-24T17:03:12.000000Z``."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"a watermark must be timezone-aware, got naive {value.isoformat()}")
    return value.astimezone(dt.UTC).strftime(_ISO_FORMAT)


def to_micros(value: dt.datetime) -> int:
    """Microseconds since the Unix epoch (what writes compare)."""
    to_iso(value)  # the same check for naive values
    return (value - _EPOCH) // dt.timedelta(microseconds=1)


def from_iso(text: str) -> dt.datetime:
    """The aware UTC datetime of a stored watermark string."""
    return dt.datetime.fromisoformat(text).astimezone(dt.UTC)


def watermark_id(source: str, zip_code: str) -> str:
    return f"{source}:{zip_code}"


class WatermarkStore:
    """Watermarks of incremental sources, kept in MongoDB."""

    def __init__(self, db: Database[dict[str, Any]]) -> None:
        self._collection = db[WATERMARK_COLLECTION]
        self._collection.create_index([("source", ASCENDING)])

    def get_all(self, source: str) -> dict[str, dt.datetime]:
        """Every ZIP's watermark for ``source``."""
        watermarks: dict[str, dt.datetime] = {}
        for doc in self._collection.find({"source": source}):
            try:
                watermarks[doc["zip_code"]] = from_iso(doc["watermark"])
            except (KeyError, TypeError, ValueError):
                # Guessing would risk skipping data; a person has to look.
                raise ValueError(
                    f"{WATERMARK_COLLECTION}: document {doc.get('_id')!r} has no readable "
                    f"watermark ({doc.get('watermark')!r}); fix or delete it"
                ) from None
        return watermarks

    def get(self, source: str, zip_code: str) -> dt.datetime | None:
        doc = self._collection.find_one({"_id": watermark_id(source, zip_code)})
        return None if doc is None else from_iso(doc["watermark"])

    def advance(self, source: str, zip_code: str, watermark: dt.datetime) -> dt.datetime:
        """Move the watermark to ``watermark`` unless it is already there or later.

        Returns the watermark stored afterwards.
        """
        key = watermark_id(source, zip_code)
        new = to_iso(watermark)
        new_us = to_micros(watermark)
        for _ in range(5):
            now = to_iso(dt.datetime.now(dt.UTC))
            fields = {"watermark": new, "watermark_us": new_us, "updated_at": now}
            updated = self._collection.update_one(
                {"_id": key, "watermark_us": {"$lt": new_us}}, {"$set": fields}
            )
            if updated.matched_count:
                return from_iso(new)
            current = self._collection.find_one({"_id": key})
            if current is None:
                try:
                    self._collection.insert_one(
                        {"_id": key, "source": source, "zip_code": zip_code, **fields}
                    )
                    return from_iso(new)
                except DuplicateKeyError:
                    continue  # another writer inserted first: compare with theirs
            stored_us = current.get("watermark_us")
            if not isinstance(stored_us, int) or isinstance(stored_us, bool):
                # Not written by this module: guessing could move it backwards.
                raise ValueError(
                    f"{WATERMARK_COLLECTION}: document {key!r} has no readable watermark "
                    f"({current.get('watermark')!r}); fix or delete it"
                )
            if stored_us >= new_us:
                return from_iso(current["watermark"])
            # It was older a moment ago: another writer is at work; try again.
        raise RuntimeError(f"{WATERMARK_COLLECTION}: could not advance {key} (too much contention)")


DAY_START_COLLECTION = "source_watermark_day_starts"


def day_start_watermarks(
    db: Database[dict[str, Any]],
    source: str,
    day: str,
    zip_codes: Sequence[str],
    current: Mapping[str, dt.datetime],
) -> dict[str, dt.datetime | None]:
    """The watermark each ZIP started from on ``day``, recorded by the day's first run.

    A day's raw partition is replaced whole by every run of that day. Were a re-run to
    read from the watermark the first run advanced, it would fetch only what changed
    since, and the replace would delete what the first run stored. So the first run of
    a day records where each ZIP started (insert-only: never overwritten), and every
    later run of that day starts from there again: a re-run fetches a superset.
    """
    collection = db[DAY_START_COLLECTION]
    recorded: dict[str, dt.datetime | None] = {}
    for doc in collection.find({"source": source, "day": day}):
        value = doc.get("watermark")
        recorded[doc["zip_code"]] = from_iso(value) if isinstance(value, str) else None
    missing = [z for z in zip_codes if z not in recorded]
    for zip_code in missing:
        start = current.get(zip_code)
        try:
            collection.insert_one(
                {
                    "_id": f"{source}:{zip_code}:{day}",
                    "source": source,
                    "zip_code": zip_code,
                    "day": day,
                    "watermark": to_iso(start) if start else None,
                }
            )
            recorded[zip_code] = start
        except DuplicateKeyError:  # another run of the same day recorded it first
            doc = collection.find_one({"_id": f"{source}:{zip_code}:{day}"}) or {}
            value = doc.get("watermark")
            recorded[zip_code] = from_iso(value) if isinstance(value, str) else None
    return {z: recorded.get(z) for z in zip_codes}
