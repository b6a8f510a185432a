"""Fuzzing the RESO adapter: any payload gives a ``Property`` or an ``AdapterError``.

``property_from_reso`` promises that a payload it cannot adapt raises ``AdapterError``
(the caller quarantines it with the reason); anything else crashes the asset. These
tests throw arbitrary JSON-like values and RESO-shaped records with garbage values at
it.

Cases found this way and fixed, kept below as regression tests: a non-string
``UnparsedAddress`` or a float/dict ``PostalCode`` with no usable APN, integers too long
to print, infinite amounts, and a non-string ``ParcelNumber`` becoming an identity.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import math
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from phoenix_assets.domain.adapters import RESO_FIELDS, AdapterError, property_from_reso
from phoenix_assets.domain.property import Property, normalize_apn

DAY = dt.date(2026, 11, 24)
FUZZ = settings(
    max_examples=400,
    deadline=None,
    derandomize=True,  # the same examples on every run: a failure is reproducible
    suppress_health_check=[HealthCheck.too_slow],
)

# --- strategies ----------------------------------------------------------------------------

scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
)
json_like = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)

garbage = st.one_of(
    st.sampled_from(
        ["", " ", "na", "N/A", "null", "None", "-", "0", "-1", "1e309", "NaN", "Infinity"]
    ),
    st.sampled_from([0, -1, 10**20, -(10**20), 2**63, 1.5, -0.0, 1e308]),
    st.just(float("nan")),
    st.just(float("inf")),
    st.just(float("-inf")),
    st.booleans(),
    st.text(max_size=20),
    st.integers().map(str),
    st.floats().map(str),
    st.dictionaries(st.text(max_size=5), scalars, max_size=3),
    st.lists(scalars, max_size=3),
    st.sampled_from(["11/24/2026", "2026-13-45", "2026-11-24T25:61:00Z", "yesterday"]),
)

plausible: dict[str, st.SearchStrategy[Any]] = {
    "ListingKey": st.text(min_size=1, max_size=20),
    "ListingId": st.integers(6_000_000, 6_999_999).map(str),
    "ParcelNumber": st.from_regex(r"\A\d{3}-\d{2}-\d{3}[A-C]?\Z"),
    "UnparsedAddress": st.sampled_from(["4521 E Campbell Ave", "1 N Central Ave"]),
    "City": st.just("Phoenix"),
    "StateOrProvince": st.just("AZ"),
    "PostalCode": st.sampled_from(["85018", "85033", "85044-1234", 85016]),
    "Latitude": st.floats(33.2, 33.8),
    "Longitude": st.floats(-112.5, -111.6),
    "StandardStatus": st.sampled_from(["Active", "Pending", "Closed", "ComingSoon"]),
    "ListPrice": st.integers(50_000, 5_000_000),
    "BedroomsTotal": st.integers(0, 8),
    "LivingArea": st.integers(400, 9_000),
    "YearBuilt": st.integers(1900, 2026),
    "ListingContractDate": st.dates(dt.date(2020, 1, 1), DAY).map(dt.date.isoformat),
    "ModificationTimestamp": st.just("2026-11-24T10:11:12Z"),
}
RESO_KEYS = sorted({*RESO_FIELDS, "ParcelNumber", "OnMarketDate"})


@st.composite
def reso_shaped(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible RESO Property record with a few fields (0 to 4) set to garbage."""
    record: dict[str, Any] = {}
    for key, strategy in plausible.items():
        if draw(st.integers(0, 5)):  # mostly present
            record[key] = draw(strategy)
    for key in draw(st.lists(st.sampled_from(RESO_KEYS), max_size=4, unique=True)):
        record[key] = draw(garbage)
    return record


# --- the contract ------------------------------------------------------------------------------


def _no_usable_apn(payload: dict[str, Any]) -> bool:
    try:
        return not normalize_apn(payload.get("ParcelNumber"))
    except ValueError:
        return False


