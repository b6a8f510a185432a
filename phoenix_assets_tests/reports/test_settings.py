"""PHOENIX_REPORTS_DIR: where the reports land, checked before anything is written."""

import os
from pathlib import Path

import pytest

from phoenix_assets.reports.settings import (
    PHOENIX_REPORTS_DIR,
    ReportsDirectory,
    parse_reports_dir,
    reports_dir,
)
from phoenix_assets.settings import ConfigError


def test_the_default_is_the_reports_folder_of_dagster_home(tmp_path: Path) -> None:
    assert reports_dir({"DAGSTER_HOME": str(tmp_path)}) == tmp_path / "reports"


def test_without_dagster_home_it_is_the_clis_own_instance_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert reports_dir({}) == tmp_path / ".dagster_home" / "reports"


def test_a_set_folder_is_made_absolute_with_home_and_variables_expanded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "me"))
    monkeypatch.setenv("REPORTS_ROOT", str(tmp_path / "root"))
    assert parse_reports_dir("~/reports") == tmp_path / "me" / "reports"
    assert parse_reports_dir("$REPORTS_ROOT/phoenix") == tmp_path / "root" / "phoenix"
    assert parse_reports_dir("relative/reports") == tmp_path / "relative" / "reports"


def test_a_file_in_the_way_is_refused_naming_the_variable(tmp_path: Path) -> None:
    blocker = tmp_path / "reports"
    blocker.write_text("x")
    with pytest.raises(ConfigError, match=f"{PHOENIX_REPORTS_DIR}=.*exists and is not a directory"):
        reports_dir({PHOENIX_REPORTS_DIR: str(blocker)})
    with pytest.raises(ConfigError, match=f"{PHOENIX_REPORTS_DIR}.*not a writable directory"):
        reports_dir({PHOENIX_REPORTS_DIR: str(blocker / "inside")})


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    with pytest.raises(ConfigError, match=PHOENIX_REPORTS_DIR):
        reports_dir({PHOENIX_REPORTS_DIR: str(locked / "reports")})


def test_the_resource_creates_the_folder_when_a_report_is_written(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "reports"
    assert ReportsDirectory(directory=str(target)).path() == target
    assert target.is_dir()
