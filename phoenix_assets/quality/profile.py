"""Profile rules over a partition's snapshots: completeness, plausibility, volume, coverage.

A failure here is a warning: the data is stored correctly but looks unlike itself
(a source left a field empty, a ZIP went missing, half the rows disappeared).
Each rule takes one partition as a DataFrame of ``PROFILE_FIELDS`` (see
``profile_frame``) plus the thresholds, and returns a ``Verdict``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from phoenix_assets.domain.rules import UNCLASSIFIED
from phoenix_assets.quality.settings import (
    MARICOPA_LATITUDE,
    MARICOPA_LONGITUDE,
    TRAILING_DAYS,
    YEAR_BUILT_AHEAD,
    QualitySettings,
)
from phoenix_assets.quality.verdict import EXAMPLES, Verdict, percent, rate

NUMERIC_FIELDS = ("list_price", "living_area", "latitude", "longitude", "year_built")
PROFILE_FIELDS = ("property_id", "postal_code", "standard_status", *NUMERIC_FIELDS)


def profile_frame(documents: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One partition's documents as a frame of ``PROFILE_FIELDS``.

    A field a document lacks is null; a number stored as anything but a number (text,
    a boolean) is null too: the rules judge usable values, the schema rule the rest.
    """
    frame = pd.DataFrame.from_records(
        # Tuples, not dicts: a large day's rows cost a third of the memory.
        [tuple(doc.get(name) for name in PROFILE_FIELDS) for doc in documents],
        columns=list(PROFILE_FIELDS),
    )
    for name in NUMERIC_FIELDS:
        column = frame[name].map(
            lambda v: v if isinstance(v, int | float) and not isinstance(v, bool) else None
        )
        frame[name] = pd.to_numeric(column, errors="coerce").astype(float)
    for name in ("property_id", "postal_code", "standard_status"):
        frame[name] = frame[name].map(lambda v: v if isinstance(v, str) and v else None)
    return frame


def _shown(value: Any) -> str | float:
    return value if isinstance(value, str) else float(value)


def _ids(frame: pd.DataFrame, mask: pd.Series) -> list[str]:
    return [str(pid) for pid in frame.loc[mask, "property_id"].head(EXAMPLES)]


def null_rates(frame: pd.DataFrame, settings: QualitySettings) -> Verdict:
    """Key fields are filled: list price (among properties with a listing status),
    living area, ZIP code and coordinates each have a null rate at most their threshold."""
    listed = frame["standard_status"].notna()
    everyone = pd.Series(True, index=frame.index)
    fields = {
        # name: (rows judged, rows null among them, threshold)
        "list_price": (listed, listed & frame["list_price"].isna(), settings.max_null_list_price),
        "living_area": (everyone, frame["living_area"].isna(), settings.max_null_living_area),
        "postal_code": (everyone, frame["postal_code"].isna(), settings.max_null_postal_code),
        "coordinates": (
            everyone,
            frame["latitude"].isna() | frame["longitude"].isna(),
            settings.max_null_coordinates,
        ),
    }
    figures: dict[str, Any] = {}
    failing: list[str] = []
    for name, (judged, null, threshold) in fields.items():
        nulls, of = int(null.sum()), int(judged.sum())
        share = rate(nulls, of)
        passed = share is None or share <= threshold
        figures[name] = {
            "nulls": nulls,
            "of": of,
            "rate": share,
            "max_rate": threshold,
            "passed": passed,
            "examples": _ids(frame, null),
        }
        if not passed:
            failing.append(f"{name} {percent(share)} null (max {percent(threshold)})")
    summary = "; ".join(failing) if failing else f"key fields filled in {len(frame)} rows"
    return Verdict(
        passed=not failing, summary=summary, metadata={"rows": len(frame), "fields": figures}
    )


