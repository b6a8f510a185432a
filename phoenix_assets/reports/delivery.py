"""Delivery of the market reports: by email (HTML with its charts inline, CSV attached)
and to a webhook (a JSON summary, or Slack's format), once per report and channel.

The report assets call ``ReportDelivery.deliver`` (resource key ``report_delivery``)
after writing their files. Delivery never fails an asset: every failure is logged and
shown in the returned ``DeliveryOutcome`` (and so in the materialization's metadata).

Each report is sent at most once per channel: a run claims the send in the
``report_deliveries`` ledger first (``storage/report_ledger.py``), marks it sent after,
and releases it when the send fails, so a retry, a replay or two runs of one partition
never send it twice. Without the ledger nothing is sent: a send could be a duplicate.
"""

import logging
import re
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

import dagster as dg
from pymongo.database import Database
from pymongo.errors import PyMongoError

from phoenix_assets.delivery.channels import WebhookChannel
from phoenix_assets.delivery.email import InlineImage, send_email
from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.delivery.message import Notification
from phoenix_assets.delivery.redaction import scrub
from phoenix_assets.delivery.settings import (
    PHOENIX_EMAIL_FROM,
    PHOENIX_REPORT_EMAIL_TO,
    PHOENIX_REPORT_WEBHOOK_FORMAT,
    PHOENIX_REPORT_WEBHOOK_URL,
    PHOENIX_SMTP_HOST,
    PHOENIX_SMTP_PASSWORD,
    PHOENIX_SMTP_PORT,
    PHOENIX_SMTP_STARTTLS,
    PHOENIX_SMTP_USERNAME,
    ReportDeliverySettings,
)
from phoenix_assets.delivery.webhook import WebhookPolicy
from phoenix_assets.env_resource import EnvSettingsResource
from phoenix_assets.reports.message import ReportMessage, email_text, report_notification
from phoenix_assets.settings import ConfigError
from phoenix_assets.storage.report_ledger import (
    ALREADY_SENT,
    LEASE_MINUTES,
    LEDGER_COLLECTION,
    claim_send,
    ledger_id,
    mark_sent,
    release,
)

EMAIL = "email"
WEBHOOK = "webhook"
# Channel labels, in the order they are tried. A label names the kind of channel, not
# its destination: it is part of the ledger's key, so it must hold no secret and stay
# the same when, say, a recipient is added.
CHANNEL_LABELS: tuple[str, ...] = (EMAIL, WEBHOOK)

SENT = "sent"
NOT_CONFIGURED = "not configured"
_CID_REF = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)

LogLike = logging.Logger | dg.DagsterLogManager


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened on each channel: ``sent``, ``already sent``, ``being sent by another
    run`` (not a failure: that run sends it), ``failed: <reason>`` or ``not configured``.
    Labels and reasons hold no secret."""

    channels: dict[str, str]

    @property
    def failed(self) -> dict[str, str]:
        """The channels that failed, with their status."""
        return {label: s for label, s in self.channels.items() if s.startswith("failed")}

    def metadata(self) -> dict[str, Any]:
        """For the asset's materialization metadata: ``delivery_<channel>: <status>``."""
        return {f"delivery_{label}": status for label, status in self.channels.items()}


# --- Delivery ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Channel:
    label: str  # stable, part of the ledger key
    name: str  # for logs: kind and destination, no secret
    send: Callable[[], None]


def _email_channel(
    settings: ReportDeliverySettings,
    message: ReportMessage,
    notification: Notification,
    log: LogLike,
    ssl_context: ssl.SSLContext | None,
) -> _Channel | None:
    smtp = settings.smtp
    if smtp is None or not settings.email_to:
        return None

    def send() -> None:
        missing = set(_CID_REF.findall(message.email_html)) - set(message.inline_images)
        if missing:
            # The email still goes: a missing chart is better than no report.
            log.warning("Report email refers to images it lacks: %s", ", ".join(sorted(missing)))
        send_email(
            smtp,
            to=settings.email_to,
            subject=message.title,
            text=email_text(notification, message),
            html=message.email_html,
            attachments=message.attachments,
            inline_images=[
                InlineImage(cid=name, content=png, filename=name if "." in name else f"{name}.png")
                for name, png in message.inline_images.items()
            ],
            ssl_context=ssl_context,
        )

    count = len(settings.email_to)
    return _Channel(EMAIL, f"email ({count} recipient{'s' if count != 1 else ''})", send)


def _webhook_channel(
    settings: ReportDeliverySettings, notification: Notification, policy: WebhookPolicy
) -> _Channel | None:
    if not settings.webhook_url:
        return None
    # The alerts' webhook channel: Slack's format when forced or detected by host.
    channel = WebhookChannel(settings.webhook_url, slack=settings.slack, policy=policy)
    return _Channel(WEBHOOK, channel.name, lambda: channel.send(notification))


