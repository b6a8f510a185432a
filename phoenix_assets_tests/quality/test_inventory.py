"""The inventory rules: on-market listings against the day before, on crafted counts."""

from collections import Counter

import pytest

from phoenix_assets.quality.inventory import (
    ON_MARKET,
    UNKNOWN_ZIP,
    day_before,
    inventory_kept,
    inventory_steady,
    on_market,
    on_market_in_frame,
    tallying,
)
from phoenix_assets.quality.profile import profile_frame
from phoenix_assets.quality.settings import QualitySettings
from phoenix_assets.quality.verdict import Verdict
from phoenix_assets_tests.quality.documents import DAY, snapshot_document, snapshot_documents

SETTINGS = QualitySettings()
MAX_DROP = SETTINGS.max_inventory_drop  # 0.40
TOLERANCE = SETTINGS.inventory_change_tolerance  # 0.25
BEFORE = {"85018": 60, "85033": 30, "85044": 10}  # 100 on the market the day before


def _kept(today: dict[str, int], before: dict[str, int] | None = BEFORE) -> Verdict:
    return inventory_kept(today, before, day=DAY, max_drop=MAX_DROP)


def _steady(today: dict[str, int], before: dict[str, int] | None = BEFORE) -> Verdict:
    return inventory_steady(today, before, day=DAY, tolerance=TOLERANCE)


def test_a_drop_of_41_percent_blocks_and_warns() -> None:
    today = {"85018": 31, "85033": 19, "85044": 9}  # 59: 41% fewer
    kept, steady = _kept(today), _steady(today)
    assert not kept.passed and not steady.passed
    assert kept.metadata["on_market_today"] == 59
    assert kept.metadata["on_market_day_before"] == 100
    assert kept.metadata["change"] == -41
    assert kept.metadata["change_pct"] == -41.0
    assert kept.metadata["day_before"] == "2026-11-16" and kept.metadata["day_before_stored"]
    assert kept.metadata["max_drop"] == 0.40
    # The ZIP codes that lost the most, most first, with their own figures.
    assert kept.metadata["biggest_losers"] == {
        "85018": {"day_before": 60, "today": 31, "change": -29, "change_pct": -48.33},
        "85033": {"day_before": 30, "today": 19, "change": -11, "change_pct": -36.67},
        "85044": {"day_before": 10, "today": 9, "change": -1, "change_pct": -10.0},
    }
    assert "41.0%" in kept.summary and "from 100 on 2026-11-16 to 59" in kept.summary
    assert "85018 60→31" in kept.summary


def test_a_drop_of_39_percent_passes_the_blocking_rule_and_warns_past_25_percent() -> None:
    today = {"85018": 36, "85033": 18, "85044": 7}  # 61: 39% fewer
    kept, steady = _kept(today), _steady(today)
    assert kept.passed
    assert kept.metadata["change_pct"] == -39.0
    assert not steady.passed
    assert steady.metadata["tolerance"] == 0.25
    assert "-39.0%" in steady.summary and "±25%" in steady.summary


def test_the_thresholds_are_inclusive() -> None:
    assert _kept({"85018": 60}).passed  # exactly 40% fewer
    assert _steady({"85018": 75}).passed  # exactly 25% fewer
    assert _steady({"85018": 125}).passed  # exactly 25% more


def test_a_small_change_passes_both_and_a_jump_only_warns() -> None:
    small = {"85018": 58, "85033": 31, "85044": 9}  # 98
    assert _kept(small).passed and _steady(small).passed
    jump = {"85018": 90, "85033": 30, "85044": 10}  # 130: 30% more
    assert _kept(jump).passed
    steady = _steady(jump)
    assert not steady.passed and steady.metadata["change_pct"] == 30.0
    assert _kept(jump).metadata["biggest_losers"] == {}


def test_the_day_before_not_stored_passes_with_a_note() -> None:
    for verdict in (_kept({"85018": 3}, None), _steady({"85018": 3}, None)):
        assert verdict.passed
        assert "no stored snapshot of the day before (2026-11-16)" in verdict.summary
        assert verdict.metadata["day_before_stored"] is False
        assert verdict.metadata["on_market_day_before"] is None
        assert verdict.metadata["change_pct"] is None
        assert verdict.metadata["on_market_today"] == 3


def test_from_none_the_day_before_nothing_can_drop_but_listings_appearing_warn() -> None:
    assert _kept({}, {}).passed and _steady({}, {}).passed
    assert _kept({"85018": 5}, {}).passed
    steady = _steady({"85018": 5}, {})
    assert not steady.passed and steady.metadata["change_pct"] is None
    # Everything gone is a 100% drop.
    gone = _kept({}, BEFORE)
    assert not gone.passed and gone.metadata["change_pct"] == -100.0


def test_only_a_few_losing_zips_are_named() -> None:
    before = {f"850{n:02d}": 10 for n in range(10)}
    today = {f"850{n:02d}": n for n in range(10)}
    losers = _kept(today, before).metadata["biggest_losers"]
    assert list(losers) == ["85000", "85001", "85002", "85003", "85004"]


def test_on_market_counts_listings_that_can_be_bought_or_are_under_contract_per_zip() -> None:
    assert {"Active", "Pending", "ActiveUnderContract", "ComingSoon"} <= ON_MARKET
    assert not {"Closed", "Withdrawn", "Expired", "Canceled"} & ON_MARKET
    documents = [
        snapshot_document(1),  # Active, 85018
        snapshot_document(2),  # Active, 85033
        snapshot_document(3, standard_status="Pending"),
        snapshot_document(5, standard_status="Closed"),
        snapshot_document(7, standard_status=None),  # a parcel, never listed
        snapshot_document(9, postal_code=None),
        snapshot_document(11, standard_status=17),  # not text: not counted
    ]
    expected = {"85018": 2, "85033": 1, UNKNOWN_ZIP: 1}
    assert on_market(documents) == expected
    assert on_market_in_frame(profile_frame(documents)) == expected
    counts: Counter[str] = Counter()
    assert list(tallying(documents, counts)) == documents  # passed through unchanged
    assert dict(counts) == expected


def test_counts_from_documents_and_from_the_profile_frame_agree() -> None:
    documents = snapshot_documents(200)
    for document in documents[::7]:
        document["standard_status"] = "Closed"
    assert on_market_in_frame(profile_frame(documents)) == on_market(documents)
    assert on_market_in_frame(profile_frame([])) == on_market([]) == {}


@pytest.mark.parametrize(
    ("day", "before"), [("2026-11-17", "2026-11-16"), ("2026-03-01", "2026-02-28")]
)
def test_the_day_before(day: str, before: str) -> None:
    assert day_before(day) == before
