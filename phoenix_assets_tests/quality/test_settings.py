"""Thresholds of the quality checks: defaults, overrides, and errors naming the variable."""

import pytest

from phoenix_assets.quality.settings import QualitySettings
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