def deliver_report(
    db: Database,
    message: ReportMessage,
    settings: ReportDeliverySettings,
    log: LogLike,
    *,
    webhook_policy: WebhookPolicy | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> DeliveryOutcome:
    """Send ``message`` to every configured channel that has not had it yet; never raises.

    ``ssl_context`` verifies the SMTP server's certificate (default: the system's trust
    store, which honours ``SSL_CERT_FILE``).
    """
    try:
        notification = report_notification(message)
        channels = {
            EMAIL: _email_channel(settings, message, notification, log, ssl_context),
            WEBHOOK: _webhook_channel(settings, notification, webhook_policy or WebhookPolicy()),
        }
        if not any(channels.values()):
            log.info(
                "Report %r not delivered: no report channel configured (set %s or %s)",
                message.title,
                PHOENIX_REPORT_EMAIL_TO,
                PHOENIX_REPORT_WEBHOOK_URL,
            )
            return DeliveryOutcome({label: NOT_CONFIGURED for label in CHANNEL_LABELS})
        statuses = {
            label: (
                _deliver_once(db, message, channel, settings.secrets(), log)
                if channel
                else NOT_CONFIGURED
            )
            for label, channel in channels.items()
        }
        return DeliveryOutcome(statuses)
    except Exception as exc:
        # A bug here must not fail the report's asset; the type alone is safe to show.
        log.error("Report %r not delivered: unexpected %s", message.title, type(exc).__name__)
        return DeliveryOutcome(
            {label: f"failed: unexpected {type(exc).__name__}" for label in CHANNEL_LABELS}
        )


def _deliver_once(
    db: Database,
    message: ReportMessage,
    channel: _Channel,
    secrets: tuple[str, ...],
    log: LogLike,
) -> str:
    key = ledger_id(message.kind, message.period, channel.label)
    about: dict[str, Any] = {
        "kind": message.kind,
        "period": message.period,
        "channel": channel.label,
        "destination": channel.name,
        "title": message.title,
    }
    try:
        claim = claim_send(db, key, about)
    except PyMongoError as exc:
        # Without the ledger a send could be a duplicate: wait for the next attempt.
        reason = f"could not claim the send in {LEDGER_COLLECTION} ({type(exc).__name__})"
        log.error("Report %r not sent by %s: %s", message.title, channel.name, reason)
        return f"failed: {reason}"
    if isinstance(claim, str):
        if claim == ALREADY_SENT:
            log.info("Report %r already sent by %s: not sent again", message.title, channel.name)
        else:
            log.info(
                "Report %r is being sent by %s in another run: not sent here",
                message.title,
                channel.name,
            )
        return claim
    try:
        channel.send()
    except (DeliveryError, ValueError) as exc:
        # DeliveryError texts are log-safe by contract, ValueErrors are our own checks
        # (a MIME type, a Content-ID); scrubbed all the same.
        reason = scrub(str(exc), secrets)
    except Exception as exc:
        # Its text may quote a secret: name its type only.
        reason = f"unexpected {type(exc).__name__}"
    else:
        log.info("Sent report %r by %s", message.title, channel.name)
        problem = mark_sent(db, claim)
        if problem:
            log.warning(
                "Report %r was sent by %s but not recorded in %s (%s): a replay after the "
                "claim's lease (%d minutes) may send it again",
                message.title,
                channel.name,
                LEDGER_COLLECTION,
                problem,
                LEASE_MINUTES,
            )
        return SENT
    log.error("Could not send report %r by %s: %s", message.title, channel.name, reason)
    problem = release(db, claim)
    if problem:
        log.error(
            "Could not release the claim on report %r by %s in %s (%s): it is sent again "
            "only once the claim's lease (%d minutes) has passed",
            message.title,
            channel.name,
            LEDGER_COLLECTION,
            problem,
            LEASE_MINUTES,
        )
    return f"failed: {reason}"


# --- The resource --------------------------------------------------------------------

# Resource field -> the environment variable it is read from.
_FIELD_VARIABLES: dict[str, str] = {
    "smtp_host": PHOENIX_SMTP_HOST,
    "smtp_port": PHOENIX_SMTP_PORT,
    "smtp_username": PHOENIX_SMTP_USERNAME,
    "smtp_password": PHOENIX_SMTP_PASSWORD,
    "smtp_starttls": PHOENIX_SMTP_STARTTLS,
    "email_from": PHOENIX_EMAIL_FROM,
    "report_email_to": PHOENIX_REPORT_EMAIL_TO,
    "webhook_url": PHOENIX_REPORT_WEBHOOK_URL,
    "webhook_format": PHOENIX_REPORT_WEBHOOK_FORMAT,
}


class ReportDelivery(EnvSettingsResource):
    """Where the market reports go: email (``PHOENIX_REPORT_EMAIL_TO`` through the
    ``PHOENIX_SMTP_*`` server) and/or a webhook (``PHOENIX_REPORT_WEBHOOK_URL``).

    Each field holds its environment variable's text (``from_environment`` passes
    ``dg.EnvVar``s, so secrets are read in the run's process and never stored in the
    definitions); ``settings()`` parses them with the same rules as at load time. An
    unset field means the variable is unset.
    """

    variables: ClassVar[dict[str, str]] = _FIELD_VARIABLES

    smtp_host: str | None = None
    smtp_port: str | None = None
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_starttls: str | None = None
    email_from: str | None = None
    report_email_to: str | None = None
    webhook_url: str | None = None
    webhook_format: str | None = None

    def settings(self) -> ReportDeliverySettings:
        """The parsed settings (a ``ConfigError`` names the variable of a bad value)."""
        return ReportDeliverySettings.from_env(self.environ())

    def deliver(self, db: Database, message: ReportMessage, log: LogLike) -> DeliveryOutcome:
        """Send ``message`` to each configured channel that has not had it; never raises.

        ``db`` holds the ``report_deliveries`` ledger. The outcome says, per channel,
        ``sent``, ``already sent``, ``being sent by another run``, ``failed: <reason>`` or
        ``not configured``.
        """
        try:
            settings = self.settings()
        except ConfigError as exc:
            # Checked at load too; a run's environment can still differ from the loader's.
            log.error("Report %r not delivered: %s", message.title, exc)
            return DeliveryOutcome({label: f"failed: {exc}" for label in CHANNEL_LABELS})
        return deliver_report(db, message, settings, log)
