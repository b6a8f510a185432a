"""Report delivery against a real SMTP server (STARTTLS + AUTH LOGIN), a real HTTP
receiver, the real test MongoDB (the ``report_deliveries`` ledger) and a real Dagster
materialization whose logs and metadata are checked for secrets."""

import datetime as dt
import json
import logging
import os
import re
import struct
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from pymongo import MongoClient
from pymongo.database import Database
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from phoenix_assets.defs.resources import report_delivery_resource
from phoenix_assets.delivery.email import Attachment
from phoenix_assets.delivery.settings import ReportDeliverySettings, SmtpSettings
from phoenix_assets.delivery.webhook import WebhookPolicy
from phoenix_assets.reports.delivery import DeliveryOutcome, ReportDelivery, deliver_report
from phoenix_assets.reports.delivery import _webhook_channel as webhook_channel
from phoenix_assets.reports.message import (
    ReportMessage,
    ZipFigures,
    format_figure,
    report_notification,
)
from phoenix_assets.settings import ConfigError
from phoenix_assets.storage.report_ledger import CLAIM_LEASE, LEDGER_COLLECTION
from phoenix_assets_tests.delivery.smtp_server import (
    SmtpTestServer,
    free_port,
    make_certificate,
    smtp_test_server,
)

SMTP_USER = "reports@example.com"
SMTP_PASSWORD = "smtp-Pa55word-report"
HOOK_PATH = "/hooks/reportSECRETpath"
SECRETS = (SMTP_PASSWORD, "SECRETpath")
FAST = WebhookPolicy(
    timeout_seconds=2, max_attempts=2, backoff_initial_seconds=0.01, backoff_max_seconds=0.02
)


def tiny_png(rgb: tuple[int, int, int]) -> bytes:
    """A real 1x1 PNG of one colour."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + bytes(rgb))
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


CSV = b"area,active_listings,median_list_price\nmetro,120,565000\n85018,40,815000\n"
MESSAGE = ReportMessage(
    kind="daily",
    period="2026-11-24",
    title="Phoenix housing market, Tue 24 Nov 2026",
    headline={
        "active_listings": 120,
        "new_listings": 9,
        "median_list_price": 565000.0,
        "median_days_on_market": None,
    },
    email_html=(
        "<html><body><h1>Phoenix housing market</h1>"
        '<img src="cid:median_price" alt="Median price">'
        "<img src='cid:inventory' alt='Inventory'></body></html>"
    ),
    inline_images={"median_price": tiny_png((200, 40, 40)), "inventory": tiny_png((40, 40, 200))},
    attachments=(Attachment("daily-2026-11-24.csv", CSV, "text/csv"),),
    summary={
        "headline": {"active_listings": 120, "median_list_price": 565000.0},
        # Rows per area as the report's JSON has them: the metro first, then the ZIPs.
        "areas": [
            {"area": "metro", "area_type": "metro", "active_listings": 120},
            {
                "area": "85018",
                "area_type": "zip",
                "active_listings": 40,
                "pending_listings": 4,
                "median_list_price": 815000.0,
            },
            {
                "area": "85033",
                "area_type": "zip",
                "active_listings": 80,
                "pending_listings": 9,
                "median_list_price": 315000.0,
            },
        ],
        "quality": {
            "missing_days": [],
            "quarantined": 2,
            "failed_zips": [{"source": "maricopa", "zip_code": "85033", "reason": "HTTP 503"}],
            "sources": ["demo"],
            "demo": True,
            "verdict": "Read with care: ZIP codes not collected: 85033; 2 records quarantined.",
        },
    },
    report_path="/tmp/reports/daily/2026-11-24.html",
    zips=(
        ZipFigures(
            "85018", {"active_listings": 40, "pending_listings": 4, "median_list_price": 815000.0}
        ),
        ZipFigures(
            "85033", {"active_listings": 80, "pending_listings": 9, "median_list_price": 315000.0}
        ),
    ),
)


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No pipeline variable from the developer's shell; a DAGSTER_HOME of the test's own."""
    for name in list(os.environ):
        if name.startswith(("MONGODB_", "PHOENIX_", "MARICOPA_", "MLS_RESO_")):
            monkeypatch.delenv(name)
    home = tmp_path / "dagster_home"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))


