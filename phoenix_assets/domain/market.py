"""Market statistics: the daily summary of a day's snapshots, and weekly trends of summaries.

Computed in pandas from one partition query (not in ``$group``), so the numbers are
the same whatever MongoDB-compatible server holds the data.

Robust means. Every mean of records this module publishes (``mean_list_price``) is a
trimmed mean: ``TRIM_SHARE`` (10 %) of the records cut off each end, rounded up to
whole records, so any population of 3 or more loses at least its lowest and highest
record, and at most ``(n - 1) // 2`` records go from each end (a mean of 1 to 4
records is then its median). It is computed over exactly the population of the median
published next to it (``median_list_price``: the active listings with a numeric list
price), so one absurd-but-in-bounds record cannot move it by orders of magnitude. (The
records outside the hard bounds never get here: they are quarantined before the
snapshot.)

The weekly trends' levels are plain means, but not of records: each is the mean over
the week's days of that day's (already robust) figure, e.g. the average of seven daily
trimmed means or medians; flows are sums.

Collection status. A day's ZIP row says how its sources' collection went
(``collection``: ``complete``, ``partial`` or ``not collected``, with
``collection_label``, ``records_read`` and ``records_expected``; see
``phoenix_assets.domain.collection``). The figures of a partly collected ZIP are kept
and marked, never withheld: the metro row names the partly and not collected ZIPs.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from phoenix_assets.domain.collection import Shortfall, area_collection, metro_collection
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

# The share of records a trimmed mean cuts off each end (rounded up to whole records).
TRIM_SHARE = 0.1

_ACTIVE = {s.value for s in FOR_SALE_STATUSES}
_UNDER_CONTRACT = {s.value for s in UNDER_CONTRACT_STATUSES}


def _local_dates(values: pd.Series) -> pd.Series:
    """Dates in Phoenix time of a column of timestamps (nulls stay null)."""
    stamps = pd.to_datetime(values, utc=True, errors="coerce")
    return stamps.dt.tz_convert(PHOENIX_TZ).dt.strftime("%Y-%m-%d")


def _numbers(values: pd.Series) -> pd.Series:
    """The population of a median or mean: the finite numbers of ``values``."""
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    return numbers[np.isfinite(numbers)]


def _median(values: pd.Series) -> float | None:
    clean = _numbers(values)
    return float(clean.median()) if len(clean) else None


def trim_count(size: int, share: float = TRIM_SHARE) -> int:
    """How many records a trimmed mean of ``size`` records cuts off each end:
    ``share`` of them rounded up, at most ``(size - 1) // 2`` (one record always stays)."""
    if size < 3:
        return 0
    return min(math.ceil(size * share), (size - 1) // 2)


def trimmed_mean(values: pd.Series, share: float = TRIM_SHARE) -> float | None:
    """The mean of ``values`` (their finite numbers) without the ``trim_count`` lowest
    and highest; None when there is no number.

    1 or 2 records: their plain mean; 3 or 4 records: their median; 10 % or more off
    each end from 5 records on. A population without outliers keeps a mean close to its
    plain mean; a single absurd record among ordinary ones is cut off.
    """
    clean = np.sort(_numbers(values).to_numpy(dtype=float))
    if not len(clean):
        return None
    cut = trim_count(len(clean), share)
    kept = clean[cut : len(clean) - cut]
    with np.errstate(over="ignore"):  # an overflow is caught below, not warned about
        mean = float(np.mean(kept))
    if not math.isfinite(mean):  # the sum of huge values overflowed: sum them scaled
        scale = float(np.max(np.abs(kept)))
        mean = float(np.mean(kept / scale) * scale)
    return mean


def _mean_of_days(values: pd.Series) -> float | None:
    """The mean over a week's days of a daily figure (not a mean of records: each day's
    figure is already a robust one, a median or a trimmed mean)."""
    clean = _numbers(values)
    return float(clean.mean()) if len(clean) else None


def _area_metrics(frame: pd.DataFrame, day: str) -> dict[str, Any]:
    status = frame["standard_status"]
    active = frame[status.isin(_ACTIVE)]
    price = pd.to_numeric(frame["list_price"], errors="coerce")
    previous = pd.to_numeric(frame["previous_list_price"], errors="coerce")
    changed_today = _local_dates(frame["price_change_timestamp"]) == day
    area = pd.to_numeric(active["living_area"], errors="coerce")
    per_sqft = pd.to_numeric(active["list_price"], errors="coerce") / area.where(area > 0)
    # The median and the (trimmed) mean of list prices: one population, the active
    # listings with a list price.
    list_prices = _numbers(active["list_price"])
    return {
        "active_listings": len(active),
        "pending_listings": int(status.isin(_UNDER_CONTRACT).sum()),
        "new_listings": int((frame["listing_contract_date"] == day).sum()),
        "closed_sales": int(((frame["close_date"] == day) & (status == "Closed")).sum()),
        "price_cuts": int((changed_today & (price < previous)).sum()),
        "price_rises": int((changed_today & (price > previous)).sum()),
        "median_list_price": _median(list_prices),
        "mean_list_price": trimmed_mean(list_prices),
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
    snapshots: pd.DataFrame,
    day: str,
    zip_codes: Sequence[str],
    shortfalls: Sequence[Shortfall] = (),
) -> list[dict[str, Any]]:
    """The market summary of one day: a row per ZIP (every configured one) and one for the metro.

    ``shortfalls``: the day's failed collections (source, ZIP, records read before the
    failure, records expected). Each ZIP row says its collection status; a partly
    collected ZIP keeps its figures, marked ``partial``; the metro row names the partly
    and not collected ZIPs.
    """
    frame = snapshots.reindex(columns=list(SNAPSHOT_COLUMNS))
    shortfalls = [s for s in shortfalls if s.day == day]
    zips = list(
        dict.fromkeys(
            [
                *zip_codes,
                *sorted(frame["postal_code"].dropna().unique()),
                *sorted({s.zip_code for s in shortfalls}),
            ]
        )
    )
    rows = [
        {"partition_key": day, "area": zip_code, "area_type": "zip"}
        | _area_metrics(frame[frame["postal_code"] == zip_code], day)
        | area_collection([s for s in shortfalls if s.zip_code == zip_code])
        for zip_code in zips
    ]
    rows.append(
        {"partition_key": day, "area": METRO, "area_type": "metro"}
        | _area_metrics(frame, day)
        | metro_collection(shortfalls)
    )
    return rows


def week_days(week_start: dt.date) -> list[str]:
    """The seven daily partition keys of the week starting on ``week_start``."""
    return [(week_start + dt.timedelta(days=i)).isoformat() for i in range(7)]


def _week_metrics(days: pd.DataFrame) -> dict[str, Any]:
    metrics: dict[str, Any] = {}
    for name in LEVEL_METRICS:
        metrics[name] = _mean_of_days(days[name]) if name in days else None
    for name in FLOW_METRICS:
        metrics[name] = int(pd.to_numeric(days[name]).sum()) if name in days and len(days) else 0
    return metrics


def _zips_of(values: pd.Series) -> list[str]:
    found: set[str] = set()
    for value in values:
        if isinstance(value, list | tuple | np.ndarray):
            found.update(str(v) for v in value)
    return sorted(found)


def _week_collection(days: pd.DataFrame) -> dict[str, Any]:
    """An area's collection over the week's days present: ``complete``, or ``partial``
    with each short day's label (from the daily rows' ``collection`` fields)."""
    if "collection" not in days or not len(days):
        return {"collection": "complete", "collection_label": "complete"} | {
            "partial_zips": [],
            "not_collected_zips": [],
        }
    short = days[days["collection"].notna() & (days["collection"] != "complete")]
    short = short.sort_values("partition_key", kind="stable")
    labels = [
        f"{day}: {label}"
        for day, label in zip(short["partition_key"], short["collection_label"], strict=True)
    ]
    return {
        "collection": "partial" if labels else "complete",
        "collection_label": "; ".join(labels) if labels else "complete",
        "partial_zips": _zips_of(short.get("partial_zips", pd.Series(dtype=object))),
        "not_collected_zips": _zips_of(short.get("not_collected_zips", pd.Series(dtype=object))),
    }


def _change(current: float | None, previous: float | None) -> tuple[float | None, float | None]:
    if current is None or previous is None:
        return None, None
    pct = (current - previous) / previous * 100 if previous else None
    return current - previous, pct


def summarize_week(daily: pd.DataFrame, week_start: dt.date) -> list[dict[str, Any]]:
    """Weekly trends from daily summaries of this week and (for the change) the week before.

    Levels are averaged over the days present (a mean of daily figures, not of
    records); flows are summed. A week with days missing is computed from the days
    present and names the missing ones. ``collection`` is ``partial`` when any day of
    the area was partly or not collected, ``collection_label`` naming those days.
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
        week_rows = by_area[by_area["partition_key"].isin(this_week)]
        current = _week_metrics(week_rows)
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
            **_week_collection(week_rows),
        }
        for name in DAILY_METRICS:
            change, pct = _change(current[name], previous.get(name))
            row[f"{name}_wow_change"] = change
            row[f"{name}_wow_pct"] = pct
        rows.append(row)
    return rows
