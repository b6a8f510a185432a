"""Fuzzing the RESO adapter: any payload gives a ``Property`` or an ``AdapterError``.

``property_from_reso`` promises that a payload it cannot adapt raises ``AdapterError``
(the caller quarantines it with the reason); anything else crashes the asset. These
tests throw arbitrary JSON-like values and RESO-shaped records with garbage values at
it.

Every record that adapts is then judged by the hard bounds
(``phoenix_assets.quality.bounds``): it passes them or yields a violation under a known
rule, never an exception; every ``AdapterError`` carries a known rule too.

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

from phoenix_assets.domain import rules
from phoenix_assets.domain.adapters import RESO_FIELDS, AdapterError, property_from_reso
from phoenix_assets.domain.property import Property, normalize_apn
from phoenix_assets.partitions import day_end
from phoenix_assets.quality.bounds import Violation, hard_bound_violation
from phoenix_assets.quality.settings import HardBounds

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


def _judged(result: Property, payload: Any) -> Violation | None:
    """The hard bounds' verdict on an adapted record: None or a violation, never a crash."""
    try:
        violation = hard_bound_violation(result, DAY, HardBounds())
    except Exception as exc:
        raise AssertionError(
            f"hard_bound_violation raised {type(exc).__name__}: {exc} for {payload!r}"
        ) from exc
    if violation is not None:
        assert violation.rule in rules.REASONS and violation.detail
    return violation


def _check(payload: Any) -> None:
    try:
        result = property_from_reso(payload, source="mls", day=DAY)
    except AdapterError as exc:
        assert str(exc)  # a reason a person can act on
        assert exc.rule in rules.REASONS, exc.rule
        return
    except Exception as exc:
        raise AssertionError(
            f"property_from_reso raised {type(exc).__name__}: {exc} for {payload!r}"
        ) from exc
    assert isinstance(result, Property)
    assert result.snapshot_date == DAY and result.sources == ["mls"]
    assert result.property_id.startswith(("apn:", "addr:"))
    _judged(result, payload)


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
    violation = _judged(prop, payload)  # an ordinary record is inside every hard bound...
    if payload["ListingKey"].strip():
        assert violation is None
    else:  # ...but a ListingKey of whitespace is no key
        assert violation is not None and violation.rule == rules.MISSING_RECORD_KEY


# Values on both sides of the hard bounds, well-typed so that the record adapts.
beyond: dict[str, st.SearchStrategy[Any]] = {
    "ListingKey": st.sampled_from(["", "  ", "L-1", "<script>x</script>"]),
    "ListPrice": st.floats(min_value=1, max_value=1e308) | st.integers(1, 10**12),
    "OriginalListPrice": st.floats(min_value=1e7, max_value=1e9),
    "ClosePrice": st.floats(min_value=1e7, max_value=1e9),
    "LivingArea": st.floats(min_value=0.001, max_value=100_000),
    "LotSizeSquareFeet": st.floats(min_value=0, max_value=1e9),
    "YearBuilt": st.integers(1800, 2100),
    "ModificationTimestamp": st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(9998, 12, 31)).map(
        lambda t: t.isoformat() + "Z"
    ),
}


@st.composite
def near_the_bounds(draw: st.DrawFn) -> dict[str, Any]:
    """A plausible record with a few fields (1 to 4) drawn across the hard bounds."""
    record = draw(st.fixed_dictionaries(plausible))
    for key in draw(st.lists(st.sampled_from(sorted(beyond)), min_size=1, max_size=4, unique=True)):
        record[key] = draw(beyond[key])
    return record


@FUZZ
@given(near_the_bounds())
@example({**{"ParcelNumber": "123-45-678A", "PostalCode": "85018"}, "ListPrice": 1e308})
@example({"ParcelNumber": "123-45-678A", "PostalCode": "85018", "YearBuilt": 2100})
@example(
    {"ParcelNumber": "1", "PostalCode": "85018", "ModificationTimestamp": "9999-12-31T23:59:59Z"}
)
def test_records_across_the_hard_bounds_pass_or_yield_a_violation(payload: dict[str, Any]) -> None:
    try:
        prop = property_from_reso(payload, source="mls", day=DAY)
    except AdapterError as exc:
        assert exc.rule in rules.REASONS
        return
    violation = _judged(prop, payload)
    bounds = HardBounds()
    outside = (
        not (prop.listing_key or "").strip()
        or any(
            (price or 0) > bounds.max_list_price
            for price in (prop.list_price, prop.original_list_price, prop.close_price)
        )
        or (prop.year_built or 0) > DAY.year + bounds.max_years_ahead_built
        or (
            prop.modification_timestamp is not None
            and prop.modification_timestamp > day_end(DAY) + bounds.max_future_modification
        )
    )
    assert (violation is not None) == outside, (violation, payload)


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
