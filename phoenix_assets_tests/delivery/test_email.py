"""Email over a real SMTP server on 127.0.0.1: STARTTLS, AUTH LOGIN, HTML, attachments."""

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from phoenix_assets.delivery.email import Attachment, InlineImage, build_message, send_email
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


def test_inline_images_travel_with_the_html_as_related_parts() -> None:
    html = '<p>Prices</p><img src="cid:prices"><img src="cid:inventory.png">'
    images = [
        InlineImage("prices", b"\x89PNG-prices"),
        InlineImage("inventory.png", b"\x89PNG-inventory", filename="inventory.png"),
    ]
    csv = b"zip,median\n85018,815000\n"
    with smtp_test_server() as server:
        send_email(
            _smtp(server, starttls=False, username=None, password=None),
            to=["ops@example.com"],
            subject="Report",
            text="Plain body",
            html=html,
            inline_images=images,
            attachments=[Attachment("report.csv", csv, "text/csv")],
        )
    [received] = server.received
    message = received.message
    # mixed[alternative[plain, related[html, images]], csv]
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert alternative.get_content_type() == "multipart/alternative"
    plain, related = alternative.iter_parts()
    assert plain.get_content_type() == "text/plain"
    assert related.get_content_type() == "multipart/related"
    html_part, *image_parts = related.iter_parts()
    assert html_part.get_content_type() == "text/html"
    assert html_part.get_content().strip() == html
    by_cid = {part["Content-ID"]: part for part in image_parts}
    assert set(by_cid) == {"<prices>", "<inventory.png>"}
    for image in images:
        part = by_cid[f"<{image.cid}>"]
        assert part.get_content_type() == "image/png"
        assert part.get_content_disposition() == "inline"
        assert part.get_payload(decode=True) == image.content
    assert by_cid["<inventory.png>"].get_filename() == "inventory.png"
    # Mail clients show the HTML body; the images are not listed as attachments.
    body = message.get_body(preferencelist=("related", "html"))
    assert body is related
    assert [a.get_filename() for a in message.iter_attachments()] == ["report.csv"]
    assert attachment.get_payload(decode=True) == csv


def test_inline_images_are_checked_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="not a valid Content-ID"):
        InlineImage("two words", b"x")
    with pytest.raises(ValueError, match="need an HTML body"):
        build_message(
            sender="a@example.com",
            to=["b@example.com"],
            subject="s",
            text="t",
            inline_images=[InlineImage("chart", b"x")],
        )
    with pytest.raises(ValueError, match="is not a MIME type"):
        build_message(
            sender="a@example.com",
            to=["b@example.com"],
            subject="s",
            text="t",
            html="<img src='cid:chart'>",
            inline_images=[InlineImage("chart", b"x", mime_type="png")],
        )
