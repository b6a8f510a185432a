"""Daily summaries and weekly trends computed from known inputs."""

import datetime as dt

import pandas as pd
import pytest

from phoenix_assets.domain.collection import Shortfall
from phoenix_assets.domain.market import summarize_day, summarize_week, trim_count, trimmed_mean

DAY = "2026-11-18"


def _home(zip_code: str, status: str, price: float, area: float, dom: int, **extra: object) -> dict:
    return {
        "postal_code": zip_code,
        "standard_status": status,
        "list_price": price,
        "living_area": area,
        "days_on_market": dom,
        "previous_list_price": None,
        "price_change_timestamp": None,
        "listing_contract_date": "2026-10-01",
        "close_date": None,
        **extra,
    }


def test_a_day_summary_counts_and_medians() -> None:
    snapshots = pd.DataFrame(
        [
            _home("85018", "Active", 900_000, 2000, 10, listing_contract_date=DAY),
            _home("85018", "Active", 1_100_000, 2500, 30),
            _home(
                "85018",
                "Active",
                950_000,
                1900,
                50,
                previous_list_price=990_000,
                # 18:30 in Phoenix on the 18th, already the 19th in UTC
                price_change_timestamp=dt.datetime(2026, 11, 19, 1, 30, tzinfo=dt.UTC),
            ),
            _home("85018", "Pending", 700_000, 1500, 20),
            _home("85033", "Closed", 300_000, 1200, 40, close_date=DAY),
        ]
    )
    rows = {row["area"]: row for row in summarize_day(snapshots, DAY, ["85018", "85033", "85041"])}
    arcadia = rows["85018"]
    assert arcadia["active_listings"] == 3 and arcadia["pending_listings"] == 1
    assert arcadia["new_listings"] == 1 and arcadia["price_cuts"] == 1
    assert arcadia["median_list_price"] == 950_000
    # A trimmed mean; of 3 listings it is their median (one cut off each end).
    assert arcadia["mean_list_price"] == 950_000
    assert arcadia["median_price_per_sqft"] == pytest.approx(450.0)  # 450, 440, 500 $/sqft
    assert arcadia["median_days_on_market"] == 30
    assert rows["85033"]["closed_sales"] == 1 and rows["85033"]["active_listings"] == 0
    assert rows["85033"]["median_list_price"] is None
    assert rows["85041"]["active_listings"] == 0  # configured, no listings: still reported
    assert rows["metro"]["active_listings"] == 3 and rows["metro"]["closed_sales"] == 1


def _daily(day: str, active: int, new: int, price: float) -> dict:
    return {
        "partition_key": day,
        "area": "metro",
        "area_type": "metro",
        "active_listings": active,
        "pending_listings": 10,
        "new_listings": new,
        "closed_sales": 1,
        "price_cuts": 2,
        "price_rises": 0,
        "median_list_price": price,
        "mean_list_price": price,
        "median_price_per_sqft": 300.0,
        "median_days_on_market": 40.0,
    }


def test_a_week_averages_levels_sums_flows_and_compares_with_the_week_before() -> None:
    previous = [_daily(f"2026-11-{d:02d}", 100, 5, 400_000) for d in range(9, 16)]
    current = [_daily(f"2026-11-{d:02d}", 110, 6, 420_000) for d in range(16, 23)]
    (row,) = summarize_week(pd.DataFrame(previous + current), dt.date(2026, 11, 16))
    assert row["complete"] is True and row["missing_days"] == []
    assert row["active_listings"] == 110 and row["new_listings"] == 42
    assert row["active_listings_wow_change"] == 10
    assert row["active_listings_wow_pct"] == pytest.approx(10.0)
    assert row["median_list_price_wow_pct"] == pytest.approx(5.0)
    assert row["new_listings_wow_change"] == 7


def test_a_week_with_days_missing_uses_the_days_present_and_names_the_rest() -> None:
    days = [_daily("2026-11-16", 100, 4, 400_000), _daily("2026-11-18", 120, 8, 410_000)]
    (row,) = summarize_week(pd.DataFrame(days), dt.date(2026, 11, 16))
    assert row["days_present"] == 2
    assert row["missing_days"] == [
        "2026-11-17",
        "2026-11-19",
        "2026-11-20",
        "2026-11-21",
        "2026-11-22",
    ]
    assert row["active_listings"] == 110 and row["new_listings"] == 12
    assert row["active_listings_wow_change"] is None and row["previous_week_days_present"] == 0


def test_a_week_with_no_days_yields_no_rows() -> None:
    assert (
        summarize_week(pd.DataFrame(columns=["partition_key", "area"]), dt.date(2026, 11, 16)) == []
    )


ORDINARY = [
    410_000.0,
    385_000.0,
    452_500.0,
    399_000.0,
    520_000.0,
    365_000.0,
    475_000.0,
    430_000.0,
    405_000.0,
    389_900.0,
    610_000.0,
    344_000.0,
    498_000.0,
    421_000.0,
]


def test_one_absurd_record_moves_the_trimmed_mean_by_less_than_2x() -> None:
    plain = sum(ORDINARY) / len(ORDINARY)
    for absurd in (1e8, 9.9e9, 1e308):
        mean = trimmed_mean(pd.Series([*ORDINARY, absurd]))
        assert mean is not None and plain / 2 < mean < plain * 2, absurd


