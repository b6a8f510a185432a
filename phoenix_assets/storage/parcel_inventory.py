"""The Assessor's parcel inventory in MongoDB: what the source remembers between days.

Two collections (``sources.maricopa.inventory`` says what they are for):

- ``assessor_parcel_inventory``: one document per parcel, ``_id`` its normalized APN:
  ``zip_code``, ``hit`` (its search row) and ``hit_fingerprint``, ``first_seen_on``,
  ``last_seen_on`` and ``hit_changed_on`` (days a search found it, and found its row
  changed), ``fetched_on`` and ``fetched_before_on`` (the latest two days its details
  were stored in ``raw_maricopa_parcels``).
- ``assessor_zip_searches``: one document per ZIP, ``_id`` the ZIP: its search passes
  (``completed_on``, ``due_on``, and where a pass in progress resumes).

Both are caches of the source and of the raw store: documents are upserted, never
deleted (a parcel no longer found keeps its ``last_seen_on``), and every date is a day
string (``YYYY-MM-DD``), which sorts and compares as the day it names.
"""

from __future__ import annotations

import heapq
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import fields
from typing import Any

from pymongo import ASCENDING, UpdateOne
from pymongo.database import Database

from phoenix_assets.sources.maricopa.inventory import (
    Backlog,
    PageSaved,
    ParcelState,
    Tier,
    ZipSearch,
)
from phoenix_assets.sources.maricopa.search import hit_fingerprint
from phoenix_assets.storage.documents import Document, to_bson_value

PARCEL_INVENTORY = "assessor_parcel_inventory"
ZIP_SEARCHES = "assessor_zip_searches"

_ZIP_SEARCH_FIELDS = tuple(f.name for f in fields(ZipSearch) if f.name != "zip_code")
_indexed: set[tuple[str, str]] = set()
_SEED_BATCH = 1_000


# Parcels no run has fetched: with the ones fetched only by runs of the day or later
# (``fetched_since``, few: a re-run's own), those a day knows as never fetched. Kept as
# separate queries, not one ``$or``, so no parcel can match twice.
_NEVER_FETCHED: dict[str, Any] = {"fetched_on": {"$exists": False}}


def _stale_queries(day: str, stale_before: str) -> list[tuple[dict[str, Any], str]]:
    """Parcels last fetched before ``stale_before`` (as ``day`` knew them), as two queries
    and the field each sorts on: a re-run of ``day`` sees through its own fetches."""
    return [
        ({"fetched_on": {"$lt": stale_before}}, "fetched_on"),
        (
            {"fetched_on": {"$gte": day}, "fetched_before_on": {"$lt": stale_before}},
            "fetched_before_on",
        ),
    ]


def _found_order(state: ParcelState) -> tuple[str, str]:
    return (state.first_seen_on or "", state.apn)


def _state(document: Document) -> ParcelState:
    hit = document.get("hit")
    return ParcelState(
        apn=str(document["_id"]),
        zip_code=str(document.get("zip_code") or ""),
        hit=hit if isinstance(hit, Mapping) else None,
        fetched_on=document.get("fetched_on"),
        fetched_before_on=document.get("fetched_before_on"),
        hit_changed_on=document.get("hit_changed_on"),
        first_seen_on=document.get("first_seen_on"),
        not_found_on=document.get("not_found_on"),
    )


