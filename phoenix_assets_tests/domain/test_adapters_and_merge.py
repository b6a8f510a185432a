"""Adapting RESO payloads to Property, and merging records across sources."""

import datetime as dt
from typing import Any

import pytest

from phoenix_assets.domain import rules
from phoenix_assets.domain.adapters import AdapterError, property_from_reso
from phoenix_assets.domain.merge import merge_properties
from phoenix_assets.domain.property import StandardStatus, normalize_address, normalize_apn

DAY = dt.date(2026, 11, 18)


def _payload(**overrides: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "ListingKey": "K1",
        "ListingId": "6771234",
        "ParcelNumber": "123-45-678A",
        "StandardStatus": "Active",
        "ListPrice": 525000,
        "OriginalListPrice": 540000,
        "LivingArea": 1850,
        "UnparsedAddress": "4821 N 38th St",
        "City": "Phoenix",
        "StateOrProvince": "AZ",
        "PostalCode": "85018",
        "Latitude": 33.5,
        "Longitude": -111.99,
        "ListingContractDate": "2026-10-01",
        "ModificationTimestamp": "2026-11-17T18:00:00Z",
    }
    payload.update(overrides)
    return payload


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("123-45-678A", "123-45-678A"),
        ("12345678a", "123-45-678A"),
        ("123.45.678", "123-45-678"),
        (" 123 45 678 ", "123-45-678"),
        ("", None),
        (None, None),
    ],
)
def test_apns_normalize_whatever_their_separators(raw: str | None, normalized: str | None) -> None:
    assert normalize_apn(raw) == normalized


def test_addresses_normalize_to_one_join_key() -> None:
    assert normalize_address("4821 North 38th Street", "85018") == normalize_address(
        "4821 n. 38th st", "85018-1234"
    )


def test_a_reso_payload_adapts_with_provenance() -> None:
    record = property_from_reso(_payload(), source="demo", day=DAY)
    assert record.property_id == "apn:123-45-678A"
    assert record.standard_status is StandardStatus.ACTIVE
    assert record.list_price == 525000
    assert record.listing_contract_date == dt.date(2026, 10, 1)
    assert record.first_seen == dt.date(2026, 10, 1) and record.last_seen == DAY
    assert record.provenance["list_price"] == "demo"
    assert record.provenance["parcel_number"] == "demo"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"PostalCode": "8501"}, "postal_code"),
        ({"ListPrice": -5}, "list_price"),
        ({"StandardStatus": "Sold"}, "standard_status"),
        ({"Latitude": 133.0}, "latitude"),
        ({"ParcelNumber": None, "UnparsedAddress": None}, "cannot identify"),
    ],
)
def test_an_invalid_payload_raises_an_adapter_error_with_the_reason(
    overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(AdapterError, match=reason):
        property_from_reso(_payload(**overrides), source="demo", day=DAY)


def test_a_non_object_payload_is_an_adapter_error() -> None:
    with pytest.raises(AdapterError):
        property_from_reso(["not", "an", "object"], source="demo", day=DAY)  # type: ignore[arg-type]


def test_records_merge_on_apn_then_address_with_per_field_provenance() -> None:
    listing = property_from_reso(_payload(), source="mls", day=DAY)
    parcel = property_from_reso(
        _payload(
            ParcelNumber="12345678A",
            ListPrice=None,
            YearBuilt=1958,
            ListingKey=None,
            LivingArea=1912,
        ),
        source="maricopa",
        day=DAY,
    )
    address_only = property_from_reso(
        _payload(ParcelNumber=None, UnparsedAddress="4821 North 38th Street", GarageSpaces=2),
        source="demo",
        day=DAY,
    )
    other = property_from_reso(
        _payload(ParcelNumber="999-99-999", UnparsedAddress="1 W Main St"), source="demo", day=DAY
    )
    merged = merge_properties([address_only, parcel, listing, other])
    assert [m.property_id for m in merged] == ["apn:123-45-678A", "apn:999-99-999"]
    home = merged[0]
    assert home.sources == ["demo", "maricopa", "mls"]
    assert home.list_price == 525000 and home.provenance["list_price"] == "mls"
    assert home.year_built == 1958 and home.provenance["year_built"] == "maricopa"
    # A parcel fact both sources state: the Assessor's value wins.
    assert home.living_area == 1912 and home.provenance["living_area"] == "maricopa"
    assert home.garage_spaces == 2 and home.provenance["garage_spaces"] == "demo"


# --- quarantine rules of adapter errors -------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "rule"),
    [
        ("not a record", rules.NOT_ADAPTABLE),
        (_payload(ListPrice="<script>alert(1)</script>"), rules.INVALID_FIELD),
        (_payload(LivingArea=0), rules.AREA_NOT_POSITIVE),
        (_payload(LotSizeSquareFeet=-5), rules.AREA_NOT_POSITIVE),
        (_payload(ParcelNumber=None, UnparsedAddress=None), rules.NO_PROPERTY_IDENTITY),
    ],
)
def test_an_adapter_error_names_its_quarantine_rule(payload: Any, rule: str) -> None:
    with pytest.raises(AdapterError) as raised:
        property_from_reso(payload, source="mls", day=DAY)
    assert raised.value.rule == rule and rule in rules.REASONS


def test_a_lot_size_of_zero_is_no_lot_not_a_zero_area() -> None:
    record = property_from_reso(_payload(LotSizeSquareFeet=0), source="mls", day=DAY)
    assert record.lot_size_square_feet is None
    assert "lot_size_square_feet" not in record.provenance
    kept = property_from_reso(_payload(LotSizeSquareFeet=0.5), source="mls", day=DAY)
    assert kept.lot_size_square_feet == 0.5
