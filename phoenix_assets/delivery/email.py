"""Send an email over SMTP: STARTTLS, then login when configured; text, HTML, attachments.

An HTML body may show images carried in the message itself (``InlineImage``, referenced
as ``<img src="cid:NAME">``), as a report's charts are: they go with the HTML in a
``multipart/related`` part, so mail clients display them without fetching anything.

The password goes to ``smtplib`` and nowhere else: errors carry the server's reply
and the host, never the credentials.
"""

from __future__ import annotations

import logging
import re
import smtplib
import ssl
from collections.abc import Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.delivery.settings import SmtpSettings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attachment:
    """A file attached to an email."""

    filename: str
    content: bytes
    mime_type: str = "application/octet-stream"


# A Content-ID is a msg-id (RFC 2392, RFC 5322): printable ASCII without brackets,
# quotes, spaces or the characters a ``cid:`` URL would have to escape.
_CID_RE = re.compile(r"^[A-Za-z0-9!#$&'*+\-.=?^_`{|}~@]+$")


@dataclass(frozen=True)
class InlineImage:
    """An image shown inside the HTML body, which refers to it as ``cid:<cid>``."""

    cid: str
    content: bytes
    mime_type: str = "image/png"
    filename: str | None = None

    def __post_init__(self) -> None:
        if not _CID_RE.match(self.cid):
            raise ValueError(f"inline image {self.cid!r}: not a valid Content-ID")


def build_message(
    *,
    sender: str,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    inline_images: Sequence[InlineImage] = (),
) -> EmailMessage:
    """A MIME message: text, ``multipart/alternative`` with HTML, then the attachments.

    With ``inline_images`` the HTML alternative becomes ``multipart/related``: the HTML
    first, then each image with its ``Content-ID``, so the layout is
    ``mixed[alternative[plain, related[html, images...]], attachments...]``.
    """
    if inline_images and html is None:
        raise ValueError("inline images need an HTML body to show them")
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    # A header must be one line: a multi-line title would otherwise be refused.
    message["Subject"] = " ".join(subject.split())
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain=_domain_of(sender))
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    if inline_images:
        html_part = message.get_body(preferencelist=("html",))
        assert html_part is not None  # added just above
        for image in inline_images:
            maintype, subtype = _mime_type(image.cid, image.mime_type)
            # add_related turns the text/html part into multipart/related on the first call.
            html_part.add_related(
                image.content,
                maintype=maintype,
                subtype=subtype,
                cid=f"<{image.cid}>",
                disposition="inline",
                filename=image.filename,
            )
    for attachment in attachments:
        maintype, subtype = _mime_type(attachment.filename, attachment.mime_type)
        message.add_attachment(
            attachment.content,
            maintype=maintype,
            subtype=subtype,
            filename=attachment.filename,
        )
    return message


def _mime_type(what: str, mime_type: str) -> tuple[str, str]:
    maintype, _, subtype = mime_type.partition("/")
    if not maintype or not subtype:
        raise ValueError(f"{what}: {mime_type!r} is not a MIME type")
    return maintype, subtype


def _domain_of(address: str) -> str:
    domain = address.rpartition("@")[2].strip().rstrip(">").strip()
    return domain or "localhost"


def send_email(
    smtp: SmtpSettings,
    *,
    to: Sequence[str],
    subject: str,
    text: str,
    html: str | None = None,
    attachments: Sequence[Attachment] = (),
    inline_images: Sequence[InlineImage] = (),
    timeout_seconds: float = 30.0,
    ssl_context: ssl.SSLContext | None = None,
) -> None:
    """Send one message to ``to`` through ``smtp``; raise ``DeliveryError`` on failure.

    With ``smtp.starttls`` the connection is upgraded to TLS (certificate and host name
    verified against ``ssl_context``, by default the system's trust store) before any
    login; the server must offer STARTTLS. ``inline_images`` are shown by the HTML body
    (see ``build_message``).
    """
    if not to:
        raise ValueError("send_email: no recipient")
    message = build_message(
        sender=smtp.sender,
        to=to,
        subject=subject,
        text=text,
        html=html,
        attachments=attachments,
        inline_images=inline_images,
    )
    where = f"{smtp.host}:{smtp.port}"
    try:
        with smtplib.SMTP(smtp.host, smtp.port, timeout=timeout_seconds) as client:
            client.ehlo()
            if smtp.starttls:
                client.starttls(context=ssl_context or ssl.create_default_context())
                client.ehlo()
            if smtp.username and smtp.password:
                client.login(smtp.username, smtp.password)
            refused = client.send_message(message)
    except smtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            f"SMTP {where}: login refused for user {smtp.username!r} "
            f"({exc.smtp_code} {_reply(exc.smtp_error)}); check PHOENIX_SMTP_USERNAME "
            "and PHOENIX_SMTP_PASSWORD"
        ) from None
    except smtplib.SMTPNotSupportedError as exc:
        raise DeliveryError(f"SMTP {where}: {exc} (set PHOENIX_SMTP_STARTTLS?)") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise DeliveryError(
            f"SMTP {where}: every recipient refused ({', '.join(exc.recipients)})"
        ) from None
    except smtplib.SMTPResponseException as exc:
        raise DeliveryError(f"SMTP {where}: {exc.smtp_code} {_reply(exc.smtp_error)}") from None
    except ssl.SSLError as exc:
        raise DeliveryError(f"SMTP {where}: TLS failed ({exc.reason or exc})") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise DeliveryError(f"SMTP {where}: {type(exc).__name__}: {exc}") from None
    if refused:
        # Some recipients were accepted: the message went out, but say who missed it.
        logger.warning("SMTP %s: refused recipients %s", where, ", ".join(sorted(refused)))
    logger.info("SMTP %s: sent %r to %d recipient(s)", where, message["Subject"], len(to))


def _reply(error: bytes | str) -> str:
    text = error.decode("utf-8", "replace") if isinstance(error, bytes) else str(error)
    return " ".join(text.split())[:200]
