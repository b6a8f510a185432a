"""The phoenix-assets command's argument handling."""

import os
from pathlib import Path

import pytest

from phoenix_assets import cli


def test_ui_passes_every_other_option_to_dagster_dev(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    launched: list[list[str]] = []
    # Capture the exec instead of replacing the test process with dagster dev.
    monkeypatch.setattr(os, "execv", lambda path, argv: launched.append(list(argv)))
    cli.main(["ui", "-p", "3917", "-h", "127.0.0.1"])
    (argv,) = launched
    workspace = str(cli.PROJECT_ROOT / "workspace.yaml")
    assert argv[1:] == ["dev", "-w", workspace, "-p", "3917", "-h", "127.0.0.1"]
    assert (tmp_path / "home" / "dagster.yaml").exists()  # the project's instance config


def test_other_commands_refuse_unknown_options() -> None:
    with pytest.raises(SystemExit) as raised:
        cli.main(["run", "--bogus"])
    assert raised.value.code == 2


def test_a_bad_setting_is_a_clear_error_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "123")
    assert cli.main(["run"]) == 2
    assert "PHOENIX_ZIP_CODES: '123' is not a 5-digit ZIP code" in capsys.readouterr().out
