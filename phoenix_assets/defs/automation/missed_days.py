"""The missed-day sensor: backfills daily partitions that never completed, and what they feed.

Each tick looks back ``PHOENIX_BACKFILL_LOOKBACK_DAYS`` (default 14) days. An
asset-partition of the daily graph needs rebuilding when it is missing or failed, or
when it is **stale**: one of its parents of the same day or the day before was
materialized after it (a repaired day, a partition rebuilt by hand). A day with such a
partition needs a backfill when no run is working on it, no backfill that is still
running covers it, and it has not used up its ``PHOENIX_BACKFILL_MAX_ATTEMPTS`` (the
attempts are counted in the sensor's cursor), so a day that cannot succeed does not
spin: it fails, the run-failure alert tells a person, and the sensor leaves it alone.

**Propagation.** A day is read by the days after it: the snapshot of day D carries
day D-1's forward, the events of D compare D with D-1, the report of D charts the
summaries up to D. A day rebuilt after later days exist would leave them built from
what it was before. So the backfill covers what the chosen days need AND everything
downstream of it in the window: the snapshot of D+1, its events, summary and report,
then D+2 ... up to the last due day (the raw assets of later days are roots: they are
never collected again). It stops at a day a run or a running backfill is working on;
what lies after that day is found stale once the work is done. The relations come
from the assets' partition mappings, kept to the same day and the day before: older
days of a wider window (the Assessor's 60 days, the report's 30-day charts) are
history, and must not make a month stale at every repair.

All of it is ONE backfill (each asset's single-run policy makes a range of days one
run, and Dagster runs the assets in dependency order, each asset's days in order, so
a backfill never looks stale to itself); only what needs rebuilding is requested, so
a day whose sources were collected is not collected again.

Why a sensor and not declarative automation (``AutomationCondition``): conditions are
judged per asset-partition with no memory of how often a day was tried (and the stock
``eager()`` looks at the latest day only), while this needs a give-up after N attempts
per day, a grace period behind the daily schedule, and one backfill per gap with
everything after it, stated and tested as plain functions over the instance's storage.

The day the schedule is about to run (or is running) is not the sensor's business:
a day is due only ``PHOENIX_BACKFILL_GRACE_HOURS`` after its scheduled run time.
"""

import datetime as dt
import json
from collections import deque
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import dagster as dg

from phoenix_assets.dagster_compat import (
    AssetGraphSubset,
    AssetKeyPartitionKey,
    BulkActionsFilter,
    BulkActionStatus,
)
from phoenix_assets.defs.automation.policies import run_tags
from phoenix_assets.defs.automation.settings import MissedDaySettings, automation_default_status
from phoenix_assets.defs.jobs import DAILY_GRAPH
from phoenix_assets.partitions import START_DATE, TIMEZONE, daily_partitions

# The daily schedule runs a day's partition 3 hours after the day ends (03:00 in Phoenix).
SCHEDULED_DELAY = dt.timedelta(hours=3)
TRIGGER_TAG = "phoenix/trigger"

# An asset-partition of the daily graph: (asset name, day).
Node = tuple[str, str]


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


def day_before(day: str) -> str:
    return (dt.date.fromisoformat(day) - dt.timedelta(days=1)).isoformat()


def stale_partitions(
    parents: Mapping[Node, Iterable[Node]], latest: Mapping[Node, int]
) -> set[Node]:
    """The materialized partitions one of whose parents was materialized after them.

    ``latest`` holds each partition's latest materialization storage id (monotonic in
    the instance's event log); a partition never materialized is missing, not stale,
    and a parent never materialized makes nothing stale.
    """
    stale: set[Node] = set()
    for child, its_parents in parents.items():
        own = latest.get(child)
        if own is not None and any(latest.get(parent, -1) > own for parent in its_parents):
            stale.add(child)
    return stale


def downstream_closure(
    seeds: Iterable[Node],
    parents: Mapping[Node, Iterable[Node]],
    allowed: Callable[[Node], bool] = lambda _node: True,
) -> set[Node]:
    """The seeds and everything that reads them, transitively, through ``allowed`` nodes.

    ``parents`` maps each child to the partitions it reads; the closure follows it the
    other way. A node that is not ``allowed`` is neither added nor crossed: what lies
    behind it is left for a later tick, which will find it stale.
    """
    children: dict[Node, list[Node]] = {}
    for child, its_parents in parents.items():
        for parent in its_parents:
            children.setdefault(parent, []).append(child)
    closure = {seed for seed in seeds if allowed(seed)}
    queue = deque(closure)
    while queue:
        for child in children.get(queue.popleft(), ()):
            if child not in closure and allowed(child):
                closure.add(child)
                queue.append(child)
    return closure


