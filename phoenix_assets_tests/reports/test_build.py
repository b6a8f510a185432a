"""Reports built from stored-style figures, for the cases a demo run does not reach:
a week with no day at all, and the email variant's pieces."""

import datetime as dt
import io
import json
from pathlib import Path
from typing import Any

import pandas as pd
from PIL import Image

from phoenix_assets.domain.market import DAILY_METRICS, summarize_week, week_days
from phoenix_assets.reports.assemble import daily_report_data, weekly_report_data
from phoenix_assets.reports.build import build_and_write, build_report, report_message
from phoenix_assets.reports.charts import CHART_SPECS
from phoenix_assets.reports.quality import QualityFacts

EMPTY_WEEK = "2026-11-16"
EARLIER = ["2026-11-02", "2026-11-09"]


def _daily_rows(day: str, shift: int) -> list[dict[str, Any]]:
    """A day's summary rows (two ZIPs and the metro) as daily_market_summary stores them."""
    rows = []
    for area, base in (("85018", 900_000.0), ("85033", 300_000.0), ("metro", 500_000.0)):
        figures = dict.fromkeys(DAILY_METRICS, 0)
        figures |= {
            "active_listings": 100 + shift,
            "pending_listings": 30,
            "new_listings": 3,
            "price_cuts": 2 + shift % 3,
            "median_list_price": base + 1000 * shift,
            "mean_list_price": base,
            "median_price_per_sqft": base / 2000,
            "median_days_on_market": 40.0 - shift,
        }
        rows.append(
            {"partition_key": day, "area": area, "area_type": "metro" if area == "metro" else "zip"}
            | figures
        )
    return rows


def _trends() -> pd.DataFrame:
    """Two weeks' trends, computed by the pipeline's own weekly function."""
    days = [d for week in EARLIER for d in week_days(dt.date.fromisoformat(week))]
    daily = pd.DataFrame([row for n, day in enumerate(days) for row in _daily_rows(day, n)])
    rows = [row for week in EARLIER for row in summarize_week(daily, dt.date.fromisoformat(week))]
    return pd.DataFrame(rows)


def test_a_week_without_any_day_still_renders_and_says_all_are_missing(tmp_path: Path) -> None:
    missing = week_days(dt.date.fromisoformat(EMPTY_WEEK))
    facts = QualityFacts(days=tuple(missing), missing_days=tuple(missing), sources=("demo",))
    data = weekly_report_data(_trends(), EMPTY_WEEK, facts)
    assert data.areas == ()
    report, files = build_and_write(data, tmp_path, email=True)

    html = files.html.read_text()
    assert "No figures for this period" in html
    assert f"Days missing from this week: {', '.join(missing)}." in html
    assert html.count("<svg") == len(CHART_SPECS)  # the earlier weeks are still charted
    document = json.loads(files.json.read_text())
    assert document["areas"] == [] and document["quality"]["missing_days"] == missing
    assert {row["period"] for row in document["history"]["rows"]} == set(EARLIER)
    assert files.csv.read_text().splitlines() == ["area,area_type"]

    message = report_message(report, files)
    assert message.kind == "weekly" and message.period == EMPTY_WEEK
    assert message.title.endswith("(demo data)")
    assert "<svg" not in message.email_html
    assert set(message.inline_images) == {spec.name for spec in CHART_SPECS}
    for name, png in message.inline_images.items():
        assert f'src="cid:{name}"' in message.email_html
        assert Image.open(io.BytesIO(png)).format == "PNG"
    (attachment,) = message.attachments
    assert attachment.content == files.csv.read_bytes() and attachment.mime_type == "text/csv"
    assert message.summary["quality"]["missing_days"] == missing
    assert message.report_path == str(files.html)


def test_the_four_week_average_weights_weeks_by_their_days(tmp_path: Path) -> None:
    trends = _trends()
    # The first of the two earlier weeks lost four days: its flows are per 3 days.
    first = trends["partition_key"] == EARLIER[0]
    trends.loc[first, "days_present"] = 3
    trends.loc[first, "new_listings"] = 9
    week = EARLIER[1]
    next_week = (dt.date.fromisoformat(week) + dt.timedelta(days=7)).isoformat()
    this_week = trends[trends["partition_key"] == week].assign(partition_key=next_week)
    frame = pd.concat([trends, this_week], ignore_index=True)
    facts = QualityFacts(days=tuple(week_days(dt.date.fromisoformat(next_week))))
    metro = weekly_report_data(frame, next_week, facts).metro
    # (9 + 21 new listings) over (3 + 7) days, per 7 days.
    assert metro["new_listings_4wk_avg"] == (9 + 21) / 10 * 7
    assert metro["weeks_in_4wk_avg"] == 2
    levels = trends[(trends["area"] == "metro")].set_index("partition_key")["active_listings"]
    expected = (levels[EARLIER[0]] * 3 + levels[EARLIER[1]] * 7) / 10
    assert metro["active_listings_4wk_avg"] == expected


def test_a_report_without_charts_says_why_and_keeps_its_json_and_csv(tmp_path: Path) -> None:
    days = week_days(dt.date.fromisoformat(EARLIER[0]))
    daily = pd.DataFrame([row for n, day in enumerate(days) for row in _daily_rows(day, n)])
    data = daily_report_data(
        daily, days[-1], QualityFacts(days=(days[-1],)), generated_at=dt.datetime(2026, 11, 9)
    )
    note = "No charts on this page: drawn for the newest days of the run only."
    charted = build_report(data)
    skipped = build_report(data, charts_skipped=note)

    assert skipped.charts == () and "<svg" not in skipped.html
    assert f'<p class="period" id="charts-note">{note}</p>' in skipped.html
    assert charted.html.count("<svg") == len(CHART_SPECS) and "charts-note" not in charted.html
    # The data files carry the charts' data either way: they do not change.
    assert skipped.json_text == charted.json_text
    assert skipped.csv_text == charted.csv_text
    written, files = build_and_write(data, tmp_path, charts_skipped=note)
    assert "<svg" not in files.html.read_text() and note in files.html.read_text()
    assert files.json.read_text() == charted.json_text == written.json_text
