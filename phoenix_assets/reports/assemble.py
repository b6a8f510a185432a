"""The report's data, assembled from the stored daily summaries and weekly trends.

A daily report shows the day per ZIP and metro, with the trailing 30 days for the
charts. A weekly report shows the week (levels averaged over its days, flows summed, as
``weekly_market_trends`` stores them), its change against the week before (the trends'
``_wow_change`` / ``_wow_pct``) and against the average week of the four weeks before,
with the trailing weeks' trends for the charts.

Every figure is a plain number or None, so the JSON, the CSV and the HTML show the same.

Every area row also says how its ZIP was collected (``collection``: ``complete``,
``partial`` or ``not collected``, ``collection_label``, ``records_read``,
``records_expected``; the metro row names ``partial_zips`` and ``not_collected_zips``),
from the same recorded failures as the trust box, so the tables, the CSV rows and the
trust box never disagree. A partly collected ZIP's figures are shown, marked with its
label ("partly collected (N of about M records)"), never withheld.

No figure of a report is a plain mean of records: the summaries' record means are
trimmed means (``domain.market``); a week's levels are means of daily figures over its
days, and the 4-week average a mean of weekly figures weighted by their days.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from phoenix_assets.domain.collection import (
    area_collection,
    metro_collection,
    period_collection,
)
from phoenix_assets.domain.market import METRO, week_days
from phoenix_assets.reports.measures import (
    MEASURE_NAMES,
    MEASURES,
    PRICE_CUT_SHARE,
    clean_number,
    share_pct,
)
from phoenix_assets.reports.quality import QualityFacts

Kind = Literal["daily", "weekly"]
DAILY_HISTORY_DAYS = 30
WEEKLY_HISTORY_WEEKS = 12
AVERAGE_WEEKS = 4
DASH = "\N{EN DASH}"
# What the charts plot, per period and area.
HISTORY_FIELDS = (
    "active_listings",
    "median_list_price",
    "median_days_on_market",
    "price_cuts",
    PRICE_CUT_SHARE.name,
)


class ReportDataError(LookupError):
    """The stored data cannot make this report (its own period was never summarized)."""


@dataclass(frozen=True)
class ReportData:
    """Everything a report shows, whatever its format."""

    kind: Kind
    period: str  # the partition key: the day, or the week's Monday
    first_day: str
    last_day: str
    title: str
    period_label: str
    areas: tuple[dict[str, Any], ...]  # one flat row per area: metro first, then ZIPs
    history: tuple[dict[str, Any], ...]  # chart data: one row per period and area
    history_periods: tuple[str, ...]
    quality: QualityFacts
    generated_at: dt.datetime

    @property
    def metro(self) -> dict[str, Any]:
        return next((row for row in self.areas if row["area"] == METRO), {})

    @property
    def zip_rows(self) -> tuple[dict[str, Any], ...]:
        return tuple(row for row in self.areas if row["area"] != METRO)

    @property
    def zip_codes(self) -> list[str]:
        return [row["area"] for row in self.zip_rows]

    @property
    def headline(self) -> dict[str, float | int | None]:
        """The metro's figures of the period."""
        metro = self.metro
        return {name: metro.get(name) for name in [*MEASURE_NAMES, PRICE_CUT_SHARE.name]}


def _long_date(day: dt.date) -> str:
    return f"{day:%a} {day.day} {day:%b %Y}"


def daily_title(day: str) -> str:
    return f"Phoenix housing market, {_long_date(dt.date.fromisoformat(day))}"


def weekly_title(week: str) -> str:
    return f"Phoenix housing market, week of {_long_date(dt.date.fromisoformat(week))}"


def _week_label(week: str) -> str:
    start = dt.date.fromisoformat(week)
    end = start + dt.timedelta(days=6)
    if start.month == end.month:
        return f"{start.day}{DASH}{end.day} {end:%b %Y}"
    if start.year == end.year:
        return f"{start.day} {start:%b} {DASH} {end.day} {end:%b %Y}"
    return f"{start.day} {start:%b %Y} {DASH} {end.day} {end:%b %Y}"


def _area_order(areas: Sequence[str]) -> list[str]:
    """Metro first, then the ZIP codes in order."""
    return (
        [METRO, *sorted(a for a in set(areas) if a != METRO)] if METRO in areas else sorted(areas)
    )


def _figures(row: Mapping[Any, Any]) -> dict[str, Any]:
    values = {name: clean_number(row.get(name)) for name in MEASURE_NAMES}
    values[PRICE_CUT_SHARE.name] = share_pct(values["price_cuts"], values["active_listings"])
    return values


def _day_collection(area: str, quality: QualityFacts, day: str) -> dict[str, Any]:
    """The collection fields of an area's row on ``day``, from the trust box's facts."""
    of_day = [s for s in quality.shortfalls if s.day == day]
    if area == METRO:
        return metro_collection(of_day)
    return area_collection([s for s in of_day if s.zip_code == area])


def _week_collection(area: str, quality: QualityFacts) -> dict[str, Any]:
    """The collection fields of an area's row over the week's days."""
    shortfalls = [s for s in quality.shortfalls if area == METRO or s.zip_code == area]
    return period_collection(shortfalls, metro=area == METRO)


def _history_rows(frame: pd.DataFrame, period_field: str) -> list[dict[str, Any]]:
    rows = []
    for record in frame.to_dict(orient="records"):
        figures = _figures(record)
        rows.append(
            {
                "period": str(record[period_field]),
                "area": str(record["area"]),
                **{name: figures[name] for name in HISTORY_FIELDS},
            }
        )
    order = {area: i for i, area in enumerate(_area_order([r["area"] for r in rows]))}
    return sorted(rows, key=lambda r: (r["period"], order[r["area"]]))


