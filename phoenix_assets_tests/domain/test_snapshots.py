"""Building a day's snapshot: listings as of the day, ended ones leaving, Assessor facts."""

import datetime as dt
from typing import Any

import pytest

from phoenix_assets.domain.adapters import property_from_reso
from phoenix_assets.domain.property import Property, StandardStatus
from phoenix_assets.domain.snapshots import (
    ENDED_VISIBLE_DAYS,
    DaySnapshot,
    as_of,
    build_snapshot,
    shown_on,
)

DAY_1 = dt.date(2026, 11, 17)
DAY_2 = dt.date(2026, 11, 18)


def listing_state(records: list[Property], day: dt.date) -> list[Property]:
    """An incremental source's listings on ``day``, as the snapshot asset shows them."""
    return [as_of(r, day) for r in records if shown_on(r, day)]


def _listing(source: str, day: dt.date, key: str, apn: str, **fields: Any) -> Property:
    """A listing's version as adapted for ``day`` (what a snapshot of that day reads)."""
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
        "ModificationTimestamp": "2026-11-17T16:00:00Z",
        **fields,
    }
    return property_from_reso(payload, source=source, day=day)


def _parcel(day: dt.date, apn: str, year_built: int) -> Property:
    return property_from_reso(
        {"ParcelNumber": apn, "PostalCode": "85018", "YearBuilt": year_built, "LivingArea": 1850},
        source="maricopa",
        day=day,
    )


def _build(day: dt.date, **kwargs: Any) -> dict[str, Property]:
    kwargs.setdefault("listings", [])
    kwargs.setdefault("parcels_today", [])
    kwargs.setdefault("latest_parcels", {})
    return {p.property_id: p for p in build_snapshot(day, **kwargs)}


# --- a listing as of a day ------------------------------------------------------------------


def test_an_active_listings_days_on_market_keep_counting() -> None:
    # The latest version was made on DAY_1; the snapshot of a later day shows it as of then.
    for day, days in ((DAY_1, 16), (DAY_2, 17), (DAY_1 + dt.timedelta(days=30), 46)):
        shown = as_of(_listing("mls", day, "A", "111-11-111"), day)
        assert shown.days_on_market == days, day
        assert shown.list_price == 500_000 and shown.snapshot_date == day


def test_as_of_a_day_before_the_listing_date_counts_no_days() -> None:
    assert (
        as_of(_listing("mls", DAY_1, "A", "111-11-111"), dt.date(2026, 10, 1)).days_on_market == 0
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"StandardStatus": "Pending"},
        {"StandardStatus": "Closed", "CloseDate": "2026-11-17"},
        {"ListingContractDate": None, "OnMarketDate": None},
    ],
)
def test_only_an_active_listing_with_a_listing_date_is_changed(fields: dict[str, Any]) -> None:
    record = _listing("mls", DAY_2, "A", "111-11-111", **fields)
    assert as_of(record, DAY_2 + dt.timedelta(days=5)) == record


def test_listing_state_shows_every_listing_as_of_the_day() -> None:
    day = DAY_2 + dt.timedelta(days=10)
    records = [
        _listing("mls", day, "A", "111-11-111"),
        _listing("mls", day, "B", "222-22-222", StandardStatus="Pending"),
    ]
    state = {r.listing_key: r for r in listing_state(records, day)}
    assert set(state) == {"A", "B"}
    assert state["A"].days_on_market == 27 and state["B"].days_on_market == 16


# --- ended listings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fields",
    [
        {"StandardStatus": "Closed", "CloseDate": "2026-11-17", "ClosePrice": 495_000},
        # No close date: it ended when it was last modified (10:00 in Phoenix).
        {"StandardStatus": "Withdrawn", "ModificationTimestamp": "2026-11-17T17:00:00Z"},
        {"StandardStatus": "Expired", "ModificationTimestamp": "2026-11-17T17:00:00Z"},
        {"StandardStatus": "Canceled", "ModificationTimestamp": "2026-11-17T17:00:00Z"},
    ],
)
def test_an_ended_listing_leaves_a_week_after_it_ended(fields: dict[str, Any]) -> None:
    for offset in range(0, ENDED_VISIBLE_DAYS + 3):
        day = DAY_1 + dt.timedelta(days=offset)
        record = _listing("mls", day, "C", "333-33-333", **fields)
        assert bool(listing_state([record], day)) == (offset <= ENDED_VISIBLE_DAYS), offset


def test_an_ended_listing_without_any_date_leaves_a_week_after_it_was_last_seen() -> None:
    fields = {"StandardStatus": "Withdrawn", "ModificationTimestamp": None}
    record = _listing("mls", DAY_1, "C", "333-33-333", **fields)  # last seen on DAY_1
    assert listing_state([record], DAY_1 + dt.timedelta(days=ENDED_VISIBLE_DAYS))
    assert not listing_state([record], DAY_1 + dt.timedelta(days=ENDED_VISIBLE_DAYS + 1))


