"""Failed, missed, late and out-of-order days of the MLS source, against the truth.

A RESO server keeps only each listing's latest version, so what a day's snapshot can
show depends on when the source was asked. These scenarios run the real code location
(the ``daily_pipeline`` job, one Dagster instance per scenario) against a RESO server
with a clock (``sources.reso_history``): listing histories over five days, the server
holding at each run's clock exactly what a real one would. Per day the stored snapshot
(``property_snapshots``) is compared with the truth (on-market count, property ids,
statuses, list prices), and the differences allowed are stated precisely: the listings
whose state on that day comes from a version the server overwrote before any
collection that reached it.

Besides the truth, every run is checked against what its version log must hold: the
log's ``_id``\\ s are exactly the versions the server served to the runs that stored
(``raw_mls.day_windows``: per ZIP, the versions modified since the run's first day
began less 24 h; a ZIP without an inventory baseline on or before that day also its
standing inventory and the week before), and a day's snapshot is exactly the state
those versions tell. After every run the log's ``_id``\\ s contain those of the run
before: no version is ever deleted.

Scenarios: (a) clean days in order; (b) a day whose run fails, repaired later; (c) a
day never run, backfilled later; (d) one run over a gap of three days; (e) every day
twice in random order after the fact; (f) a first run against a feed untouched for
months; (g) one ZIP down for a day; (h) one ZIP down during the very first run; (i)
days built on a day before moved into the snapshot history; (j) scenario e with the
history compacted after every run; and an ended listing's last day, and the staleness
check's precision.

The daily schedule collects a day at 03:00 the next morning (Phoenix); the histories
change only between 07:00 and 21:30, so an on-time run sees every version of its day.
The days are fixed dates in November 2026: the collector distrusts modification times
more than a day ahead of the real clock, so they must lie in the past (they do from
2026-11-08 on).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pymongo.database import Database
from pytest_httpserver import HTTPServer

import phoenix_assets
from phoenix_assets.defs.automation.missed_days import due_days
from phoenix_assets.defs.automation.settings import MissedDaySettings
from phoenix_assets.storage.partition_store import written_partitions
from phoenix_assets.storage.snapshot_history import compact_month, compacted_generations, read_days
from phoenix_assets.storage.version_log import stored_after, to_micros
from phoenix_assets_tests.sources.fake_reso import make_listing
from phoenix_assets_tests.sources.reso_history import (
    ENDED_VISIBLE_DAYS,
    DayTruth,
    HistoryReso,
    ListingBuilder,
    ListingHistory,
    ListingState,
    Version,
    at_phoenix,
    day_end,
    day_start,
    phoenix_histories,
    scheduled_clock,
    served_versions,
    shown_on,
    state_of,
    truth,
    truth_version,
)

ZIPS = ("85018", "85033")
FIRST_DAY = dt.date(2026, 11, 2)
DAYS = [(FIRST_DAY + dt.timedelta(days=n)).isoformat() for n in range(5)]
D1, D2, D3, D4, D5 = DAYS
SEED = 20261102
TOKEN = "static-token-for-the-missed-days-tests"
# ~40 runs: the console shows their warnings and errors only.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
RAW = "raw_mls_listings"
SNAPSHOTS = "property_snapshots"
RANGE_START = "dagster/asset_partition_range_start"
RANGE_END = "dagster/asset_partition_range_end"
# The collector's window (raw_mls.day_windows, MLS_RESO_OVERLAP_HOURS at its default).
OVERLAP = dt.timedelta(hours=24)
INVENTORY_WEEK = dt.timedelta(days=ENDED_VISIBLE_DAYS)
# A repair or a backfill runs a while after the newest day's scheduled run.
LATER = dt.timedelta(hours=2)


# --- the deployment under test -----------------------------------------------------------------


class Pipeline:
    """One deployment: a Dagster instance, the test's database, a RESO server with a clock.

    ``run`` sets the server's clock, runs the daily job over a day or a range, checks that
    the version log lost nothing, and records what the log must now hold (``known``).
    """

    def __init__(self, defs: dg.Definitions, db: Database[dict], reso: HistoryReso) -> None:
        self.defs = defs
        self.job = defs.resolve_job_def("daily_pipeline")
        self.instance = dg.DagsterInstance.ephemeral()
        self.db = db
        self.reso = reso
        # What the log must hold: every version served to a run that stored it.
        self.known: dict[tuple[str, dt.datetime], tuple[ListingHistory, Version]] = {}
        self.baselines: dict[str, set[str]] = {zip_code: set() for zip_code in ZIPS}
        self.log_ids: set[str] = set()
        self.story: list[str] = []

    def run(
        self,
        first: str,
        last: str | None = None,
        *,
        clock: dt.datetime,
        outage: bool = False,
        zips_down: Sequence[str] = (),
        selection: Sequence[str] | None = None,
        collects: bool = True,
    ) -> dg.ExecuteInProcessResult:
        """Run the daily job over ``first``..``last`` with the server's clock at ``clock``;
        with ``outage``, every request of the run gets an HTML maintenance page; with
        ``zips_down``, every request for those ZIPs does; ``selection``: only these assets
        (``collects`` False when the MLS source is not among them)."""
        last = last or first
        self.reso.set_clock(clock)
        self.story.append(
            f"{first}..{last} at {clock:%Y-%m-%d %H:%M}Z"
            + (" (outage)" if outage else "")
            + (f" ({', '.join(zips_down)} down)" if zips_down else "")
        )
        faults = [self.reso.inject("html", times=None)] if outage else []
        faults += [self.reso.inject("html", zip_code=z, times=None) for z in zips_down]
        try:
            assets = None if selection is None else [dg.AssetKey(name) for name in selection]
            if first == last:
                result = self.job.execute_in_process(
                    partition_key=first,
                    instance=self.instance,
                    run_config=QUIET_CONSOLE,
                    raise_on_error=False,
                    asset_selection=assets,
                )
            else:
                result = self.job.execute_in_process(
                    tags={RANGE_START: first, RANGE_END: last},
                    instance=self.instance,
                    run_config=QUIET_CONSOLE,
                    raise_on_error=False,
                    asset_selection=assets,
                )
        finally:
            for fault in faults:
                fault.times = 0
        self._check_nothing_deleted()
        if outage:
            failed = {event.step_key for event in result.get_step_failure_events()}
            assert not result.success and RAW in failed, f"{self.where}: the outage did not fail"
        else:
            assert result.success, f"{self.where}: the run failed: {_failures(result)}"
            if collects:
                self._stored(first, clock, zips_down)
        stored = sorted(self.log_ids ^ {version_id(*key) for key in self.known})
        assert not stored, (
            f"{self.where}: the version log is not the versions served (in one only): {stored[:10]}"
        )
        return result

    @property
    def where(self) -> str:
        return " -> ".join(self.story)

    def _stored(self, first: str, clock: dt.datetime, zips_down: Sequence[str]) -> None:
        """What the run's collection must have added to the log (a ZIP that failed from
        its first request: nothing, and no inventory baseline)."""
        for zip_code in ZIPS:
            if zip_code in zips_down:
                continue
            inventory = not any(day <= first for day in self.baselines[zip_code])
            since = day_start(first) - OVERLAP
            if inventory:
                since = min(since, day_start(first) - INVENTORY_WEEK)
                self.baselines[zip_code].add(first)
            for history, version in served_versions(
                self.reso.histories, clock, zip_code, since=since, inventory=inventory
            ):
                self.known[(history.listing_key, version.modified)] = (history, version)

    def _check_nothing_deleted(self) -> None:
        ids = {doc["_id"] for doc in self.db[RAW].find({}, {"_id": 1})}
        lost = self.log_ids - ids
        assert not lost, f"{self.where}: versions deleted from {RAW}: {sorted(lost)[:10]}"
        self.log_ids = ids

    def expected(self, day: str) -> DayTruth:
        """The state the log must tell for ``day``."""
        return state_of(self.known.values(), day)

    def snapshot(self, day: str) -> DayTruth:
        """The stored snapshot of ``day``, in the truth's terms."""
        listings: dict[str, ListingState] = {}
        # Whole, or from the snapshot history when the day has been compacted.
        for doc in read_days(self.db, SNAPSHOTS, [day]):
            listings[doc["property_id"]] = ListingState(
                listing_key=str(doc.get("listing_key")),
                property_id=doc["property_id"],
                zip_code=str(doc.get("postal_code")),
                status=str(doc.get("standard_status")),
                list_price=float(doc.get("list_price") or 0.0),
                modified=doc.get("modification_timestamp") or dt.datetime.min,
            )
        return DayTruth(day, dict(sorted(listings.items())))

    def has_snapshot(self, day: str) -> bool:
        return self.db[SNAPSHOTS].count_documents({"partition_key": day}) > 0


