"""Webhooks against a real HTTP receiver on 127.0.0.1 (pytest-httpserver)."""

import json
import logging
from collections.abc import Iterator

import pytest
from pytest_httpserver import HTTPServer

from phoenix_assets.delivery.channels import WebhookChannel
from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.delivery.message import Notification, Section
from phoenix_assets.delivery.webhook import (
    WebhookPolicy,
    is_slack_webhook_url,
    mask_url,
    post_json,
)
from phoenix_assets_tests.delivery.smtp_server import free_port

FAST = WebhookPolicy(
    timeout_seconds=2, max_attempts=3, backoff_initial_seconds=0.01, backoff_max_seconds=0.02
)
SECRET_PATH = "/services/T000/B000/XXXXsecretXXXX"

NOTIFICATION = Notification(
    title="[phoenix_assets] Job daily_pipeline failed",
    level="error",
    event="alert",
    sections=(
        Section(
            heading="Job daily_pipeline failed",
            text="Step 'raw_demo_listings' failed: ValueError: a < b & c",
            level="error",
            fields=(("Partition", "2026-03-01"), ("Run", "abc123")),
            link="http://dagster.local:3000/runs/abc123",
        ),
    ),
    data={"alerts": [{"key": "job:daily_pipeline"}]},
)


@pytest.fixture
def server() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as http_server:
        yield http_server


def _our_log(caplog: pytest.LogCaptureFixture) -> str:
    """Every captured line but the test receiver's own access log."""
    return "\n".join(r.getMessage() for r in caplog.records if r.name != "werkzeug")


def _bodies(server: HTTPServer) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in server.log]


def test_generic_webhook_gets_the_generic_document(server: HTTPServer) -> None:
    server.expect_oneshot_request("/hook", method="POST").respond_with_data("ok")
    channel = WebhookChannel(server.url_for("/hook"), policy=FAST)
    assert not channel.is_slack

    channel.send(NOTIFICATION)

    server.check_assertions()
    [request] = [request for request, _ in server.log]
    assert request.headers["Content-Type"] == "application/json"
    [body] = _bodies(server)
    assert body["source"] == "phoenix_assets"
    assert body["event"] == "alert"
    assert body["level"] == "error"
    assert body["title"] == NOTIFICATION.title
    assert "ValueError: a < b & c" in body["text"]
    assert body["sections"][0]["fields"] == {"Partition": "2026-03-01", "Run": "abc123"}
    assert body["sections"][0]["link"] == "http://dagster.local:3000/runs/abc123"
    assert body["data"] == {"alerts": [{"key": "job:daily_pipeline"}]}
    assert "blocks" not in body


def test_slack_format_is_text_and_blocks(server: HTTPServer) -> None:
    # A local receiver cannot be hooks.slack.com: the Slack format is forced, and the
    # detection by host is tested on its own below.
    server.expect_oneshot_request(SECRET_PATH, method="POST").respond_with_data("ok")
    channel = WebhookChannel(server.url_for(SECRET_PATH), slack=True, policy=FAST)

    channel.send(NOTIFICATION)

    server.check_assertions()
    [body] = _bodies(server)
    assert set(body) == {"text", "blocks"}
    assert body["text"] == NOTIFICATION.title
    header, section = body["blocks"]
    assert header == {
        "type": "header",
        "text": {"type": "plain_text", "text": NOTIFICATION.title, "emoji": True},
    }
    assert section["type"] == "section"
    text = section["text"]["text"]
    assert section["text"]["type"] == "mrkdwn"
    # Slack's control characters are escaped; the link is Slack's <url|label>.
    assert "a &lt; b &amp; c" in text
    assert text.endswith("<http://dagster.local:3000/runs/abc123|Open in Dagster>")
    assert {"type": "mrkdwn", "text": "*Partition*\n2026-03-01"} in section["fields"]


