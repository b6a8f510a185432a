"""Adapting Maricopa Assessor parcel records to Property: the mapping, the quirks, garbage."""

import copy
import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoenix_assets.domain import rules
from phoenix_assets.domain.adapters import AdapterError
from phoenix_assets.domain.maricopa_adapter import property_from_maricopa, split_address
from phoenix_assets.domain.property import Property
from phoenix_assets_tests.sources.fake_maricopa import parcel_fixture, search_hit

DAY = dt.date(2026, 11, 18)
APN = "173-35-524"


def _record(**parcel_overrides: Any) -> dict[str, Any]:
    """A record as the source keeps it, built on a realistic /parcel body."""
    parcel: dict[str, Any] = {
        "APN": "17335524",
        "MCR": "048-12",
        "PropertyAddress": "4821 N 38TH ST PHOENIX 85018",
        "PropertyDescription": "LOT 12 ARCADIA VISTA",
        "LotSize": "7,405",
        "IsResidential": True,
        "IsRental": False,
        "SubdivisionName": "ARCADIA VISTA",
        "PropertyType": "Single Family Residence",
        "PropertyUseCode": "0131",
        "TaxAreaCode": "010100",
        "LocalJurisdiction": "PHOENIX",
        "ParcelStatus": "A",
        "Zoning": ["R1-6"],
        "Geo": {"lat": "33.4961", "long": -111.9852},
        "Owner": {
            "Ownership": "GARCIA MARIA",
            "MailingAddress1": "4821 N 38TH ST",
            "MailingCity": "PHOENIX",
            "MailingState": "AZ",
            "MailingZip": "85018",
            "DeedDate": "04/07/2021",
            "DeedType": "WD",
            "SalePrice": "$325,000",
            "SaleDate": "04/01/2021",
            "Redacted": False,
        },
        "ResidentialPropertyData": {
            "ConstructionYear": "1958",
            "LivableSpace": "1,850",
            "Pool": "Y",
            "ImprovementQualityGrade": "Average",
            "ExteriorWalls": "Frame Stucco",
            "RoofType": "Asphalt Shingle",
            "BathFixtures": "9",
            "Cooling": "Refrigeration",
            "Heating": "Yes",
            "NumberOfGarages": "2",
            "ParkingType": "Garage",
        },
        "Valuations": [
            {"TaxYear": "2025", "FullCashValue": "598,000", "LimitedPropertyValue": "380,100"},
            {"TaxYear": "2026", "FullCashValue": "612,300", "LimitedPropertyValue": "399,105"},
            {"TaxYear": "2024", "FullCashValue": "570,000", "LimitedPropertyValue": "362,000"},
        ],
    }
    parcel.update(parcel_overrides)
    return {
        "search": {"APN": "173-35-524", "PropertyAddressZip": "85018"},
        "parcel": parcel,
        "residential_details": None,
        "valuations": None,
    }


def test_a_realistic_record_maps_to_property() -> None:
    record = property_from_maricopa(_record(), day=DAY)
    assert record.property_id == f"apn:{APN}" and record.parcel_number == APN
    assert (record.unparsed_address, record.city, record.postal_code) == (
        "4821 N 38TH ST",
        "PHOENIX",
        "85018",
    )
    assert (record.latitude, record.longitude) == (33.4961, -111.9852)
    assert record.lot_size_square_feet == 7405 and record.living_area == 1850
    assert record.year_built == 1958 and record.pool_private_yn is True
    assert record.garage_spaces == 2 and record.property_type == "Single Family Residence"
    assert record.last_sale_price == 325_000 and record.last_sale_date == dt.date(2021, 4, 1)
    # The latest valuation (highest TaxYear), wherever it sits in the list.
    assert (record.tax_year, record.full_cash_value, record.limited_property_value) == (
        2026,
        612_300,
        399_105,
    )
    # What the Assessor does not know stays unknown: no bathrooms from fixtures, no listing.
    assert record.bathrooms_total_integer is None and record.bedrooms_total is None
    assert record.standard_status is None and record.list_price is None
    assert record.sources == ["maricopa"]
    assert record.first_seen == record.last_seen == record.snapshot_date == DAY
    set_fields = {
        name
        for name, value in record.model_dump(
            exclude={"property_id", "snapshot_date", "sources", "provenance", "first_seen"}
            | {"last_seen", "state_or_province"}
        ).items()
        if value is not None
    }
    assert record.provenance == dict.fromkeys(set_fields, "maricopa")


