"""Merging: one ``Property`` per real property per day, from every source that saw it.

Records join on the parcel number first, the normalized address second. Where sources
disagree, each field takes the value of the source with the most authority for it
(listing facts from listing feeds, parcel facts and values from the Assessor); ties
go to the most recently modified record. Provenance keeps which source said what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from phoenix_assets.domain.property import Property, normalize_address

# Lower number = more authority. Unknown sources rank last.
SOURCE_RANK: dict[str, int] = {"mls": 0, "maricopa": 1, "demo": 2}
_IDENTITY = {
    "property_id",
    "snapshot_date",
    "sources",
    "provenance",
    "first_seen",
    "last_seen",
}
_MIN_DATE = dt.datetime.min.replace(tzinfo=dt.UTC)


def _rank(record: Property) -> tuple[int, float]:
    source = record.sources[0] if record.sources else ""
    modified = record.modification_timestamp or _MIN_DATE
    return (SOURCE_RANK.get(source, 99), -modified.timestamp())


def merge_properties(records: Iterable[Property]) -> list[Property]:
    """Merge per-source records of one day into one record per property, sorted by id."""
    records = list(records)
    # Addresses of records with an APN, so an address-only record joins its parcel.
    address_to_apn = {
        address: f"apn:{record.parcel_number}"
        for record in records
        if record.parcel_number
        and (address := normalize_address(record.unparsed_address, record.postal_code))
    }
    groups: dict[str, list[Property]] = {}
    for record in records:
        if record.parcel_number:
            key = f"apn:{record.parcel_number}"
        else:
            address = normalize_address(record.unparsed_address, record.postal_code)
            key = address_to_apn.get(address or "", record.property_id)
        groups.setdefault(key, []).append(record)
    return [_merge_group(key, group) for key, group in sorted(groups.items())]


def _merge_group(property_id: str, group: list[Property]) -> Property:
    if len(group) == 1 and group[0].property_id == property_id:
        return group[0]
    ordered = sorted(group, key=_rank)
    values: dict[str, object] = {}
    provenance: dict[str, str] = {}
    for record in ordered:
        for field, value in record.model_dump(exclude=_IDENTITY, exclude_none=True).items():
            if field not in values:
                values[field] = value
                provenance[field] = record.provenance.get(field, record.sources[0])
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