class MongoParcelInventory:
    """``ParcelInventory`` over a MongoDB database."""

    def __init__(self, db: Database[Document]) -> None:
        self.db = db
        self.parcels_collection = db[PARCEL_INVENTORY]
        self.searches_collection = db[ZIP_SEARCHES]
        marker = (str(id(db.client)), db.name)
        if marker not in _indexed:
            for key in ("fetched_on", "first_seen_on", "hit_changed_on"):
                self.parcels_collection.create_index([("zip_code", ASCENDING), (key, ASCENDING)])
            _indexed.add(marker)

    # -- searches

    def zip_searches(self, zip_codes: Sequence[str]) -> dict[str, ZipSearch]:
        stored = {
            document["_id"]: document
            for document in self.searches_collection.find({"_id": {"$in": list(zip_codes)}})
        }
        searches: dict[str, ZipSearch] = {}
        for zip_code in zip_codes:
            document = stored.get(zip_code, {})
            values = {name: document[name] for name in _ZIP_SEARCH_FIELDS if name in document}
            searches[zip_code] = ZipSearch(zip_code=zip_code, **values)
        return searches

    def save_search_page(
        self, day: str, search: ZipSearch, hits: Sequence[tuple[str, Mapping[str, Any]]]
    ) -> PageSaved:
        new = changed = 0
        if hits:
            apns = [apn for apn, _ in hits]
            stored = {
                document["_id"]: document
                for document in self.parcels_collection.find(
                    {"_id": {"$in": apns}}, {"hit_fingerprint": 1, "hit": 1}
                )
            }
            updates = []
            for apn, hit in hits:
                fingerprint = hit_fingerprint(hit)
                values: dict[str, Any] = {
                    "zip_code": search.zip_code,
                    "hit": to_bson_value(dict(hit)),
                    "hit_fingerprint": fingerprint,
                    "last_seen_on": day,
                }
                previous = stored.get(apn)
                if previous is None:
                    new += 1
                    values["first_seen_on"] = day
                elif previous.get("hit") is None:
                    values.setdefault("first_seen_on", day)  # known from a listing until now
                elif previous.get("hit_fingerprint") != fingerprint:
                    changed += 1
                    values["hit_changed_on"] = day
                updates.append(UpdateOne({"_id": apn}, {"$set": values}, upsert=True))
            self.parcels_collection.bulk_write(updates, ordered=False)
        self.save_search(search)
        return PageSaved(new=new, changed=changed)

    def save_search(self, search: ZipSearch) -> None:
        values = {name: getattr(search, name) for name in _ZIP_SEARCH_FIELDS}
        self.searches_collection.update_one({"_id": search.zip_code}, {"$set": values}, upsert=True)

    # -- parcels

    def parcels(self, apns: Collection[str]) -> dict[str, ParcelState]:
        if not apns:
            return {}
        return {
            str(document["_id"]): _state(document)
            for document in self.parcels_collection.find({"_id": {"$in": sorted(apns)}})
        }

    def candidates(
        self, tier: Tier, zip_codes: Sequence[str], day: str, stale_before: str, limit: int
    ) -> list[ParcelState]:
        if limit <= 0:
            return []
        in_zips = {"zip_code": {"$in": list(zip_codes)}}
        if tier is Tier.NEW:
            return self._new_round_robin(zip_codes, day, limit)
        if tier is Tier.STALE:
            found: dict[str, ParcelState] = {}
            for query, sort_field in _stale_queries(day, stale_before):
                cursor = (
                    self.parcels_collection.find({**in_zips, **query})
                    .sort([(sort_field, ASCENDING), ("_id", ASCENDING)])
                    .limit(limit)
                )
                found.update((str(d["_id"]), _state(d)) for d in cursor)
            stalest = sorted(found.values(), key=lambda s: (s.fetched_before(day) or "", s.apn))
            return stalest[:limit]
        if tier is Tier.CHANGED:
            # Rows changed within the stale window: an older change whose parcel was not
            # fetched since is stale as well, and found as such.
            cursor = self.parcels_collection.find(
                {**in_zips, "hit_changed_on": {"$gte": stale_before, "$lte": day}}
            ).sort([("hit_changed_on", ASCENDING), ("_id", ASCENDING)])
            changed = (_state(document) for document in cursor)
            return [state for state in changed if state.changed_since_fetched(day)][:limit]
        raise ValueError(f"the inventory does not rank {tier}: the day's listings do")

    def fetched_since(self, zip_codes: Sequence[str], day: str) -> list[ParcelState]:
        """Parcels fetched by runs of ``day`` or later: the ones a re-run or a backfill of
        ``day`` must see through (``ParcelState.fetched_before``)."""
        cursor = self.parcels_collection.find(
            {"zip_code": {"$in": list(zip_codes)}, "fetched_on": {"$gte": day}}
        )
        return [_state(document) for document in cursor]

    def _new_round_robin(self, zip_codes: Sequence[str], day: str, limit: int) -> list[ParcelState]:
        """Never-fetched parcels, one ZIP after another (each in the order it was found),
        so a large ZIP being discovered cannot starve the others. One lazy cursor per
        ZIP: no more than about ``limit`` documents are ever read."""
        unknown_to_day: dict[str, list[ParcelState]] = {}
        for state in self.fetched_since(zip_codes, day):
            if state.fetched_before(day) is None:
                unknown_to_day.setdefault(state.zip_code, []).append(state)
        batch = max(1, min(500, limit // max(1, len(zip_codes)) + 1))
        cursors = []
        streams: list[Iterator[ParcelState]] = []
        for zip_code in dict.fromkeys(zip_codes):
            cursor = (
                self.parcels_collection.find({"zip_code": zip_code, **_NEVER_FETCHED})
                .sort([("first_seen_on", ASCENDING), ("_id", ASCENDING)])
                .limit(limit)
                .batch_size(batch)
            )
            cursors.append(cursor)
            never = (_state(document) for document in cursor)
            again = sorted(unknown_to_day.get(zip_code, []), key=_found_order)
            streams.append(heapq.merge(never, again, key=_found_order))
        chosen: dict[str, ParcelState] = {}
        try:
            while streams and len(chosen) < limit:
                for stream in list(streams):
                    found = next(stream, None)
                    if found is None:
                        streams.remove(stream)
                    elif found.not_found_on and found.hit is None:
                        continue  # only a listing names it, and the Assessor had no such parcel
                    elif found.apn not in chosen:
                        chosen[found.apn] = found
                        if len(chosen) == limit:
                            break
        finally:
            for cursor in cursors:
                cursor.close()
        return list(chosen.values())

    def backlog(self, zip_codes: Sequence[str], day: str, stale_before: str) -> Backlog:
        in_zips = {"zip_code": {"$in": list(zip_codes)}}
        count = self.parcels_collection.count_documents
        return Backlog(
            parcels=count(in_zips),
            never_fetched=count({**in_zips, **_NEVER_FETCHED})
            + sum(s.fetched_before(day) is None for s in self.fetched_since(zip_codes, day)),
            stale=sum(
                count({**in_zips, **query}) for query, _ in _stale_queries(day, stale_before)
            ),
        )

    def record_not_found(self, day: str, apn: str, zip_code: str) -> None:
        values = {"not_found_on": day}
        if self.parcels_collection.find_one({"_id": apn}, {"_id": 1}) is None:
            values = {**values, "zip_code": zip_code, "first_seen_on": day}
        self.parcels_collection.update_one({"_id": apn}, {"$set": values}, upsert=True)

    def record_fetches(self, day: str, fetched: Iterable[tuple[str, str]]) -> int:
        """Note that the details of these ``(apn, zip_code)`` parcels were stored under
        ``day``; a parcel the inventory lacks (known from a listing) is added. Returns
        the parcels updated."""
        zip_by_apn = dict(fetched)
        if not zip_by_apn:
            return 0
        known = self.parcels(zip_by_apn)
        updates = []
        for apn, zip_code in zip_by_apn.items():
            state = known.get(apn)
            values: dict[str, Any]
            if state is None:
                values = {"zip_code": zip_code, "fetched_on": day, "first_seen_on": day}
            else:
                days = sorted({d for d in (state.fetched_on, state.fetched_before_on, day) if d})
                values = {"fetched_on": days[-1]}
                if len(days) > 1:
                    values["fetched_before_on"] = days[-2]
            updates.append(UpdateOne({"_id": apn}, {"$set": values}, upsert=True))
        self.parcels_collection.bulk_write(updates, ordered=False)
        return len(updates)

    def has_fetches(self) -> bool:
        return (
            self.parcels_collection.find_one({"fetched_on": {"$exists": True}}, {"_id": 1})
            is not None
        )


def fetch_days_from_raw(
    db: Database[Document], raw_collection: str
) -> dict[str, tuple[str, list[str]]]:
    """Per APN, its ZIP and every day its details were stored in ``raw_collection``: how
    an inventory that predates this store learns what was fetched when."""
    found: dict[str, tuple[str, list[str]]] = {}
    cursor = db[raw_collection].find({}, {"source_id": 1, "zip_code": 1, "partition_key": 1})
    for document in cursor:
        apn, day = document.get("source_id"), document.get("partition_key")
        if isinstance(apn, str) and isinstance(day, str):
            found.setdefault(apn, (str(document.get("zip_code") or ""), []))[1].append(day)
    return found


def seed_from_raw(inventory: MongoParcelInventory, raw_collection: str) -> int:
    """Fill the fetch days of an inventory that has none from the raw parcels already
    stored (a deployment from before the inventory). Returns the parcels seeded."""
    if inventory.has_fetches():
        return 0
    updates = []
    for apn, (zip_code, days) in fetch_days_from_raw(inventory.db, raw_collection).items():
        ordered = sorted(set(days))
        values = {"zip_code": zip_code, "fetched_on": ordered[-1], "first_seen_on": ordered[0]}
        if len(ordered) > 1:
            values["fetched_before_on"] = ordered[-2]
        updates.append(UpdateOne({"_id": apn}, {"$set": values}, upsert=True))
    for start in range(0, len(updates), _SEED_BATCH):
        inventory.parcels_collection.bulk_write(updates[start : start + _SEED_BATCH], ordered=False)
    return len(updates)