def test_the_fake_servers_fixtures_adapt() -> None:
    for index in range(20):
        parcel = parcel_fixture(f"318-10-{index:03d}", "85018", index)
        payload = {"search": search_hit(parcel, "85018", compact=True), "parcel": parcel}
        record = property_from_maricopa(payload, day=DAY)
        assert record.postal_code == "85018" and record.city == "PHOENIX"
        assert record.tax_year == 2027


def test_fetched_valuations_win_over_the_parcels_own() -> None:
    payload = _record()
    payload["valuations"] = [
        {"TaxYear": 2027, "FullCashValue": 650000, "LimitedPropertyValue": 419000},
        {"TaxYear": 2026, "FullCashValue": 612300, "LimitedPropertyValue": 399105},
    ]
    record = property_from_maricopa(payload, day=DAY)
    assert (record.tax_year, record.full_cash_value) == (2027, 650_000)


@pytest.mark.parametrize(
    ("address", "street", "city", "postal"),
    [
        ("4821 N 38TH ST PHOENIX 85018", "4821 N 38TH ST", "PHOENIX", "85018"),
        ("4600 N 68TH ST 371 SCOTTSDALE, AZ 85251", "4600 N 68TH ST 371", "SCOTTSDALE", "85251"),
        ("4821 N 38th St, Phoenix, AZ 85018-1234", "4821 N 38th St", "Phoenix", "85018"),
        ("20010 N 1ST AVE SUN CITY WEST 85375", "20010 N 1ST AVE", "SUN CITY WEST", "85375"),
        (
            "12345 W SOMEWHERE RD NOWHEREVILLE 85001",
            "12345 W SOMEWHERE RD NOWHEREVILLE",
            None,
            "85001",
        ),
        ("4821 N 38TH ST", "4821 N 38TH ST", None, None),
    ],
)
def test_address_strings_split(
    address: str, street: str | None, city: str | None, postal: str | None
) -> None:
    assert split_address(address) == (street, city, postal)


def test_split_address_fields_are_read() -> None:
    record = property_from_maricopa(
        _record(PropertyAddress={"Street": "4821 N 38TH ST", "City": "PHOENIX", "Zip": 85018}),
        day=DAY,
    )
    assert (record.unparsed_address, record.city, record.postal_code) == (
        "4821 N 38TH ST",
        "PHOENIX",
        "85018",
    )


def test_a_zipless_address_takes_the_search_hits_zip() -> None:
    record = property_from_maricopa(_record(PropertyAddress="4821 N 38TH ST PHOENIX"), day=DAY)
    assert record.postal_code == "85018" and record.city == "PHOENIX"


@pytest.mark.parametrize("null", ["na", "N/A", "", "  ", None, "NA"])
def test_null_spellings_mean_no_value(null: Any) -> None:
    payload = _record(LotSize=null)
    payload["parcel"]["ResidentialPropertyData"].update(Pool=null, NumberOfGarages=null)
    payload["parcel"]["Owner"].update(SalePrice=null, SaleDate=null)
    record = property_from_maricopa(payload, day=DAY)
    assert record.lot_size_square_feet is None and record.pool_private_yn is None
    assert record.garage_spaces is None
    assert record.last_sale_price is None and record.last_sale_date is None
    assert "lot_size_square_feet" not in record.provenance


