"""What a reader needs to know to trust a report: the data-quality facts of its days.

- records quarantined on those days (collection ``quarantine``), counted by rule (a
  stable name; the reader sees the product's sentence for it, never source text);
- ZIP codes a source failed to collect (collection ``collection_failures``): "partly
  collected (N of about M records)" when it read some before the failure, "not
  collected" when it read none (see ``domain.collection``);
- the asset checks that warned or failed for those days, read from the Dagster
  instance (each check evaluation is recorded per day, see ``defs/checks``);
- the days missing from the period (a week computed from fewer than seven days);
- the days whose snapshot was written without the day before's (missing then, or
  written since: collection ``partition_manifest``), and whether their MLS listings may
  be missing until the day is rebuilt;
- which sources the figures come from, so demo data is never mistaken for the market.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import dagster as dg
from pymongo.database import Database

from phoenix_assets.dagster_compat import (
    AssetCheckExecutionRecord,
    AssetCheckExecutionRecordStatus,
    PartitionKeyFilter,
)
from phoenix_assets.domain.collection import PARTIAL, Shortfall, zip_statuses
from phoenix_assets.domain.rules import UNCLASSIFIED, reason_for
from phoenix_assets.partitions import START_DATE, day_end
from phoenix_assets.settings import KNOWN_SOURCES
from phoenix_assets.storage.collection_failures import read_failures, shortfall_of
from phoenix_assets.storage.documents import Document
from phoenix_assets.storage.quarantine import quarantine_rules
from phoenix_assets.storage.snapshot_history import SNAPSHOTS_COLLECTION
from phoenix_assets.storage.store import PartitionStore
from phoenix_assets.storage.version_log import log_read_at, stored_after

DEMO_SOURCE = "demo"
# The incremental source (its listings are a state built over days) and its version log.
INCREMENTAL_SOURCE = "mls"
INCREMENTAL_LOG = "raw_mls_listings"
_MAX_REASON_LENGTH = 160

Outcome = Literal["passed", "warned", "failed", "not finished", "not evaluated"]


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}" + ("" if number == 1 else "s")


@dataclass(frozen=True)
class FailedZip:
    """A ZIP code a source could not collect (in whole or in part) on a day.

    ``records_read``: the records read for it before the failure (0: not collected);
    ``records_expected``: about how many a whole collection returns, when known.
    """

    source: str
    zip_code: str
    day: str
    kind: str
    reason: str
    records_read: int = 0
    records_expected: int | None = None

    def shortfall(self) -> Shortfall:
        return Shortfall(
            source=self.source,
            zip_code=self.zip_code,
            day=self.day,
            records_read=self.records_read,
            records_expected=self.records_expected,
        )

    def label(self) -> str:
        """The collection in words: "not collected", or "partly collected (...)"."""
        return self.shortfall().label()


@dataclass(frozen=True)
class DayBeforeGap:
    """A day whose snapshot was written while the day before's was not there: missing
    (it still is), or written after the day's (rebuilt since, or first written late).

    ``incremental``: an incremental source (MLS) feeds the snapshots. ``stale``: the
    day's MLS listings may be missing until it is rebuilt: its build left no record of
    reading the MLS version log (built when MLS listings were carried forward from the
    day before), or versions made by the day's end reached the log after it read it.
    A day that read the whole log is complete without the day before; so is a day of
    sources that report their whole state every day (demo, Assessor).
    """

    day: str
    day_before: str
    reason: Literal["missing", "written_after"]
    incremental: bool
    stale: bool
    written_at: str  # when the day's snapshot was written, UTC, ISO 8601
    day_before_written_at: str | None = None  # None when missing

    def sentence(self) -> str:
        """The fact in plain words, for the report's reader."""
        if self.reason == "missing":
            built = f"{self.day} was built without {self.day_before}'s snapshot"
        else:
            when = (self.day_before_written_at or "")[:16].replace("T", " ")
            built = (
                f"{self.day} was built before {self.day_before}'s snapshot was written ({when} UTC)"
            )
        if self.stale:
            return f"{built}: MLS listings may be missing until it is rebuilt."
        if self.incremental:
            return (
                f"{built}; its MLS listings were read from the MLS version log, so none is missing."
            )
        return (
            f"{built}; its sources report their whole state every day, so its figures do "
            "not depend on the day before."
        )


@dataclass(frozen=True)
class CheckOutcome:
    """The latest result of one asset check for one day."""

    asset: str
    check: str
    day: str
    outcome: Outcome
    summary: str = ""


