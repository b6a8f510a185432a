"""What a rule returns: pass or fail, one line saying why, and the figures behind it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# How many offending ids or values a verdict lists: enough to start looking, no more.
EXAMPLES = 5


@dataclass(frozen=True)
class Verdict:
    """A rule's judgement of one partition.

    ``metadata`` holds plain JSON-able values (numbers, strings, lists, dicts, None),
    so it can go straight into a check evaluation, a log line or an alert.
    """

    passed: bool
    summary: str
    metadata: dict[str, Any] = field(default_factory=dict)


def rate(part: int, whole: int) -> float | None:
    """``part / whole`` rounded for display, or None when there is nothing to divide."""
    return round(part / whole, 6) if whole else None


def percent(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.2%}"