@pytest.mark.parametrize(
    ("raw", "number"),
    [("1,850", 1850), ("$325,000", 325_000), (" 2,400.5 ", 2400.5), (1850, 1850), (1850.0, 1850)],
)
def test_numbers_as_strings(raw: Any, number: float) -> None:
    payload = _record(LotSize=raw)
    payload["parcel"]["Owner"]["SalePrice"] = raw
    record = property_from_maricopa(payload, day=DAY)
    assert record.lot_size_square_feet == number and record.last_sale_price == number


@pytest.mark.parametrize(
    ("raw", "value"),
    [
        *[("Y", True), ("N", False), ("Yes", True), ("no", False), (True, True), (False, False)],
        *[("375", True), ("0", False), (1, True)],
    ],
)
def test_booleans_in_their_spellings(raw: Any, value: bool) -> None:
    payload = _record()
    payload["parcel"]["ResidentialPropertyData"]["Pool"] = raw
    assert property_from_maricopa(payload, day=DAY).pool_private_yn is value


@pytest.mark.parametrize(
    ("raw", "day"),
    [
        ("04/01/2021", dt.date(2021, 4, 1)),
        ("4/1/2021", dt.date(2021, 4, 1)),
        ("2021-04-01", dt.date(2021, 4, 1)),
        ("04/01/2021 00:00:00", dt.date(2021, 4, 1)),
    ],
)
def test_dates_mm_dd_yyyy(raw: str, day: dt.date) -> None:
    payload = _record()
    payload["parcel"]["Owner"]["SaleDate"] = raw
    assert property_from_maricopa(payload, day=DAY).last_sale_date == day


def test_zero_year_and_area_mean_none_recorded() -> None:
    payload = _record()
    payload["parcel"]["ResidentialPropertyData"].update(ConstructionYear="0", LivableSpace="0")
    record = property_from_maricopa(payload, day=DAY)
    assert record.year_built is None and record.living_area is None


def test_property_use_code_stands_in_for_a_missing_type() -> None:
    record = property_from_maricopa(_record(PropertyType="na"), day=DAY)
    assert record.property_type == "0131"


def test_a_bare_parcel_body_is_accepted() -> None:
    record = property_from_maricopa(_record()["parcel"], day=DAY)
    assert record.parcel_number == APN


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"APN": "na"}, "no APN"),
        ({"PropertyAddress": "4821 N 38TH ST PHOENIX"}, "no 5-digit ZIP"),  # and no hit ZIP
        ({"LotSize": "about 7000"}, "LotSize"),
        ({"LotSize": "-5"}, "lot_size_square_feet"),
        ({"Geo": {"lat": "north", "long": "-111.9"}}, "Geo.lat"),
        ({"Geo": {"lat": 95.0, "long": -111.9}}, "latitude"),
        ({"Geo": "33.49,-111.98"}, "Geo"),
        ({"Owner": {"SaleDate": "13/45/2021"}}, "SaleDate"),
        ({"Owner": {"SalePrice": "1e999"}}, "SalePrice"),
        ({"Owner": {"SalePrice": 10**400}}, "SalePrice"),
        ({"Owner": ["GARCIA"]}, "Owner"),
        ({"ResidentialPropertyData": {"ConstructionYear": "1958.5"}}, "ConstructionYear"),
        ({"ResidentialPropertyData": {"ConstructionYear": "1492"}}, "year_built"),
        ({"ResidentialPropertyData": {"Pool": "maybe"}}, "Pool"),
        ({"ResidentialPropertyData": {"LivableSpace": True}}, "LivableSpace"),
        ({"ResidentialPropertyData": "1958"}, "ResidentialPropertyData"),
        ({"Valuations": "2026: 612,300"}, "Valuations"),
        ({"Valuations": [{"TaxYear": "2026", "FullCashValue": "lots"}]}, "FullCashValue"),
        ({"PropertyType": {"code": 1}}, "PropertyType"),
    ],
)
def test_invalid_values_give_a_reason(change: dict[str, Any], reason: str) -> None:
    payload = _record(**change)
    payload["search"] = {"APN": APN}
    with pytest.raises(AdapterError, match=reason):
        property_from_maricopa(payload, day=DAY)


