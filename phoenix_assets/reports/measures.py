"""The figures a report shows, their labels and units, and how a person reads them."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Any, Literal

Unit = Literal["count", "dollars", "days", "percent"]
MISSING = "\N{EN DASH}"  # a figure that is not known
MINUS = "\N{MINUS SIGN}"


@dataclass(frozen=True)
class Measure:
    """One figure of the report: a column of the daily summary / weekly trends."""

    name: str
    label: str
    unit: Unit
    # A level is a state (averaged over a week); a flow counts events (summed over a week).
    flow: bool = False


MEASURES: tuple[Measure, ...] = (
    Measure("active_listings", "Inventory (active listings)", "count"),
    Measure("new_listings", "New listings", "count", flow=True),
    Measure("pending_listings", "Pending", "count"),
    Measure("closed_sales", "Closed", "count", flow=True),
    Measure("median_list_price", "Median list price", "dollars"),
    Measure("median_price_per_sqft", "Median price per sq ft", "dollars"),
    Measure("median_days_on_market", "Median days on market", "days"),
    Measure("price_cuts", "Price cuts", "count", flow=True),
)
MEASURE_NAMES: tuple[str, ...] = tuple(m.name for m in MEASURES)
# Derived: price cuts as a share of active listings (the day's, or the week's average).
PRICE_CUT_SHARE = Measure("price_cut_share_pct", "Price cuts, % of active listings", "percent")


def clean_number(value: Any) -> int | float | None:
    """A plain Python number (numpy and pandas scalars included), or None when missing."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Integral):  # numpy integers register as Integral
        return int(value)
    if isinstance(value, numbers.Real):
        number = float(value)
        return None if math.isnan(number) else number
    return None


def share_pct(part: float | None, whole: float | None) -> float | None:
    """``part`` as a percentage of ``whole``; None when either is missing or whole is 0."""
    if part is None or whole is None or whole == 0:
        return None
    return part / whole * 100


def format_value(value: float | None, unit: Unit) -> str:
    """A figure as a person reads it: ``$452,500``, ``1,234``, ``38 days``, ``4.2%``."""
    if value is None:
        return MISSING
    if unit == "dollars":
        return f"${value:,.0f}"
    if unit == "percent":
        return f"{value:.1f}%"
    if unit == "days":
        return f"{value:,.0f} days" if value != 1 else "1 day"
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def format_change(change: float | None, pct: float | None, unit: Unit) -> str:
    """A change as ``+$3,200 (+0.7%)`` or ``-12 (-4.1%)`` (with a real minus sign);
    ``MISSING`` when unknown."""
    if change is None:
        return MISSING
    sign = "+" if change > 0 else (MINUS if change < 0 else "±")
    size = abs(change)
    if unit == "dollars":
        amount = f"${size:,.0f}" if size >= 10 else f"${size:,.2f}"
    elif unit == "percent":
        amount = f"{size:.1f} pts"
    else:
        amount = f"{size:,.0f}" if float(size).is_integer() else f"{size:,.1f}"
    if pct is None:
        return f"{sign}{amount}"
    pct_sign = "+" if pct > 0 else (MINUS if pct < 0 else "±")
    return f"{sign}{amount} ({pct_sign}{abs(pct):.1f}%)"
