"""A report from its data to its files and its message: charts, JSON, CSV, HTML, email.

``build_report`` makes every rendering in memory; ``write_report`` puts the JSON, CSV and
HTML in the reports folder; ``report_message`` packs what delivery needs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phoenix_assets.delivery.email import Attachment
from phoenix_assets.domain.market import METRO
from phoenix_assets.reports.assemble import ReportData
from phoenix_assets.reports.files import ReportFiles, report_files, write_atomically
from phoenix_assets.reports.measures import MEASURE_NAMES, PRICE_CUT_SHARE
from phoenix_assets.reports.message import ReportMessage, ZipFigures
from phoenix_assets.reports.render import render_html
from phoenix_assets.reports.writers import report_document, to_csv, to_json

if TYPE_CHECKING:
    from phoenix_assets.reports.charts import Chart


@dataclass(frozen=True)
class BuiltReport:
    """A report rendered every way, not yet written."""

    data: ReportData
    document: dict[str, Any]
    json_text: str
    csv_text: str
    html: str
    charts: tuple[Chart, ...]
    email_html: str | None  # only when built for email
    seconds: float

    @property
    def inline_images(self) -> dict[str, bytes]:
        """Chart name (its ``cid``) -> PNG bytes, for the email variant."""
        return {chart.name: chart.png for chart in self.charts if chart.png is not None}


def _caption_period(data: ReportData) -> str:
    periods = data.history_periods
    if data.kind == "daily":
        return f"the {len(periods)} days to {data.last_day}"
    return f"the {len(periods)} weeks to the week of {data.period} (weekly averages)"


def _draw(data: ReportData, *, png: bool) -> tuple[Chart, ...]:
    # matplotlib is imported here, not with the code location: it adds ~1 s to the
    # start of every step process, and only report steps draw.
    from phoenix_assets.reports.charts import draw_charts

    return tuple(
        draw_charts(
            data.history,
            data.zip_codes,
            caption_period=_caption_period(data),
            weekly=data.kind == "weekly",
            png=png,
        )
    )


def build_report(
    data: ReportData,
    *,
    email: bool = False,
    files: ReportFiles | None = None,
    charts_skipped: str | None = None,
) -> BuiltReport:
    """Render ``data``: JSON, CSV, HTML with inline SVG charts and, with ``email``, the
    email variant with PNG charts. ``files``: where it will be written (the HTML links
    to its JSON and CSV by file name). ``charts_skipped``: why this report has no charts
    (drawing is most of a report's time); the page says it where the charts would be.
    The JSON and CSV are the same either way: they carry the charts' data, not pictures."""
    started = time.perf_counter()
    charts = () if charts_skipped else _draw(data, png=email)
    document = report_document(data)
    links = {"JSON": files.json.name, "CSV": files.csv.name} if files else {}
    html = render_html(data, charts, files=links, charts_note=charts_skipped)
    email_html = (
        render_html(data, charts, email=True, charts_note=charts_skipped) if email else None
    )
    return BuiltReport(
        data=data,
        document=document,
        json_text=to_json(document),
        csv_text=to_csv(data),
        html=html,
        charts=charts,
        email_html=email_html,
        seconds=time.perf_counter() - started,
    )


def write_report(report: BuiltReport, files: ReportFiles) -> ReportFiles:
    """Write the JSON, CSV and HTML (each atomically; the HTML last, as it names the others)."""
    write_atomically(files.json, report.json_text)
    write_atomically(files.csv, report.csv_text)
    write_atomically(files.html, report.html)
    return files


def build_and_write(
    data: ReportData,
    directory: Path,
    *,
    email: bool = False,
    charts_skipped: str | None = None,
) -> tuple[BuiltReport, ReportFiles]:
    """Build the report of ``data`` and write it under ``directory``."""
    files = report_files(directory, data.kind, data.period)
    report = build_report(data, email=email, files=files, charts_skipped=charts_skipped)
    return report, write_report(report, files)


def key_figures(kind: str) -> list[str]:
    """The figures a ZIP code's row carries into a message: the report's measures and
    the price-cut share, and for a week their change against the week before."""
    names = [*MEASURE_NAMES, PRICE_CUT_SHARE.name]
    if kind == "weekly":
        names += [f"{name}_vs_prev_week_pct" for name in MEASURE_NAMES]
    return names


def webhook_summary(report: BuiltReport, files: ReportFiles | None) -> dict[str, Any]:
    """The JSON summary a webhook receives: headline, key figures per ZIP, quality facts."""
    data = report.data
    zips = {}
    for row in data.zip_rows:
        figures = {name: row.get(name) for name in key_figures(data.kind)}
        # Marked, as in every format: a partly collected ZIP's figures carry its label.
        figures |= {name: row.get(name) for name in ("collection", "collection_label")}
        zips[row["area"]] = figures
    return {
        "kind": data.kind,
        "period": data.period,
        "title": data.title,
        "first_day": data.first_day,
        "last_day": data.last_day,
        "demo": data.quality.demo,
        "headline": data.headline,
        "collection": {
            name: data.metro.get(name)
            for name in ("collection", "collection_label", "partial_zips", "not_collected_zips")
        },
        "zips": zips,
        "quality": data.quality.to_dict(),
        "files": files.as_dict() if files else {},
    }


def report_message(report: BuiltReport, files: ReportFiles) -> ReportMessage:
    """What delivery sends: the email variant and its PNG charts, the CSV attached, the
    JSON summary for webhooks. Needs a report built with ``email=True``."""
    if report.email_html is None:
        raise ValueError("report_message needs a report built with email=True")
    data = report.data
    title = data.title + (" (demo data)" if data.quality.demo else "")
    return ReportMessage(
        kind=data.kind,
        period=data.period,
        title=title,
        headline=data.headline,
        email_html=report.email_html,
        inline_images=report.inline_images,
        attachments=(
            Attachment(
                filename=files.csv.name,
                content=report.csv_text.encode("utf-8"),
                mime_type="text/csv",
            ),
        ),
        summary=webhook_summary(report, files),
        report_path=str(files.html),
        zips=tuple(
            ZipFigures(
                zip_code=str(row["area"]),
                figures={name: row.get(name) for name in key_figures(data.kind)},
                collection=row.get("collection"),
                collection_label=row.get("collection_label"),
            )
            for row in data.zip_rows
            if row.get("area_type") != METRO and row["area"] != METRO
        ),
    )