def version_id(listing_key: str, modified: dt.datetime) -> str:
    """A version's ``_id`` in the log: ``mls:<ListingKey>:<ModificationTimestamp>``."""
    return f"mls:{listing_key}:{modified.astimezone(dt.UTC):%Y-%m-%dT%H:%M:%S.%fZ}"


def _failures(result: dg.ExecuteInProcessResult) -> str:
    return "; ".join(
        f"{event.step_key}: {event.message}" for event in result.get_step_failure_events()
    )[:3000]


def differing(expected: DayTruth, actual: DayTruth) -> set[str]:
    """The listing keys whose state differs: shown on one side only, or another status or
    list price."""
    keys = set()
    for pid in expected.property_ids ^ actual.property_ids:
        keys.add((expected.listings.get(pid) or actual.listings[pid]).listing_key)
    for pid in expected.property_ids & actual.property_ids:
        want, got = expected.listings[pid], actual.listings[pid]
        if (want.status, want.list_price) != (got.status, got.list_price):
            keys.add(want.listing_key)
    return keys


def describe(expected: DayTruth, actual: DayTruth, label: str) -> str:
    """What differs, for a failure message."""
    lines = [f"{actual.day}: {label}"]
    if expected.on_market != actual.on_market:
        lines.append(
            f"  on market: expected {expected.on_market} {expected.on_market_by_zip}, "
            f"stored {actual.on_market} {actual.on_market_by_zip}"
        )
    for pid in sorted(expected.property_ids - actual.property_ids):
        want = expected.listings[pid]
        lines.append(f"  missing {pid} {want.listing_key} {want.status} {want.list_price:.0f}")
    for pid in sorted(actual.property_ids - expected.property_ids):
        got = actual.listings[pid]
        lines.append(f"  extra   {pid} {got.listing_key} {got.status} {got.list_price:.0f}")
    for pid in sorted(expected.property_ids & actual.property_ids):
        want, got = expected.listings[pid], actual.listings[pid]
        if (want.status, want.list_price) != (got.status, got.list_price):
            lines.append(
                f"  {pid} {want.listing_key}: expected {want.status} {want.list_price:.0f}, "
                f"stored {got.status} {got.list_price:.0f}"
            )
    return "\n".join(lines)


