"""Alert messages: titles, text, links to the UI, truncation, and no secrets."""

import datetime as dt

import pytest

from phoenix_assets.alerts.grouping import Notice
from phoenix_assets.alerts.messages import (
    build_notification,
    format_duration,
    run_url,
    truncate,
)
from phoenix_assets.alerts.observations import Observation, check_key, job_key
from phoenix_assets.delivery.message import render_text

AT = dt.datetime(2026, 3, 2, 10, 30, tzinfo=dt.UTC).timestamp()
JOB_FAILED = Observation(
    kind="job",
    key=job_key("daily_pipeline"),
    name="daily_pipeline",
    at=AT,
    ok=False,
    run_id="0b1c2d3e-run",
    job_name="daily_pipeline",
    partition="2026-03-01",
    error="Step 'raw_mls_listings' failed: RuntimeError: cannot reach "
    "mongodb://app:hunter22@db.example.com/phoenix",
)
CHECK_FAILED = Observation(
    kind="check",
    key=check_key("property_snapshots", "null_rate"),
    name="property_snapshots:null_rate",
    at=AT,
    ok=False,
    run_id="run-2",
    job_name="daily_pipeline",
    partition="2026-03-01",
    error="Too many nulls\nnull_rate: 0.31",
    severity="WARN",
)


def _failure(**kwargs: object) -> Notice:
    return Notice(kind="failure", key=JOB_FAILED.key, at=AT, **kwargs)  # type: ignore[arg-type]


def test_a_job_failure_alert() -> None:
    note = build_notification(
        [(_failure(), JOB_FAILED)],
        ui_url="https://dagster.example.com",
        cooldown_minutes=60,
        secrets=["hunter22"],
    )
    assert note.title == "[phoenix_assets] Job daily_pipeline failed"
    assert note.level == "error"
    assert note.event == "alert"
    [section] = note.sections
    assert section.link == "https://dagster.example.com/runs/0b1c2d3e-run"
    assert section.link_label == "Open the run in Dagster"
    assert ("Partition", "2026-03-01") in section.fields
    assert ("Run", "0b1c2d3e-run") in section.fields
    assert ("Ended", "2026-03-02 10:30 UTC") in section.fields
    assert "RuntimeError: cannot reach mongodb://***@db.example.com/phoenix" in section.text
    assert "hunter22" not in render_text(note)
    [alert] = note.data["alerts"]
    assert alert["key"] == "job:daily_pipeline"
    assert alert["run_url"] == "https://dagster.example.com/runs/0b1c2d3e-run"


def test_no_ui_url_no_link() -> None:
    note = build_notification([(_failure(), JOB_FAILED)], ui_url=None, cooldown_minutes=60)
    assert note.sections[0].link is None
    assert "Open the run" not in render_text(note)


def test_grouped_failures_are_counted_in_the_text() -> None:
    notice = _failure(grouped=3, failures=4, failing_seconds=2 * 3600 + 5 * 60)
    note = build_notification([(notice, JOB_FAILED)], ui_url=None, cooldown_minutes=60)
    text = note.sections[0].text
    assert "3 more failures since the last alert were grouped into this one" in text
    assert "at most once per 1 h" in text
    assert "Failing since 2026-03-02 08:25 UTC (4 failures in a row)." in text


def test_a_recovery() -> None:
    recovered = Observation(**{**JOB_FAILED.__dict__, "ok": True, "error": ""})
    notice = Notice(
        kind="recovered", key=JOB_FAILED.key, at=AT, failures=3, failing_seconds=26 * 3600
    )
    note = build_notification([(notice, recovered)], ui_url=None, cooldown_minutes=60)
    assert note.title == "[phoenix_assets] Job daily_pipeline recovered"
    assert note.level == "success"
    assert note.sections[0].text == "Succeeded again after failing for 1 d 2 h (3 failures)."


def test_a_check_failure_has_its_severity() -> None:
    notice = Notice(kind="failure", key=CHECK_FAILED.key, at=AT)
    note = build_notification([(notice, CHECK_FAILED)], ui_url=None, cooldown_minutes=60)
    assert note.title == "[phoenix_assets] Check property_snapshots:null_rate failed (WARN)"
    assert note.level == "warning"
    assert ("Job", "daily_pipeline") in note.sections[0].fields
    assert "null_rate: 0.31" in note.sections[0].text


def test_several_notices_make_one_digest_with_the_worst_level() -> None:
    recovered = Notice(kind="recovered", key="job:weekly_trends", at=AT, failures=1)
    weekly = Observation(**{**JOB_FAILED.__dict__, "key": "job:weekly_trends", "ok": True})
    note = build_notification(
        [
            (Notice(kind="failure", key=CHECK_FAILED.key, at=AT), CHECK_FAILED),
            (_failure(), JOB_FAILED),
            (recovered, weekly),
        ],
        ui_url=None,
        cooldown_minutes=60,
    )
    assert note.title == "[phoenix_assets] 2 failures, 1 recovery"
    assert note.level == "error"
    assert len(note.sections) == 3


def test_a_long_error_is_truncated() -> None:
    long = Observation(**{**JOB_FAILED.__dict__, "error": "x" * 5000})
    note = build_notification([(_failure(), long)], ui_url=None, cooldown_minutes=60)
    assert len(note.sections[0].text) <= 600
    assert note.sections[0].text.endswith("… (truncated)")


def test_no_notice_is_a_programming_error() -> None:
    with pytest.raises(ValueError):
        build_notification([], ui_url=None, cooldown_minutes=60)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59, "59 s"),
        (60, "1 min"),
        (3600, "1 h"),
        (3660, "1 h 1 min"),
        (90000, "1 d 1 h"),
    ],
)
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_helpers() -> None:
    assert truncate("short") == "short"
    assert run_url("http://localhost:3000/", "r1") == "http://localhost:3000/runs/r1"
    assert run_url(None, "r1") is None
