"""Old snapshot days stored as what changed: one document per property and month.

A day's snapshot is a full copy of every property, and most of it is the day before's
copy again: only ``last_seen`` and ``days_on_market`` move for most properties, and a
few in a hundred change a price or a status. So days older than a window
(``PHOENIX_SNAPSHOT_DAILY_DAYS``) move into ``<collection>_history``: per property and
calendar month, its document on its first day of the month (``base``), the days it was
in the snapshot (``days``) and, per later day, only what differs from the day before
once the day has advanced (``changes``). Reading a day back replays the month and gives
the very documents that were stored (the same fields, values, types and order), so
every reader sees the same data whichever way a day is kept.

How a partition is kept is said by its ``partition_manifest`` entry: ``compacted`` names
the generation of the month's history documents that holds it. A compaction writes a
new generation of the month, then points the days' entries at it, then deletes the
days' full documents and the old generation: a run cut short leaves every day readable
one way or the other. A re-run of a compacted day writes its full partition and a new
manifest entry without ``compacted``, so the day reads whole until the month is
compacted again.

The window also keeps normal work fast: the daily run, the missed-day backfills and
the report read recent days, which are stored whole.

A day is moved only if its manifest entry is still the one the compaction read (same
run): a run that rewrote the day meanwhile keeps its whole copy. The job's schedule
keeps it away from the daily run; the one window left, a re-run starting between that
check and the delete of the day's whole documents, is milliseconds long.
"""

from __future__ import annotations

import calendar
import datetime as dt
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import bson
from pymongo import ASCENDING
from pymongo.database import Database

from phoenix_assets.settings import parse_number_setting
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.partition_store import (
    INSERT_BATCH,
    MANIFEST_COLLECTION,
    delete_partitions,
    manifest_entries,
    manifest_entry,
)

# The collection of the ``property_snapshots`` asset, the one whose old days are compacted.
SNAPSHOTS_COLLECTION = "property_snapshots"
PHOENIX_SNAPSHOT_DAILY_DAYS = "PHOENIX_SNAPSHOT_DAILY_DAYS"
# As the missed-day sensor's look-back: the days it backfills stay whole.
DEFAULT_SNAPSHOT_DAILY_DAYS = 14
MAX_SNAPSHOT_DAILY_DAYS = 36_500
# The manifest field that says a partition lives in the history, and in which generation.
COMPACTED = "compacted"
# Integer fields that grow by one a day on their own: stored only when they do not.
DAILY_COUNTERS = frozenset({"days_on_market"})
_CHANGED = "s"  # a day's change: fields set (new values, in the document's order)
_REMOVED = "u"  # fields the document no longer has
_ORDER = "o"  # the document's field order, when setting and removing did not give it


def history_collection(name: str) -> str:
    """The collection holding ``name``'s compacted days."""
    return f"{name}_history"


def snapshot_daily_days(environ: Mapping[str, str] | None = None) -> int:
    """``PHOENIX_SNAPSHOT_DAILY_DAYS``: how many recent days of snapshots are kept whole
    (default 14); older days are kept as what changed (``compact_snapshots``)."""
    env = os.environ if environ is None else environ
    return int(
        parse_number_setting(
            env,
            PHOENIX_SNAPSHOT_DAILY_DAYS,
            DEFAULT_SNAPSHOT_DAILY_DAYS,
            integer=True,
            minimum=1,
            maximum=MAX_SNAPSHOT_DAILY_DAYS,
        )
    )


# -- a day after another --------------------------------------------------------------


def _advanced(doc: Document, before: dt.date, day: dt.date) -> Document:
    """What ``doc`` (stored for ``before``) would be on ``day`` if nothing but the day
    changed: its id and partition, every date equal to ``before`` and the daily counters
    move on. A guess the stored changes correct wherever it is wrong, so it only decides
    how much is stored, never what is read back."""
    step = day - before
    before_key, day_key = before.isoformat(), day.isoformat()
    advanced: Document = {}
    for name, value in doc.items():
        kind = type(value)
        if kind is str:
            if value == before_key:
                value = day_key
            elif name == "_id" and value.endswith(":" + before_key):
                value = value[: -len(before_key)] + day_key
        elif kind is int and name in DAILY_COUNTERS:
            value = value + step.days
        elif (
            kind is dt.datetime
            and value.date() == before
            and value.time() == dt.time()  # midnight: a date stored as a BSON date
        ):
            value = value + step
        advanced[name] = value
    return advanced