@dataclass(frozen=True)
class BackfillPlan:
    """What one tick backfills, and why the other days that need work are left alone."""

    targets: frozenset[Node] = frozenset()
    # Days that needed work of their own (missing, failed or stale): their attempts count.
    chosen_days: tuple[str, ...] = ()
    # Days rebuilt only because an earlier day they read is: their attempts do not count.
    propagated_days: tuple[str, ...] = ()
    stale: frozenset[Node] = frozenset()
    skipped: Mapping[str, str] = field(default_factory=dict)


def plan_backfill(
    days: Sequence[str],
    statuses: Mapping[str, Mapping[str, str | None]],
    parents: Mapping[Node, Iterable[Node]],
    latest: Mapping[Node, int],
    covered: Collection[str],
    attempts: Mapping[str, int],
    max_attempts: int,
) -> BackfillPlan:
    """The asset-partitions of ``days`` to backfill in one go.

    ``statuses`` holds, per asset of the daily graph, each day's status name
    (``MATERIALIZED``, ``FAILED``, ``IN_PROGRESS``, or None for never); ``parents`` the
    partitions each partition of ``days`` reads (same day and day before); ``latest``
    the latest materialization storage id of each partition; ``covered`` the days a
    running backfill targets; ``attempts`` the backfills already launched per day.
    """
    window = set(days)
    busy: dict[str, str] = {}
    for day in days:
        if any(by_day.get(day) == "IN_PROGRESS" for by_day in statuses.values()):
            busy[day] = "a run is working on it"
        elif day in covered:
            busy[day] = "a running backfill covers it"
    stale = {node for node in stale_partitions(parents, latest) if node[1] in window}
    lacking = {
        (asset, day)
        for asset, by_day in statuses.items()
        for day in days
        if by_day.get(day) != "MATERIALIZED"
    }
    needing = lacking | stale
    chosen: list[str] = []
    skipped: dict[str, str] = {}
    for day in days:
        if not any(node[1] == day for node in needing):
            continue
        if day in busy:
            skipped[day] = busy[day]
        elif attempts.get(day, 0) >= max_attempts:
            skipped[day] = f"gave up after {attempts[day]} backfills"
        else:
            chosen.append(day)
    # The closure crosses a given-up day (a repair before it bounds how often), never a
    # busy one: whatever is downstream of work in progress waits until it is done.
    targets = downstream_closure(
        (node for node in needing if node[1] in chosen),
        parents,
        allowed=lambda node: node[1] in window and node[1] not in busy,
    )
    target_days = {node[1] for node in targets}
    return BackfillPlan(
        targets=frozenset(targets),
        chosen_days=tuple(chosen),
        propagated_days=tuple(day for day in days if day in target_days and day not in chosen),
        stale=frozenset(stale),
        skipped=skipped,
    )


def daily_parents(
    repository: dg.RepositoryDefinition, keys: Collection[dg.AssetKey], days: Sequence[str]
) -> dict[Node, set[Node]]:
    """Per asset-partition of ``days``, the partitions of the daily graph it reads on the
    same day or the day before, as its assets' partition mappings say.

    Only public APIs: each asset's dependencies and partition mapping (none means the
    same day), mapped one day at a time. A window reaching further back (the Assessor's
    60 days, the report's 30) counts only for its last two days.
    """
    parents: dict[Node, set[Node]] = {}
    for key in keys:
        assets_def = repository.assets_defs_by_key[key]
        name = key.to_user_string()
        for day in days:
            parents[(name, day)] = set()
        for parent in assets_def.asset_deps[key]:
            if parent not in keys:
                continue
            mapping = assets_def.get_partition_mapping(parent) or dg.IdentityPartitionMapping()
            for day in days:
                upstream = mapping.get_upstream_mapped_partitions_result_for_partitions(
                    daily_partitions.subset_with_partition_keys([day]),
                    daily_partitions,
                    daily_partitions,
                ).partitions_subset.get_partition_keys()
                near = {day, day_before(day)}
                parents[(name, day)].update(
                    (parent.to_user_string(), upstream_day)
                    for upstream_day in upstream
                    if upstream_day in near
                )
    return parents


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


def _backfill_request(
    targets: Iterable[Node], asset_graph: object, tags: Mapping[str, str]
) -> dg.RunRequest:
    """One run request backfilling exactly ``targets``.

    ``AssetGraphSubset`` (private, see ``dagster_compat``) is the only way to request an
    asset backfill whose days differ per asset; the daemon turns it into one asset
    backfill.
    """
    subset = AssetGraphSubset.from_asset_partition_set(
        {AssetKeyPartitionKey(dg.AssetKey.from_user_string(name), day) for name, day in targets},
        asset_graph,  # type: ignore[arg-type]
    )
    return dg.RunRequest.for_asset_graph_subset(subset, tags=dict(tags))