def test_an_ended_listing_leaves_a_week_after_the_phoenix_day_it_ended() -> None:
    """Days are Phoenix days: a listing withdrawn at 20:00 on DAY_1 in Phoenix (03:00 UTC
    the next day) ended on DAY_1, like one withdrawn that morning."""
    evening = {"StandardStatus": "Withdrawn", "ModificationTimestamp": "2026-11-18T03:00:00Z"}
    last_day = DAY_1 + dt.timedelta(days=ENDED_VISIBLE_DAYS)
    assert listing_state([_listing("mls", last_day, "C", "333-33-333", **evening)], last_day)
    after = last_day + dt.timedelta(days=1)
    assert not listing_state([_listing("mls", after, "C", "333-33-333", **evening)], after), (
        "the listing is still shown 8 Phoenix days after it ended (its UTC date was used)"
    )


def test_a_listing_unchanged_for_weeks_stays_while_it_is_on_the_market() -> None:
    # Its latest version, however old, is its state: no day before is needed.
    far = DAY_2 + dt.timedelta(days=40)
    record = _listing("mls", far, "D", "444-44-444", ListingContractDate="2026-11-18")
    assert [r.days_on_market for r in listing_state([record], far)] == [40]
    pending = _listing("mls", far, "E", "555-55-555", StandardStatus="Pending")
    assert listing_state([pending], far) == [pending]


# --- the snapshot ---------------------------------------------------------------------------


def test_the_snapshot_is_the_days_listings_merged_by_property() -> None:
    listings = [
        _listing("mls", DAY_2, "A", "111-11-111", ListPrice=480_000),
        _listing("demo", DAY_2, "X", "111-11-111", YearBuilt=1958),  # the same parcel
        _listing("demo", DAY_2, "Y", "222-22-222"),
    ]
    snapshot = _build(DAY_2, listings=listings)
    assert set(snapshot) == {"apn:111-11-111", "apn:222-22-222"}
    home = snapshot["apn:111-11-111"]
    assert home.sources == ["demo", "mls"] and home.snapshot_date == DAY_2
    assert home.year_built == 1958 and home.provenance["year_built"] == "demo"
    assert _build(DAY_2) == {}  # no listings, no parcels: nothing seen


def test_listed_properties_take_the_assessors_facts_and_todays_parcels_are_seen() -> None:
    listing = _listing("mls", DAY_2, "E", "555-55-555")
    older_parcel = _parcel(DAY_1, "555-55-555", 1961)
    unlisted_today = _parcel(DAY_2, "666-66-666", 1999)
    snapshot = _build(
        DAY_2,
        listings=listing_state([listing], DAY_2),
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
    assert snapshot["apn:666-66-666"].snapshot_date == DAY_2
    assert older_parcel.snapshot_date == DAY_1  # the stored record is not changed


def test_a_parcel_fetched_today_wins_over_an_older_record_of_it() -> None:
    snapshot = _build(
        DAY_2,
        listings=[_listing("mls", DAY_2, "F", "888-88-888")],
        parcels_today=[_parcel(DAY_2, "888-88-888", 2001)],
        latest_parcels={"888-88-888": _parcel(DAY_1, "888-88-888", 1961)},
    )
    assert snapshot["apn:888-88-888"].year_built == 2001


# --- a large day, held compactly ------------------------------------------------------------


@pytest.mark.parametrize("live_records", [0, 3])
def test_a_day_held_compactly_merges_to_the_same_snapshot(live_records: int) -> None:
    """Past ``live_records`` the day's records are held pickled until their property is
    merged: the snapshot is the same, property for property and in the same order."""
    listings = [
        _listing("mls", DAY_2, "A", "111-11-111", ListPrice=480_000),
        _listing("demo", DAY_2, "X", "111-11-111", YearBuilt=1958),
        _listing("demo", DAY_2, "Y", "222-22-222"),
        # No parcel number: joins its parcel by its address.
        _listing("demo", DAY_2, "Z", "", UnparsedAddress="A N 38th St", GarageSpaces=3),
        _listing("demo", DAY_2, "W", "", UnparsedAddress="9 E Nowhere Rd"),
        *(_listing("demo", DAY_2, f"N{n}", f"300-00-{n:03d}") for n in range(12)),
    ]
    parcels_today = [_parcel(DAY_2, "666-66-666", 1999)]
    latest_parcels = {"222-22-222": _parcel(DAY_1, "222-22-222", 1961)}
    whole = build_snapshot(
        DAY_2, listings=listings, parcels_today=parcels_today, latest_parcels=latest_parcels
    )
    compact = DaySnapshot(DAY_2, live_records=live_records)
    for listing in listings:
        compact.add_listing(listing)
    assert compact.listed_parcels == {p.parcel_number for p in listings if p.parcel_number}
    merged = compact.merged(parcels_today=parcels_today, latest_parcels=latest_parcels)
    assert merged.property_ids == [p.property_id for p in whole]
    assert list(merged) == whole
    assert list(merged) == whole, "a merged day can be read again"
    home = {p.property_id: p for p in whole}["apn:111-11-111"]
    assert home.sources == ["demo", "mls"] and home.garage_spaces == 3  # the address joined
    assert {p.property_id: p for p in whole}["apn:222-22-222"].year_built == 1961
