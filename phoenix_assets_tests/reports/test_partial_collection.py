"""A ZIP whose collection failed part-way: its figures are kept and marked "partly
collected (N of about M records)" in the JSON, the CSV, the HTML (tables and trust box)
and the webhook summary; "not collected" is said only of a ZIP with nothing read."""

import csv
import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
from pymongo.database import Database

from phoenix_assets.domain.market import summarize_day, summarize_week, week_days
from phoenix_assets.reports.assemble import daily_report_data, weekly_report_data
from phoenix_assets.reports.build import build_and_write, report_message, webhook_summary
from phoenix_assets.reports.message import report_notification
from phoenix_assets.reports.quality import (
    FailedZip,
    QualityFacts,
    quality_facts,
    quality_metadata,
    read_stored_facts,
)
from phoenix_assets.sources.collection import ZipFailure
from phoenix_assets.storage.collection_failures import (
    expected_records,
    read_shortfalls,
    replace_collection_failures,
)

DAY = "2026-11-17"
PARTIAL, MISSING, COMPLETE = "85033", "85035", "85018"
PARTIAL_LABEL = "partly collected (4 of about 40 records)"


def _home(zip_code: str, price: float) -> dict[str, Any]:
    return {
        "postal_code": zip_code,
        "standard_status": "Active",
        "list_price": price,
        "living_area": 2000,
        "days_on_market": 12,
        "listing_contract_date": "2026-10-01",
    }


def _facts() -> QualityFacts:
    return QualityFacts(
        days=(DAY,),
        sources=("mls",),
        failed_zips=(
            FailedZip("mls", PARTIAL, DAY, "http_503", "HTTP 503", 4, 40),
            FailedZip("mls", MISSING, DAY, "timeout", "read timed out", 0, 25),
        ),
    )


def _summary(facts: QualityFacts) -> pd.DataFrame:
    homes = [_home(COMPLETE, 900_000 + 1000 * n) for n in range(10)]
    homes += [_home(PARTIAL, 300_000 + 1000 * n) for n in range(4)]
    rows = summarize_day(pd.DataFrame(homes), DAY, [COMPLETE, PARTIAL, MISSING], facts.shortfalls)
    return pd.DataFrame(rows)


def test_a_partly_collected_zip_is_marked_in_json_csv_and_html(tmp_path: Path) -> None:
    facts = _facts()
    data = daily_report_data(_summary(facts), DAY, facts)
    report, files = build_and_write(data, tmp_path, email=True)

    document = json.loads(files.json.read_text())
    areas = {row["area"]: row for row in document["areas"]}
    assert areas[PARTIAL]["collection"] == "partial"
    assert areas[PARTIAL]["collection_label"] == PARTIAL_LABEL
    assert (areas[PARTIAL]["records_read"], areas[PARTIAL]["records_expected"]) == (4, 40)
    assert areas[PARTIAL]["active_listings"] == 4  # marked, not withheld
    assert areas[MISSING]["collection_label"] == "not collected"
    assert areas[COMPLETE]["collection"] == "complete"
    assert areas["metro"]["partial_zips"] == [PARTIAL]
    assert areas["metro"]["not_collected_zips"] == [MISSING]
    verdict = document["quality"]["verdict"]
    assert f"ZIP codes partly collected: {PARTIAL} (4 of about 40 records)" in verdict
    assert f"ZIP codes not collected: {MISSING}." in verdict
    assert f"not collected: {PARTIAL}" not in json.dumps(document)
    failed = {f["zip_code"]: f["collection"] for f in document["quality"]["failed_zips"]}
    assert failed == {PARTIAL: PARTIAL_LABEL, MISSING: "not collected"}

    rows = {row["area"]: row for row in csv.DictReader(io.StringIO(files.csv.read_text()))}
    assert rows[PARTIAL]["collection_label"] == PARTIAL_LABEL
    assert rows[PARTIAL]["records_read"] == "4" and rows[PARTIAL]["records_expected"] == "40"
    assert rows[MISSING]["collection"] == "not collected"
    assert rows[COMPLETE]["collection"] == "complete" and rows[COMPLETE]["records_read"] == ""
    assert rows["metro"]["partial_zips"] == PARTIAL
    assert rows["metro"]["not_collected_zips"] == MISSING

    html = files.html.read_text()
    assert html.count(PARTIAL_LABEL) >= 4  # overview, ZIP table, metro line, trust box
    assert f"{PARTIAL_LABEL}: figures from the records read before the failure" in html
    assert "not collected: no record of it was read that day" in html
    assert f"{PARTIAL} (mls, {DAY}): <strong>{PARTIAL_LABEL}</strong>" in html
    assert f"{MISSING} (mls, {DAY}): <strong>not collected</strong>" in html
    assert 'id="metro-collection"' in html
    assert report.email_html is not None and PARTIAL_LABEL in report.email_html

    summary = webhook_summary(report, files)
    assert summary["zips"][PARTIAL]["collection_label"] == PARTIAL_LABEL
    assert summary["collection"]["partial_zips"] == [PARTIAL]
    notification = report_notification(report_message(report, files))
    by_zip = next(s for s in notification.sections if s.heading == "By ZIP code")
    assert f"{PARTIAL} ({PARTIAL_LABEL}):" in by_zip.text
    assert f"{COMPLETE}:" in by_zip.text and f"{COMPLETE} (" not in by_zip.text


