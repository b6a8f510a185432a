"""Delivery to several channels: one failing never stops the others."""

import json
import logging
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from phoenix_assets.delivery.channels import EmailChannel, WebhookChannel, deliver
from phoenix_assets.delivery.email import Attachment
from phoenix_assets.delivery.message import Notification, Section, render_html, render_text
from phoenix_assets.delivery.redaction import scrub, secret_values_from_env
from phoenix_assets.delivery.settings import SmtpSettings
from phoenix_assets.delivery.webhook import WebhookPolicy
from phoenix_assets_tests.delivery.smtp_server import free_port, smtp_test_server

FAST = WebhookPolicy(
    timeout_seconds=2, max_attempts=2, backoff_initial_seconds=0.01, backoff_max_seconds=0.02
)
NOTE = Notification(
    title="Weekly report <b>",
    intro="Seven days of Phoenix.",
    sections=(Section(heading="Metro", text="Median up 1.2 %", link="https://x.example/r"),),
)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as http_server:
        yield http_server


def test_every_channel_is_tried_and_failures_are_reported(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server.expect_request("/refuses").respond_with_data("invalid_payload", status=400)
    server.expect_request("/works").respond_with_data("ok")
    dead_smtp = SmtpSettings(host="127.0.0.1", port=free_port(), sender="a@example.com")
    logger = logging.getLogger("test.delivery")

    with smtp_test_server() as smtp:
        working_smtp = SmtpSettings(
            host=smtp.host, port=smtp.port, sender="a@example.com", starttls=False
        )
        report = deliver(
            NOTE,
            [
                WebhookChannel(server.url_for("/refuses"), policy=FAST),
                EmailChannel(dead_smtp, ("ops@example.com",)),
                WebhookChannel(server.url_for("/works"), policy=FAST),
                EmailChannel(working_smtp, ("ops@example.com",)),
            ],
            logger=logger,
            attachments=[Attachment("r.csv", b"a,b\n", "text/csv")],
        )

    assert [name for name, _ in report.failed] == [
        f"webhook (http://127.0.0.1:{server.port}/***)",
        "email (1 recipient)",
    ]
    assert "HTTP 400 (invalid_payload)" in report.failed[0][1]
    assert "ConnectionRefusedError" in report.failed[1][1]
    assert report.delivered == (
        f"webhook (http://127.0.0.1:{server.port}/***)",
        "email (1 recipient)",
    )
    assert not report.ok
    works = [json.loads(r.get_data()) for r, _ in server.log if r.path == "/works"]
    assert len(works) == 1 and works[0]["title"] == NOTE.title
    [mail] = smtp.received
    assert [a.get_filename() for a in mail.message.iter_attachments()] == ["r.csv"]
    errors = [r for r in caplog.records if r.name == "test.delivery" and r.levelno == logging.ERROR]
    assert len(errors) == 2


def test_no_channel_is_one_log_line_and_no_error(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    report = deliver(NOTE, [], logger=logging.getLogger("test.delivery"))
    assert report.delivered == () and report.failed == ()
    assert len([r for r in caplog.records if r.name == "test.delivery"]) == 1


def test_text_and_html_renderings_escape_and_carry_everything() -> None:
    text = render_text(NOTE)
    assert text.startswith("Weekly report <b>\n")
    assert "Median up 1.2 %" in text and "https://x.example/r" in text
    html = render_html(NOTE)
    assert "Weekly report &lt;b&gt;" in html
    assert '<a href="https://x.example/r">' in html


def test_scrub_hides_secrets_credentials_and_slack_paths() -> None:
    env = {
        "MONGODB_URI": "mongodb://app:hunter22@db.example.com/phoenix",
        "MLS_RESO_CLIENT_SECRET": "client-secret-value",
        "PHOENIX_ZIP_CODES": "85018,85033",
        "SHORT_TOKEN": "abc",
    }
    secrets = secret_values_from_env(env)
    assert set(secrets) == {env["MONGODB_URI"], env["MLS_RESO_CLIENT_SECRET"]}
    text = (
        "connect mongodb://app:hunter22@db.example.com/phoenix failed; "
        "other postgres://u:pw123@pg/x; secret client-secret-value; "
        "posted https://hooks.slack.com/services/T0/B0/abcdef; zips 85018,85033"
    )
    cleaned = scrub(text, secrets)
    for leaked in ("hunter22", "pw123", "client-secret-value", "T0/B0/abcdef"):
        assert leaked not in cleaned
    assert "postgres://***@pg/x" in cleaned
    assert "https://hooks.slack.com/***" in cleaned
    assert "85018,85033" in cleaned
