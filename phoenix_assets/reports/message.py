"""A market report as delivery sends it (``ReportMessage``, built by ``build.report_message``)
and its channel-independent form: the metro headline, a short per-ZIP list and the
quality facts, worded as the HTML report words them."""

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phoenix_assets.delivery.email import Attachment
from phoenix_assets.delivery.message import Level, Notification, Section, render_text
from phoenix_assets.reports.measures import MEASURES, PRICE_CUT_SHARE, Measure, format_value

# How many ZIPs a webhook message lists, and which figures per ZIP (at most four).
MAX_ZIPS_LISTED = 12
FIGURES_PER_ZIP = 4
ZIP_KEY_FIGURES = ("median_list_price", "active_listings", "new_listings", "closed_sales")


@dataclass(frozen=True)
class ZipFigures:
    """One ZIP code's figures in a report: its key figures by name, and how completely
    its day or week was collected (``collection``: ``complete`` or not, and the label
    the report marks a partly collected ZIP with)."""

    zip_code: str
    figures: Mapping[str, float | int | None]
    collection: str | None = None
    collection_label: str | None = None


@dataclass(frozen=True)
class ReportMessage:
    """One report, ready to deliver: built by the report assets."""

    kind: str  # "daily" | "weekly"
    period: str  # the partition key: "2026-11-24" (a day) or "2026-11-16" (a week's Monday)
    title: str  # "Phoenix housing market, Tue 24 Nov 2026"
    headline: dict[str, float | int | None]  # the metro's headline numbers
    email_html: str  # the report as email HTML; charts as <img src="cid:NAME">
    inline_images: dict[str, bytes]  # NAME -> PNG bytes
    attachments: tuple[Attachment, ...]  # the CSV file(s)
    summary: dict[str, Any]  # JSON summary for webhooks: headline, per-ZIP figures, quality
    report_path: str | None  # the HTML file's path on disk
    zips: tuple[ZipFigures, ...] = ()  # the ZIP codes' figures, in the report's order


# The report's own measures (labels, units), so a webhook reads like the HTML report.
_MEASURES: dict[str, Measure] = {m.name: m for m in (*MEASURES, PRICE_CUT_SHARE)}
_MISSING = "\N{EN DASH}"  # as the report shows a missing figure
# Abbreviations in figure names, spelled out for a reader.
_WORDS = {
    "wow": "w/w",
    "pct": "%",
    "sqft": "sq ft",
    "4wk": "4-week",
    "avg": "average",
    "zip": "ZIP",
    "zips": "ZIPs",
}


def figure_label(name: str) -> str:
    """A figure's name as a person reads it: a measure's own label, else the name in
    words (``median_list_price_wow_pct`` -> ``Median list price w/w %``)."""
    if name in _MEASURES:
        return _MEASURES[name].label
    text = " ".join(_WORDS.get(word, word) for word in name.split("_") if word)
    return text[:1].upper() + text[1:]


def format_figure(name: str, value: Any) -> str:
    """A figure for a person: a measure as the report formats it; otherwise money for
    prices, a percentage for ``*_pct``, thousands separators, signed when it is a change."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return _MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    if not isinstance(value, int | float):
        return str(value)
    if name in _MEASURES:
        return format_value(value, _MEASURES[name].unit)
    lowered = name.lower()
    signed = any(word in lowered for word in ("change", "wow", "_vs_"))
    sign = "+" if signed and value > 0 else "-" if value < 0 else ""
    if lowered.endswith(("_pct", "_percent")):
        return f"{sign}{abs(value):.1f}%"
    if "price" in lowered:
        return f"{sign}${abs(value):,.0f}"
    if isinstance(value, int):
        return f"{sign}{abs(value):,}"
    return f"{sign}{abs(value):,.1f}".removesuffix(".0")


def _zip_line(zip_figures: ZipFigures) -> str:
    # As plain JSON values first: a report's rows may hold NumPy numbers.
    figures = _json_safe(zip_figures.figures)
    numeric = {
        name: value
        for name, value in figures.items()
        if isinstance(value, int | float | None) and not isinstance(value, bool)
    }
    # The key figures when the row has them, else its first figures.
    names = [name for name in ZIP_KEY_FIGURES if name in numeric] or list(numeric)
    shown = [f"{figure_label(n).lower()} {format_figure(n, numeric[n])}" for n in names]
    place = zip_figures.zip_code
    # A partly (or not) collected ZIP's figures are marked with its collection label.
    if zip_figures.collection not in (None, "complete") and zip_figures.collection_label:
        place = f"{place} ({zip_figures.collection_label})"
    return f"{place}: {' · '.join(shown[:FIGURES_PER_ZIP])}" if shown else place


def _quality_section(quality: Mapping[str, Any]) -> Section:
    """The quality facts: the verdict sentence, and each fact that fits in a few words
    (a list of records shows as its length)."""
    fields = []
    for name, value in quality.items():
        if name == "verdict":
            continue
        if isinstance(value, list) and any(isinstance(item, Mapping | list) for item in value):
            value = len(value)
        fields.append((figure_label(str(name)), format_figure(str(name), value)))
    verdict = quality.get("verdict")
    level: Level = "info" if not isinstance(verdict, str) or "care" not in verdict else "warning"
    return Section(
        heading="Data quality",
        text=verdict if isinstance(verdict, str) else "",
        level=level,
        fields=tuple(fields),
    )


def report_notification(message: ReportMessage) -> Notification:
    """The report as a channel-independent ``Notification``: the metro headline, a short
    per-ZIP list and the quality facts; the whole summary rides along as ``data``."""
    summary = _json_safe(message.summary)
    sections = [
        Section(
            heading="Metro",
            fields=tuple(
                (figure_label(name), format_figure(name, value))
                for name, value in message.headline.items()
            ),
        )
    ]
    zips = message.zips
    if zips:
        lines = [_zip_line(zip_figures) for zip_figures in zips[:MAX_ZIPS_LISTED]]
        if len(zips) > MAX_ZIPS_LISTED:
            lines.append(f"… and {len(zips) - MAX_ZIPS_LISTED} more")
        sections.append(Section(heading="By ZIP code", text="\n".join(lines)))
    quality = summary.get("quality")
    if isinstance(quality, Mapping) and quality:
        sections.append(_quality_section(quality))
    period = f"the week of {message.period}" if message.kind == "weekly" else message.period
    intro = f"{message.kind.capitalize()} report for {period}."
    if summary.get("demo") or (isinstance(quality, Mapping) and quality.get("demo")):
        # The demo source must never be mistaken for the market.
        intro += " Demo data: generated offline, not the real market."
    return Notification(
        title=message.title,
        intro=intro,
        sections=tuple(sections),
        source="phoenix_assets",
        event="market_report",
        data={
            "kind": message.kind,
            "period": message.period,
            "headline": _json_safe(message.headline),
            "summary": summary,
            "report_path": message.report_path,
        },
    )


def email_text(notification: Notification, message: ReportMessage) -> str:
    """The email's plain-text part: the figures, and where the rest of the report is."""
    files = ", ".join(a.filename for a in message.attachments)
    note = "The charts are in the HTML version of this email"
    note += f"; the figures are attached ({files})." if files else "."
    return render_text(notification) + "\n" + note + "\n"


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON: NaN and infinities become null, NumPy scalars Python
    numbers, dates ISO strings, anything else its text. A webhook must not fail on a
    summary that holds a ``numpy.int64``."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    item = getattr(value, "item", None)  # a NumPy or pandas scalar
    if callable(item):
        try:
            return _json_safe(item())
        except (TypeError, ValueError):
            pass
    return str(value)
