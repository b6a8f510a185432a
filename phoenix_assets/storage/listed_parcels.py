"""The parcels a day's listings point at: what the Assessor fetches first.

A listing carries its parcel's APN (RESO ``ParcelNumber``). The day's listings are
the market standing the day before (the listed properties of the day before's
snapshot, whatever source and whenever listed) and what the listing sources stored
for the day: the whole-feed source's records and the incremental source's versions
modified on it (new and changed listings). Read from stored data, not from the
listing assets as inputs: the Assessor must not wait for, or fail with, another
source (a listing stored while it runs is picked up at its next poll, or by the next
day's run).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pymongo.database import Database

from phoenix_assets.domain.property import normalize_apn
from phoenix_assets.storage.collection_failures import day_before
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION
from phoenix_assets.storage.snapshot_history import SNAPSHOTS_COLLECTION
from phoenix_assets.storage.store import PartitionStore

LISTING_COLLECTIONS: tuple[str, ...] = ("raw_demo_listings", "raw_mls_listings")


def standing_listings(db: Database[Document], day: str) -> dict[str, str]:
    """APN -> ZIP of the properties listed in the snapshot of the day before ``day``
    (none when that snapshot is not built)."""
    before = day_before(day)
    listed: dict[str, str] = {}
    cursor = PartitionStore(db, SNAPSHOTS_COLLECTION).read(
        [before],
        projection={"parcel_number": 1, "postal_code": 1, "standard_status": 1},
    )
    for document in cursor:
        apn, zip_code = document.get("parcel_number"), document.get("postal_code")
        if document.get("standard_status") and isinstance(apn, str) and isinstance(zip_code, str):
            listed.setdefault(apn, zip_code)
    return listed


class DayListings:
    """``listed()`` returns the day's listed parcels (APN -> ZIP); it reads the listing
    collections again only when their manifest says a run wrote to that day since."""

    def __init__(
        self,
        db: Database[Document],
        day: str,
        collections: Sequence[str] = LISTING_COLLECTIONS,
    ) -> None:
        self.db = db
        self.day = day
        self.collections = tuple(collections)
        self._seen: tuple[object, ...] | None = None
        self._listed: dict[str, str] = {}
        self._standing: dict[str, str] | None = None

    def _marks(self) -> tuple[object, ...]:
        ids = [f"{name}:{self.day}" for name in self.collections]
        entries = {
            entry["_id"]: (entry.get("run_id"), str(entry.get("written_at")))
            for entry in self.db[MANIFEST_COLLECTION].find({"_id": {"$in": ids}})
        }
        return tuple(entries.get(entry_id) for entry_id in ids)

    def __call__(self) -> Mapping[str, str]:
        marks = self._marks()
        if marks == self._seen:
            return self._listed
        if self._standing is None:  # the day before is done: read once
            self._standing = standing_listings(self.db, self.day)
        listed: dict[str, str] = {}
        for name in self.collections:
            for document in self.db[name].find(
                {"partition_key": self.day}, {"zip_code": 1, "payload": 1}
            ):
                payload = document.get("payload")
                raw = payload.get("ParcelNumber") if isinstance(payload, Mapping) else None
                apn = normalize_apn(str(raw)) if isinstance(raw, (str, int)) else None
                zip_code = document.get("zip_code")
                if apn and isinstance(zip_code, str):
                    listed.setdefault(apn, zip_code)
        for apn, zip_code in self._standing.items():
            listed.setdefault(apn, zip_code)
        self._seen, self._listed = marks, listed
        return listed