def test_without_outliers_the_trimmed_mean_is_the_plain_mean_within_trimming() -> None:
    values = pd.Series(ORDINARY)
    cut = trim_count(len(values))
    kept = sorted(ORDINARY)[cut : len(ORDINARY) - cut]
    assert trimmed_mean(values) == pytest.approx(sum(kept) / len(kept))
    assert trimmed_mean(values) == pytest.approx(values.mean(), rel=0.05)
    # Symmetric values: trimming changes nothing.
    assert trimmed_mean(pd.Series([float(n) for n in range(1, 101)])) == pytest.approx(50.5)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([None, "n/a"], None),
        ([400_000.0], 400_000.0),
        ([400_000.0, 500_000.0], 450_000.0),  # nothing to cut: both, like the median
        ([400_000.0, 500_000.0, 9e12], 500_000.0),  # 3 and 4 records: the median
        ([400_000.0, 420_000.0, 500_000.0, 9e12], 460_000.0),
        ([1.0, 2.0, 3.0, 4.0, 1e300], 3.0),  # 5: one off each end
        ([1e308, 1.5e308, 1.7e308], 1.5e308),  # no overflow
    ],
)
def test_tiny_populations_have_a_sensible_trimmed_mean(
    values: list[object], expected: float | None
) -> None:
    assert trimmed_mean(pd.Series(values, dtype=object)) == expected


def test_trim_count_is_a_tenth_rounded_up_and_keeps_a_record() -> None:
    assert [trim_count(n) for n in (0, 1, 2, 3, 4, 5, 10, 11, 20, 21)] == [
        0,
        0,
        0,
        1,
        1,
        1,
        1,
        2,
        2,
        3,
    ]


def test_the_mean_and_median_of_list_prices_share_one_population() -> None:
    homes = [_home("85018", "Active", p, 2000, 10) for p in ORDINARY]
    homes += [
        _home("85018", "Active", 1e300, 2000, 10),  # absurd, in no bound of this test
        _home("85018", "Pending", 9e9, 2000, 10),  # not active: in neither
        _home("85018", "Active", None, 2000, 10),  # no price: in neither
    ]
    (row, metro) = summarize_day(pd.DataFrame(homes), DAY, ["85018"])
    assert row["median_list_price"] == pytest.approx(pd.Series([*ORDINARY, 1e300]).median())
    assert row["mean_list_price"] == pytest.approx(trimmed_mean(pd.Series([*ORDINARY, 1e300])))
    assert row["mean_list_price"] < 2 * row["median_list_price"]
    assert metro["mean_list_price"] == row["mean_list_price"]


def test_each_zip_row_says_how_it_was_collected_and_the_metro_names_the_short_ones() -> None:
    homes = [_home("85018", "Active", p, 2000, 10) for p in ORDINARY[:4]]
    homes += [_home("85033", "Active", 300_000, 1500, 5)]
    shortfalls = [
        Shortfall("mls", "85033", DAY, records_read=4, records_expected=40),
        Shortfall("mls", "85035", DAY, records_read=0, records_expected=12),
        Shortfall("mls", "85018", "2026-11-17", records_read=0),  # another day: ignored
    ]
    rows = {
        row["area"]: row
        for row in summarize_day(pd.DataFrame(homes), DAY, ["85018", "85033", "85035"], shortfalls)
    }
    assert rows["85018"]["collection"] == "complete"
    assert rows["85033"]["collection"] == "partial"
    assert rows["85033"]["collection_label"] == "partly collected (4 of about 40 records)"
    assert (rows["85033"]["records_read"], rows["85033"]["records_expected"]) == (4, 40)
    assert rows["85033"]["active_listings"] == 1  # marked, not withheld
    assert rows["85035"]["collection"] == "not collected"
    assert rows["85035"]["collection_label"] == "not collected"
    metro = rows["metro"]
    assert metro["collection"] == "partial"
    assert metro["partial_zips"] == ["85033"] and metro["not_collected_zips"] == ["85035"]
    assert metro["collection_label"] == (
        "ZIP 85033 partly collected (4 of about 40 records); ZIP codes not collected: 85035"
    )


def test_a_week_names_the_days_a_zip_was_short() -> None:
    days = [
        {
            "partition_key": day,
            "area": "85033",
            "area_type": "zip",
            "active_listings": 10,
            "collection": "complete",
            "collection_label": "complete",
            "partial_zips": [],
            "not_collected_zips": [],
        }
        for day in ("2026-11-16", "2026-11-17", "2026-11-18")
    ]
    days[1] |= {
        "collection": "partial",
        "partial_zips": ["85033"],
        "collection_label": "partly collected (4 records read before the failure)",
    }
    (row,) = summarize_week(pd.DataFrame(days), dt.date(2026, 11, 16))
    assert row["collection"] == "partial" and row["partial_zips"] == ["85033"]
    assert row["collection_label"] == (
        "2026-11-17: partly collected (4 records read before the failure)"
    )


def test_huge_values_do_not_overflow_the_mean() -> None:
    assert trimmed_mean(pd.Series([1.7e308, 1.7e308])) == pytest.approx(1.7e308)
