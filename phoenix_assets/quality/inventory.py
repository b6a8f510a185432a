"""Inventory rules: a day's on-market listings against the day before's snapshot.

An incremental source (MLS) carries its listings forward from the day before's
snapshot; a day built without it, or from a feed that lost records, keeps only the
day's changes and most of the inventory disappears. The figures of such a day must not
go out quietly: a drop past ``max_inventory_drop`` fails (blocking), a change past
``inventory_change_tolerance`` either way warns. When the day before is not stored
there is nothing to compare with: both pass, saying so.

The counts are per ZIP code (``UNKNOWN_ZIP`` for a listing without one), so a verdict
can name the ZIP codes that lost the most.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, TypeVar

import pandas as pd

from phoenix_assets.domain.property import ON_MARKET_STATUSES
from phoenix_assets.quality.verdict import EXAMPLES, Verdict

# The statuses counted, as stored (``standard_status`` is the RESO value).
ON_MARKET = frozenset(status.value for status in ON_MARKET_STATUSES)
# The fields a count reads: a projection of the stored documents.
INVENTORY_FIELDS = ("standard_status", "postal_code")
UNKNOWN_ZIP = "unknown"

OnMarket = Mapping[str, int]  # ZIP code -> on-market listings
_Document = TypeVar("_Document", bound=Mapping[str, Any])


def day_before(partition_key: str) -> str:
    """The partition key of the day before ``partition_key``."""
    return (dt.date.fromisoformat(partition_key) - dt.timedelta(days=1)).isoformat()


def tally(document: Mapping[str, Any], counts: Counter[str]) -> None:
    """Count ``document`` in ``counts`` (by ZIP code) when its listing is on the market."""
    if document.get("standard_status") not in ON_MARKET:
        return
    zip_code = document.get("postal_code")
    counts[zip_code if isinstance(zip_code, str) and zip_code else UNKNOWN_ZIP] += 1


def tallying(documents: Iterable[_Document], counts: Counter[str]) -> Iterator[_Document]:
    """Pass ``documents`` through unchanged, counting the on-market ones in ``counts``:
    a rule reading a day's documents counts its inventory on the same pass."""
    for document in documents:
        tally(document, counts)
        yield document


def on_market(documents: Iterable[Mapping[str, Any]]) -> dict[str, int]:
    """On-market listings per ZIP code among ``documents``."""
    counts: Counter[str] = Counter()
    for document in documents:
        tally(document, counts)
    return dict(counts)


def on_market_in_frame(frame: pd.DataFrame) -> dict[str, int]:
    """On-market listings per ZIP code in a frame with ``INVENTORY_FIELDS`` columns (the
    profile rules' frame, where a missing or non-text value is null)."""
    listed = frame[frame["standard_status"].isin(ON_MARKET)]
    zips = listed["postal_code"].where(listed["postal_code"].notna(), UNKNOWN_ZIP)
    return {str(zip_code): int(count) for zip_code, count in Counter(zips).items()}


def _change_pct(today: int, before: int) -> float | None:
    return round((today - before) / before * 100, 2) if before else None


def _biggest_losers(today: OnMarket, before: OnMarket) -> dict[str, dict[str, Any]]:
    """The ZIP codes that lost the most on-market listings, most first (a few)."""
    losses = sorted(
        (
            (before[zip_code] - today.get(zip_code, 0), zip_code)
            for zip_code in before
            if before[zip_code] > today.get(zip_code, 0)
        ),
        key=lambda loss: (-loss[0], loss[1]),
    )
    return {
        zip_code: {
            "day_before": before[zip_code],
            "today": today.get(zip_code, 0),
            "change": -lost,
            "change_pct": _change_pct(today.get(zip_code, 0), before[zip_code]),
        }
        for lost, zip_code in losses[:EXAMPLES]
    }


def _figures(today: OnMarket, before: OnMarket | None, day: str) -> dict[str, Any]:
    now = sum(today.values())
    figures: dict[str, Any] = {
        "day": day,
        "day_before": day_before(day),
        "day_before_stored": before is not None,
        "on_market_today": now,
        "on_market_statuses": sorted(ON_MARKET),
    }
    if before is None:
        return figures | {"on_market_day_before": None, "change": None, "change_pct": None}
    then = sum(before.values())
    return figures | {
        "on_market_day_before": then,
        "change": now - then,
        "change_pct": _change_pct(now, then),
        "biggest_losers": _biggest_losers(today, before),
    }


def _not_stored(figures: dict[str, Any], threshold: dict[str, float]) -> Verdict:
    return Verdict(
        passed=True,
        summary=f"{figures['on_market_today']} on-market listings; no stored snapshot of "
        f"the day before ({figures['day_before']}) to compare with",
        metadata=figures | threshold,
    )


def inventory_kept(
    today: OnMarket, before: OnMarket | None, *, day: str, max_drop: float
) -> Verdict:
    """The day's on-market listings did not drop by more than ``max_drop`` (a fraction)
    against the day before's stored snapshot; with the day before not stored, it passes
    with a note. ``today`` and ``before`` are on-market listings per ZIP code."""
    figures = _figures(today, before, day)
    if before is None:
        return _not_stored(figures, {"max_drop": max_drop})
    now, then = figures["on_market_today"], figures["on_market_day_before"]
    drop = (then - now) / then if then else 0.0
    passed = drop <= max_drop
    if not then:
        summary = f"{now} on-market listings; none the day before ({figures['day_before']})"
    elif passed:
        summary = (
            f"{now} on-market listings against {then} the day before "
            f"({figures['change_pct']:+.1f}%; a drop of more than {max_drop:.0%} blocks)"
        )
    else:
        losers = ", ".join(
            f"{zip_code} {zip_figures['day_before']}→{zip_figures['today']}"
            for zip_code, zip_figures in list(figures["biggest_losers"].items())[:3]
        )
        summary = (
            f"on-market listings fell {drop:.1%}, from {then} on {figures['day_before']} to "
            f"{now} (more than {max_drop:.0%}): most lost in {losers}"
        )
    return Verdict(passed=passed, summary=summary, metadata=figures | {"max_drop": max_drop})


def inventory_steady(
    today: OnMarket, before: OnMarket | None, *, day: str, tolerance: float
) -> Verdict:
    """The day's on-market listings are within ``tolerance`` (relative, either way) of the
    day before's stored snapshot; with the day before not stored, it passes with a note.
    From none the day before, any listing today is a change past the tolerance."""
    figures = _figures(today, before, day)
    if before is None:
        return _not_stored(figures, {"tolerance": tolerance})
    now, then = figures["on_market_today"], figures["on_market_day_before"]
    if then:
        change = (now - then) / then
        passed = abs(change) <= tolerance
        summary = (
            f"{now} on-market listings against {then} the day before "
            f"({change:+.1%}; tolerance ±{tolerance:.0%})"
        )
    else:
        passed = now == 0
        summary = f"{now} on-market listings against none the day before ({figures['day_before']})"
    return Verdict(passed=passed, summary=summary, metadata=figures | {"tolerance": tolerance})