def check_day(
    pipeline: Pipeline,
    histories: Sequence[ListingHistory],
    day: str,
    *,
    lost: Iterable[str] = (),
) -> None:
    """The stored snapshot of ``day`` is exactly what the log tells, and differs from the
    truth in exactly the ``lost`` listings (those whose day's version was overwritten
    before any collection reached it)."""
    stored = pipeline.snapshot(day)
    assert stored.listings, f"{pipeline.where}: no snapshot of {day}"
    expected = pipeline.expected(day)
    assert differing(expected, stored) == set(), describe(
        expected, stored, f"the snapshot is not what the version log tells ({pipeline.where})"
    )
    real = truth(histories, day)
    lost = set(lost)
    assert differing(real, stored) == lost, (
        describe(real, stored, f"against the truth ({pipeline.where})")
        + f"\n  allowed to differ (overwritten): {sorted(lost)}"
    )
    if not lost:
        assert stored.on_market == real.on_market
        assert stored.property_ids == real.property_ids
        assert stored.statuses == real.statuses and stored.prices == real.prices


def overwritten(
    histories: Iterable[ListingHistory],
    day: str,
    *,
    collected_until: dt.datetime,
    clock: dt.datetime,
) -> set[str]:
    """Listings shown on ``day`` whose state comes from a version made after
    ``collected_until`` (the clock of the last collection that could see it) and gone
    from the server by ``clock`` (the first collection after it): no run ever saw it."""
    lost = set()
    for history in histories:
        version = truth_version(history, day)
        if (
            version is not None
            and shown_on(version, day)
            and version.modified > collected_until
            and history.at(clock) is not version
        ):
            lost.add(history.listing_key)
    return lost


