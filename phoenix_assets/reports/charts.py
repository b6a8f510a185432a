"""The report's charts, drawn server-side with matplotlib: inline SVG for the web page,
PNG for email (email clients do not render inline SVG).

Figures are made with ``matplotlib.figure.Figure`` directly (no pyplot): no global
figure state, safe in any process; output goes through the Agg (PNG) and SVG canvases.
The SVG is made responsive (width 100%, height from its viewBox) and deterministic
(no date, ids salted by the chart's name, text kept as text).
"""

from __future__ import annotations

import datetime as dt
import html
import io
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import matplotlib

matplotlib.use("Agg")  # never a GUI backend, even if pyplot is imported elsewhere

from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.figure import Figure

from phoenix_assets.domain.market import METRO

FIG_SIZE = (6.4, 4.0)  # inches: about the width a chart is shown at, so text reads
PNG_DPI = 150  # 960 px wide: sharp on a phone's screen
LEGEND_COLUMNS = 5
METRO_LABEL = "Metro"
_STYLE: dict[str, Any] = {
    "font.size": 10.5,
    "axes.titlesize": 12.5,
    "axes.titleweight": "bold",
    "axes.titlelocation": "left",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.color": "#dddddd",
    "grid.linewidth": 0.6,
    "svg.fonttype": "none",  # text stays text: smaller, sharper, selectable
    "font.family": ["DejaVu Sans", "sans-serif"],
}


@dataclass(frozen=True)
class ChartSpec:
    """One chart: which history field it plots, for which areas, with what axis format."""

    name: str  # also the email image's content id: <img src="cid:NAME">
    title: str
    field: str
    y_label: str
    axis_format: Callable[[], ticker.Formatter]
    with_metro: bool


def _dollars() -> ticker.Formatter:
    return ticker.FuncFormatter(
        lambda value, _: f"${value / 1000:,.0f}k" if abs(value) >= 1000 else f"${value:,.0f}"
    )


def _count() -> ticker.Formatter:
    return ticker.StrMethodFormatter("{x:,.0f}")


def _percent() -> ticker.Formatter:
    return ticker.PercentFormatter(xmax=100)  # as many decimals as the axis' range needs


CHART_SPECS: tuple[ChartSpec, ...] = (
    ChartSpec(
        "median_list_price",
        "Median list price",
        "median_list_price",
        "median list price",
        _dollars,
        True,
    ),
    # The metro's inventory is the sum of the ZIPs': on one axis it would flatten them.
    ChartSpec(
        "inventory", "Inventory (active listings)", "active_listings", "listings", _count, False
    ),
    ChartSpec(
        "price_cut_share",
        "Price cuts, % of active listings",
        "price_cut_share_pct",
        "% of active listings",
        _percent,
        True,
    ),
    ChartSpec(
        "days_on_market",
        "Median days on market",
        "median_days_on_market",
        "days",
        _count,
        True,
    ),
)


@dataclass(frozen=True)
class Chart:
    """A drawn chart: inline SVG, and PNG bytes when asked for (email)."""

    name: str
    title: str
    caption: str
    svg: str
    png: bytes | None = None


def _date_number(period: str) -> float:
    """A period key (``YYYY-MM-DD``) as matplotlib's date number."""
    return float(mdates.date2num(dt.datetime.fromisoformat(period)))


def _series(
    history: Sequence[dict[str, Any]], area: str, field: str
) -> tuple[list[float], list[float]]:
    """One area's line: x as date numbers, y with NaN where a figure is missing (a gap)."""
    xs, ys = [], []
    for row in history:
        if row["area"] == area:
            value = row.get(field)
            xs.append(_date_number(row["period"]))
            ys.append(float("nan") if value is None else float(value))
    return xs, ys


def _palette(count: int) -> list[Any]:
    colours = matplotlib.colormaps["tab10" if count <= 10 else "tab20"]
    return [colours(i % colours.N) for i in range(count)]