def _same(a: Any, b: Any) -> bool:
    """Equal as stored: the same value of the same type (1 is not 1.0), deeply."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind is dict or kind is list:
        return bson.encode({"v": a}) == bson.encode({"v": b})
    return bool(a == b)


def _change(expected: Document, actual: Document) -> Document:
    """What turns ``expected`` into ``actual``; empty when they are the same."""
    changed = {k: v for k, v in actual.items() if k not in expected or not _same(expected[k], v)}
    removed = [k for k in expected if k not in actual]
    change: Document = {}
    if changed:
        change[_CHANGED] = changed
    if removed:
        change[_REMOVED] = removed
    if change and list(_applied(expected, change)) != list(actual):
        change[_ORDER] = list(actual)
    return change


def _applied(expected: Document, change: Document) -> Document:
    result = dict(expected)
    result.update(change.get(_CHANGED, {}))
    for name in change.get(_REMOVED, ()):
        result.pop(name, None)
    order = change.get(_ORDER)
    if order is not None:
        result = {name: result[name] for name in order}
    return result


# -- a month of one property ----------------------------------------------------------


def _month_start(month: str) -> dt.date:
    return dt.date.fromisoformat(f"{month}-01")


def _replay(history: Document) -> Iterator[tuple[dt.date, Document]]:
    """Every (day, stored document) a history document holds, in day order."""
    start = _month_start(history["month"])
    changes = history.get("changes") or {}
    days = history["days"]
    first = start.replace(day=days[0])
    current: Document = history["base"]
    yield first, current
    before = first
    for number in days[1:]:
        day = start.replace(day=number)
        current = _applied(_advanced(current, before, day), changes.get(str(number), {}))
        yield day, current
        before = day


@dataclass
class _MonthBuilder:
    """One property's history document for a month, built day after day."""

    property_id: str
    month: str
    base: Document
    days: list[int] = field(default_factory=list)
    changes: dict[str, Document] = field(default_factory=dict)
    last: tuple[dt.date, Document] | None = None

    def add(self, day: dt.date, doc: Document) -> None:
        if self.last is not None:
            change = _change(_advanced(self.last[1], self.last[0], day), doc)
            if change:
                self.changes[str(day.day)] = change
        self.days.append(day.day)
        self.last = (day, doc)

    def document(self, generation: str) -> Document:
        doc: Document = {
            "_id": f"{self.property_id}:{self.month}:{generation}",
            "month": self.month,
            "generation": generation,
            "property_id": self.property_id,
            "days": self.days,
            "base": self.base,
        }
        if self.changes:
            doc["changes"] = self.changes
        return doc


# -- reading a day, whichever way it is kept --------------------------------------------


def ensure_history_indexes(db: Database[Document], name: str) -> None:
    db[history_collection(name)].create_index([("month", ASCENDING), ("generation", ASCENDING)])


def _from_history(db: Database[Document], name: str, day: str, generation: str) -> list[Document]:
    number = int(day[8:10])
    found = db[history_collection(name)].find(
        {"month": day[:7], "generation": generation, "days": number}
    )
    target = dt.date.fromisoformat(day)
    documents = []
    for history in found:
        for held_day, doc in _replay(history):
            if held_day == target:
                documents.append(doc)
                break
    documents.sort(key=lambda doc: str(doc.get("_id", "")))
    return documents


def compacted_generations(db: Database[Document], name: str, keys: Iterable[str]) -> dict[str, str]:
    """Of these partitions of ``name``, the compacted ones: partition -> generation."""
    return {
        key: str(entry[COMPACTED])
        for key, entry in manifest_entries(db, name, keys, [COMPACTED]).items()
        if entry.get(COMPACTED)
    }


def compacted_documents(
    db: Database[Document], name: str, day: str, generation: str
) -> list[Document]:
    """A compacted partition's documents, as they were stored whole.

    A compaction that replaced the month's generation between reading the manifest and
    reading the history is met by reading the manifest again."""
    for _ in range(3):
        documents = _from_history(db, name, day, generation)
        entry = manifest_entry(db, name, day)
        now = entry.get(COMPACTED) if entry else None
        if now == generation:
            return documents
        if not now:  # re-run meanwhile: stored whole again
            return list(db[name].find({"partition_key": day}))
        generation = str(now)
    raise RuntimeError(f"{name} {day}: its history kept moving while it was read; read it again")


