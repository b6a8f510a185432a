"""The raw_retention_cleanup job and its schedule, executed in-process against the test Mongo."""

import datetime as dt
from collections.abc import Callable

import dagster as dg
import pytest
from pymongo.database import Database

from phoenix_assets.settings import ConfigError
from phoenix_assets.storage.partition_store import MANIFEST_COLLECTION, replace_partitions
from phoenix_assets.storage.retention import RAW_COLLECTIONS, phoenix_today
from phoenix_assets_tests.defs.dagster_results import load_failure, output_metadata

JOB = "raw_retention_cleanup"
OP = "drop_old_raw_partitions"


def _day(days_ago: int) -> str:
    return (phoenix_today() - dt.timedelta(days=days_ago)).isoformat()


OLD_DAYS = [500, 450]  # past the default 400-day window
MIDDLE_DAY = 100  # kept by default, dropped by a 90-day window and the demo's 30 days
RECENT_DAY = 5
DEMO = "raw_demo_listings"


def _dropped_days(name: str) -> list[int]:
    """The days a default run drops of ``name``: the demo's raw data keeps 30 days."""
    return [*OLD_DAYS, MIDDLE_DAY] if name == DEMO else OLD_DAYS


def _dropped(sizes: dict[str, int]) -> tuple[int, int]:
    """(partitions, documents) a default run drops."""
    return (
        sum(len(_dropped_days(name)) for name in sizes),
        sum(len(_dropped_days(name)) * size for name, size in sizes.items()),
    )


@pytest.fixture
def seeded(pipeline_env: dict[str, str], db: Database[dict]) -> dict[str, int]:
    """Raw partitions old and recent in every raw collection, and old snapshots."""
    sizes = {name: 2 + i for i, name in enumerate(RAW_COLLECTIONS)}
    for name, size in sizes.items():
        for days_ago in [*OLD_DAYS, MIDDLE_DAY, RECENT_DAY]:
            key = _day(days_ago)
            documents = [{"_id": f"{name}:{i}:{key}", "partition_key": key} for i in range(size)]
            replace_partitions(db, name, [key], documents)
    for days_ago in [*OLD_DAYS, RECENT_DAY]:
        key = _day(days_ago)
        replace_partitions(
            db, "property_snapshots", [key], [{"_id": f"p1:{key}", "partition_key": key}]
        )
    return sizes


def _run(defs: dg.Definitions, *, dry_run: bool) -> dg.ExecuteInProcessResult:
    result = defs.resolve_job_def(JOB).execute_in_process(
        run_config={"ops": {OP: {"config": {"dry_run": dry_run}}}}
    )
    assert result.success
    return result


def _partitions(db: Database[dict], name: str) -> list[str]:
    return sorted(db[name].distinct("partition_key"))