def _partly_collected(
    instance: dg.DagsterInstance, key: dg.AssetKey, days: Sequence[str]
) -> set[str]:
    """Days whose latest materialization of ``key`` says some ZIP codes failed
    (``zip_codes_failed``, set by the network sources' raw assets)."""
    if not days:
        return set()
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(days)), limit=len(days) * 4
    ).records
    latest: dict[str, object] = {}
    for record in records:  # newest first
        materialization = record.asset_materialization
        if materialization is None or materialization.partition in latest:
            continue
        failed = materialization.metadata.get("zip_codes_failed")
        latest[str(materialization.partition)] = getattr(failed, "value", failed)
    return {day for day, failed in latest.items() if isinstance(failed, list) and failed}


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
            f"missing, failed or stale, with what they feed on the days after them, as "
            f"one backfill; never a second one for the same days."
        ),
    )
    def missed_day_backfill(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        """Look back over recent days and launch one backfill for the incomplete ones."""
        days = due_days(dt.datetime.now(dt.UTC), settings)
        if context.repository_def is None:  # the daemon always passes it
            raise dg.DagsterInvariantViolationError("the sensor needs its repository")
        repository = context.repository_def
        asset_graph = repository.asset_graph
        keys = sorted(DAILY_GRAPH.resolve(asset_graph), key=lambda k: k.to_user_string())
        instance = context.instance
        statuses: dict[str, dict[str, str | None]] = {}
        latest: dict[Node, int] = {}
        # The day before the window too: the window's first day reads it.
        read_days = {*days, day_before(days[0])} if days else set()
        parents = daily_parents(repository, keys, days)
        # The sources: nothing in the graph feeds them.
        fed = {node[0] for node, read in parents.items() if read}
        for key in keys:
            name = key.to_user_string()
            by_day = instance.get_status_by_partition(key, days, daily_partitions) or {}
            statuses[name] = {day: s.value if s else None for day, s in by_day.items()}
            if name not in fed:
                for day in _partly_collected(instance, key, days):
                    # Some ZIPs failed: collect the day again (a re-run adds, never deletes).
                    statuses[name][day] = "FAILED"
            storage_ids = instance.get_latest_storage_id_by_partition(
                key, dg.DagsterEventType.ASSET_MATERIALIZATION, read_days
            )
            latest.update(((name, day), storage_id) for day, storage_id in storage_ids.items())
        attempts = _load_attempts(context.cursor, set(days))
        plan = plan_backfill(
            days,
            statuses,
            parents,
            latest,
            covered=_covered_by_running_backfills(instance, asset_graph, keys),
            attempts=attempts,
            max_attempts=settings.max_attempts,
        )
        for day, reason in plan.skipped.items():
            context.log.info(f"{day} needs work but is left alone: {reason}")
        if plan.stale:
            stale = ", ".join(f"{name}[{day}]" for name, day in sorted(plan.stale))
            context.log.info(f"stale (a parent was rebuilt after them): {stale}")
        # Attempts count for the days that needed work of their own (missing, failed or
        # stale): a day that cannot be made good stops after max_attempts, and a stale
        # day that stays stale after its rebuild stops too, so propagation cannot spin.
        # A day rebuilt only because an earlier day is repaired is not charged: its
        # rebuild lasts as long as that day's attempts, and a later gap of its own still
        # gets all its tries. If its rebuild fails, it is failed next tick, and counts.
        for day in plan.chosen_days:
            attempts[day] = attempts.get(day, 0) + 1
        cursor = json.dumps({"attempts": attempts}, sort_keys=True)
        if not plan.targets:
            return dg.SensorResult(
                skip_reason=dg.SkipReason(
                    f"no day of {days[0]}..{days[-1]} needs a backfill"
                    if days
                    else "no day is due yet"
                ),
                cursor=cursor,
            )
        context.log.info(
            f"backfilling {len(plan.chosen_days)} day(s): {', '.join(plan.chosen_days)}"
            + (
                f"; rebuilding what they feed on {', '.join(plan.propagated_days)}"
                if plan.propagated_days
                else ""
            )
        )
        # Only what needs it: a day whose sources were collected but whose report failed
        # gets its report rebuilt, and its sources are not asked again.
        request = _backfill_request(
            plan.targets, asset_graph, {**run_tags(), TRIGGER_TAG: "missed_day_backfill"}
        )
        return dg.SensorResult(run_requests=[request], cursor=cursor)

    return missed_day_backfill


@dg.definitions
def missed_day_definitions() -> dg.Definitions:
    return dg.Definitions(sensors=[build_missed_day_sensor(MissedDaySettings.from_env())])