# --- fixtures ----------------------------------------------------------------------------------


@pytest.fixture
def histories() -> list[ListingHistory]:
    return phoenix_histories(SEED, ZIPS, DAYS)


@pytest.fixture
def deploy(
    pipeline_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    db: Database[dict],
) -> Iterator[Callable[[Sequence[ListingHistory]], Pipeline]]:
    """Start a RESO server serving the given histories and a pipeline reading it."""
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:

        def start(histories: Sequence[ListingHistory]) -> Pipeline:
            reso = HistoryReso(server, histories, auth="static", static_token=TOKEN)
            monkeypatch.setenv("PHOENIX_SOURCES", "mls")
            monkeypatch.setenv("PHOENIX_ZIP_CODES", ",".join(ZIPS))
            monkeypatch.setenv("MLS_RESO_BASE_URL", reso.base_url)
            monkeypatch.setenv("MLS_RESO_TOKEN", TOKEN)
            monkeypatch.setenv("MLS_RESO_REQUESTS_PER_SECOND", "50")
            monkeypatch.setenv("MLS_RESO_PAGE_SIZE", "7")  # several pages per ZIP
            # Loaded after the environment is set, as a code location starts.
            defs = dg.load_from_defs_folder(
                path_within_project=Path(phoenix_assets.__file__).parent
            )
            return Pipeline(defs, db, reso)

        yield start


# --- the scenarios -----------------------------------------------------------------------------


