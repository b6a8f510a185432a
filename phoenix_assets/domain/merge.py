"""Merging: one ``Property`` per real property per day, from every source that saw it.

Records join on the parcel number first, the normalized address second. Where sources
disagree, each field takes the value of the source with the most authority for it:
listing facts from listing feeds (MLS first), parcel facts and values from the
Assessor; ties go to the most recently modified record. Provenance keeps which source said what.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

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