def test_a_week_names_the_days_its_zips_were_short(tmp_path: Path) -> None:
    facts = _facts()
    week = "2026-11-16"
    daily = pd.concat(
        [
            _summary(facts if day == DAY else QualityFacts(days=(day,))).assign(partition_key=day)
            for day in week_days(dt.date.fromisoformat(week))[:3]
        ]
    )
    trends = pd.DataFrame(summarize_week(daily, dt.date.fromisoformat(week)))
    by_area = {row["area"]: row for row in trends.to_dict(orient="records")}
    assert by_area[PARTIAL]["collection_label"] == f"{DAY}: {PARTIAL_LABEL}"
    assert by_area[COMPLETE]["collection"] == "complete"

    weekly_facts = QualityFacts(
        days=tuple(week_days(dt.date.fromisoformat(week))), failed_zips=facts.failed_zips
    )
    data = weekly_report_data(trends, week, weekly_facts)
    _, files = build_and_write(data, tmp_path)
    rows = {row["area"]: row for row in csv.DictReader(io.StringIO(files.csv.read_text()))}
    assert rows[PARTIAL]["collection_label"] == f"{DAY}: {PARTIAL_LABEL}"
    assert rows[MISSING]["collection_label"] == f"{DAY}: not collected"
    assert f"{DAY}: {PARTIAL_LABEL}" in files.html.read_text()


def test_failures_are_stored_with_what_was_read_and_read_back_labelled(
    db: Database[dict],
) -> None:
    # The day before's snapshot: 3 listings of the ZIP from mls (and one from another source).
    before = "2026-11-16"
    db["property_snapshots"].insert_many(
        [
            {"_id": f"s{n}", "partition_key": before, "postal_code": PARTIAL, "sources": ["mls"]}
            for n in range(3)
        ]
        + [{"_id": "d", "partition_key": before, "postal_code": PARTIAL, "sources": ["demo"]}]
    )
    expected = expected_records(db, "mls", [PARTIAL, MISSING], DAY)
    assert expected == {PARTIAL: 3, MISSING: None}
    replace_collection_failures(
        db,
        "mls",
        DAY,
        [ZipFailure(PARTIAL, "http_503", "HTTP 503"), ZipFailure(MISSING, "timeout", "t/o")],
        records_read={PARTIAL: 2},
        records_expected=expected,
    )
    labels = {s.zip_code: s.label() for s in read_shortfalls(db, [DAY])}
    assert labels == {PARTIAL: "partly collected (2 of about 3 records)", MISSING: "not collected"}
    facts = quality_facts(read_stored_facts(db, [DAY]), [], [DAY])
    assert f"ZIP codes partly collected: {PARTIAL} (2 of about 3 records)" in facts.verdict()
    assert quality_metadata(facts)["zip_codes_partly_collected"] == 1
    # A failure recorded without counts (as before they were kept) reads as nothing read.
    replace_collection_failures(db, "mls", DAY, [ZipFailure(PARTIAL, "http_503", "HTTP 503")])
    (shortfall,) = read_shortfalls(db, [DAY])
    assert shortfall.label() == "not collected"
