"""The report assets in real runs on demo data against the test MongoDB server.

The session's pipeline run (``phoenix_assets_tests.reports.pipeline_run``) built 17 days
and three weeks; each report's figures are checked against an independent computation
from the stored snapshot documents, its CSV against its JSON, its quality facts against
what the run recorded. Delivery runs on its own, for the newest day, through a real SMTP
server on 127.0.0.1.
"""

import csv
import datetime as dt
import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from PIL import Image

from phoenix_assets.defs.checks.snapshot_checks import INTEGRITY_SPECS, PROFILE_SPECS
from phoenix_assets.domain.market import week_days
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.reports.measures import MEASURE_NAMES
from phoenix_assets.settings import ConfigError
from phoenix_assets_tests.defs.dagster_results import load_failure
from phoenix_assets_tests.delivery.smtp_server import smtp_test_server
from phoenix_assets_tests.reports.pipeline_run import (
    DAYS,
    FAILED_ZIP,
    FAILED_ZIP_DAY,
    PARTIAL_WEEK,
    PREVIOUS_WEEK,
    QUARANTINE_DAY,
    WEEK,
    WEEKS,
    ZIPS,
    ReportsRun,
    average_week,
    days_between,
    independent_day,
    independent_days,
    week_figures,
)

AREAS = {*ZIPS, "metro"}
SNAPSHOT_CHECKS = len(INTEGRITY_SPECS) + len(PROFILE_SPECS)  # results per day
CHART_NAMES = {"median_list_price", "inventory", "price_cut_share", "days_on_market"}


def _daily_json(run: ReportsRun, day: str) -> dict[str, Any]:
    path = run.reports_dir / "daily" / f"phoenix-market-{day}.json"
    return json.loads(path.read_text())


def _weekly_json(run: ReportsRun, week: str) -> dict[str, Any]:
    path = run.reports_dir / "weekly" / f"phoenix-market-week-{week}.json"
    return json.loads(path.read_text())


