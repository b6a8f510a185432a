"""The missed-day sensor: finds daily partitions that never completed and backfills them.

Each tick looks back ``PHOENIX_BACKFILL_LOOKBACK_DAYS`` (default 14) days. A day needs a
backfill when any asset of the daily graph is missing or failed for it, no run is
working on it, and no backfill that is still running covers it. All such days go into
ONE backfill of what they lack: on each day, the assets not materialized, so a day
whose sources were collected is not collected again (each asset's single-run policy
makes a range of days one run). A day is tried at most
``PHOENIX_BACKFILL_MAX_ATTEMPTS`` times (the attempts are counted in the sensor's
cursor), so a day that cannot succeed does not spin: it fails, the run-failure alert
tells a person, and the sensor leaves it alone.

The day the schedule is about to run (or is running) is not the sensor's business:
a day is due only ``PHOENIX_BACKFILL_GRACE_HOURS`` after its scheduled run time.
"""

import datetime as dt
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.definitions.assets.graph.asset_graph_subset import AssetGraphSubset
from dagster._core.definitions.events import AssetKeyPartitionKey
from dagster._core.execution.backfill import BulkActionsFilter, BulkActionStatus

from phoenix_assets.defs.automation.policies import automation_default_status, run_tags
from phoenix_assets.defs.jobs import DAILY_GRAPH
from phoenix_assets.partitions import START_DATE, TIMEZONE, daily_partitions
from phoenix_assets.settings import parse_number_setting

PHOENIX_BACKFILL_LOOKBACK_DAYS = "PHOENIX_BACKFILL_LOOKBACK_DAYS"
PHOENIX_BACKFILL_MAX_ATTEMPTS = "PHOENIX_BACKFILL_MAX_ATTEMPTS"
PHOENIX_BACKFILL_GRACE_HOURS = "PHOENIX_BACKFILL_GRACE_HOURS"
PHOENIX_BACKFILL_INTERVAL_SECONDS = "PHOENIX_BACKFILL_INTERVAL_SECONDS"

# The daily schedule runs a day's partition 3 hours after the day ends (03:00 in Phoenix).
SCHEDULED_DELAY = dt.timedelta(hours=3)
TRIGGER_TAG = "phoenix/trigger"


@dataclass(frozen=True)
class MissedDaySettings:
    """How far back the sensor looks, how often it tries a day, how long it waits."""

    lookback_days: int = 14
    max_attempts: int = 3
    grace: dt.timedelta = dt.timedelta(hours=3)
    interval_seconds: int = 600

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> "MissedDaySettings":
        env = os.environ if env is None else env
        return cls(
            lookback_days=parse_number_setting(
                env, PHOENIX_BACKFILL_LOOKBACK_DAYS, 14, integer=True, minimum=1, maximum=366
            ),
            max_attempts=parse_number_setting(
                env, PHOENIX_BACKFILL_MAX_ATTEMPTS, 3, integer=True, minimum=1
            ),
            grace=dt.timedelta(
                # At most the longest look-back (beyond, a timedelta would overflow).
                hours=parse_number_setting(
                    env, PHOENIX_BACKFILL_GRACE_HOURS, 3, integer=False, minimum=0, maximum=24 * 366
                )
            ),
            interval_seconds=parse_number_setting(
                env, PHOENIX_BACKFILL_INTERVAL_SECONDS, 600, integer=True, minimum=5
            ),
        )


def due_days(now: dt.datetime, settings: MissedDaySettings) -> list[str]:
    """The daily partitions of the look-back window whose scheduled run (plus grace) is past."""
    latest_end = (now - SCHEDULED_DELAY - settings.grace).astimezone(ZoneInfo(TIMEZONE))
    last_day = latest_end.date() - dt.timedelta(days=1)  # the last day that had ended by then
    first_day = max(
        last_day - dt.timedelta(days=settings.lookback_days - 1), dt.date.fromisoformat(START_DATE)
    )
    return [
        (first_day + dt.timedelta(days=offset)).isoformat()
        for offset in range((last_day - first_day).days + 1)
    ]


