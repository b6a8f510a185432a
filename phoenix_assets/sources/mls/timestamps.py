"""Timestamps as a RESO server writes them, and as an OData filter asks for them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

# A ModificationTimestamp further ahead of `now` than this is not trusted to date a version.
FUTURE_TOLERANCE = dt.timedelta(days=1)


def as_utc(value: dt.datetime) -> dt.datetime:
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def parse_timestamp(value: Any) -> dt.datetime | None:
    """A RESO ``ModificationTimestamp`` as an aware UTC datetime, or None if unreadable.

    Sub-microsecond digits (.NET providers send seven) are truncated, never rounded
    up, so a time made from one is never later than the record it came from.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return as_utc(dt.datetime.fromisoformat(value.strip()))
    except ValueError:
        return None


def modification_time(payload: Mapping[str, Any], now: dt.datetime) -> dt.datetime | None:
    """A record's ``ModificationTimestamp`` when it can be trusted: readable, and not more
    than ``FUTURE_TOLERANCE`` ahead of ``now`` (one bad clock must not date a version)."""
    modified = parse_timestamp(payload.get("ModificationTimestamp"))
    if modified is None or modified > as_utc(now) + FUTURE_TOLERANCE:
        return None
    return modified


def odata_timestamp(value: dt.datetime) -> str:
    """A ``DateTimeOffset`` literal for ``$filter``: ``2026-11-24T00:00:00Z``."""
    value = as_utc(value)
    spec = "microseconds" if value.microsecond else "seconds"
    return value.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
