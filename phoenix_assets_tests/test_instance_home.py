"""Preparing a DAGSTER_HOME: its storage created once, even by processes racing for it.

Without the lock, four processes opening one fresh home at the same moment fail and
often leave a database with two Alembic versions ("more than one head present"); see
``phoenix_assets.instance_home``.
"""

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import dagster as dg
import pytest

from phoenix_assets.instance_home import LOCK_FILE, READY_FILE, SQLITE_DATABASES

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PROCESSES = 4
# Imports Dagster and its SQLite storage first, says it is ready, waits for the start
# file, then prepares the home: the processes start preparing it within milliseconds.
RACER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path

    import dagster._core.storage.sqlite_storage  # what opening the instance imports

    from phoenix_assets.cli import prepare_dagster_home

    start = Path(sys.argv[1])
    print("ready", flush=True)
    while not start.exists():
        time.sleep(0.001)
    print(prepare_dagster_home(), flush=True)
    """
)


@dg.op
def an_op() -> None:
    pass


@dg.job
def a_job() -> None:
    an_op()


def _alembic_versions(database: Path) -> list[str]:
    with sqlite3.connect(database) as connection:
        return [row[0] for row in connection.execute("SELECT version_num FROM alembic_version")]


def _prepare_in_a_process(home: Path, code: str) -> str:
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.timeout(300)
def test_processes_preparing_a_fresh_home_at_once_create_its_storage_once(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    start = tmp_path / "start"
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(start)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(PROCESSES)
    ]
    try:
        for racer in racers:
            assert racer.stdout is not None
            assert racer.stdout.readline() == "ready\n", racer.communicate()[1]
        start.touch()
        results = [racer.communicate(timeout=240) for racer in racers]
    finally:
        for racer in racers:
            if racer.poll() is None:
                racer.kill()
                racer.wait()

    for racer, (out, err) in zip(racers, results, strict=True):
        assert racer.returncode == 0, err
        assert out.strip() == str(home.resolve())
    assert (home / "dagster.yaml").read_text() == (PROJECT_ROOT / "dagster.yaml").read_text()
    assert (home / READY_FILE).exists() and (home / LOCK_FILE).exists()
    # Each database stamped once: one Alembic version, the same in each.
    versions = {name: _alembic_versions(home / name) for name in SQLITE_DATABASES}
    assert all(len(found) == 1 for found in versions.values()), versions
    # The storage opens cleanly: runs, the event log and schedules answer.
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run = instance.create_run_for_job(a_job)
        stored = instance.get_run_by_id(run.run_id)
        assert stored is not None and stored.job_name == "a_job"
        assert instance.get_latest_materialization_event(dg.AssetKey("nothing")) is None
        assert list(instance.all_instigator_state()) == []


def test_a_prepared_home_is_not_prepared_again_without_importing_dagster(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    check = (
        "import sys\n"
        "from phoenix_assets.cli import prepare_dagster_home\n"
        "prepare_dagster_home()\n"
        "print('dagster' in sys.modules)\n"
    )
    assert _prepare_in_a_process(home, check) == "True\n"  # a fresh home: prepared
    ready = (home / READY_FILE).read_text()
    assert _prepare_in_a_process(home, check) == "False\n"  # ready: nothing to do
    assert (home / READY_FILE).read_text() == ready
    assert all(len(_alembic_versions(home / name)) == 1 for name in SQLITE_DATABASES)


def test_a_home_is_prepared_again_when_its_config_or_storage_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from phoenix_assets.cli import prepare_dagster_home

    home = tmp_path / "home"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    prepare_dagster_home()
    shutil.rmtree(home / "history")  # the runs and the event log, deleted
    prepare_dagster_home()  # created again
    assert all(len(_alembic_versions(home / name)) == 1 for name in SQLITE_DATABASES)
    ready = (home / READY_FILE).read_text()
    with (home / "dagster.yaml").open("a") as config:
        config.write("\n# edited\n")
    prepare_dagster_home()  # an edited config: the storage is opened with it
    assert (home / READY_FILE).read_text() != ready
    assert (home / "dagster.yaml").read_text().endswith("# edited\n")  # the edit is kept