def trailing_days(day: str, count: int = DAILY_HISTORY_DAYS) -> list[str]:
    """``count`` days ending with ``day``."""
    last = dt.date.fromisoformat(day)
    return [(last - dt.timedelta(days=n)).isoformat() for n in range(count - 1, -1, -1)]


def trailing_weeks(week: str, count: int = WEEKLY_HISTORY_WEEKS) -> list[str]:
    """``count`` week keys (Mondays) ending with ``week``."""
    last = dt.date.fromisoformat(week)
    return [(last - dt.timedelta(weeks=n)).isoformat() for n in range(count - 1, -1, -1)]


def daily_report_data(
    summaries: pd.DataFrame,
    day: str,
    quality: QualityFacts,
    *,
    generated_at: dt.datetime | None = None,
) -> ReportData:
    """The daily report of ``day`` from daily summaries covering (some of) its trailing 30 days."""
    window = trailing_days(day)
    frame = summaries[summaries["partition_key"].isin(window)] if len(summaries) else summaries
    today = frame[frame["partition_key"] == day] if len(frame) else frame
    if today.empty:
        raise ReportDataError(
            f"daily_market_summary has no rows for {day}: materialize it for that day first"
        )
    by_area = {str(row["area"]): row for row in today.to_dict(orient="records")}
    areas = tuple(
        {
            "area": area,
            "area_type": by_area[area].get("area_type"),
            **_figures(by_area[area]),
            **_day_collection(area, quality, day),
        }
        for area in _area_order(list(by_area))
    )
    return ReportData(
        kind="daily",
        period=day,
        first_day=day,
        last_day=day,
        title=daily_title(day),
        period_label=_long_date(dt.date.fromisoformat(day)),
        areas=areas,
        history=tuple(_history_rows(frame, "partition_key")),
        history_periods=tuple(window),
        quality=quality,
        generated_at=generated_at or dt.datetime.now(dt.UTC),
    )


def _average_week(previous: pd.DataFrame) -> dict[str, float | None]:
    """The average week of ``previous`` weeks' trend rows of one area, weighted by the days
    each week had: levels averaged over all their days, flows counted per seven days (so a
    week with days missing does not drag the average down)."""
    days = pd.to_numeric(previous["days_present"], errors="coerce").fillna(0)
    average: dict[str, float | None] = {}
    for measure in MEASURES:
        if measure.name not in previous:
            average[measure.name] = None
            continue
        values = pd.to_numeric(previous[measure.name], errors="coerce")
        known = values.notna() & (days > 0)
        weight = float(days[known].sum())
        if not weight:
            average[measure.name] = None
        elif measure.flow:
            average[measure.name] = float(values[known].sum()) / weight * 7
        else:
            average[measure.name] = float((values[known] * days[known]).sum()) / weight
    return average


def _vs(current: float | None, base: float | None) -> tuple[float | None, float | None]:
    if current is None or base is None:
        return None, None
    return current - base, (current - base) / base * 100 if base else None


def weekly_report_data(
    trends: pd.DataFrame,
    week: str,
    quality: QualityFacts,
    *,
    generated_at: dt.datetime | None = None,
) -> ReportData:
    """The weekly report of ``week`` from the trends of (some of) its trailing 12 weeks.

    A week without any trend row (no day of it was summarized) still makes a report:
    empty figures, every day missing.
    """
    window = trailing_weeks(week)
    frame = trends[trends["partition_key"].isin(window)] if len(trends) else trends
    this_week = frame[frame["partition_key"] == week] if len(frame) else frame
    before = trailing_weeks(week, AVERAGE_WEEKS + 1)[:-1]
    rows = []
    by_area = {str(row["area"]): row for row in this_week.to_dict(orient="records")}
    for area in _area_order(list(by_area)):
        current = by_area[area]
        figures = _figures(current)
        previous = frame[(frame["area"] == area) & frame["partition_key"].isin(before)]
        average = _average_week(previous)
        row: dict[str, Any] = {
            "area": area,
            "area_type": current.get("area_type"),
            "days_present": clean_number(current.get("days_present")),
            **figures,
        }
        for name in MEASURE_NAMES:
            row[f"{name}_vs_prev_week"] = clean_number(current.get(f"{name}_wow_change"))
            row[f"{name}_vs_prev_week_pct"] = clean_number(current.get(f"{name}_wow_pct"))
            change, pct = _vs(figures[name], average[name])
            row[f"{name}_4wk_avg"] = average[name]
            row[f"{name}_vs_4wk_avg"] = change
            row[f"{name}_vs_4wk_avg_pct"] = pct
        row["weeks_in_4wk_avg"] = int(previous["partition_key"].nunique()) if len(previous) else 0
        row |= _week_collection(area, quality)
        rows.append(row)
    end = dt.date.fromisoformat(week) + dt.timedelta(days=6)
    return ReportData(
        kind="weekly",
        period=week,
        first_day=week,
        last_day=end.isoformat(),
        title=weekly_title(week),
        period_label=_week_label(week),
        areas=tuple(rows),
        history=tuple(_history_rows(frame, "partition_key")),
        history_periods=tuple(window),
        quality=quality,
        generated_at=generated_at or dt.datetime.now(dt.UTC),
    )


def week_missing_days(trends: pd.DataFrame, week: str) -> list[str]:
    """The days of ``week`` its trends were computed without (all seven with no trends)."""
    rows = trends[trends["partition_key"] == week] if len(trends) else trends
    if rows.empty:
        return week_days(dt.date.fromisoformat(week))
    missing = rows.iloc[0].get("missing_days")
    return [str(day) for day in missing] if missing is not None else []
