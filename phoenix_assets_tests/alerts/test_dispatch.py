"""Dispatch to the configured channels (real HTTP receiver and SMTP server)."""

import json
import logging
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from phoenix_assets.alerts.dispatch import alert_channels, dispatch_alert
from phoenix_assets.delivery.message import Notification, Section
from phoenix_assets.delivery.settings import AlertSettings, SmtpSettings
from phoenix_assets.delivery.webhook import WebhookPolicy
from phoenix_assets_tests.delivery.smtp_server import smtp_test_server

FAST = WebhookPolicy(
    timeout_seconds=2, max_attempts=2, backoff_initial_seconds=0.01, backoff_max_seconds=0.02
)
ALERT = Notification(
    title="[phoenix_assets] Job daily_pipeline failed",
    level="error",
    event="alert",
    sections=(Section(heading="Job daily_pipeline failed", text="boom", level="error"),),
)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as http_server:
        yield http_server


def test_channels_follow_the_settings() -> None:
    assert alert_channels(AlertSettings()) == []
    smtp = SmtpSettings(host="smtp.example.com", port=587, sender="a@example.com")
    # SMTP without alert recipients is not an alert channel.
    assert alert_channels(AlertSettings(smtp=smtp)) == []
    channels = alert_channels(
        AlertSettings(
            smtp=smtp,
            email_to=("ops@example.com",),
            slack_webhook_url="http://127.0.0.1:9/slack",
            webhook_url="https://hooks.slack.com/services/T/B/x",
        )
    )
    assert [c.name for c in channels] == [
        "slack (http://127.0.0.1:9/***)",  # the Slack variable forces Slack's format
        "slack (https://hooks.slack.com/***)",  # a generic URL on Slack's host is Slack
        "email (1 recipient)",
    ]


def test_one_failing_channel_does_not_stop_the_others(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server.expect_request("/slack").respond_with_data("no_service", status=404)
    server.expect_request("/hook").respond_with_data("ok")
    with smtp_test_server() as smtp:
        settings = AlertSettings(
            smtp=SmtpSettings(host=smtp.host, port=smtp.port, sender="a@x.com", starttls=False),
            email_to=("ops@example.com",),
            slack_webhook_url=server.url_for("/slack"),
            webhook_url=server.url_for("/hook"),
        )
        report = dispatch_alert(
            ALERT,
            alert_channels(settings, webhook_policy=FAST),
            logger=logging.getLogger("test.alerts"),
        )

    assert [name for name, _ in report.failed] == [f"slack (http://127.0.0.1:{server.port}/***)"]
    assert report.delivered == (
        f"webhook (http://127.0.0.1:{server.port}/***)",
        "email (1 recipient)",
    )
    [hook] = [json.loads(r.get_data()) for r, _ in server.log if r.path == "/hook"]
    assert hook["title"] == ALERT.title
    [slack] = [json.loads(r.get_data()) for r, _ in server.log if r.path == "/slack"]
    assert "blocks" in slack
    assert [m.message["Subject"] for m in smtp.received] == [ALERT.title]
    assert any(
        r.levelno == logging.ERROR and "no_service" in r.getMessage() for r in caplog.records
    )


def test_no_channel_configured_is_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    report = dispatch_alert(ALERT, [], logger=logging.getLogger("test.alerts"))
    assert report.delivered == () and report.failed == ()
    [record] = [r for r in caplog.records if r.name == "test.alerts"]
    assert record.levelno == logging.WARNING
    assert "no alert channel configured" in record.getMessage()
    assert ALERT.title in record.getMessage()