@pytest.fixture
def http() -> Iterator[HTTPServer]:
    with HTTPServer(host="127.0.0.1", port=0, threaded=True) as server:
        yield server


@pytest.fixture
def smtp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpTestServer]:
    certificate = make_certificate(tmp_path)
    # The resource uses the default TLS context, which trusts SSL_CERT_FILE.
    monkeypatch.setenv("SSL_CERT_FILE", str(certificate.cert_path))
    with smtp_test_server(
        certificate=certificate, username=SMTP_USER, password=SMTP_PASSWORD
    ) as server:
        yield server


def configure(
    monkeypatch: pytest.MonkeyPatch,
    *,
    smtp_port: int | None = None,
    webhook_url: str | None = None,
    password: str = SMTP_PASSWORD,
    **extra: str,
) -> None:
    """Set the report variables as a deployment would."""
    if smtp_port is not None:
        monkeypatch.setenv("PHOENIX_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("PHOENIX_SMTP_PORT", str(smtp_port))
        monkeypatch.setenv("PHOENIX_SMTP_USERNAME", SMTP_USER)
        monkeypatch.setenv("PHOENIX_SMTP_PASSWORD", password)
        monkeypatch.setenv("PHOENIX_EMAIL_FROM", "Phoenix Reports <reports@example.com>")
        monkeypatch.setenv("PHOENIX_REPORT_EMAIL_TO", "owner@example.com, team@example.org")
    if webhook_url is not None:
        monkeypatch.setenv("PHOENIX_REPORT_WEBHOOK_URL", webhook_url)
    for name, value in extra.items():
        monkeypatch.setenv(name, value)


@dataclass
class Delivered:
    """One materialization of a report asset that delivered ``MESSAGE``."""

    outcome: DeliveryOutcome
    metadata: dict[str, Any]
    logs: list[str]


def materialize_report(db: Database, message: ReportMessage = MESSAGE) -> Delivered:
    """Materialize an asset that delivers ``message`` as the report assets do, with the
    resource the code location registers (``dg.EnvVar``s read in the run)."""
    outcomes: list[DeliveryOutcome] = []

    @dg.asset
    def market_report(
        context: dg.AssetExecutionContext, report_delivery: ReportDelivery
    ) -> dg.MaterializeResult:
        outcome = report_delivery.deliver(db, message, context.log)
        outcomes.append(outcome)
        return dg.MaterializeResult(metadata=outcome.metadata())

    resources = {"report_delivery": report_delivery_resource()}
    with dg.instance_for_test() as instance:
        result = dg.materialize([market_report], resources=resources, instance=instance)
        assert result.success
        [materialization] = result.asset_materializations_for_node("market_report")
        logs = [entry.message for entry in instance.all_logs(result.run_id)]
    metadata = {key: value.value for key, value in materialization.metadata.items()}
    return Delivered(outcome=outcomes[0], metadata=metadata, logs=logs)


def posts(http: HTTPServer, path: str = HOOK_PATH) -> list[dict]:
    return [json.loads(request.get_data()) for request, _ in http.log if request.path == path]


def process_logs(caplog: pytest.LogCaptureFixture) -> str:
    """Every line this process logged, but the test receivers' own (they see the path)."""
    return "\n".join(
        r.getMessage() for r in caplog.records if r.name not in ("werkzeug", "mail.log")
    )


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in SECRETS:
            assert secret not in text


def ledger(db: Database) -> list[dict]:
    return list(db[LEDGER_COLLECTION].find({}, sort=[("_id", 1)]))


def test_email_and_webhook_get_the_report_once(
    clean_env: None,
    db: Database,
    smtp: SmtpTestServer,
    http: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    configure(monkeypatch, smtp_port=smtp.port, webhook_url=http.url_for(HOOK_PATH))

    first = materialize_report(db)

    assert first.outcome.channels == {"email": "sent", "webhook": "sent"}
    assert first.metadata == {"delivery_email": "sent", "delivery_webhook": "sent"}

    # The email: over TLS, logged in, to both recipients.
    [received] = smtp.received
    assert received.over_tls and received.authenticated_as == SMTP_USER
    assert set(received.rcpt_tos) == {"owner@example.com", "team@example.org"}
    mail = received.message
    assert mail["Subject"] == MESSAGE.title
    html = mail.get_body(preferencelist=("html",))
    assert html is not None and "<h1>Phoenix housing market</h1>" in html.get_content()
    cids = re.findall(r"""src=["']cid:([^"']+)["']""", html.get_content())
    assert sorted(cids) == ["inventory", "median_price"]
    related = mail.get_body(preferencelist=("related",))
    assert related is not None and related.get_content_type() == "multipart/related"
    parts = {
        part["Content-ID"]: part
        for part in related.iter_parts()
        if part.get_content_maintype() == "image"
    }
    for cid in cids:
        assert parts[f"<{cid}>"].get_content_type() == "image/png"
        assert parts[f"<{cid}>"].get_payload(decode=True) == MESSAGE.inline_images[cid]
    plain = mail.get_body(preferencelist=("plain",))
    assert plain is not None
    text = plain.get_content()
    assert "Median list price: $565,000" in text
    assert "85018: median list price $815,000 · inventory (active listings) 40" in text
    assert "metro:" not in text
    assert "Demo data" in text
    assert "daily-2026-11-24.csv" in text
    [csv] = list(mail.iter_attachments())
    assert csv.get_filename() == "daily-2026-11-24.csv"
    assert csv.get_content_type() == "text/csv"
    assert csv.get_payload(decode=True) == CSV

    # The webhook: the generic JSON document, carrying the summary.
    [hook] = posts(http)
    assert hook["event"] == "market_report"
    assert hook["title"] == MESSAGE.title
    assert hook["data"]["kind"] == "daily" and hook["data"]["period"] == "2026-11-24"
    assert hook["data"]["headline"] == MESSAGE.headline
    assert hook["data"]["summary"] == MESSAGE.summary
    assert hook["data"]["report_path"] == MESSAGE.report_path
    metro = hook["sections"][0]
    assert metro["heading"] == "Metro"
    assert metro["fields"]["Median list price"] == "$565,000"
    assert metro["fields"]["Median days on market"] == "\N{EN DASH}"
    zips = hook["sections"][1]
    assert zips["heading"] == "By ZIP code"
    assert zips["text"].splitlines() == [
        "85018: median list price $815,000 · inventory (active listings) 40",
        "85033: median list price $315,000 · inventory (active listings) 80",
    ]
    quality = hook["sections"][2]
    assert quality["level"] == "warning"
    assert quality["text"].startswith("Read with care: ZIP codes not collected: 85033")
    assert quality["fields"]["Failed ZIPs"] == "1"
    assert quality["fields"]["Missing days"] == "none"

    assert [doc["_id"] for doc in ledger(db)] == [
        "daily:2026-11-24:email",
        "daily:2026-11-24:webhook",
    ]
    for doc in ledger(db):
        assert doc["status"] == "sent"
        assert isinstance(doc["sent_at"], dt.datetime)
        assert isinstance(doc["claimed_at"], dt.datetime)
        assert doc["sent_us"] >= doc["claimed_us"] > 0

    # A retry or replay of the same partition sends nothing more.
    second = materialize_report(db)
    assert second.outcome.channels == {"email": "already sent", "webhook": "already sent"}
    assert second.metadata == {
        "delivery_email": "already sent",
        "delivery_webhook": "already sent",
    }
    assert len(smtp.received) == 1
    assert len(posts(http)) == 1
    assert len(ledger(db)) == 2

    # Another period is another report.
    third = materialize_report(db, replace(MESSAGE, period="2026-11-25"))
    assert third.outcome.channels == {"email": "sent", "webhook": "sent"}
    assert len(smtp.received) == 2

    assert_no_secret(
        process_logs(caplog),
        *first.logs,
        *second.logs,
        json.dumps(first.metadata),
        json.dumps([first.outcome.channels, second.outcome.channels]),
        json.dumps(ledger(db), default=str),
    )


def test_a_failing_smtp_server_fails_email_only_and_the_retry_sends_it(
    clean_env: None,
    db: Database,
    smtp: SmtpTestServer,
    http: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    dead_port = free_port()  # nothing listens there
    configure(monkeypatch, smtp_port=dead_port, webhook_url=http.url_for(HOOK_PATH))

    failed = materialize_report(db)

    email = failed.outcome.channels["email"]
    assert email.startswith(f"failed: SMTP 127.0.0.1:{dead_port}: ConnectionRefusedError")
    assert failed.outcome.channels["webhook"] == "sent"
    assert failed.outcome.failed == {"email": email}
    assert failed.metadata["delivery_email"] == email
    assert len(posts(http)) == 1
    assert any(
        line.startswith("Could not send report") and "by email" in line for line in failed.logs
    )
    # The failed channel is not recorded: the next attempt retries it.
    assert [doc["_id"] for doc in ledger(db)] == ["daily:2026-11-24:webhook"]

    monkeypatch.setenv("PHOENIX_SMTP_PORT", str(smtp.port))
    retried = materialize_report(db)
    assert retried.outcome.channels == {"email": "sent", "webhook": "already sent"}
    assert len(smtp.received) == 1
    assert len(posts(http)) == 1
    assert_no_secret(process_logs(caplog), *failed.logs, *retried.logs, json.dumps(failed.metadata))


def test_refused_login_and_refused_post_show_no_secret(
    clean_env: None,
    db: Database,
    smtp: SmtpTestServer,
    http: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    # A receiver that echoes the secret path back in its refusal.
    http.expect_request(HOOK_PATH, method="POST").respond_with_data(
        f"Cannot POST {HOOK_PATH}", status=404
    )
    wrong = "wrong-Pa55word-SECRETpath"
    configure(monkeypatch, smtp_port=smtp.port, webhook_url=http.url_for(HOOK_PATH), password=wrong)

    delivered = materialize_report(db)

    email = delivered.outcome.channels["email"]
    webhook = delivered.outcome.channels["webhook"]
    assert email.startswith("failed: ") and "login refused" in email
    assert "PHOENIX_SMTP_PASSWORD" in email
    assert webhook == f"failed: POST http://127.0.0.1:{http.port}/***: HTTP 404 (Cannot POST /***)"
    assert smtp.received == []
    assert ledger(db) == []
    assert_no_secret(process_logs(caplog), *delivered.logs, json.dumps(delivered.metadata))
    assert wrong not in process_logs(caplog)


def test_slack_format_when_forced(
    clean_env: None,
    db: Database,
    http: HTTPServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    # A local receiver cannot be hooks.slack.com: the format is forced.
    configure(
        monkeypatch, webhook_url=http.url_for(HOOK_PATH), PHOENIX_REPORT_WEBHOOK_FORMAT="slack"
    )

    delivered = materialize_report(db)

    assert delivered.outcome.channels == {"email": "not configured", "webhook": "sent"}
    [payload] = posts(http)
    assert set(payload) == {"text", "blocks"}
    assert payload["text"] == MESSAGE.title
    header, intro, metro, zips, quality = payload["blocks"]
    assert header["type"] == "header" and header["text"]["text"] == MESSAGE.title
    assert intro["text"]["text"] == (
        "Daily report for 2026-11-24. Demo data: generated offline, not the real market."
    )
    fields = [field["text"] for field in metro["fields"]]
    assert "*Inventory (active listings)*\n120" in fields
    assert "*Median list price*\n$565,000" in fields
    assert "85018: median list price $815,000" in zips["text"]["text"]
    assert "Read with care" in quality["text"]["text"]
    assert "*Missing days*\nnone" in [field["text"] for field in quality["fields"]]


def test_slack_format_is_detected_by_host_and_json_can_be_forced() -> None:
    slack_url = "https://hooks.slack.com/services/T0/B0/abcdef"
    detected = ReportDeliverySettings(webhook_url=slack_url)
    forced_json = ReportDeliverySettings(webhook_url=slack_url, webhook_format="json")
    assert detected.slack is None and forced_json.slack is False
    # The channel the settings make: named (masked) as Slack, or as a plain webhook.
    notification = report_notification(MESSAGE)
    channel = webhook_channel(detected, notification, FAST)
    assert channel is not None and channel.name == "slack (https://hooks.slack.com/***)"
    channel = webhook_channel(forced_json, notification, FAST)
    assert channel is not None and channel.name == "webhook (https://hooks.slack.com/***)"


def test_nothing_configured_is_one_log_line_and_no_error(
    clean_env: None, db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    logger = logging.getLogger("test.report_delivery")
    with dg.build_resources({"report_delivery": ReportDelivery.from_environment()}) as resources:
        outcome = resources.report_delivery.deliver(db, MESSAGE, logger)
    assert outcome.channels == {"email": "not configured", "webhook": "not configured"}
    assert outcome.metadata() == {
        "delivery_email": "not configured",
        "delivery_webhook": "not configured",
    }
    records = [r for r in caplog.records if r.name == "test.report_delivery"]
    assert len(records) == 1
    assert "PHOENIX_REPORT_EMAIL_TO" in records[0].getMessage()
    assert ledger(db) == []


def test_without_the_ledger_nothing_is_sent(
    http: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    # MongoDB unreachable: a send could be a duplicate, so none is made; the next
    # attempt (with MongoDB back) sends it.
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    client: MongoClient[dict] = MongoClient(
        f"mongodb://127.0.0.1:{free_port()}", serverSelectionTimeoutMS=200, connect=False
    )
    settings = ReportDeliverySettings(webhook_url=http.url_for(HOOK_PATH))
    try:
        outcome = deliver_report(
            client["phoenix"], MESSAGE, settings, logging.getLogger("test"), webhook_policy=FAST
        )
    finally:
        client.close()
    assert outcome.channels == {
        "email": "not configured",
        "webhook": (
            "failed: could not claim the send in report_deliveries (ServerSelectionTimeoutError)"
        ),
    }
    assert posts(http) == []


# --- Exactly once: claims in the ledger ------------------------------------------------

OTHERS = {"already sent", "being sent by another run"}


@pytest.fixture
def plain_smtp() -> Iterator[SmtpTestServer]:
    """A real SMTP server without TLS or login: these tests are about the ledger."""
    with smtp_test_server() as server:
        yield server


def both_channels(server: SmtpTestServer, http: HTTPServer) -> ReportDeliverySettings:
    return ReportDeliverySettings(
        smtp=SmtpSettings(
            host=server.host, port=server.port, sender="r@example.com", starttls=False
        ),
        email_to=("owner@example.com",),
        webhook_url=http.url_for(HOOK_PATH),
    )


def slow_ok(request: Request) -> Response:
    """A receiver that takes its time: a send in progress while the other run claims."""
    time.sleep(0.3)
    return Response("ok")


def deliver(
    db: Database, settings: ReportDeliverySettings, message: ReportMessage = MESSAGE
) -> DeliveryOutcome:
    return deliver_report(db, message, settings, logging.getLogger("test.run"), webhook_policy=FAST)


def deliver_at_once(
    db: Database, settings: ReportDeliverySettings, message: ReportMessage, runs: int = 2
) -> list[DeliveryOutcome]:
    """``runs`` runs of one partition delivering ``message`` at the same moment."""
    barrier = threading.Barrier(runs)
    outcomes: dict[int, DeliveryOutcome] = {}

    def run(index: int) -> None:
        barrier.wait(timeout=10)
        outcomes[index] = deliver_report(
            db, message, settings, logging.getLogger(f"test.run{index}"), webhook_policy=FAST
        )

    threads = [threading.Thread(target=run, args=(i,)) for i in range(runs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes) == list(range(runs))
    return [outcomes[i] for i in range(runs)]


def epoch_us(when: dt.datetime) -> int:
    return (when - dt.datetime(1970, 1, 1, tzinfo=dt.UTC)) // dt.timedelta(microseconds=1)


def webhook_claim(token: str, claimed_at: dt.datetime, http: HTTPServer) -> dict[str, Any]:
    """A claim on MESSAGE's webhook send, as another run leaves it while sending."""
    return {
        "_id": "daily:2026-11-24:webhook",
        "kind": "daily",
        "period": "2026-11-24",
        "channel": "webhook",
        "destination": f"webhook (http://127.0.0.1:{http.port}/***)",
        "title": MESSAGE.title,
        "status": "sending",
        "claim": token,
        "claimed_at": claimed_at,
        "claimed_us": epoch_us(claimed_at),
    }


def test_two_runs_at_once_send_each_report_once(
    db: Database, plain_smtp: SmtpTestServer, http: HTTPServer
) -> None:
    http.expect_request(HOOK_PATH, method="POST").respond_with_handler(slow_ok)
    settings = both_channels(plain_smtp, http)
    periods: list[str] = []
    for day in range(1, 6):
        message = replace(MESSAGE, period=f"2026-12-{day:02d}")
        periods.append(message.period)

        outcomes = deliver_at_once(db, settings, message)

        # One email and one POST per report, whichever run sent it.
        assert len(plain_smtp.received) == day
        assert [hook["data"]["period"] for hook in posts(http)] == periods
        for label in ("email", "webhook"):
            statuses = [outcome.channels[label] for outcome in outcomes]
            assert statuses.count("sent") == 1, statuses
            [other] = [status for status in statuses if status != "sent"]
            assert other in OTHERS
        assert [outcome.failed for outcome in outcomes] == [{}, {}]
    assert [(doc["_id"], doc["status"]) for doc in ledger(db)] == [
        (f"daily:{period}:{label}", "sent") for period in periods for label in ("email", "webhook")
    ]
    # A later run of any of those partitions sends nothing more.
    again = deliver(db, settings, replace(MESSAGE, period=periods[0]))
    assert again.channels == {"email": "already sent", "webhook": "already sent"}
    assert len(plain_smtp.received) == 5 and len(posts(http)) == 5


def test_a_failed_send_releases_its_claim_and_the_next_run_sends(
    db: Database, http: HTTPServer
) -> None:
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("down", status=500)
    settings = ReportDeliverySettings(webhook_url=http.url_for(HOOK_PATH))

    failed = deliver(db, settings)

    assert failed.channels["webhook"] == f"failed: POST http://127.0.0.1:{http.port}/***: HTTP 500"
    assert len(posts(http)) == FAST.max_attempts
    assert ledger(db) == []  # released: nothing blocks the next run

    http.clear_all_handlers()
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    retried = deliver(db, settings)

    assert retried.channels["webhook"] == "sent"
    assert len(posts(http)) == FAST.max_attempts + 1
    [doc] = ledger(db)
    assert doc["_id"] == "daily:2026-11-24:webhook" and doc["status"] == "sent"


def test_a_stale_claim_is_taken_over_and_sent_once(db: Database, http: HTTPServer) -> None:
    # A run claimed the send and died before sending: past the lease, the next run sends.
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    settings = ReportDeliverySettings(webhook_url=http.url_for(HOOK_PATH))
    died_at = dt.datetime.now(dt.UTC) - CLAIM_LEASE - dt.timedelta(minutes=1)
    db[LEDGER_COLLECTION].insert_one(webhook_claim("dead-run", died_at, http))

    taken_over = deliver(db, settings)

    assert taken_over.channels["webhook"] == "sent"
    assert len(posts(http)) == 1
    [doc] = ledger(db)
    assert doc["status"] == "sent" and doc["claim"] != "dead-run"
    assert doc["claimed_us"] > epoch_us(died_at) + CLAIM_LEASE // dt.timedelta(microseconds=1)
    assert isinstance(doc["sent_at"], dt.datetime)

    again = deliver(db, settings)
    assert again.channels["webhook"] == "already sent"
    assert len(posts(http)) == 1


def test_a_live_claim_of_another_run_is_not_sent_over(db: Database, http: HTTPServer) -> None:
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    settings = ReportDeliverySettings(webhook_url=http.url_for(HOOK_PATH))
    # Claimed well within the lease: that run is sending it now.
    claimed_at = dt.datetime.now(dt.UTC) - CLAIM_LEASE + dt.timedelta(minutes=2)
    claim = webhook_claim("live-run", claimed_at, http)
    db[LEDGER_COLLECTION].insert_one(claim)

    outcome = deliver(db, settings)

    assert outcome.channels["webhook"] == "being sent by another run"
    assert outcome.failed == {}
    assert posts(http) == []
    [doc] = ledger(db)
    assert (doc["status"], doc["claim"], doc["claimed_us"]) == (
        "sending",
        "live-run",
        claim["claimed_us"],
    )


def test_two_runs_finding_one_stale_claim_send_once(db: Database, http: HTTPServer) -> None:
    http.expect_request(HOOK_PATH, method="POST").respond_with_handler(slow_ok)
    settings = ReportDeliverySettings(webhook_url=http.url_for(HOOK_PATH))
    for round_ in range(1, 4):
        db[LEDGER_COLLECTION].delete_many({})
        died_at = dt.datetime.now(dt.UTC) - 2 * CLAIM_LEASE
        db[LEDGER_COLLECTION].insert_one(webhook_claim(f"dead-run-{round_}", died_at, http))

        outcomes = deliver_at_once(db, settings, MESSAGE)

        statuses = sorted(outcome.channels["webhook"] for outcome in outcomes)
        assert statuses.count("sent") == 1, statuses
        assert set(statuses) - {"sent"} <= OTHERS
        assert len(posts(http)) == round_
        [doc] = ledger(db)
        assert doc["status"] == "sent" and doc["claim"] != f"dead-run-{round_}"


def test_a_send_recorded_before_claims_still_counts_as_sent(
    db: Database, plain_smtp: SmtpTestServer, http: HTTPServer
) -> None:
    http.expect_request(HOOK_PATH, method="POST").respond_with_data("ok")
    # The ledger as earlier versions wrote it: no status, no claim.
    legacy = {
        "_id": "daily:2026-11-24:webhook",
        "kind": "daily",
        "period": "2026-11-24",
        "channel": "webhook",
        "destination": f"webhook (http://127.0.0.1:{http.port}/***)",
        "title": MESSAGE.title,
        "sent_at": dt.datetime(2026, 11, 24, 14, 0, tzinfo=dt.UTC),
    }
    db[LEDGER_COLLECTION].insert_one(legacy)

    outcome = deliver(db, both_channels(plain_smtp, http))

    assert outcome.channels == {"email": "sent", "webhook": "already sent"}
    assert posts(http) == []
    assert len(plain_smtp.received) == 1
    assert db[LEDGER_COLLECTION].find_one({"_id": legacy["_id"]}) == legacy


def test_a_claim_lost_during_the_send_is_not_overwritten_and_is_logged(
    db: Database, http: HTTPServer, caplog: pytest.LogCaptureFixture
) -> None:
    key = "daily:2026-11-24:webhook"

    def taken_over_meanwhile(request: Request) -> Response:
        # Another run takes the claim over while this one is sending.
        db[LEDGER_COLLECTION].update_one({"_id": key}, {"$set": {"claim": "other-run"}})
        return Response("ok")

    http.expect_request(HOOK_PATH, method="POST").respond_with_handler(taken_over_meanwhile)
    settings = ReportDeliverySettings(webhook_url=http.url_for(HOOK_PATH))

    outcome = deliver(db, settings)

    assert outcome.channels["webhook"] == "sent"
    [doc] = ledger(db)
    assert (doc["status"], doc["claim"]) == ("sending", "other-run")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("was sent by webhook" in w and "not recorded" in w for w in warnings), warnings


def test_a_missing_chart_is_logged_and_the_email_still_goes(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    charts = {"median_price": MESSAGE.inline_images["median_price"]}
    message = replace(MESSAGE, inline_images=charts)
    with smtp_test_server() as server:
        settings = ReportDeliverySettings(
            smtp=SmtpSettings(
                host=server.host, port=server.port, sender="r@example.com", starttls=False
            ),
            email_to=("owner@example.com",),
        )
        outcome = deliver_report(db, message, settings, logging.getLogger("test.report"))
    assert outcome.channels["email"] == "sent"
    assert len(server.received) == 1
    assert "Report email refers to images it lacks: inventory" in caplog.text


def test_an_unexpected_error_is_a_failed_channel_not_an_exception(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    with smtp_test_server() as server:
        settings = ReportDeliverySettings(
            smtp=SmtpSettings(
                host=server.host, port=server.port, sender="r@example.com", starttls=False
            ),
            email_to=("owner@example.com",),
        )
        # A chart name that cannot be a Content-ID: refused before anything is sent.
        bad = replace(MESSAGE, inline_images={"median price": b"png"})
        outcome = deliver_report(db, bad, settings, logging.getLogger("test.report"))
    assert outcome.channels["email"] == (
        "failed: inline image 'median price': not a valid Content-ID"
    )
    assert server.received == []


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("PHOENIX_REPORT_EMAIL_TO", "owner@example.com", "PHOENIX_SMTP_HOST: not set, but"),
        ("PHOENIX_REPORT_EMAIL_TO", "not-an-address", "PHOENIX_REPORT_EMAIL_TO: 'not-an-address'"),
        ("PHOENIX_REPORT_WEBHOOK_URL", "ftp://x.example/a", "PHOENIX_REPORT_WEBHOOK_URL: 'ftp://"),
        ("PHOENIX_REPORT_WEBHOOK_FORMAT", "xml", "PHOENIX_REPORT_WEBHOOK_FORMAT: 'xml' is not"),
    ],
)
def test_a_bad_setting_fails_at_load_naming_the_variable(
    clean_env: None, monkeypatch: pytest.MonkeyPatch, variable: str, value: str, message: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError, match=re.escape(message)):
        report_delivery_resource()


def test_the_resource_holds_env_vars_not_secrets(
    clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    configure(monkeypatch, smtp_port=2525, webhook_url=f"https://hooks.example.com{HOOK_PATH}")
    resource = report_delivery_resource()
    assert isinstance(resource, ReportDelivery)
    assert_no_secret(repr(resource))
    assert isinstance(resource.smtp_password, dg.EnvVar)
    assert_no_secret(repr(ReportDeliverySettings.from_env(os.environ)))


def test_figures_read_as_a_person_expects() -> None:
    assert format_figure("median_list_price", 815000.4) == "$815,000"
    assert format_figure("median_list_price_wow_change", -5000.0) == "-$5,000"
    assert format_figure("median_list_price_wow_pct", 1.234) == "+1.2%"
    assert format_figure("median_list_price_vs_4wk_avg_pct", -0.55) == "-0.6%"
    assert format_figure("active_listings", 1234) == "1,234"
    assert format_figure("active_listings_wow_change", 12) == "+12"
    # A measure of the report is formatted as the report formats it.
    assert format_figure("median_days_on_market", 23.0) == "23 days"
    assert format_figure("days_present", 6.5) == "6.5"
    assert format_figure("median_list_price", float("nan")) == "\N{EN DASH}"
    assert format_figure("complete", True) == "yes"


def test_the_webhook_summary_is_plain_json_whatever_the_figures_are() -> None:
    import numpy as np

    message = replace(
        MESSAGE,
        headline={"active_listings": np.int64(7), "median_list_price": float("nan")},  # type: ignore[dict-item]
        summary={"zips": {"85018": {"active_listings": np.int64(7)}}},
        zips=(ZipFigures("85018", {"active_listings": np.int64(7)}),),  # type: ignore[dict-item]
    )
    notification = report_notification(message)
    assert notification.sections[1].text == "85018: inventory (active listings) 7"
    data = dict(notification.data)
    assert json.loads(json.dumps(data, allow_nan=False)) == {
        "kind": "daily",
        "period": "2026-11-24",
        "headline": {"active_listings": 7, "median_list_price": None},
        "summary": {"zips": {"85018": {"active_listings": 7}}},
        "report_path": MESSAGE.report_path,
    }