@pytest.mark.parametrize(
    "payload",
    [None, [], "parcel", 42, {}, {"parcel": None}, {"parcel": []}, {"parcel": {"APN": APN}}],
)
def test_payloads_of_the_wrong_shape_give_a_reason(payload: Any) -> None:
    with pytest.raises(AdapterError):
        property_from_maricopa(payload, day=DAY)


# --------------------------------------------------------------------------- garbage


_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["na", "N/A", "", "1,850", "$325,000", "04/01/2021", "Y", "85018", "0"])
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)


def _mostly(value: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``value`` three times in four, any JSON otherwise."""
    return st.sampled_from((True, True, True, False)).flatmap(lambda real: value if real else _json)


_numberish = st.one_of(
    st.sampled_from(["1,850", "$325,000", "0", "-3", "1e999", "na", "", "12.5", "nan"]),
    st.integers(),
    st.floats(allow_nan=True, allow_infinity=True),
    _json,
)
_parcels = st.fixed_dictionaries(
    {
        "APN": _mostly(st.sampled_from([APN, "17335524", "173.35.524 A", "1"])),
        "PropertyAddress": _mostly(
            st.sampled_from(
                [
                    "4821 N 38TH ST PHOENIX 85018",
                    "4600 N 68TH ST 371 SCOTTSDALE, AZ 85251",
                    "PHOENIX 85018",
                    ", AZ 85018",
                    "4821 N 38TH ST",
                ]
            )
            | st.fixed_dictionaries(
                {}, optional={"Street": _json, "City": _json, "Zip": _mostly(st.just("85018"))}
            )
        ),
    },
    optional={
        "Geo": _mostly(st.fixed_dictionaries({}, optional={"lat": _numberish, "long": _numberish})),
        "LotSize": _numberish,
        "PropertyType": _json,
        "PropertyUseCode": _json,
        "Owner": _mostly(
            st.fixed_dictionaries(
                {},
                optional={
                    "SalePrice": _numberish,
                    "SaleDate": _mostly(st.sampled_from(["04/01/2021", "2/30/2020", "1/1/0"])),
                },
            )
        ),
        "ResidentialPropertyData": _mostly(
            st.fixed_dictionaries(
                {},
                optional={
                    "ConstructionYear": _mostly(st.sampled_from(["1958", "0", "na", 1999])),
                    "LivableSpace": _numberish,
                    "Pool": _mostly(st.sampled_from(["Y", "N", "Yes", True, "375", "-1"])),
                    "NumberOfGarages": _numberish,
                },
            )
        ),
        "Valuations": _mostly(
            st.lists(
                _mostly(
                    st.fixed_dictionaries(
                        {},
                        optional={
                            "TaxYear": _mostly(st.sampled_from(["2026", 2025, "20x6", "9999"])),
                            "FullCashValue": _numberish,
                            "LimitedPropertyValue": _numberish,
                        },
                    )
                ),
                max_size=4,
            )
        ),
    },
)
_records = st.fixed_dictionaries(
    {"parcel": _mostly(_parcels)},
    optional={
        "search": _mostly(st.fixed_dictionaries({"PropertyAddressZip": _json})),
        "residential_details": _json,
        "valuations": _json,
    },
)


# A realistic record with one to three of its real fields replaced by garbage.
_FIELD_PATHS: list[tuple[Any, ...]] = [
    ("parcel", "APN"),
    ("parcel", "PropertyAddress"),
    ("parcel", "Geo"),
    ("parcel", "Geo", "lat"),
    ("parcel", "Geo", "long"),
    ("parcel", "LotSize"),
    ("parcel", "PropertyType"),
    ("parcel", "PropertyUseCode"),
    ("parcel", "Owner"),
    ("parcel", "Owner", "SalePrice"),
    ("parcel", "Owner", "SaleDate"),
    ("parcel", "ResidentialPropertyData"),
    *(
        ("parcel", "ResidentialPropertyData", name)
        for name in ("ConstructionYear", "LivableSpace", "Pool", "NumberOfGarages")
    ),
    ("parcel", "Valuations"),
    *(("parcel", "Valuations", 1, name) for name in ("TaxYear", "FullCashValue")),
    ("parcel", "Valuations", 1, "LimitedPropertyValue"),
    ("parcel", "Valuations", 0),
    ("search",),
    ("search", "PropertyAddressZip"),
    ("valuations",),
    ("residential_details",),
]
_QUIRKS = {
    "SaleDate": ["1/1/0", "2/30/2020", "13/45/2021", "00/00/0000", "2021-02-30", "04/01/21"],
    "TaxYear": ["20x6", "9999", "0", "-2026", "2026.5", "1e3"],
    "ConstructionYear": ["1492", "0", "19.58", "1e999", "2200"],
    "Pool": ["maybe", "-1", "2", "YES", "nan"],
}
_NUMBER_QUIRKS = ["1e999", "-1", "nan", "inf", "$", ",", "1,2,3", "0x10", "1_000", str(10**400)]


def _garbage_for(path: tuple[Any, ...]) -> st.SearchStrategy[Any]:
    quirks = _QUIRKS.get(path[-1], _NUMBER_QUIRKS)
    return st.sampled_from(quirks) | st.integers(-(10**400), 10**400) | _json


def _with_garbage(changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    payload = _record()
    for path, value in changes:
        target: Any = payload
        for step in path[:-1]:
            try:
                target = target[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            key = path[-1]
            if isinstance(target, dict) or (
                isinstance(target, list) and isinstance(key, int) and key < len(target)
            ):
                target[key] = value
    return payload


_garbled = st.lists(
    st.sampled_from(_FIELD_PATHS).flatmap(
        lambda path: st.tuples(st.just(path), _garbage_for(path))
    ),
    min_size=1,
    max_size=3,
)


def _adapts_or_explains(payload: Any) -> None:
    original = copy.deepcopy(payload)
    try:
        record = property_from_maricopa(payload, day=DAY)
    except AdapterError as exc:
        reason = str(exc)
        assert reason and "could not be read" not in reason  # no unforeseen failure inside
    else:
        assert isinstance(record, Property) and record.postal_code.isdigit()
        for value in (record.latitude, record.longitude, record.lot_size_square_feet):
            assert value is None or math.isfinite(value)
    assert _same(payload, original)  # the payload is never changed


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


_FAST = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@_FAST
@given(_json)
def test_any_json_gives_a_property_or_an_adapter_error(payload: Any) -> None:
    _adapts_or_explains(payload)


@_FAST
@given(_records)
def test_garbage_in_the_real_fields_gives_a_property_or_an_adapter_error(payload: Any) -> None:
    _adapts_or_explains(payload)


@_FAST
@given(_garbled.map(_with_garbage))
def test_garbage_in_a_real_record_gives_a_property_or_an_adapter_error(payload: Any) -> None:
    _adapts_or_explains(payload)


def test_a_parcel_without_an_apn_breaks_the_record_key_rule() -> None:
    payload = _record()
    del payload["parcel"]["APN"]
    with pytest.raises(AdapterError) as raised:
        property_from_maricopa(payload, day=DAY)
    assert raised.value.rule == rules.MISSING_RECORD_KEY
    with pytest.raises(AdapterError) as raised:
        property_from_maricopa([], day=DAY)  # type: ignore[arg-type]
    assert raised.value.rule == rules.NOT_ADAPTABLE


def test_a_lot_size_of_zero_is_the_assessors_no_lot() -> None:
    record = property_from_maricopa(_record(LotSize="0"), day=DAY)
    assert record.lot_size_square_feet is None
