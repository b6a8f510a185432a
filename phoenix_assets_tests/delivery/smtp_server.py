"""A real SMTP server on 127.0.0.1 for tests (aiosmtpd), with STARTTLS and AUTH LOGIN.

The TLS certificate is self-signed for 127.0.0.1, made with ``cryptography`` in the
test's temp dir; a client trusts it through ``SelfSignedCertificate.client_context()`` or
``SSL_CERT_FILE``.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

HOST = "127.0.0.1"


@dataclass(frozen=True)
class SelfSignedCertificate:
    """A self-signed certificate for 127.0.0.1 and localhost, and its key."""

    cert_path: Path
    key_path: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        """A client context that trusts this certificate (and verifies the host name)."""
        return ssl.create_default_context(cafile=str(self.cert_path))


def make_certificate(directory: Path) -> SelfSignedCertificate:
    """Write a fresh self-signed certificate (a day's validity) into ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "phoenix-test-smtp")])
    now = dt.datetime.now(dt.UTC)
    public_key = key.public_key()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address(HOST))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(public_key), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path = directory / "smtp-cert.pem"
    key_path = directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return SelfSignedCertificate(cert_path=cert_path, key_path=key_path)


@dataclass(frozen=True)
class Received:
    """One message as the server received it."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    message: EmailMessage
    over_tls: bool
    authenticated_as: str | None


@dataclass
class _Handler:
    username: str | None
    password: str | None
    received: list[Received] = field(default_factory=list)
    auth_attempts: list[tuple[str, str]] = field(default_factory=list)  # (mechanism, login)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or envelope.content
        raw = content if isinstance(content, bytes) else str(content).encode()
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        login = session.auth_data
        self.received.append(
            Received(
                mail_from=str(envelope.mail_from),
                rcpt_tos=tuple(envelope.rcpt_tos),
                message=message,
                over_tls=session.ssl is not None,
                authenticated_as=login.decode() if isinstance(login, bytes) else None,
            )
        )
        return "250 Message accepted"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode()
        self.auth_attempts.append((mechanism, login))
        ok = login == self.username and auth_data.password.decode() == self.password
        # aiosmtpd keeps auth_data on the session: keep the login only, never the password.
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


@dataclass
class SmtpTestServer:
    """A running server: where it listens and what it received."""

    host: str
    port: int
    handler: _Handler

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    @property
    def auth_attempts(self) -> list[tuple[str, str]]:
        return self.handler.auth_attempts


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def smtp_test_server(
    *,
    certificate: SelfSignedCertificate | None = None,
    username: str | None = None,
    password: str | None = None,
) -> Iterator[SmtpTestServer]:
    """Run a server until the ``with`` ends.

    With ``certificate`` it offers STARTTLS and refuses mail before it; with ``username``
    it requires AUTH, offered as LOGIN only (PLAIN excluded) and only after STARTTLS.
    """
    handler = _Handler(username=username, password=password)
    kwargs: dict[str, Any] = {}
    if certificate is not None:
        kwargs.update(tls_context=certificate.server_context(), require_starttls=True)
    if username is not None:
        kwargs.update(
            authenticator=handler.authenticate,
            auth_required=True,
            auth_require_tls=certificate is not None,
            auth_exclude_mechanism=["PLAIN"],
        )
    controller = Controller(handler, hostname=HOST, port=free_port(), **kwargs)
    controller.start()
    try:
        yield SmtpTestServer(host=HOST, port=controller.port, handler=handler)
    finally:
        controller.stop()
