"""Email over a real SMTP server on 127.0.0.1: STARTTLS, AUTH LOGIN, HTML, attachments."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from phoenix_assets.delivery.email import Attachment, send_email
from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.delivery.settings import SmtpSettings
from phoenix_assets_tests.delivery.smtp_server import (
    SelfSignedCertificate,
    SmtpTestServer,
    free_port,
    make_certificate,
    smtp_test_server,
)

USER = "alerts@example.com"
PASSWORD = "s3cret-Pa55word-xyz"


@pytest.fixture
def certificate(tmp_path: Path) -> SelfSignedCertificate:
    return make_certificate(tmp_path)


@pytest.fixture
def tls_server(certificate: SelfSignedCertificate) -> Iterator[SmtpTestServer]:
    with smtp_test_server(certificate=certificate, username=USER, password=PASSWORD) as server:
        yield server


def _smtp(server: SmtpTestServer, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "sender": "Phoenix Alerts <alerts@example.com>",
        "starttls": True,
        "username": USER,
        "password": PASSWORD,
    }
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def test_starttls_login_html_and_attachment_arrive(
    tls_server: SmtpTestServer, certificate: SelfSignedCertificate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    csv = b"zip,median\n85018,815000\n"
    send_email(
        _smtp(tls_server),
        to=["ops@example.com", "owner@example.org"],
        subject="Weekly market\nreport",
        text="Plain body",
        html="<p>HTML <b>body</b></p>",
        attachments=[Attachment("trends.csv", csv, "text/csv")],
        ssl_context=certificate.client_context(),
    )

    assert len(tls_server.received) == 1
    received = tls_server.received[0]
    assert received.over_tls
    assert received.authenticated_as == USER
    assert tls_server.auth_attempts == [("LOGIN", USER)]
    assert received.mail_from == "alerts@example.com"
    assert set(received.rcpt_tos) == {"ops@example.com", "owner@example.org"}
    message = received.message
    assert message["Subject"] == "Weekly market report"
    assert message["From"] == "Phoenix Alerts <alerts@example.com>"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and plain.get_content().strip() == "Plain body"
    assert html is not None and "<b>body</b>" in html.get_content()
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == ["trends.csv"]
    assert attachments[0].get_content_type() == "text/csv"
    assert attachments[0].get_payload(decode=True) == csv
    assert PASSWORD not in caplog.text


def test_a_refused_login_names_the_variables_not_the_password(
    tls_server: SmtpTestServer, certificate: SelfSignedCertificate, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with pytest.raises(DeliveryError) as raised:
        send_email(
            _smtp(tls_server, password="wrong-password-123"),
            to=["ops@example.com"],
            subject="s",
            text="t",
            ssl_context=certificate.client_context(),
        )
    message = str(raised.value)
    assert "login refused" in message
    assert "PHOENIX_SMTP_PASSWORD" in message
    assert "wrong-password-123" not in message
    assert "wrong-password-123" not in caplog.text
    assert tls_server.received == []


def test_an_untrusted_certificate_stops_before_the_password_is_sent(
    tls_server: SmtpTestServer,
) -> None:
    # The default context trusts the system's CAs only, not the test's self-signed cert.
    with pytest.raises(DeliveryError, match="TLS failed"):
        send_email(_smtp(tls_server), to=["ops@example.com"], subject="s", text="t")
    assert tls_server.auth_attempts == []
    assert tls_server.received == []


def test_plain_smtp_without_tls_or_login() -> None:
    with smtp_test_server() as server:
        send_email(
            _smtp(server, starttls=False, username=None, password=None),
            to=["ops@example.com"],
            subject="Plain",
            text="No TLS on a local relay",
        )
    assert len(server.received) == 1
    assert not server.received[0].over_tls
    assert server.received[0].authenticated_as is None
    assert server.received[0].message.get_content_type() == "text/plain"


def test_starttls_required_but_not_offered_says_which_setting() -> None:
    with smtp_test_server() as server, pytest.raises(DeliveryError) as raised:
        send_email(_smtp(server), to=["ops@example.com"], subject="s", text="t")
    assert "PHOENIX_SMTP_STARTTLS" in str(raised.value)
    assert server.received == []


def test_no_server_listening_is_a_delivery_error() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), sender="a@example.com")
    with pytest.raises(DeliveryError, match=r"SMTP 127\.0\.0\.1:\d+: ConnectionRefusedError"):
        send_email(settings, to=["ops@example.com"], subject="s", text="t", timeout_seconds=5)


def test_the_password_never_shows_in_repr() -> None:
    settings = SmtpSettings(
        host="smtp.example.com", port=587, sender="a@example.com", username=USER, password=PASSWORD
    )
    assert PASSWORD not in repr(settings)
