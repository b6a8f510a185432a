"""Thresholds of the quality checks: defaults, overrides, and errors naming the variable."""

import datetime as dt

import pytest

from phoenix_assets.quality.settings import HardBounds, QualitySettings, load_bounds
from phoenix_assets.settings import ConfigError


def test_defaults_with_nothing_set() -> None:
    settings = QualitySettings.from_env({})
    assert settings == QualitySettings()
    assert 0 < settings.max_null_list_price < 1
    assert settings.min_list_price < settings.max_list_price
    assert (settings.max_inventory_drop, settings.inventory_change_tolerance) == (0.40, 0.25)


def test_every_threshold_is_read_from_its_variable() -> None:
    settings = QualitySettings.from_env(
        {
            "PHOENIX_QUALITY_MAX_NULL_LIST_PRICE": "0.1",
            "PHOENIX_QUALITY_MAX_NULL_LIVING_AREA": "0.2",
            "PHOENIX_QUALITY_MAX_NULL_POSTAL_CODE": "0.01",
            "PHOENIX_QUALITY_MAX_NULL_COORDINATES": "0.3",
            "PHOENIX_QUALITY_MIN_LIST_PRICE": "5000",
            "PHOENIX_QUALITY_MAX_LIST_PRICE": "9000000",
            "PHOENIX_QUALITY_MIN_PRICE_PER_SQFT": "10",
            "PHOENIX_QUALITY_MAX_PRICE_PER_SQFT": "1500",
            "PHOENIX_QUALITY_MIN_YEAR_BUILT": "1880",
            "PHOENIX_QUALITY_MAX_OUT_OF_RANGE": "0.05",
            "PHOENIX_QUALITY_ROW_COUNT_TOLERANCE": "0.4",
            "PHOENIX_QUALITY_MAX_QUARANTINE": " 0.07 ",
            "PHOENIX_QUALITY_MAX_INVENTORY_DROP": "0.6",
            "PHOENIX_QUALITY_INVENTORY_CHANGE_TOLERANCE": "0.15",
        }
    )
    assert settings.as_dict() == {
        "max_null_list_price": 0.1,
        "max_null_living_area": 0.2,
        "max_null_postal_code": 0.01,
        "max_null_coordinates": 0.3,
        "min_list_price": 5000.0,
        "max_list_price": 9_000_000.0,
        "min_price_per_sqft": 10.0,
        "max_price_per_sqft": 1500.0,
        "min_year_built": 1880,
        "max_out_of_range": 0.05,
        "row_count_tolerance": 0.4,
        "max_quarantine": 0.07,
        "max_inventory_drop": 0.6,
        "inventory_change_tolerance": 0.15,
    }


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PHOENIX_QUALITY_MAX_NULL_LIST_PRICE", "lots"),
        ("PHOENIX_QUALITY_MAX_NULL_COORDINATES", "1.5"),  # a rate above 100%
        ("PHOENIX_QUALITY_MAX_QUARANTINE", "-0.1"),
        ("PHOENIX_QUALITY_MIN_LIST_PRICE", "0"),
        ("PHOENIX_QUALITY_MAX_PRICE_PER_SQFT", "nan"),
        ("PHOENIX_QUALITY_MIN_YEAR_BUILT", "1900.5"),
        ("PHOENIX_QUALITY_ROW_COUNT_TOLERANCE", "-1"),
        ("PHOENIX_QUALITY_MAX_INVENTORY_DROP", "40%"),
        ("PHOENIX_QUALITY_MAX_INVENTORY_DROP", "1.5"),  # more than everything
        ("PHOENIX_QUALITY_INVENTORY_CHANGE_TOLERANCE", "-0.25"),
        ("PHOENIX_QUALITY_INVENTORY_CHANGE_TOLERANCE", "11"),
    ],
)
def test_a_bad_value_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        QualitySettings.from_env({name: value})


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PHOENIX_QUALITY_MAX_LIST_PRICE", "500000000.01", "> 0 and <= 500000000"),
        ("PHOENIX_QUALITY_MIN_LIST_PRICE", "500000001", "> 0 and <= 500000000"),
        ("PHOENIX_QUALITY_MAX_PRICE_PER_SQFT", "50000.5", "> 0 and <= 50000"),
        ("PHOENIX_QUALITY_MIN_PRICE_PER_SQFT", "50001", "> 0 and <= 50000"),
    ],
)
def test_a_price_bound_past_its_ceiling_names_its_variable(
    name: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as raised:
        QualitySettings.from_env({name: value})
    assert str(raised.value) == f"{name}: {value} is out of range (expected {expected})"


def test_the_price_ceilings_themselves_are_accepted() -> None:
    settings = QualitySettings.from_env(
        {
            "PHOENIX_QUALITY_MIN_LIST_PRICE": "499999999",
            "PHOENIX_QUALITY_MAX_LIST_PRICE": "500000000",
            "PHOENIX_QUALITY_MIN_PRICE_PER_SQFT": "49999.5",
            "PHOENIX_QUALITY_MAX_PRICE_PER_SQFT": "50000",
        }
    )
    assert (settings.min_list_price, settings.max_list_price) == (499_999_999, 500_000_000)
    assert (settings.min_price_per_sqft, settings.max_price_per_sqft) == (49_999.5, 50_000)


@pytest.mark.parametrize(
    ("low", "high"),
    [
        ("PHOENIX_QUALITY_MIN_LIST_PRICE", "PHOENIX_QUALITY_MAX_LIST_PRICE"),
        ("PHOENIX_QUALITY_MIN_PRICE_PER_SQFT", "PHOENIX_QUALITY_MAX_PRICE_PER_SQFT"),
    ],
)
def test_a_minimum_equal_to_its_maximum_is_refused(low: str, high: str) -> None:
    with pytest.raises(ConfigError, match=f"^{low}: 1000 must be below {high} \\(1000\\)"):
        QualitySettings.from_env({low: "1000", high: "1000"})


def test_a_minimum_above_its_maximum_names_both() -> None:
    with pytest.raises(ConfigError) as raised:
        QualitySettings.from_env({"PHOENIX_QUALITY_MIN_LIST_PRICE": "60000000"})
    assert "PHOENIX_QUALITY_MIN_LIST_PRICE" in str(raised.value)
    assert "PHOENIX_QUALITY_MAX_LIST_PRICE" in str(raised.value)


# --- hard bounds ------------------------------------------------------------------------------


def test_hard_bound_defaults_with_nothing_set() -> None:
    quality, hard = load_bounds({})
    assert hard == HardBounds() and quality == QualitySettings()
    assert hard.as_dict() == {
        "max_list_price": 100_000_000,
        "max_future_modification_hours": 24,
        "max_years_ahead_built": 1,
    }
    assert hard.max_future_modification == dt.timedelta(hours=24)
    # Every soft price bound lies inside the hard one, by default.
    assert quality.max_list_price < hard.max_list_price


def test_every_hard_bound_is_read_from_its_variable() -> None:
    hard = HardBounds.from_env(
        {
            "PHOENIX_HARD_MAX_LIST_PRICE": "250000000",
            "PHOENIX_HARD_MAX_FUTURE_MODIFICATION_HOURS": " 36.5 ",
            "PHOENIX_HARD_MAX_YEARS_AHEAD_BUILT": "2",
        }
    )
    assert hard == HardBounds(
        max_list_price=250_000_000, max_future_modification_hours=36.5, max_years_ahead_built=2
    )


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("PHOENIX_HARD_MAX_LIST_PRICE", "999999.99", ">= 1000000 and <= 1000000000"),
        ("PHOENIX_HARD_MAX_LIST_PRICE", "1000000001", ">= 1000000 and <= 1000000000"),
        ("PHOENIX_HARD_MAX_FUTURE_MODIFICATION_HOURS", "0.5", ">= 1 and <= 168"),
        ("PHOENIX_HARD_MAX_FUTURE_MODIFICATION_HOURS", "169", ">= 1 and <= 168"),
        ("PHOENIX_HARD_MAX_YEARS_AHEAD_BUILT", "-1", ">= 0 and <= 5"),
        ("PHOENIX_HARD_MAX_YEARS_AHEAD_BUILT", "6", ">= 0 and <= 5"),
    ],
)
def test_a_hard_bound_out_of_range_names_its_variable(name: str, value: str, expected: str) -> None:
    with pytest.raises(ConfigError) as raised:
        load_bounds({name: value})
    assert str(raised.value) == f"{name}: {value} is out of range (expected {expected})"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("PHOENIX_HARD_MAX_LIST_PRICE", "100M"),
        ("PHOENIX_HARD_MAX_LIST_PRICE", "inf"),
        ("PHOENIX_HARD_MAX_FUTURE_MODIFICATION_HOURS", "a day"),
        ("PHOENIX_HARD_MAX_YEARS_AHEAD_BUILT", "1.5"),
    ],
)
def test_a_hard_bound_that_is_not_a_number_names_its_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name}: "):
        HardBounds.from_env({name: value})


def test_the_soft_maximum_price_must_be_below_the_hard_one() -> None:
    with pytest.raises(ConfigError) as raised:
        load_bounds({"PHOENIX_QUALITY_MAX_LIST_PRICE": "100000000"})  # equal: never warns
    message = str(raised.value)
    assert message.startswith("PHOENIX_QUALITY_MAX_LIST_PRICE: 100000000 must be below")
    assert "PHOENIX_HARD_MAX_LIST_PRICE (100000000)" in message
    with pytest.raises(ConfigError, match="PHOENIX_HARD_MAX_LIST_PRICE"):
        load_bounds({"PHOENIX_HARD_MAX_LIST_PRICE": "40000000"})  # below the soft 50M
    quality, hard = load_bounds(
        {"PHOENIX_QUALITY_MAX_LIST_PRICE": "99999999", "PHOENIX_HARD_MAX_LIST_PRICE": "1e8"}
    )
    assert quality.max_list_price < hard.max_list_price == 100_000_000
