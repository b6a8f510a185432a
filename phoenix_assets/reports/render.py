"""The report as HTML, made with Jinja2 (autoescaped) from ``templates/report.html.j2``.

Two variants of one template: the web page embeds each chart as inline SVG; the email
variant refers to each chart as ``<img src="cid:NAME">``, its PNG travelling alongside.
Both are self-contained: no script, no CDN, styles in the page.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

import jinja2
from markupsafe import Markup

from phoenix_assets.domain.market import METRO
from phoenix_assets.reports.assemble import ReportData
from phoenix_assets.reports.measures import (
    MEASURES,
    PRICE_CUT_SHARE,
    Measure,
    format_change,
    format_value,
)

if TYPE_CHECKING:
    from phoenix_assets.reports.charts import Chart

TEMPLATE = "report.html.j2"
DEMO_NOTE = (
    "Demo data: these figures come from the offline demo source, synthetic listings "
    "generated for testing. They are not the Phoenix housing market."
)


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("phoenix_assets.reports", "templates"),
        autoescape=True,  # every value is escaped unless marked safe (the SVG charts)
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@dataclass(frozen=True)
class _Cell:
    value: str
    vs_prev: str = ""
    vs_avg: str = ""


def _measures() -> tuple[Measure, ...]:
    return (*MEASURES, PRICE_CUT_SHARE)


def _cell(row: dict[str, Any], measure: Measure, weekly: bool) -> _Cell:
    value = format_value(row.get(measure.name), measure.unit)
    if not weekly or measure is PRICE_CUT_SHARE:
        return _Cell(value)
    name = measure.name
    return _Cell(
        value,
        format_change(
            row.get(f"{name}_vs_prev_week"), row.get(f"{name}_vs_prev_week_pct"), measure.unit
        ),
        format_change(
            row.get(f"{name}_vs_4wk_avg"), row.get(f"{name}_vs_4wk_avg_pct"), measure.unit
        ),
    )


def _area_label(area: str) -> str:
    return "Phoenix metro" if area == METRO else f"ZIP {area}"


def _collection(row: dict[str, Any]) -> str:
    """An area's collection mark: "" when complete, else its label (a partly collected
    ZIP's figures are shown, marked with it)."""
    if row.get("collection") in (None, "complete"):
        return ""
    return str(row.get("collection_label") or row.get("collection"))


def _collection_note(row: dict[str, Any], weekly: bool) -> str:
    """The mark under a ZIP's table: its label, and (a day) what its figures rest on."""
    label = _collection(row)
    if not label or weekly:
        return label
    if row.get("collection") == "partial":
        return f"{label}: figures from the records read before the failure"
    return f"{label}: no record of it was read that day"


def _context(
    data: ReportData,
    charts: Sequence[Chart],
    *,
    email: bool,
    files: dict[str, str],
    charts_note: str | None,
) -> dict[str, Any]:
    weekly = data.kind == "weekly"
    measures = _measures()
    metro = data.metro
    quality = data.quality
    return {
        "title": data.title,
        "kind": data.kind,
        "weekly": weekly,
        "period_label": data.period_label,
        "generated_at": data.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        "demo": quality.demo,
        "demo_note": DEMO_NOTE,
        "sources": ", ".join(quality.sources) or "none",
        "has_data": bool(data.areas),
        "headline": [
            {"label": m.label, "cell": _cell(metro, m, weekly)} for m in measures if metro
        ],
        "weeks_in_avg": metro.get("weeks_in_4wk_avg"),
        "metro_collection": _collection(metro) if metro else "",
        "quality": quality,
        "check_groups": quality.check_groups(),
        # Days built without the day before's snapshot: stale ones (MLS listings may be
        # missing) first and in bold, the others as a plain note.
        "day_before_gaps": [
            {"day": gap.day, "sentence": gap.sentence(), "stale": gap.stale}
            for gap in sorted(quality.day_before_gaps, key=lambda g: (not g.stale, g.day))
        ],
        "charts": [
            {
                "name": chart.name,
                "title": chart.title,
                "caption": chart.caption,
                # The SVG is drawn by our own code from numbers: safe to embed as is.
                "svg": Markup(chart.svg),
            }
            for chart in charts
        ],
        "charts_note": charts_note or "",
        "email": email,
        "columns": [m.label for m in measures],
        "overview": [
            {
                "area": _area_label(row["area"]),
                "collection": _collection(row),
                "cells": [format_value(row.get(m.name), m.unit) for m in measures],
            }
            for row in data.areas
        ],
        "zip_tables": [
            {
                "area": _area_label(row["area"]),
                "id": f"area-{row['area']}",
                "collection": _collection_note(row, weekly),
                "rows": [{"label": m.label, "cell": _cell(row, m, weekly)} for m in measures],
            }
            for row in data.zip_rows
        ],
        "files": files,
    }


def render_html(
    data: ReportData,
    charts: Sequence[Chart],
    *,
    email: bool = False,
    files: dict[str, str] | None = None,
    charts_note: str | None = None,
) -> str:
    """The report's HTML: inline SVG charts, or (``email``) ``<img src="cid:NAME">``.

    ``files`` maps a label (``JSON``, ``CSV``) to a link shown at the end of the page;
    ``charts_note``, shown instead of the charts, says why they were not drawn.
    """
    template = _environment().get_template(TEMPLATE)
    return template.render(
        _context(data, charts, email=email, files=files or {}, charts_note=charts_note)
    )