def value_ranges(frame: pd.DataFrame, settings: QualitySettings, day: dt.date) -> Verdict:
    """Values are plausible: list price, price per square foot, year built and
    coordinates (inside Maricopa County's bounding box) each have at most the allowed
    share of their values out of bounds."""
    price, area = frame["list_price"], frame["living_area"]
    per_sqft = (price / area).where((price > 0) & (area > 0))
    lat, lon = frame["latitude"], frame["longitude"]
    located = lat.notna() & lon.notna()
    outside_box = located & ~(lat.between(*MARICOPA_LATITUDE) & lon.between(*MARICOPA_LONGITUDE))
    checks: dict[str, tuple[pd.Series, pd.Series, list[float], pd.Series]] = {
        # name: (rows judged, rows out of bounds, bounds, values to show)
        "list_price": (
            price.notna(),
            price.notna() & ~price.between(settings.min_list_price, settings.max_list_price),
            [settings.min_list_price, settings.max_list_price],
            price,
        ),
        "price_per_sqft": (
            per_sqft.notna(),
            per_sqft.notna()
            & ~per_sqft.between(settings.min_price_per_sqft, settings.max_price_per_sqft),
            [settings.min_price_per_sqft, settings.max_price_per_sqft],
            per_sqft.round(2),
        ),
        "year_built": (
            frame["year_built"].notna(),
            frame["year_built"].notna()
            & ~frame["year_built"].between(settings.min_year_built, day.year + YEAR_BUILT_AHEAD),
            [settings.min_year_built, day.year + YEAR_BUILT_AHEAD],
            frame["year_built"],
        ),
        "coordinates": (
            located,
            outside_box,
            [*MARICOPA_LATITUDE, *MARICOPA_LONGITUDE],
            lat.round(5).astype(str) + "," + lon.round(5).astype(str),
        ),
    }
    figures: dict[str, Any] = {}
    failing: list[str] = []
    for name, (judged, outside, bounds, values) in checks.items():
        out, of = int(outside.sum()), int(judged.sum())
        share = rate(out, of)
        passed = share is None or share <= settings.max_out_of_range
        figures[name] = {
            "out_of_range": out,
            "of": of,
            "rate": share,
            "bounds": bounds,
            "passed": passed,
            "examples": [
                {
                    "property_id": str(pid),
                    "value": value if isinstance(value, str) else float(value),
                }
                for pid, value in zip(
                    frame.loc[outside, "property_id"].head(EXAMPLES),
                    values[outside].head(EXAMPLES),
                    strict=True,
                )
            ],
        }
        if not passed:
            failing.append(f"{name} {percent(share)} out of range {bounds}")
    summary = "; ".join(failing) if failing else f"values plausible in {len(frame)} rows"
    return Verdict(
        passed=not failing,
        summary=summary,
        metadata={
            "rows": len(frame),
            "max_out_of_range_rate": settings.max_out_of_range,
            "fields": figures,
        },
    )


def trailing_days(partition_key: str, days: int = TRAILING_DAYS) -> list[str]:
    """The partition keys of the ``days`` days before ``partition_key``, oldest first."""
    day = dt.date.fromisoformat(partition_key)
    return [(day - dt.timedelta(days=n)).isoformat() for n in range(days, 0, -1)]


def row_count(rows: int, history: Mapping[str, int], tolerance: float) -> Verdict:
    """The row count is within ``tolerance`` (relative) of the mean of the stored
    partitions of the trailing week; with no stored partition there, it passes with a
    note."""
    if not history:
        return Verdict(
            passed=True,
            summary=f"{rows} rows; no stored partition in the {TRAILING_DAYS} days before "
            "to compare with",
            metadata={"rows": rows, "history_days": 0, "tolerance": tolerance},
        )
    mean = sum(history.values()) / len(history)
    low, high = mean * (1 - tolerance), mean * (1 + tolerance)
    passed = low <= rows <= high
    deviation = rows / mean - 1 if mean else None
    change = "n/a" if deviation is None else f"{deviation:+.1%}"
    summary = (
        f"{rows} rows, {change} against the trailing mean {mean:.0f} "
        f"({len(history)} days; tolerance ±{tolerance:.0%})"
    )
    return Verdict(
        passed=passed,
        summary=summary,
        metadata={
            "rows": rows,
            "trailing_mean": round(mean, 2),
            "deviation": None if deviation is None else round(deviation, 6),
            "tolerance": tolerance,
            "expected_range": [round(low, 2), round(high, 2)],
            "history_days": len(history),
            "history": dict(sorted(history.items())),
        },
    )


def zip_coverage(frame: pd.DataFrame, target_zips: Sequence[str]) -> Verdict:
    """Every target ZIP code (``PHOENIX_ZIP_CODES``) has at least one property."""
    counts = Counter(str(z) for z in frame["postal_code"].dropna())
    missing = [z for z in target_zips if counts.get(z, 0) == 0]
    others = {z: n for z, n in counts.most_common() if z not in set(target_zips)}
    summary = (
        f"{len(missing)} of {len(target_zips)} target ZIPs have no property: {', '.join(missing)}"
        if missing
        else f"all {len(target_zips)} target ZIPs present"
    )
    return Verdict(
        passed=not missing,
        summary=summary,
        metadata={
            "target_zips": len(target_zips),
            "missing_zips": missing,
            "rows_by_zip": {z: counts.get(z, 0) for z in target_zips},
            "rows_in_other_zips": sum(others.values()),
            "other_zips": dict(list(others.items())[:10]),
        },
    )


def quarantine_share(
    stored: int, quarantined: Sequence[Mapping[str, Any]], max_share: float
) -> Verdict:
    """The share of records set aside in the quarantine, quarantined / (stored +
    quarantined), is at most ``max_share``."""
    count = len(quarantined)
    share = rate(count, stored + count)
    passed = share is None or share <= max_share
    # Counted by rule (a stable name), never by text: a reason may once have quoted a source.
    by_rule = Counter(str(entry.get("rule") or UNCLASSIFIED) for entry in quarantined)
    summary = (
        f"{count} records quarantined, {percent(share)} of {stored + count} "
        f"(max {percent(max_share)})"
    )
    return Verdict(
        passed=passed,
        summary=summary,
        metadata={
            "quarantined": count,
            "stored": stored,
            "share": share,
            "max_share": max_share,
            "by_rule": dict(by_rule.most_common()),
            "examples": [
                f"{entry.get('source')}:{entry.get('source_id')}"
                for entry in quarantined[:EXAMPLES]
            ],
        },
    )