def test_slack_is_detected_by_host() -> None:
    assert is_slack_webhook_url("https://hooks.slack.com/services/T0/B0/abc")
    assert is_slack_webhook_url("https://HOOKS.SLACK.COM/services/T0/B0/abc")
    assert not is_slack_webhook_url("https://hooks.slack.com.evil.example/services/x")
    assert not is_slack_webhook_url("https://example.com/hooks.slack.com")
    assert not is_slack_webhook_url("http://127.0.0.1:8080/services/T0")
    assert WebhookChannel("https://hooks.slack.com/services/T0/B0/abc").is_slack
    assert not WebhookChannel("https://example.com/hook").is_slack


def test_a_503_is_retried_then_succeeds(
    server: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    server.expect_ordered_request(SECRET_PATH, method="POST").respond_with_data("busy", status=503)
    server.expect_ordered_request(SECRET_PATH, method="POST").respond_with_data("ok")
    url = server.url_for(SECRET_PATH)

    response = post_json(url, {"n": 1}, policy=FAST)

    assert response.status_code == 200
    server.check_assertions()
    assert _bodies(server) == [{"n": 1}, {"n": 1}]
    assert "HTTP 503" in caplog.text
    assert "HTTP Request: POST" in caplog.text  # httpx's own line, masked
    assert "XXXXsecretXXXX" not in _our_log(caplog)


def test_retries_give_up_after_the_last_attempt(server: HTTPServer) -> None:
    server.expect_request(SECRET_PATH).respond_with_data("down", status=502)
    with pytest.raises(DeliveryError) as raised:
        post_json(server.url_for(SECRET_PATH), {}, policy=FAST)
    assert len(server.log) == FAST.max_attempts
    assert "HTTP 502" in str(raised.value)
    assert "XXXXsecretXXXX" not in str(raised.value)


def test_a_4xx_is_not_retried_and_the_path_stays_hidden(server: HTTPServer) -> None:
    # Some servers echo the path back; the error must not.
    server.expect_request(SECRET_PATH).respond_with_data(f"Cannot POST {SECRET_PATH}", status=404)
    with pytest.raises(DeliveryError) as raised:
        post_json(server.url_for(SECRET_PATH), {}, policy=FAST)
    assert len(server.log) == 1
    message = str(raised.value)
    assert "HTTP 404" in message
    assert "Cannot POST /***" in message
    assert "XXXXsecretXXXX" not in message


def test_connection_refused_is_retried_and_reported_masked(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)
    url = f"http://127.0.0.1:{free_port()}{SECRET_PATH}"
    with pytest.raises(DeliveryError, match="connection failed") as raised:
        post_json(url, {}, policy=FAST)
    assert "XXXXsecretXXXX" not in str(raised.value)
    assert caplog.text.count("retry") == FAST.max_attempts - 1
    assert "XXXXsecretXXXX" not in _our_log(caplog)


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        ("https://hooks.slack.com/services/T0/B0/abc", "https://hooks.slack.com/***"),
        ("https://user:pw@example.com:8443/x?token=1", "https://example.com:8443/***"),
        ("https://example.com", "https://example.com"),
        ("https://example.com/", "https://example.com"),
        ("http://[::1]:8080/hook", "http://[::1]:8080/***"),
        ("not a url", "***"),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_slack_limits_are_respected() -> None:
    from phoenix_assets.delivery.message import slack_payload

    many = Notification(
        title="t" * 400,
        sections=tuple(
            Section(heading=f"h{i}", text="x" * 5000, fields=(("k", "v" * 3000),) * 12)
            for i in range(45)
        ),
    )
    payload = slack_payload(many)
    blocks = payload["blocks"]
    assert len(blocks) <= 50
    assert len(blocks[0]["text"]["text"]) <= 150
    sections = [b for b in blocks if b["type"] == "section"]
    assert all(len(b["text"]["text"]) <= 3000 for b in sections)
    assert all(len(b["fields"]) <= 10 for b in sections)
    assert all(len(f["text"]) <= 2000 for b in sections for f in b["fields"])
    assert blocks[-1]["elements"][0]["text"] == "… and 5 more"
