"""Market statistics: the daily summary of a day's snapshots, and weekly trends of summaries.

Computed in pandas from one partition query (not in ``$group``), so the numbers are
the same whatever MongoDB-compatible server holds the data.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd

from phoenix_assets.domain.property import FOR_SALE_STATUSES, UNDER_CONTRACT_STATUSES

PHOENIX_TZ = ZoneInfo("America/Phoenix")
METRO = "metro"

# Level metrics describe the market's state on a day; flow metrics count what happened
# that day. A week averages levels over its days and sums flows.
LEVEL_METRICS = (
    "active_listings",
    "pending_listings",
    "median_list_price",
    "mean_list_price",
    "median_price_per_sqft",
    "median_days_on_market",
)
FLOW_METRICS = ("new_listings", "closed_sales", "price_cuts", "price_rises")
DAILY_METRICS = LEVEL_METRICS + FLOW_METRICS

_ACTIVE = {s.value for s in FOR_SALE_STATUSES}
_UNDER_CONTRACT = {s.value for s in UNDER_CONTRACT_STATUSES}


def _local_dates(values: pd.Series) -> pd.Series:
    """Dates in Phoenix time of a column of timestamps (nulls stay null)."""
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    return stamps.dt.tz_convert(PHOENIX_TZ).dt.strftime("%Y-%m-%d")


def _median(values: pd.Series) -> float | None:
    clean = pd.to_numeric(values, errors="coerce").dropna()
    return float(clean.median()) if len(clean) else None


def _mean(values: pd.Series) -> float | None:
    clean = pd.to_numeric(values, errors="coerce").dropna()
    return float(clean.mean()) if len(clean) else None


def _area_metrics(frame: pd.DataFrame, day: str) -> dict[str, Any]:
    status = frame["standard_status"]
    active = frame[status.isin(_ACTIVE)]
    price = pd.to_numeric(frame["list_price"], errors="coerce")
    previous = pd.to_numeric(frame["previous_list_price"], errors="coerce")
    changed_today = _local_dates(frame["price_change_timestamp"]) == day
    area = pd.to_numeric(active["living_area"], errors="coerce")
    per_sqft = pd.to_numeric(active["list_price"], errors="coerce") / area.where(area > 0)
    return {
        "active_listings": len(active),
        "pending_listings": int(status.isin(_UNDER_CONTRACT).sum()),
        "new_listings": int((frame["listing_contract_date"] == day).sum()),
        "closed_sales": int(((frame["close_date"] == day) & (status == "Closed")).sum()),
        "price_cuts": int((changed_today & (price < previous)).sum()),
        "price_rises": int((changed_today & (price > previous)).sum()),
        "median_list_price": _median(active["list_price"]),
        "mean_list_price": _mean(active["list_price"]),
        "median_price_per_sqft": _median(per_sqft),
        "median_days_on_market": _median(active["days_on_market"]),
    }


SNAPSHOT_COLUMNS = (
    "postal_code",
    "standard_status",
    "list_price",
    "previous_list_price",
    "price_change_timestamp",
    "living_area",
    "days_on_market",
    "listing_contract_date",
    "close_date",
)


def summarize_day(
    snapshots: pd.DataFrame, day: str, zip_codes: Sequence[str]
) -> list[dict[str, Any]]:
    """The market summary of one day: a row per ZIP (every configured one) and one for the metro."""
    frame = snapshots.reindex(columns=list(SNAPSHOT_COLUMNS))
    zips = list(dict.fromkeys([*zip_codes, *sorted(frame["postal_code"].dropna().unique())]))
    rows = [
        {"partition_key": day, "area": zip_code, "area_type": "zip"}
        | _area_metrics(frame[frame["postal_code"] == zip_code], day)
        for zip_code in zips
    ]
    rows.append(
        {"partition_key": day, "area": METRO, "area_type": "metro"} | _area_metrics(frame, day)
    )
    return rows


def week_days(week_start: dt.date) -> list[str]:
    """The seven daily partition keys of the week starting on ``week_start``."""
    return [(week_start + dt.timedelta(days=i)).isoformat() for i in range(7)]


def _week_metrics(days: pd.DataFrame) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for name in LEVEL_METRICS:
        metrics[name] = _mean(days[name]) if name in days else None
    for name in FLOW_METRICS:
        metrics[name] = int(pd.to_numeric(days[name]).sum()) if name in days and len(days) else 0
    return metrics


def _change(current: float | None, previous: float | None) -> tuple[float | None, float | None]:
    if current is None or previous is None:
        return None, None
    pct = (current - previous) / previous * 100 if previous else None
    return current - previous, pct


def summarize_week(daily: pd.DataFrame, week_start: dt.date) -> list[dict[str, Any]]:
    """Weekly trends from daily summaries of this week and (for the change) the week before.

    Levels are averaged over the days present; flows are summed. A week with days
    missing is computed from the days present and names the missing ones.
    """
    this_week = week_days(week_start)
    last_week = week_days(week_start - dt.timedelta(days=7))
    if len(daily):
        # Storage returns the days in no set order; average them in one order, so a week's
        # figures do not depend on the order its days were written in (floating point).
        daily = daily.sort_values(["partition_key", "area"], kind="stable")
    present = sorted(set(daily["partition_key"]) & set(this_week)) if len(daily) else []
    missing = [day for day in this_week if day not in present]
    areas: Iterable[str] = (
        daily.loc[daily["partition_key"].isin(this_week), "area"].drop_duplicates()
        if present
        else []
    )
    rows = []
    for area in areas:
        by_area = daily[daily["area"] == area]
        current = _week_metrics(by_area[by_area["partition_key"].isin(this_week)])
        previous_days = by_area[by_area["partition_key"].isin(last_week)]
        previous = _week_metrics(previous_days) if len(previous_days) else {}
        row: dict[str, Any] = {
            "partition_key": week_start.isoformat(),
            "week_start": week_start.isoformat(),
            "week_end": this_week[-1],
            "area": area,
            "area_type": by_area["area_type"].iloc[0],
            "days_present": len(present),
            "missing_days": missing,
            "complete": not missing,
            "previous_week_days_present": int(previous_days["partition_key"].nunique()),
            **current,
        }
        for name in DAILY_METRICS:
            change, pct = _change(current[name], previous.get(name))
            row[f"{name}_wow_change"] = change
            row[f"{name}_wow_pct"] = pct
        rows.append(row)
    return rows
