"""Merging: one ``Property`` per real property per day, from every source that saw it.

Records join on the parcel number first, the normalized address second. Where sources
disagree, each field takes the value of the source with the most authority for it:
listing facts from listing feeds (MLS first), parcel facts and values from the
Assessor; ties go to the most recently modified record. Provenance keeps which source said what.
"""

from __future__ import annotations

import datetime as dt
import pickle
import sys
import zlib
from collections.abc import Iterable, Iterator

from phoenix_assets.domain.property import Property, normalize_address

# Lower number = more authority. Listing facts: a listing feed knows them best.
LISTING_RANK: dict[str, int] = {"mls": 0, "demo": 1, "maricopa": 2}
# Parcel facts and values: the Assessor is the record of them.
PARCEL_RANK: dict[str, int] = {"maricopa": 0, "mls": 1, "demo": 2}
PARCEL_FIELDS = frozenset(
    {
        "parcel_number",
        "latitude",
        "longitude",
        "lot_size_square_feet",
        "living_area",
        "year_built",
        "pool_private_yn",
        "garage_spaces",
        "full_cash_value",
        "limited_property_value",
        "tax_year",
        "last_sale_price",
        "last_sale_date",
    }
)
_IDENTITY = {"property_id", "snapshot_date", "sources", "provenance", "first_seen", "last_seen"}
_MIN_DATE = dt.datetime.min.replace(tzinfo=dt.UTC)


def _rank(record: Property, ranks: dict[str, int]) -> tuple[int, float]:
    source = record.sources[0] if record.sources else ""
    modified = record.modification_timestamp or _MIN_DATE
    return (ranks.get(source, 99), -modified.timestamp())


# Records a day's merge keeps as live models; past this many, each is held pickled and
# compressed (~0.3 KB instead of ~4.5 KB) until its group is merged: a day of 50,000
# listings then fits a step's memory budget, and a day of the ten default ZIPs (~2,300)
# pays nothing.
LIVE_RECORDS = 2_500


class MergeGroups:
    """A day's per-source records, added one at a time and merged per property
    (``merged``): the join keys are kept for every record, the records themselves
    compactly once there are more than ``live_records``."""

    def __init__(self, live_records: int = LIVE_RECORDS) -> None:
        self._live_records = live_records
        # Per record, in the order added: its parcel, its normalized address, its id, and
        # the record (a model, or its compressed pickle).
        self._held: list[tuple[str | None, str | None, str, Property | bytes]] = []
        # The first compacted record's pickle primes the compression of the others: the
        # field names and common values they share are then almost free (~5x smaller).
        self._packing = _Packing()

    def add(self, record: Property) -> None:
        address = normalize_address(record.unparsed_address, record.postal_code)
        held: Property | bytes = record
        if len(self._held) >= self._live_records:
            held = self._packing.pack(record)
        self._held.append((record.parcel_number, address, record.property_id, held))

    def merged(self) -> Merged:
        """One record per property, in id order (the join decided now, each group merged
        as it is reached: only one group's records are ever unpacked at a time)."""
        held = self._held
        # Addresses of records with an APN, so an address-only record joins its parcel.
        address_to_apn = {address: f"apn:{apn}" for apn, address, _, _ in held if apn and address}
        groups: dict[str, list[int]] = {}
        for index, (apn, address, property_id, _) in enumerate(held):
            key = f"apn:{apn}" if apn else address_to_apn.get(address or "", property_id)
            groups.setdefault(key, []).append(index)
        return Merged(held=[record for *_, record in held], groups=groups, packing=self._packing)


class Merged:
    """A day's merged properties: their ids known at once (``property_ids``, sorted),
    each record merged as iteration reaches it."""

    def __init__(
        self, *, held: list[Property | bytes], groups: dict[str, list[int]], packing: _Packing
    ) -> None:
        self._held = held
        self._groups = groups
        self._packing = packing
        self.property_ids = sorted(groups)

    def __iter__(self) -> Iterator[Property]:
        unpack = self._packing.unpack
        for key in self.property_ids:
            yield _merge_group(key, [unpack(self._held[i]) for i in self._groups[key]])


class _Packing:
    """Records as compressed pickles, primed by the first one packed."""

    def __init__(self) -> None:
        self._primer = b""

    def pack(self, record: Property) -> bytes:
        pickled = pickle.dumps(record, protocol=pickle.HIGHEST_PROTOCOL)
        if not self._primer:
            self._primer = pickled
        compressor = zlib.compressobj(level=1, zdict=self._primer)
        return compressor.compress(pickled) + compressor.flush()

    def unpack(self, held: Property | bytes) -> Property:
        if not isinstance(held, bytes):
            return held
        decompressor = zlib.decompressobj(zdict=self._primer)
        # Pickled by this process a moment ago, never read from outside.
        record: Property = pickle.loads(decompressor.decompress(held) + decompressor.flush())
        return record


def merge_properties(records: Iterable[Property]) -> list[Property]:
    """Merge per-source records of one day into one record per property, sorted by id."""
    groups = MergeGroups(live_records=sys.maxsize)
    for record in records:
        groups.add(record)
    return list(groups.merged())


def _merge_group(property_id: str, group: list[Property]) -> Property:
    if len(group) == 1 and group[0].property_id == property_id:
        return group[0]
    by_listing = sorted(group, key=lambda r: _rank(r, LISTING_RANK))
    by_parcel = sorted(group, key=lambda r: _rank(r, PARCEL_RANK))
    values: dict[str, object] = {}
    provenance: dict[str, str] = {}
    dumps = {id(r): r.model_dump(exclude=_IDENTITY, exclude_none=True) for r in group}
    for field in Property.model_fields:
        if field in _IDENTITY:
            continue
        for record in by_parcel if field in PARCEL_FIELDS else by_listing:
            if field in dumps[id(record)]:
                values[field] = dumps[id(record)][field]
                provenance[field] = record.provenance.get(field, record.sources[0])
                break
    sources = sorted({s for record in group for s in record.sources})
    return Property.model_validate(
        {
            **values,
            "property_id": property_id,
            "snapshot_date": group[0].snapshot_date,
            "sources": sources,
            "provenance": provenance,
            "first_seen": min(r.first_seen for r in group),
            "last_seen": max(r.last_seen for r in group),
        }
    )