def _by_area(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {row["area"]: row for row in document["areas"]}


def _materializations(
    result: dg.ExecuteInProcessResult, asset: str
) -> dict[str, dg.AssetMaterialization]:
    return {m.partition: m for m in result.asset_materializations_for_node(asset) if m.partition}


def test_a_range_run_writes_one_report_per_day_with_its_metadata(
    market_reports_run: ReportsRun,
) -> None:
    run = market_reports_run
    materializations = _materializations(run.daily, "daily_market_report")
    assert sorted(materializations) == DAYS
    for day, materialization in materializations.items():
        metadata = materialization.metadata
        for extension in ("html", "json", "csv"):
            value = metadata[extension]
            assert isinstance(value, dg.PathMetadataValue)
            path = Path(value.value)
            assert path == run.reports_dir / "daily" / f"phoenix-market-{day}.{extension}"
            assert path.stat().st_size > 0
        document = _daily_json(run, day)
        for name, value in document["headline"].items():
            if value is not None:
                assert metadata[f"metro_{name}"].value == pytest.approx(value, rel=1e-3)
        table = metadata["report"]
        assert isinstance(table, dg.MarkdownMetadataValue)
        lines = table.value.splitlines()
        assert {line.split("|")[1].strip() for line in lines[4:]} == AREAS
        assert "Inventory (active listings)" in lines[2]
        # A backfill of past days delivers nothing, and says why.
        assert "only the newest partition" in metadata["delivery"].value
        assert metadata["demo_data"].value is True


def test_a_range_run_draws_the_charts_of_its_newest_seven_days_only(
    market_reports_run: ReportsRun,
) -> None:
    run = market_reports_run
    materializations = _materializations(run.daily, "daily_market_report")
    newest = DAYS[-7:]
    for day in DAYS:
        metadata = materializations[day].metadata
        html = (run.reports_dir / "daily" / f"phoenix-market-{day}.html").read_text()
        document = _daily_json(run, day)
        assert document["history"]["rows"]  # the charts' data is in every JSON
        if day in newest:
            assert metadata["charts_drawn"].value == len(CHART_NAMES)
            assert "charts_not_drawn" not in metadata
            assert html.count("<svg") == len(CHART_NAMES) and "charts-note" not in html
        else:
            assert metadata["charts_drawn"].value == 0
            note = metadata["charts_not_drawn"].value
            assert f"newest 7 days only ({newest[0]} to {newest[-1]})" in note
            assert "<svg" not in html and 'id="charts-note"' in html
            assert f"one run over {DAYS[0]} to {DAYS[-1]}" in html


def test_the_daily_figures_equal_an_independent_computation(
    market_reports_run: ReportsRun,
) -> None:
    run = market_reports_run
    for day in (DAYS[0], QUARANTINE_DAY, DAYS[-1]):
        document = _daily_json(run, day)
        assert document["report"] == "daily" and document["period"] == day
        assert document["demo"] is True and document["sources"] == ["demo"]
        reported = _by_area(document)
        expected = independent_day(run.db, day)
        assert set(reported) == set(expected) == AREAS
        for area, figures in expected.items():
            for name, value in figures.items():
                assert reported[area][name] == pytest.approx(value), (day, area, name)
            cuts, active = figures["price_cuts"], figures["active_listings"]
            assert reported[area]["price_cut_share_pct"] == pytest.approx(cuts / active * 100)
        assert document["headline"]["active_listings"] == expected["metro"]["active_listings"] > 0
        # The charts' data: the days of the trailing 30 that exist, this day last.
        history = document["history"]
        assert history["periods"][-1] == day and len(history["periods"]) == 30
        assert {row["period"] for row in history["rows"]} == {d for d in DAYS if d <= day}


def _csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as file:
        return list(csv.DictReader(file))


@pytest.mark.parametrize("kind", ["daily", "weekly"])
def test_the_csv_reads_back_to_the_numbers_of_the_json(
    market_reports_run: ReportsRun, kind: str
) -> None:
    run = market_reports_run
    stem = (
        f"daily/phoenix-market-{DAYS[-1]}"
        if kind == "daily"
        else f"weekly/phoenix-market-week-{WEEK}"
    )
    document = json.loads((run.reports_dir / f"{stem}.json").read_text())
    rows = _csv_rows(run.reports_dir / f"{stem}.csv")
    assert [row["area"] for row in rows] == [row["area"] for row in document["areas"]]
    assert rows[0]["area"] == "metro"
    for row, expected in zip(rows, document["areas"], strict=True):
        assert set(row) == set(expected)
        for name, value in expected.items():
            if value is None:
                assert row[name] == "", name
            elif isinstance(value, (int, float)):
                assert float(row[name]) == value, name  # exact: no rounding on the way
            elif isinstance(value, list):  # the metro's partial / not collected ZIPs
                assert row[name] == "; ".join(str(item) for item in value), name
            else:
                assert row[name] == str(value)


def _change(current: float, base: float) -> tuple[float, float]:
    return current - base, (current - base) / base * 100


def test_the_weekly_figures_equal_an_independent_computation(
    market_reports_run: ReportsRun,
) -> None:
    run = market_reports_run
    document = _weekly_json(run, WEEK)
    assert document["report"] == "weekly" and document["last_day"] == "2026-11-15"
    reported = _by_area(document)
    assert set(reported) == AREAS
    days = independent_days(run.db, week_days(dt.date.fromisoformat(WEEK)))
    before = independent_days(run.db, week_days(dt.date.fromisoformat(PREVIOUS_WEEK)))
    # The four weeks before: only the partial week (3 days) and the previous week have data.
    four_weeks = independent_days(
        run.db,
        days_between("2026-10-12", (dt.date.fromisoformat(WEEK) - dt.timedelta(1)).isoformat()),
    )
    for area in AREAS:
        current = week_figures(days[area])
        previous = week_figures(before[area])
        average = average_week(four_weeks[area])
        assert len(days[area]) == 7 and len(four_weeks[area]) == 10
        row = reported[area]
        assert row["days_present"] == 7 and row["weeks_in_4wk_avg"] == 2
        for name in MEASURE_NAMES:
            assert row[name] == pytest.approx(current[name]), (area, name)
            change, pct = _change(current[name], previous[name])
            assert row[f"{name}_vs_prev_week"] == pytest.approx(change, abs=1e-9), (area, name)
            assert row[f"{name}_vs_prev_week_pct"] == pytest.approx(pct, abs=1e-9), (area, name)
            assert row[f"{name}_4wk_avg"] == pytest.approx(average[name]), (area, name)
            change, pct = _change(current[name], average[name])
            assert row[f"{name}_vs_4wk_avg"] == pytest.approx(change, abs=1e-9), (area, name)
            assert row[f"{name}_vs_4wk_avg_pct"] == pytest.approx(pct, abs=1e-9), (area, name)
    # The 4-week average is not just the week before (a test of the average, not a copy).
    metro = reported["metro"]
    assert (
        metro["new_listings_4wk_avg"] != metro["new_listings"] - metro["new_listings_vs_prev_week"]
    )


def test_a_week_with_missing_days_still_reports_and_names_them(
    market_reports_run: ReportsRun,
) -> None:
    run = market_reports_run
    document = _weekly_json(run, PARTIAL_WEEK)
    missing = ["2026-10-26", "2026-10-27", "2026-10-28", "2026-10-29"]
    assert document["quality"]["missing_days"] == missing
    metro = _by_area(document)["metro"]
    assert metro["days_present"] == 3
    expected = week_figures(independent_days(run.db, week_days(dt.date(2026, 10, 26)))["metro"])
    assert metro["new_listings"] == expected["new_listings"] > 0
    assert metro["median_list_price_vs_prev_week"] is None  # no week before it
    html = (run.reports_dir / "weekly" / f"phoenix-market-week-{PARTIAL_WEEK}.html").read_text()
    assert f"Days missing from this week: {', '.join(missing)}." in html
    materialization = _materializations(run.weekly, "weekly_market_report")[PARTIAL_WEEK]
    assert materialization.metadata["missing_days"].value == 4
    assert materialization.metadata["missing_day_list"].value == missing
    complete = _materializations(run.weekly, "weekly_market_report")[WEEK]
    assert complete.metadata["missing_days"].value == 0


def _not_passed(result: dg.ExecuteInProcessResult, day: str) -> set[tuple[str, str]]:
    """The checks that did not pass on ``day``, as the run itself recorded them."""
    return {
        (e.check_name, "warned" if e.severity == dg.AssetCheckSeverity.WARN else "failed")
        for e in result.get_asset_check_evaluations()
        if e.partition == day and not e.passed
    }


def test_the_quality_facts_are_what_the_runs_recorded(market_reports_run: ReportsRun) -> None:
    run = market_reports_run
    day = DAYS[0]
    quality = _daily_json(run, day)["quality"]
    recorded = _not_passed(run.daily, day)
    assert ("values_plausible", "warned") in recorded  # the low list-price ceiling
    assert {(c["check"], c["outcome"]) for c in quality["checks_not_passed"]} == recorded
    assert quality["checks_evaluated"] == SNAPSHOT_CHECKS
    assert quality["checks_passed"] == SNAPSHOT_CHECKS - len(recorded)
    assert quality["quarantined"] == 0 and quality["failed_zips"] == []
    assert quality["verdict"].startswith("Read with care")
    html = (run.reports_dir / "daily" / f"phoenix-market-{day}.html").read_text()
    assert "values_plausible" in html and "warned on" in html

    # The re-run that quarantined a record: the report counts it, with its reason.
    quarantined = list(run.db["quarantine"].find({"partition_key": QUARANTINE_DAY}))
    quality = _daily_json(run, QUARANTINE_DAY)["quality"]
    assert quality["quarantined"] == len(quarantined) == 1
    assert quality["quarantine_by_rule"] == {quarantined[0]["rule"]: 1}
    assert quarantined[0]["rule"] == "invalid_field" and "list_price" in quarantined[0]["detail"]
    assert {(c["check"], c["outcome"]) for c in quality["checks_not_passed"]} == _not_passed(
        run.quarantine_rerun, QUARANTINE_DAY
    )

    quality = _daily_json(run, FAILED_ZIP_DAY)["quality"]
    assert [(f["source"], f["zip_code"], f["day"]) for f in quality["failed_zips"]] == [
        ("mls", FAILED_ZIP.zip_code, FAILED_ZIP_DAY)
    ]
    html = (run.reports_dir / "daily" / f"phoenix-market-{FAILED_ZIP_DAY}.html").read_text()
    assert f"{FAILED_ZIP.zip_code} (mls, {FAILED_ZIP_DAY}): <strong>not collected</strong>" in html
    # Recorded without records read: not collected, in the trust box and the ZIP's row.
    assert quality["verdict"].startswith(
        f"Read with care: ZIP codes not collected: {FAILED_ZIP.zip_code}"
    )
    area = next(
        a for a in _daily_json(run, FAILED_ZIP_DAY)["areas"] if a["area"] == FAILED_ZIP.zip_code
    )
    assert area["collection"] == "not collected"

    # The week holds both days' facts, and each of its days' check results.
    quality = _weekly_json(run, WEEK)["quality"]
    assert quality["quarantined"] == 1 and len(quality["failed_zips"]) == 1
    assert quality["checks_evaluated"] == 7 * SNAPSHOT_CHECKS and quality["missing_days"] == []
    assert {c["day"] for c in quality["checks_not_passed"]} == set(
        week_days(dt.date.fromisoformat(WEEK))
    )


def test_each_partition_stores_one_small_document(market_reports_run: ReportsRun) -> None:
    run = market_reports_run
    documents = {d["partition_key"]: d for d in run.db["daily_market_report"].find({})}
    assert sorted(documents) == DAYS
    stored = documents[QUARANTINE_DAY]
    assert stored["_id"] == f"daily:{QUARANTINE_DAY}"
    assert stored["files"]["html"].endswith(f"daily/phoenix-market-{QUARANTINE_DAY}.html")
    assert stored["quality"]["quarantined"] == 1
    assert stored["headline"] == _daily_json(run, QUARANTINE_DAY)["headline"]
    assert stored["delivery"]["attempted"] is False
    assert "only the newest partition" in stored["delivery"]["reason"]
    weekly = {d["partition_key"]: d for d in run.db["weekly_market_report"].find({})}
    assert sorted(weekly) == WEEKS
    assert weekly[PARTIAL_WEEK]["quality"]["missing_days"][0] == PARTIAL_WEEK
    assert len(json.dumps(stored, default=str)) < 4000  # small: the files hold the rest


def test_an_unusable_reports_folder_fails_the_load_naming_the_variable(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    a_file = tmp_path / "not-a-folder"
    a_file.write_text("x")
    monkeypatch.setenv("PHOENIX_REPORTS_DIR", str(a_file))
    chain = load_failure(load_definitions)
    assert any(
        isinstance(e, ConfigError)
        and "PHOENIX_REPORTS_DIR" in str(e)
        and "not a directory" in str(e)
        for e in chain
    ), chain


def test_only_the_newest_day_is_delivered_and_only_once(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    newest = daily_partitions.get_last_partition_key()
    assert newest is not None
    day_before = (dt.date.fromisoformat(newest) - dt.timedelta(days=1)).isoformat()
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018,85033")
    monkeypatch.setenv("PHOENIX_REPORTS_DIR", str(tmp_path / "reports"))
    with smtp_test_server() as server:
        monkeypatch.setenv("PHOENIX_SMTP_HOST", server.host)
        monkeypatch.setenv("PHOENIX_SMTP_PORT", str(server.port))
        monkeypatch.setenv("PHOENIX_SMTP_STARTTLS", "false")
        monkeypatch.setenv("PHOENIX_EMAIL_FROM", "reports@example.com")
        monkeypatch.setenv("PHOENIX_REPORT_EMAIL_TO", "reader@example.com")
        with dg.instance_for_test() as instance:
            job = load_definitions().resolve_job_def("daily_pipeline")
            # A backfill of the last two days: one email, for the newest day.
            result = job.execute_in_process(
                instance=instance,
                tags={
                    "dagster/asset_partition_range_start": day_before,
                    "dagster/asset_partition_range_end": newest,
                },
            )
            assert result.success
            metadata = {
                key: m.metadata
                for key, m in _materializations(result, "daily_market_report").items()
            }
            assert metadata[newest]["delivery_email"].value == "sent"
            assert metadata[newest]["delivery_webhook"].value == "not configured"
            assert "only the newest partition" in metadata[day_before]["delivery"].value
            assert "delivery_email" not in metadata[day_before]
            # A re-run of the day does not send it again.
            again = job.execute_in_process(
                instance=instance,
                partition_key=newest,
                asset_selection=[dg.AssetKey("daily_market_report")],
            )
            (rerun,) = again.asset_materializations_for_node("daily_market_report")
            assert rerun.metadata["delivery_email"].value == "already sent"

    (received,) = server.received
    message = received.message
    assert received.rcpt_tos == ("reader@example.com",)
    assert "(demo data)" in message["Subject"]
    related = message.get_body(preferencelist=("related",))
    assert related is not None
    html_part, *images = related.iter_parts()
    html = html_part.get_content()
    assert "<svg" not in html  # email clients do not render inline SVG
    for name in CHART_NAMES:
        assert f'src="cid:{name}"' in html
    assert {part["Content-ID"] for part in images} == {f"<{name}>" for name in CHART_NAMES}
    for part in images:
        picture = Image.open(io.BytesIO(part.get_payload(decode=True)))
        assert picture.format == "PNG" and picture.width >= 600
    (attachment,) = message.iter_attachments()
    report_csv = tmp_path / "reports" / "daily" / f"phoenix-market-{newest}.csv"
    assert attachment.get_filename() == report_csv.name
    assert attachment.get_payload(decode=True) == report_csv.read_bytes()
