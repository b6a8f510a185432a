"""Channels a notification can go to, and delivery to all of them.

A channel failing (SMTP down, Slack refusing) is logged and the others still get the
message; ``deliver`` reports which ones did. A channel's ``name`` is safe to log: an
email channel counts its recipients, a webhook channel shows its URL masked.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol

from phoenix_assets.delivery.email import Attachment, send_email
from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.delivery.message import (
    Notification,
    generic_payload,
    render_html,
    render_text,
    slack_payload,
)
from phoenix_assets.delivery.settings import SmtpSettings
from phoenix_assets.delivery.webhook import (
    WebhookPolicy,
    is_slack_webhook_url,
    mask_url,
    post_json,
)


class Channel(Protocol):
    """Something that takes a notification to a person."""

    @property
    def name(self) -> str:
        """A label for logs, with no secret in it."""
        ...

    def send(self, notification: Notification, attachments: Sequence[Attachment] = ()) -> None:
        """Deliver ``notification`` or raise ``DeliveryError``."""
        ...


@dataclass(frozen=True)
class EmailChannel:
    """Email through an SMTP server, to a fixed list of recipients."""

    smtp: SmtpSettings
    to: tuple[str, ...]
    ssl_context: ssl.SSLContext | None = field(default=None, compare=False)

    @property
    def name(self) -> str:
        return f"email ({len(self.to)} recipient{'s' if len(self.to) != 1 else ''})"

    def send(self, notification: Notification, attachments: Sequence[Attachment] = ()) -> None:
        send_email(
            self.smtp,
            to=self.to,
            subject=notification.title,
            text=render_text(notification),
            html=render_html(notification),
            attachments=attachments,
            ssl_context=self.ssl_context,
        )


@dataclass(frozen=True)
class WebhookChannel:
    """A JSON POST: Slack Block Kit for a Slack webhook, a generic document otherwise.

    ``slack`` forces the format; by default it follows the URL (host ``hooks.slack.com``).
    Attachments are not sent (a webhook carries the message only).
    """

    url: str = field(repr=False)
    slack: bool | None = None
    policy: WebhookPolicy = field(default_factory=WebhookPolicy)

    @property
    def is_slack(self) -> bool:
        return is_slack_webhook_url(self.url) if self.slack is None else self.slack

    @property
    def name(self) -> str:
        return f"{'slack' if self.is_slack else 'webhook'} ({mask_url(self.url)})"

    def send(self, notification: Notification, attachments: Sequence[Attachment] = ()) -> None:
        payload = slack_payload(notification) if self.is_slack else generic_payload(notification)
        post_json(self.url, payload, policy=self.policy)


@dataclass(frozen=True)
class DeliveryReport:
    """Which channels got the message and which failed (with a log-safe reason)."""

    delivered: tuple[str, ...] = ()
    failed: tuple[tuple[str, str], ...] = ()

    @property
    def ok(self) -> bool:
        """At least one channel delivered and none failed."""
        return bool(self.delivered) and not self.failed


def deliver(
    notification: Notification,
    channels: Sequence[Channel],
    *,
    logger: logging.Logger,
    attachments: Sequence[Attachment] = (),
) -> DeliveryReport:
    """Send ``notification`` to every channel; a failing channel never stops the others."""
    if not channels:
        logger.info("No delivery channel configured: %r not sent", notification.title)
        return DeliveryReport()
    delivered: list[str] = []
    failed: list[tuple[str, str]] = []
    for channel in channels:
        try:
            channel.send(notification, attachments)
        except DeliveryError as exc:
            reason = str(exc)
        except Exception as exc:
            # A bug or an unforeseen error in one channel must not cost the others
            # their message; name its type only, its text may quote a secret.
            reason = f"unexpected {type(exc).__name__}"
        else:
            delivered.append(channel.name)
            logger.info("Sent %r by %s", notification.title, channel.name)
            continue
        failed.append((channel.name, reason))
        logger.error("Could not send %r by %s: %s", notification.title, channel.name, reason)
    return DeliveryReport(delivered=tuple(delivered), failed=tuple(failed))