def _date_axis(axes: Any, periods: Sequence[str], weekly: bool) -> None:
    if weekly:
        # One tick per week (its Monday), or every other week when there are many.
        locator: mdates.DateLocator = mdates.WeekdayLocator(
            byweekday=mdates.MO, interval=max(1, math.ceil(len(periods) / 7))
        )
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.DateFormatter("%-d %b"))
    else:
        locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    if periods:
        first, last = _date_number(periods[0]), _date_number(periods[-1])
        pad = max((last - first) * 0.04, 2.0 if weekly else 1.0)  # in days
        axes.set_xlim(first - pad, last + pad)


def _draw(
    spec: ChartSpec, history: Sequence[dict[str, Any]], zip_codes: Sequence[str], weekly: bool
) -> Figure:
    # Fixed margins rather than a layout engine: as readable here, and twice as fast.
    figure = Figure(figsize=FIG_SIZE)
    axes = figure.add_subplot()
    axes.set_title(spec.title)
    periods = sorted({row["period"] for row in history})
    markers = len(periods) <= 14  # few points: show each one
    drawn = 0
    for zip_code, colour in zip(zip_codes, _palette(len(zip_codes)), strict=True):
        xs, ys = _series(history, zip_code, spec.field)
        if xs:
            axes.plot(
                xs,
                ys,
                label=zip_code,
                color=colour,
                linewidth=1.5,
                marker="o" if markers else None,
                markersize=3.5,
            )
            drawn += 1
    if spec.with_metro:
        xs, ys = _series(history, METRO, spec.field)
        if xs:
            axes.plot(
                xs,
                ys,
                label=METRO_LABEL,
                color="#111111",
                linewidth=2.6,
                marker="o" if markers else None,
                markersize=4.5,
            )
            drawn += 1
    axes.yaxis.set_major_formatter(spec.axis_format())
    axes.set_ylabel(spec.y_label)
    _date_axis(axes, periods, weekly)
    legend_rows = math.ceil(drawn / LEGEND_COLUMNS)
    figure.subplots_adjust(left=0.14, right=0.98, top=0.91, bottom=0.14 + 0.07 * legend_rows)
    if not drawn:
        axes.text(0.5, 0.5, "No data yet", transform=axes.transAxes, ha="center", va="center")
        axes.set_yticks([])
    else:
        figure.legend(
            loc="lower center", ncols=min(drawn, LEGEND_COLUMNS), frameon=False, fontsize=9.5
        )
    return figure


_XML_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_ROOT_SIZE = re.compile(r'\s(?:width|height)="[^"]*"')


def _inline_svg(raw: str, name: str, title: str) -> str:
    """The SVG as an element to put inside HTML: no XML prologue, responsive width."""
    svg = _XML_PROLOGUE.sub("", raw, count=1)
    root_end = svg.index(">")
    root = _ROOT_SIZE.sub("", svg[:root_end])
    label = html.escape(title, quote=True)
    root += f' class="chart" id="chart-{name}" role="img" aria-label="{label}"'
    return root + svg[root_end:]


def _render(figure: Figure, fmt: str, salt: str) -> bytes:
    buffer = io.BytesIO()
    with matplotlib.rc_context(cast(Any, {"svg.hashsalt": salt})):
        if fmt == "svg":
            figure.savefig(buffer, format="svg", metadata={"Date": None})
        else:
            figure.savefig(buffer, format="png", dpi=PNG_DPI, metadata={"Software": None})
    return buffer.getvalue()


def draw_charts(
    history: Sequence[dict[str, Any]],
    zip_codes: Sequence[str],
    *,
    caption_period: str,
    weekly: bool = False,
    png: bool = False,
) -> list[Chart]:
    """The report's four charts over ``history`` (rows of period, area and figures).

    ``weekly``: the periods are weeks (ticks on Mondays); ``png``: also render each
    chart as PNG (for the email variant).
    """
    charts = []
    with matplotlib.rc_context(cast(Any, _STYLE)):
        for spec in CHART_SPECS:
            figure = _draw(spec, history, zip_codes, weekly)
            areas = "per ZIP code" + (" and for the metro" if spec.with_metro else "")
            charts.append(
                Chart(
                    name=spec.name,
                    title=spec.title,
                    caption=f"{spec.title} {areas}, {caption_period}.",
                    svg=_inline_svg(
                        _render(figure, "svg", spec.name).decode("utf-8"), spec.name, spec.title
                    ),
                    png=_render(figure, "png", spec.name) if png else None,
                )
            )
    return charts
