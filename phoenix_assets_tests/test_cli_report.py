"""``phoenix-assets report``: where the latest report is, and opening it."""

import webbrowser
from pathlib import Path

import pytest

from phoenix_assets import cli
from phoenix_assets.reports.files import report_files


def _write_report(directory: Path, kind: str, period: str) -> None:
    files = report_files(directory, kind, period)  # type: ignore[arg-type]
    files.html.parent.mkdir(parents=True, exist_ok=True)
    for path in (files.html, files.json, files.csv):
        path.write_text(f"{kind} {period}")


@pytest.fixture
def home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    monkeypatch.delenv("PHOENIX_REPORTS_DIR", raising=False)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def test_no_report_yet_says_so_and_how_to_make_one(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["report"]) == 1
    out = capsys.readouterr().out
    assert f"No daily report yet in {home / 'reports' / 'daily'}" in out
    assert "phoenix-assets run" in out and "PHOENIX_REPORTS_DIR" in out


def test_the_latest_report_and_its_data_files_are_printed(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    reports = home / "reports"
    for day in ("2026-11-09", "2026-11-24", "2026-11-23"):
        _write_report(reports, "daily", day)
    _write_report(reports, "weekly", "2026-11-16")
    (reports / "daily" / "notes.html").write_text("not a report")

    assert cli.main(["report"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == str(reports / "daily" / "phoenix-market-2026-11-24.html")
    assert lines[1].endswith(str(reports / "daily" / "phoenix-market-2026-11-24.json"))
    assert lines[2].endswith(str(reports / "daily" / "phoenix-market-2026-11-24.csv"))

    assert cli.main(["report", "--weekly"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0] == str(reports / "weekly" / "phoenix-market-week-2026-11-16.html")


def test_the_reports_folder_setting_is_followed(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    _write_report(elsewhere, "daily", "2026-11-20")
    monkeypatch.setenv("PHOENIX_REPORTS_DIR", str(elsewhere))
    assert cli.main(["report"]) == 0
    assert capsys.readouterr().out.startswith(str(elsewhere / "daily"))


def test_open_hands_the_report_to_the_system_viewer(
    home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _write_report(home / "reports", "daily", "2026-11-24")
    # A "browser" that writes down what it was asked to open, found through $BROWSER.
    opened = tmp_path / "opened.txt"
    browser = tmp_path / "record-browser"
    browser.write_text(f'#!/bin/sh\nprintf "%s" "$1" > {opened}\n')
    browser.chmod(0o755)
    monkeypatch.setenv("BROWSER", str(browser))
    monkeypatch.setattr(webbrowser, "_tryorder", None)  # re-read $BROWSER
    monkeypatch.setattr(webbrowser, "_browsers", {})
    assert cli.main(["report", "--open"]) == 0
    expected = home / "reports" / "daily" / "phoenix-market-2026-11-24.html"
    assert opened.read_text() == expected.as_uri()