def matches(doc: Document, query: Mapping[str, Any]) -> bool:
    """Whether ``doc`` matches an equality filter as MongoDB matches one (a list field
    matches when it holds the value). Operators are not supported."""
    for name, wanted in query.items():
        if isinstance(wanted, dict):
            raise ValueError(f"only equality filters are read from the history, not {query!r}")
        value = doc.get(name)
        if isinstance(value, list) and not isinstance(wanted, list):
            if wanted not in value:
                return False
        elif value != wanted:
            return False
    return True


def projected(doc: Document, projection: Mapping[str, int] | None) -> Document:
    """``doc`` with only the fields a MongoDB projection of included fields keeps."""
    if not projection:
        return doc
    return {k: v for k, v in doc.items() if k == "_id" or projection.get(k)}


def _from_compacted(
    db: Database[Document], name: str, compacted: Mapping[str, str], query: Mapping[str, Any]
) -> Iterator[Document]:
    """The documents of these compacted days (day -> generation) matching ``query``."""
    for day in sorted(compacted):
        for doc in compacted_documents(db, name, day, compacted[day]):
            if matches(doc, query):
                yield doc


def read_days(
    db: Database[Document],
    name: str,
    keys: Sequence[str],
    query: Mapping[str, Any] | None = None,
    projection: Mapping[str, int] | None = None,
) -> list[Document]:
    """The documents of these partitions of ``name`` matching ``query`` (equality), each
    day read whole or from the history as its manifest entry says."""
    return list(iter_days(db, name, keys, query, projection))


def iter_days(
    db: Database[Document],
    name: str,
    keys: Sequence[str],
    query: Mapping[str, Any] | None = None,
    projection: Mapping[str, int] | None = None,
    compacted: Mapping[str, str] | None = None,
) -> Iterator[Document]:
    """``read_days`` one document at a time, from a cursor. ``compacted``: the compacted
    days (day -> generation) when the caller has read the manifest already."""
    query = dict(query or {})
    if compacted is None:
        compacted = compacted_generations(db, name, keys)
    whole = sorted(key for key in keys if key not in compacted)
    if whole:
        yield from db[name].find(
            {"partition_key": {"$in": whole}, **query}, dict(projection or {}) or None
        )
    for doc in _from_compacted(db, name, compacted, query):
        yield projected(doc, projection)


def count_days(
    db: Database[Document], name: str, keys: Sequence[str], query: Mapping[str, Any] | None = None
) -> int:
    """How many documents of these partitions match ``query`` (equality), each day counted
    whole or from the history."""
    query = dict(query or {})
    compacted = compacted_generations(db, name, keys)
    whole = [key for key in keys if key not in compacted]
    counted = sum(db[name].count_documents({"partition_key": key, **query}) for key in whole)
    return counted + sum(1 for _ in _from_compacted(db, name, compacted, query))


def values_on_day(db: Database[Document], name: str, day: str, field_name: str) -> set[Any]:
    """The distinct values of ``field_name`` in partition ``day`` (a list field's items),
    as MongoDB's ``distinct`` gives them, the day read whole or from the history."""
    generation = compacted_generations(db, name, [day]).get(day)
    if generation is None:
        return set(db[name].distinct(field_name, {"partition_key": day}))
    values: set[Any] = set()
    for doc in compacted_documents(db, name, day, generation):
        value = doc.get(field_name)
        values.update(value if isinstance(value, list) else [value] if value is not None else [])
    return values


# -- compaction -----------------------------------------------------------------------


@dataclass(frozen=True)
class MonthCompaction:
    """What one month's compaction did."""

    month: str
    days_compacted: tuple[str, ...]  # days moved from whole to the history this time
    days_held: int  # days the month's history holds now
    documents_removed: int  # whole documents deleted
    history_documents: int  # history documents of the new generation
    history_bytes: int
    whole_bytes: int  # what the days it holds took whole (BSON)


def _month_days(month: str) -> list[str]:
    start = _month_start(month)
    length = calendar.monthrange(start.year, start.month)[1]
    return [start.replace(day=number).isoformat() for number in range(1, length + 1)]


_Replaying = dict[str, tuple[dt.date, Document, Iterator[tuple[dt.date, Document]]]]


def _queue(replaying: _Replaying, key: str, states: Iterator[tuple[dt.date, Document]]) -> None:
    """Hold a history document's next (day, state), if it has one."""
    following = next(states, None)
    if following is None:
        replaying.pop(key, None)
    else:
        replaying[key] = (following[0], following[1], states)