def days_needing_backfill(
    days: Sequence[str],
    statuses: Iterable[Mapping[str, str | None]],
    covered: set[str],
    attempts: Mapping[str, int],
    max_attempts: int,
) -> tuple[list[str], dict[str, str]]:
    """Which ``days`` to backfill, and why each other incomplete day is left alone.

    ``statuses`` holds, per asset of the daily graph, each day's status name
    (``MATERIALIZED``, ``FAILED``, ``IN_PROGRESS``, or None for never).
    """
    per_asset = list(statuses)
    chosen: list[str] = []
    skipped: dict[str, str] = {}
    for day in days:
        day_statuses = [asset.get(day) for asset in per_asset]
        if all(status == "MATERIALIZED" for status in day_statuses):
            continue
        if "IN_PROGRESS" in day_statuses:
            skipped[day] = "a run is working on it"
        elif day in covered:
            skipped[day] = "a running backfill covers it"
        elif attempts.get(day, 0) >= max_attempts:
            skipped[day] = f"gave up after {attempts[day]} backfills"
        else:
            chosen.append(day)
    return chosen, skipped


def _covered_by_running_backfills(
    instance: dg.DagsterInstance, asset_graph: object, keys: Iterable[dg.AssetKey]
) -> set[str]:
    """Days of the daily graph that a backfill still running targets."""
    covered: set[str] = set()
    keys = set(keys)
    running = instance.get_backfills(
        filters=BulkActionsFilter(statuses=[BulkActionStatus.REQUESTED])
    )
    for backfill in running:
        if backfill.is_asset_backfill:
            target = backfill.get_asset_backfill_data(asset_graph).target_subset  # type: ignore[arg-type]
            for key in keys & target.asset_keys:
                covered.update(target.get_partitions_subset(key).get_partition_keys())
        elif backfill.partition_names:
            covered.update(backfill.partition_names)
    return covered


def _load_attempts(cursor: str | None, window: set[str]) -> dict[str, int]:
    attempts = json.loads(cursor).get("attempts", {}) if cursor else {}
    return {day: int(n) for day, n in attempts.items() if day in window}


def build_missed_day_sensor(settings: MissedDaySettings) -> dg.SensorDefinition:
    """The sensor, with its settings fixed when the code location loads."""

    @dg.sensor(
        name="missed_day_backfill",
        asset_selection=DAILY_GRAPH,
        minimum_interval_seconds=settings.interval_seconds,
        default_status=automation_default_status(),
        description=(
            f"Backfills days of the last {settings.lookback_days} whose daily graph is "
            f"missing or failed, as one backfill; never a second one for the same days."
        ),
    )
    def missed_day_backfill(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Look back over recent days and launch one backfill for the incomplete ones."""
        days = due_days(dt.datetime.now(dt.UTC), settings)
        if context.repository_def is None:  # the daemon always passes it
            raise dg.DagsterInvariantViolationError("the sensor needs its repository")
        asset_graph = context.repository_def.asset_graph
        keys = sorted(DAILY_GRAPH.resolve(asset_graph), key=lambda k: k.to_user_string())
        statuses = []
        for key in keys:
            by_day = context.instance.get_status_by_partition(key, days, daily_partitions) or {}
            statuses.append({day: s.value if s else None for day, s in by_day.items()})
        covered = _covered_by_running_backfills(context.instance, asset_graph, keys)
        attempts = _load_attempts(context.cursor, set(days))
        chosen, skipped = days_needing_backfill(
            days, statuses, covered, attempts, settings.max_attempts
        )
        for day, reason in skipped.items():
            context.log.info(f"{day} is incomplete but left alone: {reason}")
        for day in chosen:
            attempts[day] = attempts.get(day, 0) + 1
        cursor = json.dumps({"attempts": attempts}, sort_keys=True)
        if not chosen:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"no day of {days[0]}..{days[-1]} needs a backfill"
                    if days
                    else "no day is due yet"
                ),
                cursor=cursor,
            )
        context.log.info(f"backfilling {len(chosen)} day(s): {', '.join(chosen)}")
        # Only what is missing: a day whose sources were collected but whose report
        # failed gets its report rebuilt, and its sources are not asked again.
        subset = AssetGraphSubset.from_asset_partition_set(
            {
                AssetKeyPartitionKey(key, day)
                for key, by_day in zip(keys, statuses, strict=True)
                for day in chosen
                if by_day.get(day) != "MATERIALIZED"
            },
            asset_graph,
        )
        request = dg.RunRequest.for_asset_graph_subset(
            subset,
            tags={**run_tags(), TRIGGER_TAG: "missed_day_backfill"},
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return missed_day_backfill


@dg.definitions
def missed_day_definitions() -> dg.Definitions:
    return dg.Definitions(sensors=[build_missed_day_sensor(MissedDaySettings.from_env())])
