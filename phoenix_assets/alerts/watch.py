"""One tick of alerting: read what ended in the Dagster instance, decide, send, move on.

What is read: runs that ended (FAILURE or SUCCESS) since the cursor, through the run
storage (``get_run_records`` with ``updated_after``), and the asset check results of
those runs (their ``ASSET_CHECK_EVALUATION`` events). Everything needed to resume is
in the cursor (JSON): the watermark, the runs already handled near it, and the
grouping state. Nothing goes through MongoDB, so alerts still work when it is down.

Run storage timestamps are written by many processes, so a run can appear in the
storage slightly after a run with a later timestamp: each query reaches back
``OVERLAP_SECONDS`` before the watermark, and the runs already handled in that window
are remembered so none is reported twice. A run touched again long after it ended (a
tag added) is recognised by its end time and ignored.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import dagster as dg

from phoenix_assets.alerts.dispatch import dispatch_alert
from phoenix_assets.alerts.grouping import AlertGrouper, Notice
from phoenix_assets.alerts.messages import build_notification, truncate
from phoenix_assets.alerts.observations import Observation, check_key, job_key
from phoenix_assets.delivery.channels import Channel, DeliveryReport
from phoenix_assets.delivery.settings import AlertSettings

OVERLAP_SECONDS = 120.0
RUN_PAGE_SIZE = 200
MAX_PAGES_PER_TICK = 10
CURSOR_VERSION = 1

WILL_RETRY_TAG = "dagster/will_retry"
PARTITION_TAG = "dagster/partition"
PARTITION_RANGE_START_TAG = "dagster/asset_partition_range_start"
PARTITION_RANGE_END_TAG = "dagster/asset_partition_range_end"

# Dagster wraps a step's own exception in these: the alert shows the exception inside.
_WRAPPER_ERRORS = frozenset(
    {
        "DagsterExecutionStepExecutionError",
        "DagsterResourceFunctionError",  # a resource failed to start (MongoDB unreachable)
        "DagsterUserCodeExecutionError",
        "RetryRequestedFromPolicy",
    }
)
_ENDED = [dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS]
_EVENTS_READ = {
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.RUN_FAILURE,
    dg.DagsterEventType.ASSET_CHECK_EVALUATION,
}
_MAX_STEPS_LISTED = 3
_MAX_CHECK_METADATA = 5


@dataclass
class AlertCursor:
    """The sensor's memory between ticks (stored as its cursor, as JSON)."""

    watermark: float  # latest run-storage update time handled (POSIX seconds)
    seen: dict[str, float] = field(default_factory=dict)  # run id -> its update time
    groups: dict[str, Any] = field(default_factory=dict)  # AlertGrouper.to_json()
    last_tick_at: float = 0.0

    def to_json(self) -> str:
        return json.dumps(
            {
                "version": CURSOR_VERSION,
                "watermark": self.watermark,
                "seen": self.seen,
                "groups": self.groups,
                "last_tick_at": self.last_tick_at,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | None) -> AlertCursor | None:
        """The cursor saved by ``to_json``, or None when there is none or it is unreadable."""
        if not text:
            return None
        try:
            data = json.loads(text)
            if data.get("version") != CURSOR_VERSION:
                return None
            return cls(
                watermark=float(data["watermark"]),
                seen={str(k): float(v) for k, v in dict(data.get("seen") or {}).items()},
                groups=dict(data.get("groups") or {}),
                last_tick_at=float(data.get("last_tick_at") or 0.0),
            )
        except (ValueError, TypeError, KeyError, AttributeError):
            return None


@dataclass(frozen=True)
class TickOutcome:
    """What a tick did: the next cursor, a one-line summary, what was sent."""

    cursor: str
    summary: str
    notices: tuple[Notice, ...] = ()
    report: DeliveryReport | None = None


def evaluate_alerts(
    instance: dg.DagsterInstance,
    cursor: str | None,
    *,
    settings: AlertSettings,
    channels: Sequence[Channel],
    belongs: Callable[[dg.DagsterRun], bool],
    logger: logging.Logger,
    now: float,
    started_at: float | None = None,
    location: str = "phoenix_assets",
    secrets: Iterable[str] = (),
) -> TickOutcome:
    """Run one tick. ``belongs`` says whether a run is this code location's; ``started_at``
    is when the sensor was last turned on (a restart starts again from ``now``)."""
    state = AlertCursor.from_json(cursor)
    if state is None or (started_at is not None and started_at > state.last_tick_at):
        return _start(instance, state, now=now)

    grouper = AlertGrouper.from_json(state.groups, cooldown_seconds=settings.cooldown_seconds)
    records = _ended_runs(instance, state)
    too_old = state.watermark - OVERLAP_SECONDS
    observations: list[Observation] = []
    handled = 0
    for record in records:
        run = record.dagster_run
        updated = record.update_timestamp.timestamp()
        state.watermark = max(state.watermark, updated)
        if run.run_id in state.seen:
            continue
        state.seen[run.run_id] = updated
        ended = record.end_time or updated
        if ended < too_old or not belongs(run):
            continue
        if run.status == dg.DagsterRunStatus.FAILURE and run.tags.get(WILL_RETRY_TAG) == "true":
            # The daemon re-executes it; its retry's outcome is the one to report.
            continue
        handled += 1
        observations.extend(_observations_of(instance, run, ended))

    pairs: list[tuple[Notice, Observation]] = []
    for observation in sorted(observations, key=lambda o: o.at):
        notice = (
            grouper.success(observation.key, observation.at)
            if observation.ok
            else grouper.failure(observation.key, observation.at)
        )
        if notice is not None:
            pairs.append((notice, observation))
    grouper.prune(now)
    state.groups = grouper.to_json()
    state.seen = {
        run_id: updated
        for run_id, updated in state.seen.items()
        if updated >= state.watermark - OVERLAP_SECONDS
    }
    state.last_tick_at = now

    report: DeliveryReport | None = None
    if pairs:
        notification = build_notification(
            pairs,
            ui_url=settings.ui_url,
            cooldown_minutes=settings.cooldown_minutes,
            location=location,
            secrets=(*settings.secrets(), *secrets),
        )
        report = dispatch_alert(notification, channels, logger=logger)
    return TickOutcome(
        cursor=state.to_json(),
        summary=_summary(handled, pairs, report),
        notices=tuple(notice for notice, _ in pairs),
        report=report,
    )


def _start(
    instance: dg.DagsterInstance, previous: AlertCursor | None, *, now: float
) -> TickOutcome:
    """First tick (or first after the sensor was turned on again): watch from ``now`` on.

    The runs that ended in the overlap window just before ``now`` are marked as handled,
    so nothing from before the start is ever reported. Grouping state survives a restart.
    """
    state = AlertCursor(
        watermark=now,
        groups=previous.groups if previous else {},
        last_tick_at=now,
    )
    for record in _ended_runs(instance, state):
        state.seen[record.dagster_run.run_id] = record.update_timestamp.timestamp()
    started = dt.datetime.fromtimestamp(now, dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    return TickOutcome(
        cursor=state.to_json(),
        summary=f"Watching runs that end from {started} on; earlier runs are not reported.",
    )


def _ended_runs(instance: dg.DagsterInstance, state: AlertCursor) -> list[dg.RunRecord]:
    """Runs that ended (or were otherwise updated) since the watermark, oldest first."""
    after = state.watermark - OVERLAP_SECONDS
    found: list[dg.RunRecord] = []
    for _ in range(MAX_PAGES_PER_TICK):
        page = instance.get_run_records(
            filters=dg.RunsFilter(
                statuses=_ENDED,
                updated_after=dt.datetime.fromtimestamp(after, dt.UTC),
            ),
            limit=RUN_PAGE_SIZE,
            order_by="update_timestamp",
            ascending=True,
        )
        found.extend(page)
        if len(page) < RUN_PAGE_SIZE:
            break
        # A full page: the next one starts after its last update time.
        after = page[-1].update_timestamp.timestamp()
    return found


def _observations_of(
    instance: dg.DagsterInstance, run: dg.DagsterRun, ended: float
) -> list[Observation]:
    """The run's own outcome, and the outcome of each asset check it evaluated."""
    records = instance.get_records_for_run(run.run_id, of_type=_EVENTS_READ).records
    step_errors: list[str] = []
    run_error = ""
    checks: dict[tuple[str, str], list[tuple[float, Any]]] = {}
    for record in records:
        entry = record.event_log_entry
        event = entry.dagster_event
        if event is None:
            continue
        if event.event_type == dg.DagsterEventType.STEP_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            step_errors.append(f"Step {event.step_key!r} failed: {_error_text(error)}")
        elif event.event_type == dg.DagsterEventType.RUN_FAILURE:
            error = getattr(event.event_specific_data, "error", None)
            run_error = _error_text(error) if error else (event.message or entry.message or "")
        elif event.event_type == dg.DagsterEventType.ASSET_CHECK_EVALUATION:
            evaluation = event.event_specific_data
            if not isinstance(evaluation, dg.AssetCheckEvaluation):
                continue
            name = (evaluation.asset_key.to_user_string(), evaluation.check_name)
            checks.setdefault(name, []).append((entry.timestamp, evaluation))

    partition = _partition_of(run)
    observations = [
        Observation(
            kind="job",
            key=job_key(run.job_name),
            name=run.job_name,
            at=ended,
            ok=run.status == dg.DagsterRunStatus.SUCCESS,
            run_id=run.run_id,
            job_name=run.job_name,
            partition=partition,
            error=_run_error_summary(step_errors, run_error),
        )
    ]
    for (asset, check), evaluations in checks.items():
        observations.append(_check_observation(run, asset, check, evaluations, partition))
    return observations


def _check_observation(
    run: dg.DagsterRun,
    asset: str,
    check: str,
    evaluations: list[tuple[float, Any]],
    run_partition: str | None,
) -> Observation:
    """A check's outcome in one run: failed if any of its evaluations (partitions) failed.

    One result per run, so a backfill whose partitions pass and fail in turn is one
    failure, not a flapping series of alerts and recoveries.
    """
    failed = [evaluation for _, evaluation in evaluations if not evaluation.passed]
    severity = None
    error = ""
    failed_partitions: tuple[str, ...] = ()
    if failed:
        severities = {evaluation.severity.value for evaluation in failed}
        severity = "ERROR" if "ERROR" in severities else "WARN"
        first = failed[0]
        error = _check_error_text(first)
        failed_partitions = tuple(sorted({e.partition for e in failed if e.partition}))
    partitions = {evaluation.partition for _, evaluation in evaluations if evaluation.partition}
    return Observation(
        kind="check",
        key=check_key(asset, check),
        name=f"{asset}:{check}",
        at=max(timestamp for timestamp, _ in evaluations),
        ok=not failed,
        run_id=run.run_id,
        job_name=run.job_name,
        partition=next(iter(partitions)) if len(partitions) == 1 else run_partition,
        error=error,
        severity=severity,
        failed_partitions=failed_partitions if len(partitions) > 1 else (),
    )


def _check_error_text(evaluation: Any) -> str:
    lines = [evaluation.description] if evaluation.description else []
    shown = 0
    for name, value in (evaluation.metadata or {}).items():
        raw = getattr(value, "value", value)
        if isinstance(raw, (str, int, float, bool)) and shown < _MAX_CHECK_METADATA:
            lines.append(f"{name}: {truncate(str(raw), 200)}")
            shown += 1
    return "\n".join(lines) or "The check did not pass."


def _partition_of(run: dg.DagsterRun) -> str | None:
    tags = run.tags
    if tags.get(PARTITION_TAG):
        return tags[PARTITION_TAG]
    start, end = tags.get(PARTITION_RANGE_START_TAG), tags.get(PARTITION_RANGE_END_TAG)
    if start and end:
        return start if start == end else f"{start} … {end}"
    return None


def _error_text(error: Any) -> str:
    """The innermost meaningful message of a serialized error, first lines only."""
    chain: list[Any] = []
    while error is not None and len(chain) < 10:
        chain.append(error)
        error = error.cause
    meaningful = [e for e in chain if e.cls_name not in _WRAPPER_ERRORS] or chain
    if not meaningful:
        return "unknown error"
    message = meaningful[0].message.strip()
    return truncate("\n".join(message.splitlines()[:6]), 400)


def _run_error_summary(step_errors: list[str], run_error: str) -> str:
    if step_errors:
        lines = step_errors[:_MAX_STEPS_LISTED]
        if len(step_errors) > _MAX_STEPS_LISTED:
            lines.append(f"… and {len(step_errors) - _MAX_STEPS_LISTED} more failed steps")
        return "\n".join(lines)
    return run_error


def _summary(
    handled: int, pairs: list[tuple[Notice, Observation]], report: DeliveryReport | None
) -> str:
    text = f"{handled} run{'s' if handled != 1 else ''} ended"
    if not pairs:
        return text + "; no alert to send."
    text += f"; {len(pairs)} alert notice{'s' if len(pairs) != 1 else ''}"
    if report is None or (not report.delivered and not report.failed):
        return text + ", not sent: no alert channel configured."
    if report.delivered:
        text += f", sent by {', '.join(report.delivered)}"
    if report.failed:
        text += "; failed: " + "; ".join(f"{name}: {reason}" for name, reason in report.failed)
    return text + "."