def _take_day(replaying: _Replaying, day: dt.date) -> list[Document]:
    """The states the replayed documents hold for ``day``; each moves to its next day."""
    taken = []
    for key, (held_day, state, states) in list(replaying.items()):
        if held_day == day:
            taken.append(state)
            _queue(replaying, key, states)
    return taken


def compact_month(
    db: Database[Document], name: str, month: str, *, through: str
) -> MonthCompaction | None:
    """Move the stored days of ``month`` up to ``through`` (inclusive) into the history;
    None when there is nothing new to move (every such day already compacted)."""
    days = [day for day in _month_days(month) if day <= through]
    entries = manifest_entries(db, name, days)
    stored = [day for day in days if day in entries]
    to_move = [day for day in stored if not entries[day].get(COMPACTED)]
    if not to_move:
        return None
    ensure_history_indexes(db, name)
    history = db[history_collection(name)]
    old_generations = {
        str(entries[day][COMPACTED]) for day in stored if entries[day].get(COMPACTED)
    }
    # The compacted days come from replaying the old generations, each history document
    # one day ahead of the build: never more than a day's states in memory.
    replaying: _Replaying = {}
    for old in sorted(old_generations):
        for doc in history.find({"month": month, "generation": old}):
            kept = (
                (held_day, state)
                for held_day, state in _replay(doc)
                if entries.get(held_day.isoformat(), {}).get(COMPACTED) == old
            )
            _queue(replaying, f"{old}:{doc['property_id']}", kept)

    generation = secrets.token_hex(4)
    builders: dict[str, _MonthBuilder] = {}
    whole_bytes = 0
    for day in stored:
        date = dt.date.fromisoformat(day)
        states: Iterable[Document] = (
            db[name].find({"partition_key": day}) if day in to_move else _take_day(replaying, date)
        )
        held = 0
        for doc in states:
            held += 1
            whole_bytes += len(bson.encode(doc))
            pid = str(doc["property_id"])
            builder = builders.get(pid)
            if builder is None:
                builder = builders[pid] = _MonthBuilder(pid, month, doc)
            builder.add(date, doc)
        if held != entries[day].get("documents", held):
            raise RuntimeError(
                f"{name} {day}: {held} documents read, the manifest says "
                f"{entries[day].get('documents')}; nothing was compacted"
            )

    documents = [builder.document(generation) for builder in builders.values()]
    history_bytes = 0
    for start in range(0, len(documents), INSERT_BATCH):
        batch = documents[start : start + INSERT_BATCH]
        history_bytes += sum(len(bson.encode(doc)) for doc in batch)
        history.insert_many(batch, ordered=False)

    manifest = db[MANIFEST_COLLECTION]
    removed = 0
    moved = []
    for day in stored:
        entry = entries[day]
        # Only if the entry is the one read: a re-run since wrote the day whole again.
        result = manifest.update_one(
            {"_id": entry["_id"], "run_id": entry.get("run_id"), COMPACTED: entry.get(COMPACTED)}
            if entry.get(COMPACTED)
            else {"_id": entry["_id"], "run_id": entry.get("run_id")},
            {"$set": {COMPACTED: generation}},
        )
        if result.modified_count and day in to_move:
            removed += delete_partitions(db[name], [day])
            moved.append(day)
    for old in old_generations:
        history.delete_many({"month": month, "generation": old})
    return MonthCompaction(
        month=month,
        days_compacted=tuple(moved),
        days_held=len(stored),
        documents_removed=removed,
        history_documents=len(documents),
        history_bytes=history_bytes,
        whole_bytes=whole_bytes,
    )


def compact_snapshots(
    db: Database[Document], name: str, *, today: dt.date, daily_days: int
) -> list[MonthCompaction]:
    """Compact every stored day of ``name`` before the last ``daily_days`` days, month by
    month, oldest first."""
    through = (today - dt.timedelta(days=daily_days + 1)).isoformat()
    months = sorted(
        {
            str(entry["partition_key"])[:7]
            for entry in db[MANIFEST_COLLECTION].find(
                {
                    "collection": name,
                    "partition_key": {"$lte": through},
                    COMPACTED: {"$exists": False},
                },
                {"partition_key": 1},
            )
        }
    )
    done = []
    for month in months:
        result = compact_month(db, name, month, through=through)
        if result is not None:
            done.append(result)
    return done
