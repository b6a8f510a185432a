"""The report as data: a JSON document and a CSV table (one row per area, ZIP and metro).

Both carry the same numbers, unrounded: the CSV writes each float with ``repr`` (the
shortest text that reads back to the same float) and a missing value as an empty cell.
Both carry each area's collection status (``collection``, ``collection_label``,
``records_read``, ``records_expected``; the metro's ``partial_zips`` and
``not_collected_zips``, a list in the JSON, ``;``-separated in the CSV).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from phoenix_assets.reports.assemble import ReportData
from phoenix_assets.reports.measures import MEASURES, PRICE_CUT_SHARE, format_change, format_value

JSON_SCHEMA_VERSION = 1


def report_document(data: ReportData) -> dict[str, Any]:
    """The JSON document of a report: what it covers, the figures, the chart data, quality."""
    return {
        "schema_version": JSON_SCHEMA_VERSION,
        "report": data.kind,
        "period": data.period,
        "first_day": data.first_day,
        "last_day": data.last_day,
        "title": data.title,
        "generated_at": data.generated_at.isoformat(),
        "demo": data.quality.demo,
        "sources": list(data.quality.sources),
        "measures": {
            m.name: {"label": m.label, "unit": m.unit, "weekly": "sum" if m.flow else "mean"}
            for m in (*MEASURES, PRICE_CUT_SHARE)
        },
        "headline": data.headline,
        "areas": [dict(row) for row in data.areas],
        "history": {"periods": list(data.history_periods), "rows": [dict(r) for r in data.history]},
        "quality": data.quality.to_dict(),
    }


def to_json(document: dict[str, Any]) -> str:
    """Pretty, strict JSON (no NaN: a missing value is null)."""
    return json.dumps(document, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def csv_columns(data: ReportData) -> list[str]:
    """The CSV's columns: every field of the area rows, in their order."""
    columns: list[str] = []
    for row in data.areas:
        columns.extend(name for name in row if name not in columns)
    return columns or ["area", "area_type"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "; ".join(str(item) for item in value)
    return str(value)


def to_csv(data: ReportData) -> str:
    """One row per area (metro first), one column per figure."""
    buffer = io.StringIO()
    columns = csv_columns(data)
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in data.areas:
        writer.writerow([_cell(row.get(name)) for name in columns])
    return buffer.getvalue()


def markdown_table(data: ReportData) -> str:
    """The report's figures as a Markdown table, for the asset's metadata in the Dagster UI."""
    measures = (*MEASURES, PRICE_CUT_SHARE)
    weekly = data.kind == "weekly"
    header = ["area", *(m.label for m in measures)]
    if weekly:
        header.append("median list price vs week before")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in data.areas:
        area = str(row["area"])
        if row.get("collection") not in (None, "complete"):
            area += f" ({row.get('collection_label')})"
        cells = [area, *(format_value(row.get(m.name), m.unit) for m in measures)]
        if weekly:
            cells.append(
                format_change(
                    row.get("median_list_price_vs_prev_week"),
                    row.get("median_list_price_vs_prev_week_pct"),
                    "dollars",
                )
            )
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    if not data.areas:
        lines.append("| _no figures_ |" + " |" * (len(header) - 1))
    return "\n".join(lines)
