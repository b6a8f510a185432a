"""How completely a ZIP code was collected on a day, and how a report says so.

A network source records each ZIP whose collection failed (``collection_failures``),
with the number of records it read for that ZIP before the failure (``records_read``,
stored in the raw data like every other record) and, when one is known, how many it
could have expected (``records_expected``: the ZIP's records from that source in the
day before's snapshot; unknown when the request asked only for changes, or there is no
day before).

- ``not collected``: a source failed and read nothing for the ZIP;
- ``partial`` ("partly collected (N of about M records)", or "partly collected
  (N records read before the failure)" without an expectation): a source failed after
  reading N records;
- ``complete``: no source failed for the ZIP.

A ZIP failed by several sources is ``partial`` when any of them read something (N and
M are then their sums; M unknown if any is unknown), ``not collected`` when none did.
The figures of a partial ZIP are kept and marked with this label (never withheld), in
the daily summary's rows and in every report format; the metro row names the ZIPs that
are partial or not collected.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["complete", "partial", "not collected"]
COMPLETE: Status = "complete"
PARTIAL: Status = "partial"
NOT_COLLECTED: Status = "not collected"
# The collection fields of every summary and report row.
COLLECTION_FIELDS = (
    "collection",
    "collection_label",
    "records_read",
    "records_expected",
    "partial_zips",
    "not_collected_zips",
)


@dataclass(frozen=True)
class Shortfall:
    """A ZIP code a source failed to collect (in whole or in part) on a day."""

    source: str
    zip_code: str
    day: str
    records_read: int = 0
    records_expected: int | None = None

    @property
    def status(self) -> Status:
        return PARTIAL if self.records_read > 0 else NOT_COLLECTED

    def label(self) -> str:
        return collection_label(self.records_read, self.records_expected)


def collection_label(records_read: int | None, records_expected: int | None) -> str:
    """The status of a failed collection in words: "not collected" (nothing read),
    "partly collected (N of about M records)", or "partly collected (N records read
    before the failure)" when no expectation is known (or more came than expected)."""
    if not records_read:
        return "not collected"
    noun = "record" if records_read == 1 else "records"
    if records_expected and records_read < records_expected:
        return f"partly collected ({records_read} of about {records_expected} records)"
    return f"partly collected ({records_read} {noun} read before the failure)"


def _combined(shortfalls: Sequence[Shortfall]) -> tuple[Status, int, int | None]:
    read = sum(s.records_read for s in shortfalls)
    expected_each = [s.records_expected for s in shortfalls]
    expected = (
        sum(e for e in expected_each if e is not None)
        if all(e is not None for e in expected_each)
        else None
    )
    return (PARTIAL if read else NOT_COLLECTED), read, expected


def area_collection(shortfalls: Sequence[Shortfall]) -> dict[str, Any]:
    """The collection fields of one ZIP's row on one day, from its shortfalls (none:
    complete)."""
    if not shortfalls:
        return {
            "collection": COMPLETE,
            "collection_label": COMPLETE,
            "records_read": None,
            "records_expected": None,
            "partial_zips": [],
            "not_collected_zips": [],
        }
    status, read, expected = _combined(shortfalls)
    zip_code = shortfalls[0].zip_code
    return {
        "collection": status,
        "collection_label": collection_label(read, expected),
        "records_read": read,
        "records_expected": expected,
        "partial_zips": [zip_code] if status == PARTIAL else [],
        "not_collected_zips": [zip_code] if status == NOT_COLLECTED else [],
    }


def by_zip(shortfalls: Sequence[Shortfall]) -> dict[str, list[Shortfall]]:
    """The shortfalls grouped by ZIP code, in ZIP order."""
    grouped: dict[str, list[Shortfall]] = {}
    for shortfall in sorted(shortfalls, key=lambda s: (s.zip_code, s.day, s.source)):
        grouped.setdefault(shortfall.zip_code, []).append(shortfall)
    return grouped


def zip_statuses(shortfalls: Sequence[Shortfall]) -> dict[str, tuple[Status, str]]:
    """Each ZIP of one day's shortfalls: its status and label."""
    statuses: dict[str, tuple[Status, str]] = {}
    for zip_code, group in by_zip(shortfalls).items():
        status, read, expected = _combined(group)
        statuses[zip_code] = (status, collection_label(read, expected))
    return statuses


def metro_sentence(shortfalls: Sequence[Shortfall]) -> str:
    """The metro's collection in words: "complete", or which ZIPs are partly collected
    (with their labels) and which were not collected at all."""
    statuses = zip_statuses(shortfalls)
    partial = [f"{z} {label}" for z, (status, label) in statuses.items() if status == PARTIAL]
    missing = [z for z, (status, _) in statuses.items() if status == NOT_COLLECTED]
    parts = []
    if partial:
        parts.append("ZIP " + "; ZIP ".join(partial))
    if missing:
        parts.append("ZIP codes not collected: " + ", ".join(missing))
    return "; ".join(parts) if parts else COMPLETE


def metro_collection(shortfalls: Sequence[Shortfall]) -> dict[str, Any]:
    """The collection fields of the metro's row on one day: partial when any ZIP is
    partly or not collected, naming them."""
    statuses = zip_statuses(shortfalls)
    return {
        "collection": PARTIAL if statuses else COMPLETE,
        "collection_label": metro_sentence(shortfalls),
        "records_read": None,
        "records_expected": None,
        "partial_zips": [z for z, (status, _) in statuses.items() if status == PARTIAL],
        "not_collected_zips": [z for z, (status, _) in statuses.items() if status == NOT_COLLECTED],
    }


def period_collection(shortfalls: Sequence[Shortfall], *, metro: bool) -> dict[str, Any]:
    """The collection fields of an area over several days (a week): ``complete``, or
    ``partial`` with each short day's label ("2026-11-13: partly collected (...)")."""
    days = sorted({s.day for s in shortfalls})
    if not days:
        return metro_collection([]) if metro else area_collection([])
    per_day = []
    for day in days:
        of_day = [s for s in shortfalls if s.day == day]
        fields = metro_collection(of_day) if metro else area_collection(of_day)
        per_day.append((day, fields))
    return {
        "collection": PARTIAL,
        "collection_label": "; ".join(f"{day}: {f['collection_label']}" for day, f in per_day),
        "records_read": None,
        "records_expected": None,
        "partial_zips": sorted({z for _, f in per_day for z in f["partial_zips"]}),
        "not_collected_zips": sorted({z for _, f in per_day for z in f["not_collected_zips"]}),
    }