def test_clean_days_in_order_equal_the_truth(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """a. Days 1..5, each collected at 03:00 the next morning: every day is the truth."""
    pipeline = deploy(histories)
    for day in DAYS:
        pipeline.run(day, clock=scheduled_clock(day))
        check_day(pipeline, histories, day)
    # The premise: the market is about 55 listings, some untouched for months, some
    # changing every day, some ending during the days.
    on_market = [truth(histories, day).on_market for day in DAYS]
    assert all(45 <= n <= 65 for n in on_market), on_market
    stale = [
        h
        for h in histories
        if (v := truth_version(h, D1)) is not None
        and v.status in ("Active", "Pending")
        and v.modified < day_start(D1) - dt.timedelta(days=30)
    ]
    assert len(stale) >= 10
    # Later days did not change earlier ones.
    for day in DAYS:
        check_day(pipeline, histories, day)


def _overwritten_day_3(histories: Sequence[ListingHistory]) -> set[str]:
    """Day 3 missed (failed, or never run): its versions were first collectable by day 4's
    run (03:00 on day 5; its window reaches back to the start of day 3); those
    overwritten on day 4 are gone. Day 2's run (03:00 on day 3) saw none of them."""
    return overwritten(
        histories, D3, collected_until=scheduled_clock(D2), clock=scheduled_clock(D4)
    )


def _repair_day_3(pipeline: Pipeline, histories: Sequence[ListingHistory]) -> None:
    """Day 3 run late, then days 4 and 5 again (as the missed-day sensor propagates a
    repaired day); every day but 3 is the truth, day 3 misses what was overwritten."""
    repair = scheduled_clock(D5) + LATER
    lost = _overwritten_day_3(histories)
    assert lost, "the premise: some of day 3's versions were overwritten on day 4"
    # The brief's bound: only listings with a version made after day 3 and before the
    # repair, whose day-3 state differs from their state at the repair.
    allowed = {
        h.listing_key
        for h in histories
        if any(day_end(D3) <= v.modified <= repair for v in h.versions)
        and truth_version(h, D3) is not h.at(repair)
    }
    assert lost <= allowed
    for day in (D3, D4, D5):
        pipeline.run(day, clock=repair)
    for day in DAYS:
        check_day(pipeline, histories, day, lost=lost if day == D3 else ())


def test_a_failed_day_neither_shrinks_the_next_nor_stays_broken(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """b. Day 3's run meets an outage on every request and fails. Days 4 and 5 run on
    time and are the truth (day 4 is built without a day-3 snapshot, from the log).
    Later day 3 is re-run, then days 4 and 5: all but day 3 are the truth; day 3 differs
    exactly in the listings whose day-3 version was overwritten on day 4."""
    pipeline = deploy(histories)
    for day in (D1, D2):
        pipeline.run(day, clock=scheduled_clock(day))
    pipeline.run(D3, clock=scheduled_clock(D3), outage=True)
    assert not pipeline.has_snapshot(D3)
    pipeline.run(D4, clock=scheduled_clock(D4))
    # Not shrunken: the log carries the standing inventory past the missing day.
    assert pipeline.snapshot(D4).on_market == truth(histories, D4).on_market
    check_day(pipeline, histories, D4)
    pipeline.run(D5, clock=scheduled_clock(D5))
    check_day(pipeline, histories, D5)
    _repair_day_3(pipeline, histories)


def test_the_missed_day_sensor_repairs_a_failed_day_and_what_followed_it(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], monkeypatch: pytest.MonkeyPatch
) -> None:
    """b, unattended. The last five due days (the sensor looks back from now): day 3's
    run fails; days 4 and 5 run on time. The missed-day sensor's one request collects
    day 3 again (no other source, no other day) and rebuilds what day 3 feeds on days
    3 to 5; run as the daemon's backfill would (the raw day, then the rest as one range),
    every day but 3 equals the truth, day 3 differs only where day 4 overwrote it, and
    the next tick asks for nothing."""
    monkeypatch.setenv("PHOENIX_BACKFILL_LOOKBACK_DAYS", "5")
    monkeypatch.setenv("PHOENIX_BACKFILL_GRACE_HOURS", "0")
    days = due_days(dt.datetime.now(dt.UTC), MissedDaySettings.from_env())
    d1, d2, d3, d4, d5 = days
    histories = phoenix_histories(SEED, ZIPS, days)
    pipeline = deploy(histories)
    for day in (d1, d2):
        pipeline.run(day, clock=scheduled_clock(day))
    pipeline.run(d3, clock=scheduled_clock(d3), outage=True)
    for day in (d4, d5):
        pipeline.run(day, clock=scheduled_clock(day))

    sensor = pipeline.defs.resolve_sensor_def("missed_day_backfill")
    tick = sensor.evaluate_tick(
        dg.build_sensor_context(instance=pipeline.instance, definitions=pipeline.defs)
    )
    (request,) = tick.run_requests or []
    subset = request.asset_graph_subset
    assert subset is not None
    requested = {
        key.to_user_string(): sorted(subset.get_partitions_subset(key).get_partition_keys())
        for key in subset.asset_keys
    }
    derived = ["property_snapshots", "property_events", "daily_market_summary"]
    assert requested == {
        RAW: [d3],
        **{name: [d3, d4, d5] for name in [*derived, "daily_market_report"]},
    }, requested

    repair = scheduled_clock(d5) + LATER
    pipeline.run(d3, clock=repair, selection=[RAW])
    pipeline.run(d3, d5, clock=repair, selection=[*derived, "daily_market_report"], collects=False)
    lost = overwritten(
        histories, d3, collected_until=scheduled_clock(d2), clock=scheduled_clock(d4)
    )
    for day in days:
        check_day(pipeline, histories, day, lost=lost if day == d3 else ())
    tick = sensor.evaluate_tick(
        dg.build_sensor_context(
            instance=pipeline.instance, definitions=pipeline.defs, cursor=tick.cursor
        )
    )
    assert not tick.run_requests, [r.asset_graph_subset for r in tick.run_requests or []]


def test_a_day_never_run_is_backfilled_later(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """c. Day 3 never runs (no run at all); days 4 and 5 run on time and are the truth.
    Day 3 backfilled later: days 4 and 5 as stored are still the truth, and after they
    are re-run too; day 3 misses exactly what was overwritten on day 4."""
    pipeline = deploy(histories)
    for day in (D1, D2, D4, D5):
        pipeline.run(day, clock=scheduled_clock(day))
        check_day(pipeline, histories, day)
    assert not pipeline.has_snapshot(D3)
    lost = _overwritten_day_3(histories)
    pipeline.run(D3, clock=scheduled_clock(D5) + LATER)
    check_day(pipeline, histories, D3, lost=lost)
    for day in (D4, D5):  # built before day 3 existed: unchanged, still the truth
        check_day(pipeline, histories, day)
    _repair_day_3(pipeline, histories)


def test_one_run_over_a_gap_of_three_days(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """d. Days 1 and 2 on time; days 3..5 skipped, then backfilled in ONE run over the
    range after day 5. That run collects once, at its clock, everything modified since
    day 3 began less the overlap: day 5 is the truth; day 4 misses the listings whose
    day-4 version (made on day 3 or 4) was overwritten on day 5; day 3 those whose
    day-3 version was overwritten on day 4 or 5. No version stored before is deleted."""
    pipeline = deploy(histories)
    for day in (D1, D2):
        pipeline.run(day, clock=scheduled_clock(day))
    before = set(pipeline.log_ids)
    clock = scheduled_clock(D5) + LATER
    pipeline.run(D3, D5, clock=clock)
    assert before <= pipeline.log_ids
    lost = {
        day: overwritten(histories, day, collected_until=scheduled_clock(D2), clock=clock)
        for day in (D3, D4, D5)
    }
    assert lost[D5] == set()
    assert lost[D3] and lost[D4], f"the premise: versions of days 3 and 4 were overwritten {lost}"
    for day in DAYS:
        check_day(pipeline, histories, day, lost=lost.get(day, ()))


def test_days_in_random_order_twice(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """e. Every day run twice in a seeded random order, all after day 5 (the server's
    clock at 03:00 after day 5 throughout: only the versions current then can ever be
    collected). Each run's snapshot is exactly what the log tells at that moment; after
    the second pass every day is the truth except the listings whose state on that day
    comes from a version overwritten by then (those are not shown: no version of them
    before the day's end was ever served); a day whose log had nothing new since its
    first run is unchanged by the second."""
    pipeline = deploy(histories)
    clock = scheduled_clock(D5)
    rng = random.Random(SEED)
    orders = [rng.sample(DAYS, len(DAYS)) for _ in range(2)]
    assert orders[0] != sorted(orders[0]), "the premise: the first pass is out of order"
    first_pass: dict[str, tuple[DayTruth, DayTruth]] = {}  # day -> (expected, stored)
    for day in orders[0]:
        pipeline.run(day, clock=clock)
        stored = pipeline.snapshot(day)
        expected = pipeline.expected(day)
        assert differing(expected, stored) == set(), describe(
            expected, stored, f"first pass, not what the log tells ({pipeline.where})"
        )
        first_pass[day] = (expected, stored)
    for day in orders[1]:
        pipeline.run(day, clock=clock)
    lost = {
        day: {
            h.listing_key
            for h in histories
            if (v := truth_version(h, day)) is not None
            and shown_on(v, day)
            and h.at(clock) is not v
        }
        for day in DAYS
    }
    assert any(lost.values()), "the premise: some versions were overwritten before the clock"
    for day in DAYS:
        check_day(pipeline, histories, day, lost=lost[day])
        expected, stored = first_pass[day]
        if differing(expected, pipeline.expected(day)) == set():
            assert pipeline.snapshot(day) == stored, f"{day}: the second pass changed it"


def _compact_through(pipeline: Pipeline, day: str) -> None:
    """Move every stored snapshot day up to ``day`` into the snapshot history, as the
    compaction job does with days past its window."""
    compact_month(pipeline.db, SNAPSHOTS, day[:7], through=day)
    stored = sorted(written_partitions(pipeline.db, SNAPSHOTS, [d for d in DAYS if d <= day]))
    assert stored and sorted(compacted_generations(pipeline.db, SNAPSHOTS, stored)) == stored


def test_days_built_on_a_compacted_day_before_equal_the_truth(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """i. Clean days in order, every day compacted into the snapshot history right after
    its run: each next day carries its MLS state from a day before read from the history,
    and every day, read back from the history, is still the truth."""
    pipeline = deploy(histories)
    for day in DAYS:
        pipeline.run(day, clock=scheduled_clock(day))
        check_day(pipeline, histories, day)
        _compact_through(pipeline, day)
    for day in DAYS:
        check_day(pipeline, histories, day)


def test_days_in_random_order_with_compaction_between_runs(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """j. Scenario e's two passes in random order, every run followed by a compaction of
    all the days stored so far: a re-run of a compacted day stores it whole again, and
    each run's snapshot is what the log tells, as without compaction."""
    pipeline = deploy(histories)
    clock = scheduled_clock(D5)
    rng = random.Random(SEED + 1)
    orders = [rng.sample(DAYS, len(DAYS)) for _ in range(2)]
    assert orders[0] != sorted(orders[0]), "the premise: the first pass is out of order"
    for order in orders:
        for day in order:
            pipeline.run(day, clock=clock)
            assert day not in compacted_generations(pipeline.db, SNAPSHOTS, [day])
            stored = pipeline.snapshot(day)
            assert differing(pipeline.expected(day), stored) == set(), describe(
                pipeline.expected(day), stored, f"not what the log tells ({pipeline.where})"
            )
            _compact_through(pipeline, max(DAYS))
            assert pipeline.snapshot(day) == stored, f"{day}: compaction changed it"
    for day in DAYS:
        lost = {
            h.listing_key
            for h in histories
            if (v := truth_version(h, day)) is not None
            and shown_on(v, day)
            and h.at(clock) is not v
        }
        check_day(pipeline, histories, day, lost=lost)


def test_a_first_run_takes_a_feed_untouched_for_months(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """f. The feed as if nothing had happened for two months before day 1 (every listing
    last modified long before any look-back): the first run, day 1, already shows every
    listing on the market, and day 2 keeps them."""
    quiet_since = day_start(D1) - dt.timedelta(days=60)
    stale = [h for history in histories if (h := history.until(quiet_since)) is not None]
    pipeline = deploy(stale)
    assert truth(stale, D1).on_market >= 35, "the premise: a standing inventory"
    for day in (D1, D2):
        pipeline.run(day, clock=scheduled_clock(day))
        check_day(pipeline, stale, day)


def test_a_zip_down_for_a_day_is_caught_up_the_next(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """g. ZIP 85033 answers nothing but maintenance pages during day 3's run; 85018 is
    stored and the run goes on. Day 3 then shows 85033 as of day 2 (its day-3 changes
    missing); day 4's window reaches back to the start of day 3, so days 4 and 5 are
    the truth (day 4 carries day 3's snapshot and applies the versions since day 3
    began). Day 3 re-run after day 5: the truth except 85033's day-3 versions that
    were overwritten on day 4, before day 4's run could collect them."""
    down = ZIPS[1]
    pipeline = deploy(histories)
    for day in (D1, D2):
        pipeline.run(day, clock=scheduled_clock(day))
    pipeline.run(D3, clock=scheduled_clock(D3), zips_down=[down])
    made_on_day_3 = {
        h.listing_key
        for h in histories
        if h.zip_code == down
        and (v := truth_version(h, D3)) is not None
        and v.modified >= day_start(D3)
    }
    assert made_on_day_3, "the premise: 85033 changed on day 3"
    check_day(pipeline, histories, D3, lost=made_on_day_3)
    for day in (D4, D5):
        pipeline.run(day, clock=scheduled_clock(day))
        check_day(pipeline, histories, day)
    pipeline.run(D3, clock=scheduled_clock(D5) + LATER)
    lost = {
        key
        for key in _overwritten_day_3(histories)
        if key.startswith(down)  # ListingKeys start with their ZIP
    }
    check_day(pipeline, histories, D3, lost=lost)
    pipeline.run(D4, clock=scheduled_clock(D5) + LATER)
    for day in DAYS:
        check_day(pipeline, histories, day, lost=lost if day == D3 else ())


def test_a_zip_whose_first_inventory_failed(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """h. ZIP 85033 is down during the very first run (day 1): day 1 has none of its
    listings. Day 2 takes its standing inventory and the week before: day 2 is the
    truth, not day 1 plus day 2's changes (day 1's snapshot saw none of the versions
    that arrived since, so day 2 is read from the whole log). Day 1 re-run after day 5:
    the truth except 85033's listings whose day-1 version was overwritten on day 2
    (before the first collection that reached them)."""
    down = ZIPS[1]
    pipeline = deploy(histories)
    pipeline.run(D1, clock=scheduled_clock(D1), zips_down=[down])
    missing = {s.listing_key for s in truth(histories, D1).listings.values() if s.zip_code == down}
    check_day(pipeline, histories, D1, lost=missing)
    pipeline.run(D2, clock=scheduled_clock(D2))
    assert pipeline.snapshot(D2).on_market == truth(histories, D2).on_market
    check_day(pipeline, histories, D2)
    pipeline.run(D1, clock=scheduled_clock(D5) + LATER)
    never = dt.datetime.min.replace(tzinfo=dt.UTC)
    lost = {
        key
        for key in overwritten(histories, D1, collected_until=never, clock=scheduled_clock(D2))
        if key.startswith(down)
    }
    assert lost, "the premise: some of 85033's day-1 versions were overwritten on day 2"
    check_day(pipeline, histories, D1, lost=lost)
    pipeline.run(D2, clock=scheduled_clock(D5) + LATER)
    check_day(pipeline, histories, D2)


def test_an_ended_listing_leaves_a_week_after_its_phoenix_day(
    deploy: Callable[[Sequence[ListingHistory]], Pipeline], histories: list[ListingHistory]
) -> None:
    """A listing withdrawn at 20:00 in Phoenix ended that Phoenix day (already the next
    day in UTC): it is shown for the week after that day and gone the day after, like
    one withdrawn in the morning."""
    rng = random.Random(f"{SEED}:evening")
    withdrawn_on = FIRST_DAY - dt.timedelta(days=ENDED_VISIBLE_DAYS)
    listed = at_phoenix(withdrawn_on - dt.timedelta(days=90), 10 * 60)
    record: dict[str, Any] = make_listing(rng, ZIPS[0], 900, listed)
    for name in ("ClosePrice", "CloseDate"):
        record.pop(name, None)
    record.update(
        StandardStatus="Active", ParcelNumber="400-10-100", UnparsedAddress="40100 N Test Rd"
    )
    evening = ListingBuilder(record, listed)
    evening.change(at_phoenix(withdrawn_on, 20 * 60), StandardStatus="Withdrawn")
    morning_record = dict(
        make_listing(rng, ZIPS[1], 901, listed),
        StandardStatus="Active",
        ParcelNumber="400-10-101",
        UnparsedAddress="40101 N Test Rd",
    )
    morning_record.pop("CloseDate", None)
    morning_record.pop("ClosePrice", None)
    morning = ListingBuilder(morning_record, listed)
    morning.change(at_phoenix(withdrawn_on, 10 * 60), StandardStatus="Withdrawn")
    extra = [evening.build(), morning.build()]
    everything = [*histories, *extra]
    pipeline = deploy(everything)
    for day in (D1, D2):
        pipeline.run(day, clock=scheduled_clock(day))
    ids = {h.property_id for h in extra}
    assert ids <= truth(everything, D1).property_ids  # the 7th day after: still shown
    assert not ids & truth(everything, D2).property_ids  # the 8th: gone
    shown = {day: ids & pipeline.snapshot(day).property_ids for day in (D1, D2)}
    assert shown == {D1: ids, D2: set()}, (
        f"withdrawn on {withdrawn_on} (Phoenix) at 10:00 and at 20:00: shown on {shown}"
    )
    for day in (D1, D2):
        check_day(pipeline, everything, day)


def test_a_version_stored_in_the_second_after_a_snapshot_read_is_seen(db: Database[dict]) -> None:
    """The staleness check behind "a missed day never shrinks the next one"
    (``version_log.stored_after``): a version older than the day before that reached the
    log 0.4 s after the day before's snapshot read it was not seen by that snapshot, on
    any server (the embedded one compares datetimes to the second only).

    Seen in ``test_a_zip_whose_first_inventory_failed`` (runs here take under a second):
    when day 1's snapshot read the log (…:11.416) and day 2's run stored 85033's
    inventory (…:11.827) in the same second, day 2 was built from day 1's snapshot (no
    85033 listing) plus two days of versions: 32 listings on the market instead of 52.
    """
    read_at = dt.datetime(2026, 12, 5, 10, 36, 11, 416_000, tzinfo=dt.UTC)
    old = day_start(D1) - dt.timedelta(days=90)
    db[RAW].insert_one(
        {
            "_id": "mls:8503300001:2026-08-04T17:00:00.000000Z",
            "source": "mls",
            "source_id": "8503300001",
            "partition_key": "2026-08-04",
            "modified_at": old,
            "modified_us": to_micros(old),
            "stored_at": read_at + dt.timedelta(milliseconds=411),
            "stored_us": to_micros(read_at + dt.timedelta(milliseconds=411)),
        }
    )
    assert stored_after(db, RAW, stored_since=read_at, modified_before=day_start(D1)), (
        "a version stored 0.411 s after the read is not seen as stored after it"
    )