@dataclass(frozen=True)
class QualityFacts:
    """The data-quality facts of a report's days."""

    days: tuple[str, ...]
    missing_days: tuple[str, ...] = ()
    quarantined: int = 0
    quarantine_by_rule: tuple[tuple[str, int], ...] = ()  # (rule, records), most first
    failed_zips: tuple[FailedZip, ...] = ()
    checks: tuple[CheckOutcome, ...] = ()
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()
    day_before_gaps: tuple[DayBeforeGap, ...] = ()

    @property
    def demo(self) -> bool:
        """Whether (some of) the figures come from the offline demo source."""
        return DEMO_SOURCE in self.sources

    @property
    def quarantine_reasons(self) -> tuple[tuple[str, int], ...]:
        """The quarantine by rule as the reader sees it: the product's sentence for each
        rule, never a source's text."""
        return tuple((reason_for(rule), count) for rule, count in self.quarantine_by_rule)

    @property
    def checks_not_passed(self) -> tuple[CheckOutcome, ...]:
        return tuple(check for check in self.checks if check.outcome != "passed")

    def check_groups(self) -> list[dict[str, Any]]:
        """The checks that did not pass, one entry per check and outcome with its days
        (a week of "not evaluated" reads as one line, not seven)."""
        groups: dict[tuple[str, str, str], dict[str, Any]] = {}
        for check in self.checks_not_passed:
            group = groups.setdefault(
                (check.asset, check.check, check.outcome),
                {
                    "asset": check.asset,
                    "check": check.check,
                    "outcome": check.outcome,
                    "days": [],
                    "summary": "",
                },
            )
            group["days"].append(check.day)
            group["summary"] = check.summary or group["summary"]  # the latest day's
        return list(groups.values())

    @property
    def checks_passed(self) -> int:
        return sum(1 for check in self.checks if check.outcome == "passed")

    @property
    def stale_days(self) -> tuple[DayBeforeGap, ...]:
        """The days built without the day before whose MLS listings may be missing:
        stale until rebuilt."""
        return tuple(gap for gap in self.day_before_gaps if gap.stale)

    @property
    def shortfalls(self) -> tuple[Shortfall, ...]:
        """The failed collections, as the summaries and tables label them."""
        return tuple(failure.shortfall() for failure in self.failed_zips)

    def collection_problems(self) -> list[str]:
        """The verdict's words on collection: the partly collected ZIPs with their
        records, then the ZIPs not collected at all (a ZIP per day it failed)."""
        partial: list[str] = []
        missing: list[str] = []
        many_days = len({f.day for f in self.failed_zips}) > 1
        for day in sorted({f.day for f in self.failed_zips}):
            of_day = [s for s in self.shortfalls if s.day == day]
            for zip_code, (status, label) in zip_statuses(of_day).items():
                where = f"{zip_code} on {day}" if many_days else zip_code
                if status == PARTIAL:
                    partial.append(f"{where} {label.removeprefix('partly collected ')}")
                else:
                    missing.append(where)
        problems = []
        if partial:
            problems.append(f"ZIP codes partly collected: {', '.join(partial)}")
        if missing:
            problems.append(f"ZIP codes not collected: {', '.join(missing)}")
        return problems

    @property
    def trustworthy(self) -> bool:
        """Nothing to warn the reader about."""
        return not (
            self.missing_days
            or self.quarantined
            or self.failed_zips
            or self.checks_not_passed
            or self.stale_days
        )

    def verdict(self) -> str:
        """One sentence on how far to trust the figures."""
        problems = []
        if self.missing_days:
            problems.append(f"{len(self.missing_days)} of {len(self.days)} days missing")
        stale = self.stale_days
        if len(stale) == 1:
            problems.append(f"{stale[0].day} built without {stale[0].day_before}'s snapshot")
        elif stale:
            problems.append(f"{len(stale)} days built without the day before's snapshot")
        problems.extend(self.collection_problems())
        if self.quarantined:
            problems.append(_count(self.quarantined, "record") + " quarantined")
        failed = [c for c in self.checks if c.outcome == "failed"]
        warned = [c for c in self.checks if c.outcome == "warned"]
        unknown = [c for c in self.checks if c.outcome in ("not finished", "not evaluated")]
        if failed:
            problems.append(_count(len(failed), "check result") + " failed")
        if warned:
            problems.append(_count(len(warned), "check warning"))
        if unknown:
            problems.append(_count(len(unknown), "check") + " without a result")
        if not problems:
            checked = f"all {len(self.checks)} check results passed" if self.checks else ""
            return "No data-quality problems" + (f": {checked}." if checked else ".")
        return "Read with care: " + "; ".join(problems) + "."

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready view (also stored with the report's document)."""
        return {
            "days": list(self.days),
            "missing_days": list(self.missing_days),
            "quarantined": self.quarantined,
            "quarantine_by_rule": dict(self.quarantine_by_rule),
            "failed_zips": [
                asdict(failure) | {"collection": failure.label()} for failure in self.failed_zips
            ],
            "checks_evaluated": len(self.checks),
            "checks_passed": self.checks_passed,
            "checks_not_passed": [asdict(check) for check in self.checks_not_passed],
            "sources": list(self.sources),
            "demo": self.demo,
            "notes": list(self.notes),
            "built_without_day_before": [
                asdict(gap) | {"sentence": gap.sentence()} for gap in self.day_before_gaps
            ],
            "verdict": self.verdict(),
        }


@dataclass(frozen=True)
class StoredFacts:
    """What MongoDB says about the days: quarantine, failed ZIPs, sources."""

    quarantined: int
    quarantine_by_rule: tuple[tuple[str, int], ...]
    failed_zips: tuple[FailedZip, ...]
    sources: tuple[str, ...]
    day_before_gaps: tuple[DayBeforeGap, ...] = ()


def _short(reason: str) -> str:
    line = " ".join(str(reason).split())
    return line if len(line) <= _MAX_REASON_LENGTH else line[: _MAX_REASON_LENGTH - 1] + "…"


def _day_before(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def _utc(value: Any) -> dt.datetime | None:
    """A manifest's ``written_at`` as an aware UTC datetime (a BSON date, or its text)."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, dt.datetime):
        return None
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


def _mls_may_be_missing(db: Database[Document], day: str, run_id: Any) -> bool:
    """Whether the day's MLS listings may be missing from its snapshot.

    A snapshot takes each MLS listing's latest version in the version log made before the
    day ended, as the log stood when the build read it (recorded in ``version_log_reads``
    for the run that wrote it); it is complete without the day before's snapshot unless a
    version made by the day's end reached the log after that read. A snapshot with no
    such record (written before the version log existed, when MLS listings were carried
    forward from the day before) may miss them.
    """
    read_at = log_read_at(
        db, SNAPSHOTS_COLLECTION, day, run_id if isinstance(run_id, str) else None
    )
    if read_at is None:
        return True
    return stored_after(db, INCREMENTAL_LOG, stored_since=read_at, modified_before=day_end(day))


def read_day_before_gaps(db: Database[Document], days: Sequence[str]) -> list[DayBeforeGap]:
    """The days of ``days`` whose stored snapshot was written while the day before's was
    not stored: missing now, or written after the day's (by ``partition_manifest``'s
    ``written_at``; a range written in one go shares one time, which is not a gap). A day
    not stored itself is not judged (it is a missing day), nor the first day there is.

    One query for the manifest entries; for each gap found, a probe of whether an
    incremental source (MLS) feeds the snapshots (the day's snapshot names it, or its
    version log holds anything) and, if so, whether the day's MLS listings may be missing
    (``_mls_may_be_missing``).
    """
    wanted = sorted({*days, *(_day_before(day) for day in days)})
    snapshots = PartitionStore(db, SNAPSHOTS_COLLECTION)
    entries = snapshots.entries(wanted, ["written_at", "run_id"])
    written = {key: _utc(entry.get("written_at")) for key, entry in entries.items()}
    gaps = []
    incremental_in_use: bool | None = None
    for day in sorted(days):
        before = _day_before(day)
        if day not in written or before < START_DATE:
            continue
        day_at, before_at = written[day], written.get(before)
        if before in written and (day_at is None or before_at is None or before_at <= day_at):
            continue
        if incremental_in_use is None:
            incremental_in_use = PartitionStore(db, INCREMENTAL_LOG).holds_anything()
        incremental = incremental_in_use or INCREMENTAL_SOURCE in snapshots.values_on_day(
            day, "sources"
        )
        gaps.append(
            DayBeforeGap(
                day=day,
                day_before=before,
                reason="written_after" if before in written else "missing",
                incremental=incremental,
                stale=incremental and _mls_may_be_missing(db, day, entries[day].get("run_id")),
                written_at=day_at.isoformat() if day_at else "",
                day_before_written_at=before_at.isoformat() if before_at else None,
            )
        )
    return gaps


def read_stored_facts(db: Database[Document], days: Sequence[str]) -> StoredFacts:
    """Quarantined records, failed ZIPs, the sources of the snapshots of ``days`` and the
    days built without the day before."""
    if not days:
        return StoredFacts(0, (), (), ())
    # By rule, a stable name: an entry's reason or detail may once have quoted a source.
    by_rule: Counter[str] = Counter(
        str(rule or UNCLASSIFIED) for rule in quarantine_rules(db, days)
    )
    failures = sorted(
        (
            FailedZip(
                source=str(doc.get("source", "")),
                zip_code=str(doc.get("zip_code", "")),
                day=str(doc.get("partition_key", "")),
                kind=str(doc.get("kind", "")),
                reason=_short(doc.get("reason", "")),
                records_read=(shortfall := shortfall_of(doc)).records_read,
                records_expected=shortfall.records_expected,
            )
            for doc in read_failures(db, days)
        ),
        key=lambda f: (f.day, f.source, f.zip_code),
    )
    # Every snapshot names the sources that reported it: one distinct per day, on the
    # indexed partition key, until every known source is seen.
    found: set[str] = set()
    snapshots = PartitionStore(db, SNAPSHOTS_COLLECTION)
    for day in days:
        if found.issuperset(KNOWN_SOURCES):
            break
        found |= snapshots.values_on_day(day, "sources")
    sources = [source for source in KNOWN_SOURCES if source in found]
    return StoredFacts(
        quarantined=sum(by_rule.values()),
        quarantine_by_rule=tuple(by_rule.most_common()),
        failed_zips=tuple(failures),
        sources=tuple(sources),
        day_before_gaps=tuple(read_day_before_gaps(db, days)),
    )


def _outcome(record: AssetCheckExecutionRecord | None) -> tuple[Outcome, str]:
    if record is None:
        return "not evaluated", ""
    if record.status == AssetCheckExecutionRecordStatus.PLANNED:
        return "not finished", ""
    evaluation = record.evaluation
    if evaluation is None:
        return "not evaluated", ""
    summary = evaluation.description or ""
    if evaluation.passed:
        return "passed", summary
    if evaluation.severity == dg.AssetCheckSeverity.WARN:
        return "warned", summary
    return "failed", summary


def read_check_outcomes(
    instance: dg.DagsterInstance,
    check_keys: Sequence[dg.AssetCheckKey],
    days: Sequence[str],
) -> list[CheckOutcome]:
    """The latest result of each check for each day (one storage query per day)."""
    storage = instance.event_log_storage
    outcomes = []
    for day in days:
        latest = storage.get_latest_asset_check_execution_by_key(
            list(check_keys), partition_filter=PartitionKeyFilter(key=day)
        )
        for key in check_keys:
            outcome, summary = _outcome(latest.get(key))
            outcomes.append(
                CheckOutcome(
                    asset=key.asset_key.to_user_string(),
                    check=key.name,
                    day=day,
                    outcome=outcome,
                    summary=summary,
                )
            )
    return outcomes


def wait_for_run_checks(
    instance: dg.DagsterInstance,
    run_id: str,
    check_keys: Iterable[dg.AssetCheckKey],
    days: Sequence[str],
    *,
    timeout_seconds: float,
    poll_seconds: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Wait until run ``run_id`` has evaluated each of ``check_keys`` for each of ``days``.

    A report and a non-blocking check of the same run may run in parallel; the report
    waits for the check rather than show an older result. Returns False on timeout.
    """
    keys = list(check_keys)
    if not keys or not days:
        return True
    deadline = clock() + timeout_seconds
    storage = instance.event_log_storage
    while True:
        pending = False
        for day in days:
            latest = storage.get_latest_asset_check_execution_by_key(
                keys, partition_filter=PartitionKeyFilter(key=day)
            )
            if any(
                (record := latest.get(key)) is None
                or record.run_id != run_id
                or record.status == AssetCheckExecutionRecordStatus.PLANNED
                for key in keys
            ):
                pending = True
                break
        if not pending:
            return True
        if clock() >= deadline:
            return False
        time.sleep(poll_seconds)


def quality_facts(
    stored: StoredFacts,
    checks: Sequence[CheckOutcome],
    days: Sequence[str],
    missing_days: Sequence[str] = (),
    notes: Sequence[str] = (),
) -> QualityFacts:
    """Put the facts together."""
    return QualityFacts(
        days=tuple(days),
        missing_days=tuple(missing_days),
        quarantined=stored.quarantined,
        quarantine_by_rule=stored.quarantine_by_rule,
        failed_zips=stored.failed_zips,
        checks=tuple(checks),
        sources=stored.sources,
        notes=tuple(notes),
        day_before_gaps=stored.day_before_gaps,
    )


def quality_metadata(facts: QualityFacts) -> Mapping[str, Any]:
    """Numeric metadata of the facts (the UI plots them over time)."""
    return {
        "quarantined": facts.quarantined,
        "zip_codes_failed": len({(f.source, f.zip_code, f.day) for f in facts.failed_zips}),
        "zip_codes_partly_collected": len(
            {(f.zip_code, f.day) for f in facts.failed_zips if f.records_read}
        ),
        "checks_not_passed": len(facts.checks_not_passed),
        "missing_days": len(facts.missing_days),
        "days_built_without_day_before": len(facts.stale_days),
    }
