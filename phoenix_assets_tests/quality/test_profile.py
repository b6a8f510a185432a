"""The warning rules: null rates, plausible values, row counts, ZIP coverage, quarantine."""

import datetime as dt

import pytest

from phoenix_assets.quality.profile import (
    null_rates,
    profile_frame,
    quarantine_share,
    row_count,
    trailing_days,
    value_ranges,
    zip_coverage,
)
from phoenix_assets.quality.settings import QualitySettings
from phoenix_assets_tests.quality.documents import DAY, snapshot_documents

SETTINGS = QualitySettings()
TODAY = dt.date.fromisoformat(DAY)


def test_clean_documents_pass_every_profile_rule() -> None:
    frame = profile_frame(snapshot_documents(100))
    assert null_rates(frame, SETTINGS).passed
    assert value_ranges(frame, SETTINGS, TODAY).passed
    assert zip_coverage(frame, ["85018", "85033"]).passed


def test_null_rates_judge_list_price_among_listed_properties_only() -> None:
    documents = snapshot_documents(100)
    for document in documents[:10]:  # parcels with no listing: no price expected
        document["standard_status"] = None
        document["list_price"] = None
    assert null_rates(profile_frame(documents), SETTINGS).passed
    for document in documents[10:13]:  # 3 of 90 listed, over the 2% default
        document["list_price"] = None
    verdict = null_rates(profile_frame(documents), SETTINGS)
    assert not verdict.passed
    price = verdict.metadata["fields"]["list_price"]
    assert (price["nulls"], price["of"], price["rate"]) == (3, 90, round(3 / 90, 6))
    assert price["examples"] == [d["property_id"] for d in documents[10:13]]
    assert verdict.metadata["fields"]["living_area"]["passed"]
    assert "list_price" in verdict.summary


def test_a_number_stored_as_text_counts_as_null() -> None:
    documents = snapshot_documents(10)
    documents[0]["living_area"] = "1,500"
    documents[1]["latitude"] = None
    verdict = null_rates(profile_frame(documents), SETTINGS)
    assert verdict.metadata["fields"]["living_area"]["nulls"] == 1
    assert verdict.metadata["fields"]["coordinates"]["nulls"] == 1
    assert not verdict.passed  # 10% each, over the 5% defaults


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("list_price", {"list_price": 1.0}),
        ("list_price", {"list_price": 90_000_000.0}),
        ("price_per_sqft", {"list_price": 900_000.0, "living_area": 100.0}),
        ("year_built", {"year_built": 1700}),
        ("year_built", {"year_built": TODAY.year + 5}),
        ("coordinates", {"latitude": 40.71, "longitude": -74.0}),  # New York
        ("coordinates", {"latitude": 33.45, "longitude": -110.5}),  # east of the county
    ],
)
def test_values_out_of_bounds_fail_past_the_allowed_share(
    field: str, changes: dict[str, float]
) -> None:
    documents = snapshot_documents(100)
    documents[5].update(changes)  # 1%: allowed by the default
    assert value_ranges(profile_frame(documents), SETTINGS, TODAY).passed
    documents[6].update(changes)  # 2%: not
    verdict = value_ranges(profile_frame(documents), SETTINGS, TODAY)
    assert not verdict.passed
    figures = verdict.metadata["fields"][field]
    assert (figures["out_of_range"], figures["of"], figures["passed"]) == (2, 100, False)
    assert [e["property_id"] for e in figures["examples"]] == [
        documents[5]["property_id"],
        documents[6]["property_id"],
    ]
    others = [name for name, f in verdict.metadata["fields"].items() if not f["passed"]]
    assert others == [field] or (field == "list_price" and "price_per_sqft" in others)


def test_trailing_days_are_the_week_before() -> None:
    assert trailing_days("2026-11-03") == [f"2026-10-{d}" for d in range(27, 32)] + [
        "2026-11-01",
        "2026-11-02",
    ]


def test_row_count_against_the_trailing_mean() -> None:
    history = {"2026-11-14": 1000, "2026-11-15": 1100, "2026-11-16": 900}
    steady = row_count(1200, history, tolerance=0.25)
    assert steady.passed
    assert steady.metadata["trailing_mean"] == 1000
    assert steady.metadata["deviation"] == pytest.approx(0.2)
    collapse = row_count(300, history, tolerance=0.25)
    assert not collapse.passed
    assert collapse.metadata["expected_range"] == [750, 1250]
    assert collapse.metadata["history"] == history
    assert not row_count(1300, history, tolerance=0.25).passed  # a surge too


def test_row_count_with_no_history_passes_with_a_note() -> None:
    verdict = row_count(10, {}, tolerance=0.25)
    assert verdict.passed
    assert verdict.metadata["history_days"] == 0
    assert "no stored partition" in verdict.summary


def test_a_missing_target_zip_fails_and_other_zips_are_counted() -> None:
    frame = profile_frame(snapshot_documents(10))
    verdict = zip_coverage(frame, ["85018", "85033", "85044"])
    assert not verdict.passed
    assert verdict.metadata["missing_zips"] == ["85044"]
    assert verdict.metadata["rows_by_zip"] == {"85018": 5, "85033": 5, "85044": 0}
    only_one = zip_coverage(frame, ["85018"])
    assert only_one.passed and only_one.metadata["rows_in_other_zips"] == 5


def test_quarantine_share() -> None:
    entries = [
        {"source": "mls", "source_id": f"L{n}", "rule": "invalid_field", "reason": "<b>x</b>"}
        for n in range(3)
    ]
    assert quarantine_share(197, entries[:1], max_share=0.02).passed  # 0.5%
    verdict = quarantine_share(97, entries, max_share=0.02)  # 3%
    assert not verdict.passed
    assert verdict.metadata["share"] == 0.03
    assert verdict.metadata["by_rule"] == {"invalid_field": 3}  # by rule, never by text
    assert verdict.metadata["examples"] == ["mls:L0", "mls:L1", "mls:L2"]
    assert quarantine_share(0, [], max_share=0.02).passed
