"""Replaying every day of two weeks twice, in random order, leaves the database exactly as
one pass in calendar order does, with the demo feed and an MLS feed (a RESO server on
127.0.0.1 whose listings were modified across the fortnight and before it).

A day's events are the difference from the day before's snapshot, so the first random
pass computes some days before their predecessor exists (no events for them); the second
pass must repair every one of them. The weekly trends and reports of the two complete
weeks are rebuilt after each pass, so the weekly data is compared too.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path

import dagster as dg
import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pytest_httpserver import HTTPServer

import phoenix_assets
from phoenix_assets_tests.reliability.database_state import (
    capture_database,
    describe_differences,
)
from phoenix_assets_tests.sources.fake_reso import FakeReso, make_listings

FIRST_DAY = dt.date(2026, 11, 2)  # a Monday
DAYS = [(FIRST_DAY + dt.timedelta(days=n)).isoformat() for n in range(14)]
WEEKS = [DAYS[0], DAYS[7]]  # the two complete weeks (Monday keys)
SEED = 20261125
# 48 runs: the console shows their warnings and errors only.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# One ZIP at half the demo scale (~90 listings a day; the metro is its total): 48 quick runs.
ZIP_CODES = "85018"
DEMO_SCALE = "0.5"


MLS_TOKEN = "replay-static-token"


@pytest.fixture
def mls_feed(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeReso]:
    """An MLS feed for the ZIP: 30 listings modified every ~12 hours, the newest in the
    middle of the fortnight, the oldest before it (the first run takes them as inventory)."""
    newest = dt.datetime.combine(FIRST_DAY + dt.timedelta(days=9), dt.time(19), dt.UTC)
    listings = make_listings([ZIP_CODES], 30, newest=newest, spacing=dt.timedelta(hours=12))
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        fake = FakeReso(server, listings, auth="static", static_token=MLS_TOKEN)
        monkeypatch.setenv("PHOENIX_SOURCES", "demo,mls")
        monkeypatch.setenv("MLS_RESO_BASE_URL", fake.base_url)
        monkeypatch.setenv("MLS_RESO_TOKEN", MLS_TOKEN)
        monkeypatch.setenv("MLS_RESO_REQUESTS_PER_SECOND", "50")
        monkeypatch.setenv("MLS_RESO_PAGE_SIZE", "10")
        yield fake


@pytest.fixture
def replay_database(mongo_client: MongoClient[dict]) -> Iterator[str]:
    """A second database on the session server, for the replays; dropped afterwards."""
    name = f"phoenix_replay_{uuid.uuid4().hex[:10]}"
    yield name
    mongo_client.drop_database(name)


def _run_pass(
    defs: dg.Definitions, instance: dg.DagsterInstance, days: Sequence[str], weeks: Sequence[str]
) -> None:
    """Each day as one run of the daily job, then each week as one run of weekly_trends."""
    for job, keys in (("daily_pipeline", days), ("weekly_trends", weeks)):
        for key in keys:
            result = defs.resolve_job_def(job).execute_in_process(
                partition_key=key, instance=instance, run_config=QUIET_CONSOLE, raise_on_error=False
            )
            assert result.success, f"{job} for {key} failed"


def _days_with_events(db: Database[dict]) -> set[str]:
    return set(db["property_events"].distinct("partition_key"))


def test_two_random_replays_of_a_fortnight_equal_one_pass_in_order(
    pipeline_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    mongo_client: MongoClient[dict],
    database_name: str,
    replay_database: str,
    mls_feed: FakeReso,
    tmp_path: Path,
) -> None:
    """14 daily partitions replayed twice in a seeded random order (weeks rebuilt after each
    pass) end identical to one in-order pass in another database: every partition is a
    pure function of its inputs, and a day run before its predecessor is repaired by its
    next replay."""
    monkeypatch.setenv("PHOENIX_ZIP_CODES", ZIP_CODES)
    monkeypatch.setenv("PHOENIX_DEMO_SCALE", DEMO_SCALE)
    # Both databases' report documents name files in one folder, as two runs of the same
    # configuration would.
    monkeypatch.setenv("PHOENIX_REPORTS_DIR", str(tmp_path / "reports"))
    defs = dg.load_from_defs_folder(path_within_project=Path(phoenix_assets.__file__).parent)

    # One Dagster instance per database, as one deployment has: a report reads the
    # check results of earlier runs from it.
    _run_pass(defs, dg.DagsterInstance.ephemeral(), DAYS, WEEKS)  # the reference
    reference = capture_database(mongo_client[database_name])
    reference_events = _days_with_events(mongo_client[database_name])
    assert reference_events == set(DAYS[1:]), "every day but the first has events"
    mls_days = set(
        mongo_client[database_name]["property_snapshots"].distinct(
            "partition_key", {"sources": "mls"}
        )
    )
    assert mls_days == set(DAYS), "every day's snapshot holds MLS listings"

    # MONGODB_DATABASE is read when each run starts: from here on runs write the replay.
    monkeypatch.setenv("MONGODB_DATABASE", replay_database)
    rng = random.Random(SEED)
    orders = [(rng.sample(DAYS, len(DAYS)), rng.sample(WEEKS, len(WEEKS))) for _ in range(2)]
    story = f"seed {SEED}; " + "; ".join(
        f"replay {n}: days {days}, then weeks {weeks}" for n, (days, weeks) in enumerate(orders, 1)
    )
    instance = dg.DagsterInstance.ephemeral()
    _run_pass(defs, instance, *orders[0])
    first_pass_events = _days_with_events(mongo_client[replay_database])
    _run_pass(defs, instance, *orders[1])

    # The premise: the first replay ran some days before the day they follow, and those
    # days got no events then.
    first_order = orders[0][0]
    early = {
        day
        for day, previous in zip(DAYS[1:], DAYS, strict=False)
        if first_order.index(day) < first_order.index(previous)
    }
    assert early, f"the first replay ran every day after its predecessor ({story})"
    assert early <= reference_events - first_pass_events, (
        f"days run before their predecessor still got events: {sorted(early)} ({story})"
    )

    differences = describe_differences(
        reference,
        capture_database(mongo_client[replay_database]),
        expected_label="in-order pass",
        actual_label="after two random replays",
    )
    assert not differences, f"{story}\n{differences}"
