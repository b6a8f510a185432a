"""Building a day's snapshot: full-state, incremental and Assessor sources together."""

import datetime as dt
from typing import Any

from phoenix_assets.domain.adapters import property_from_reso
from phoenix_assets.domain.property import Property, StandardStatus
from phoenix_assets.domain.snapshots import build_snapshot

DAY_1 = dt.date(2026, 11, 17)
DAY_2 = dt.date(2026, 11, 18)


def _listing(source: str, day: dt.date, key: str, apn: str, **fields: Any) -> Property:
    payload = {
        "ListingKey": key,
        "ParcelNumber": apn,
        "StandardStatus": "Active",
        "ListPrice": 500_000,
        "LivingArea": 1800,
        "PostalCode": "85018",
        "UnparsedAddress": f"{key} N 38th St",
        "ListingContractDate": "2026-11-01",
        "DaysOnMarket": 16,
        **fields,
    }
    return property_from_reso(payload, source=source, day=day)


def _parcel(day: dt.date, apn: str, year_built: int) -> Property:
    return property_from_reso(
        {"ParcelNumber": apn, "PostalCode": "85018", "YearBuilt": year_built, "LivingArea": 1850},
        source="maricopa",
        day=day,
    )


def _build(day: dt.date, previous: list[Property], **kwargs: Any) -> dict[str, Property]:
    kwargs.setdefault("full_state", [])
    kwargs.setdefault("incremental", {"mls": []})
    kwargs.setdefault("parcels_today", [])
    kwargs.setdefault("latest_parcels", {})
    return {p.property_id: p for p in build_snapshot(day, previous=previous, **kwargs)}


def test_mls_listings_carry_forward_and_take_todays_changes() -> None:
    day_1 = _build(
        DAY_1,
        [],
        incremental={
            "mls": [
                _listing("mls", DAY_1, "A", "111-11-111"),
                _listing("mls", DAY_1, "B", "222-22-222"),
            ]
        },
    )
    changed = _listing("mls", DAY_2, "B", "222-22-222", ListPrice=480_000)
    day_2 = _build(DAY_2, list(day_1.values()), incremental={"mls": [changed]})
    assert set(day_2) == {"apn:111-11-111", "apn:222-22-222"}
    carried = day_2["apn:111-11-111"]
    assert carried.snapshot_date == DAY_2 and carried.list_price == 500_000
    assert carried.days_on_market == 17  # an active listing's days on market keep counting
    assert day_2["apn:222-22-222"].list_price == 480_000


def test_an_ended_listing_leaves_a_week_after_it_ended() -> None:
    closed = _listing(
        "mls", DAY_1, "C", "333-33-333", StandardStatus="Closed", CloseDate="2026-11-17"
    )
    snapshot = _build(DAY_1, [], incremental={"mls": [closed]})
    for offset in range(1, 9):
        day = DAY_1 + dt.timedelta(days=offset)
        snapshot = _build(day, list(snapshot.values()))
        assert bool(snapshot) == (offset <= 7), offset


def test_full_state_sources_are_not_carried() -> None:
    day_1 = _build(DAY_1, [], full_state=[_listing("demo", DAY_1, "D", "444-44-444")])
    assert _build(DAY_2, list(day_1.values())) == {}


def test_listed_properties_take_the_assessors_facts_and_todays_parcels_are_seen() -> None:
    listing = _listing("mls", DAY_2, "E", "555-55-555")
    older_parcel = _parcel(DAY_1, "555-55-555", 1961)
    unlisted_today = _parcel(DAY_2, "666-66-666", 1999)
    snapshot = _build(
        DAY_2,
        [],
        incremental={"mls": [listing]},
        parcels_today=[unlisted_today],
        latest_parcels={
            "555-55-555": older_parcel,
            "777-77-777": _parcel(DAY_1, "777-77-777", 1950),
        },
    )
    assert set(snapshot) == {"apn:555-55-555", "apn:666-66-666"}  # not 777: not listed, not seen
    home = snapshot["apn:555-55-555"]
    assert home.sources == ["maricopa", "mls"] and home.snapshot_date == DAY_2
    assert home.year_built == 1961 and home.provenance["year_built"] == "maricopa"
    assert home.living_area == 1850 and home.provenance["living_area"] == "maricopa"
    assert home.list_price == 500_000 and home.provenance["list_price"] == "mls"
    assert home.standard_status is StandardStatus.ACTIVE