def _check(payload: Any) -> None:
    try:
        result = property_from_reso(payload, source="mls", day=DAY)
    except AdapterError as exc:
        assert str(exc)  # a reason a person can act on
        return
    except Exception as exc:
        raise AssertionError(
            f"property_from_reso raised {type(exc).__name__}: {exc} for {payload!r}"
        ) from exc
    assert isinstance(result, Property)
    assert result.snapshot_date == DAY and result.sources == ["mls"]
    assert result.property_id.startswith(("apn:", "addr:"))


@FUZZ
@given(json_like)
def test_any_json_value_gives_a_property_or_an_adapter_error(payload: Any) -> None:
    _check(payload)


@FUZZ
@given(st.dictionaries(st.sampled_from(RESO_KEYS), json_like, max_size=12))
def test_reso_keys_with_any_json_values(payload: dict[str, Any]) -> None:
    _check(payload)


@FUZZ
@given(reso_shaped())
@example({"ParcelNumber": "123-45-678A", "PostalCode": "85018", "ListPrice": "na"})
@example({"ParcelNumber": "123-45-678A", "PostalCode": "85018", "BedroomsTotal": 10**30})
@example({"ParcelNumber": "123-45-678A", "PostalCode": "85018", "Latitude": float("nan")})
@example({"ParcelNumber": "123-45-678A", "PostalCode": {"code": "85018"}})
@example({"ParcelNumber": "   ", "UnparsedAddress": " ", "PostalCode": "85018"})
def test_reso_shaped_records_with_garbage_values(payload: dict[str, Any]) -> None:
    _check(payload)


@FUZZ
@given(st.fixed_dictionaries({k: v for k, v in plausible.items()}))
def test_plausible_records_adapt(payload: dict[str, Any]) -> None:
    prop = property_from_reso(payload, source="mls", day=DAY)
    assert prop.postal_code == str(payload["PostalCode"])[:5]
    assert prop.parcel_number == normalize_apn(payload["ParcelNumber"])


# --- regressions: once raised something other than AdapterError ---


def _assert_adapts_or_adapter_error(payload: dict[str, Any]) -> None:
    with contextlib.suppress(AdapterError):
        property_from_reso(payload, source="mls", day=DAY)


@pytest.mark.parametrize("street", [4521, 4521.5, True, ["4521 E Campbell Ave"], {"n": 1}])
def test_non_string_unparsed_address_without_apn(street: Any) -> None:
    _assert_adapts_or_adapter_error({"UnparsedAddress": street, "PostalCode": "85018"})


@pytest.mark.parametrize("postal", [85018.0, {"code": "85018"}])
def test_float_or_dict_postal_code_with_an_address_and_no_apn(postal: Any) -> None:
    _assert_adapts_or_adapter_error(
        {"UnparsedAddress": "4521 E Campbell Ave", "PostalCode": postal, "ParcelNumber": ""}
    )


@pytest.mark.parametrize("field", ["ParcelNumber", "PostalCode"])
def test_an_int_too_long_to_print(field: str) -> None:
    payload: dict[str, Any] = {"ParcelNumber": "123-45-678A", "PostalCode": "85018"}
    payload[field] = 10**5000
    _assert_adapts_or_adapter_error(payload)


# --- regressions: garbage once accepted ---------------------


@pytest.mark.parametrize("field", ["ListPrice", "LotSizeSquareFeet", "OriginalListPrice"])
def test_infinite_amounts_are_rejected(field: str) -> None:
    payload = {"ParcelNumber": "123-45-678A", "PostalCode": "85018", field: math.inf}
    with pytest.raises(AdapterError):
        property_from_reso(payload, source="mls", day=DAY)


@pytest.mark.parametrize("parcel", [{"x": 1}, float("nan"), True, [1, 2]])
def test_a_non_string_parcel_number_is_not_an_identity(parcel: Any) -> None:
    payload = {"ParcelNumber": parcel, "PostalCode": "85018"}
    with pytest.raises(AdapterError):
        property_from_reso(payload, source="mls", day=DAY)
