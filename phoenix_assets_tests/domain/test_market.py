"""Daily summaries and weekly trends computed from known inputs."""

import datetime as dt

import pandas as pd
import pytest

from phoenix_assets.domain.market import summarize_day, summarize_week

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
    assert arcadia["mean_list_price"] == pytest.approx(2_950_000 / 3)
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