def test_a_dry_run_reports_and_drops_nothing(
    seeded: dict[str, int], db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    before = {name: _partitions(db, name) for name in [*RAW_COLLECTIONS, "property_snapshots"]}
    manifest_before = db[MANIFEST_COLLECTION].count_documents({})
    result = _run(load_definitions(), dry_run=True)
    metadata = output_metadata(result)
    assert metadata["dry_run"] is True
    partitions, documents = _dropped(seeded)
    assert (metadata["partitions_dropped"], metadata["documents_dropped"]) == (
        partitions,
        documents,
    )
    assert metadata["cutoff"] == _day(400)
    assert "would drop" in metadata["report"]
    assert result.asset_observations_for_node(OP) == []
    after = {name: _partitions(db, name) for name in [*RAW_COLLECTIONS, "property_snapshots"]}
    assert after == before
    assert db[MANIFEST_COLLECTION].count_documents({}) == manifest_before


def test_a_run_drops_old_raw_partitions_and_observes_each_raw_asset(
    seeded: dict[str, int], db: Database[dict], load_definitions: Callable[[], dg.Definitions]
) -> None:
    defs = load_definitions()
    result = _run(defs, dry_run=False)
    metadata = output_metadata(result)
    assert metadata["dry_run"] is False
    partitions, documents = _dropped(seeded)
    assert (metadata["partitions_dropped"], metadata["documents_dropped"]) == (
        partitions,
        documents,
    )
    for name, size in seeded.items():
        assert metadata[f"documents_dropped_{name}"] == len(_dropped_days(name)) * size
        kept = [_day(RECENT_DAY)] if name == DEMO else [_day(MIDDLE_DAY), _day(RECENT_DAY)]
        assert _partitions(db, name) == kept
        entries = sorted(
            e["partition_key"] for e in db[MANIFEST_COLLECTION].find({"collection": name})
        )
        assert entries == kept
    # Snapshots are never pruned, however old.
    assert _partitions(db, "property_snapshots") == sorted(_day(d) for d in [*OLD_DAYS, RECENT_DAY])

    observations = {o.asset_key.to_user_string(): o for o in result.asset_observations_for_node(OP)}
    assert set(observations) == set(RAW_COLLECTIONS)
    for name, size in seeded.items():
        observed = {k: v.value for k, v in observations[name].metadata.items()}
        assert observed["partitions_dropped"] == len(_dropped_days(name))
        assert observed["documents_dropped"] == len(_dropped_days(name)) * size
        assert observed["oldest_dropped"] == _day(max(OLD_DAYS))
        assert observed["oldest_kept"] == _day(RECENT_DAY if name == DEMO else MIDDLE_DAY)
        assert observed["retention_days"] == (30 if name == DEMO else 400)

    second = _run(defs, dry_run=False)  # nothing left to drop
    assert output_metadata(second)["partitions_dropped"] == 0
    assert second.asset_observations_for_node(OP) == []
    assert all(len(_partitions(db, name)) == (1 if name == DEMO else 2) for name in RAW_COLLECTIONS)


def test_the_demo_sources_window_comes_from_the_environment(
    seeded: dict[str, int],
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_DEMO_RAW_RETENTION_DAYS", "200")
    _run(load_definitions(), dry_run=False)
    assert _partitions(db, DEMO) == [_day(MIDDLE_DAY), _day(RECENT_DAY)]
    # Never more than the raw window is kept of any raw data.
    monkeypatch.setenv("PHOENIX_DEMO_RAW_RETENTION_DAYS", "1000")
    monkeypatch.setenv("PHOENIX_RAW_RETENTION_DAYS", "90")
    _run(load_definitions(), dry_run=False)
    assert _partitions(db, DEMO) == [_day(RECENT_DAY)]


@pytest.mark.parametrize("value", ["14", "0", "a month"])
def test_a_demo_window_inside_the_backfill_look_back_fails_the_load(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    value: str,
) -> None:
    monkeypatch.setenv("PHOENIX_DEMO_RAW_RETENTION_DAYS", value)
    chain = load_failure(load_definitions)
    assert any(
        isinstance(error, ConfigError) and str(error).startswith("PHOENIX_DEMO_RAW_RETENTION_DAYS")
        for error in chain
    )


def test_the_window_comes_from_the_environment(
    seeded: dict[str, int],
    db: Database[dict],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_RAW_RETENTION_DAYS", "90")
    metadata = output_metadata(_run(load_definitions(), dry_run=False))
    assert metadata["retention_days"] == 90 and metadata["cutoff"] == _day(90)
    assert metadata["partitions_dropped"] == (len(OLD_DAYS) + 1) * len(RAW_COLLECTIONS)
    assert all(_partitions(db, name) == [_day(RECENT_DAY)] for name in RAW_COLLECTIONS)


def test_a_window_shorter_than_the_assessor_window_fails_the_load(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_RAW_RETENTION_DAYS", "45")
    chain = load_failure(load_definitions)
    assert any(
        isinstance(error, ConfigError)
        and str(error).startswith("PHOENIX_RAW_RETENTION_DAYS: 45 must be above 60")
        for error in chain
    ), chain


def test_a_window_the_missed_day_sensor_reaches_past_fails_the_load(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PHOENIX_RAW_RETENTION_DAYS", "100")
    monkeypatch.setenv("PHOENIX_BACKFILL_LOOKBACK_DAYS", "120")
    chain = load_failure(load_definitions)
    assert any(
        isinstance(error, ConfigError)
        and "PHOENIX_RAW_RETENTION_DAYS: 100 must be above PHOENIX_BACKFILL_LOOKBACK_DAYS (120)"
        in str(error)
        for error in chain
    ), chain


@pytest.mark.parametrize(
    ("automation", "status"),
    [("on", dg.DefaultScheduleStatus.RUNNING), ("off", dg.DefaultScheduleStatus.STOPPED)],
)
def test_the_weekly_schedule(
    pipeline_env: dict[str, str],
    load_definitions: Callable[[], dg.Definitions],
    monkeypatch: pytest.MonkeyPatch,
    automation: str,
    status: dg.DefaultScheduleStatus,
) -> None:
    monkeypatch.setenv("PHOENIX_AUTOMATION", automation)
    schedule = load_definitions().resolve_schedule_def(f"{JOB}_weekly")
    assert schedule.job_name == JOB
    assert schedule.cron_schedule == "0 11 * * 0"  # Sundays, 11:00
    assert schedule.execution_timezone == "UTC"
    assert schedule.default_status == status
