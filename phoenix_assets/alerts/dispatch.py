"""Send an alert to every configured channel: Slack, a generic webhook, email.

One channel failing is logged and the others still get the alert. With no channel
configured the alert is logged in one line and dropped: alerting is optional, and a
missing channel must never fail the sensor.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Sequence

from phoenix_assets.delivery.channels import (
    Channel,
    DeliveryReport,
    EmailChannel,
    WebhookChannel,
    deliver,
)
from phoenix_assets.delivery.message import Notification
from phoenix_assets.delivery.settings import (
    PHOENIX_ALERT_EMAIL_TO,
    PHOENIX_ALERT_SLACK_WEBHOOK_URL,
    PHOENIX_ALERT_WEBHOOK_URL,
    AlertSettings,
)
from phoenix_assets.delivery.webhook import WebhookPolicy


def alert_channels(
    settings: AlertSettings,
    *,
    webhook_policy: WebhookPolicy | None = None,
    ssl_context: ssl.SSLContext | None = None,
) -> list[Channel]:
    """The channels the settings configure, in a fixed order: Slack, webhook, email."""
    policy = webhook_policy or WebhookPolicy()
    channels: list[Channel] = []
    if settings.slack_webhook_url:
        # The variable says it is Slack: use Slack's format whatever the host.
        channels.append(WebhookChannel(settings.slack_webhook_url, slack=True, policy=policy))
    if settings.webhook_url:
        channels.append(WebhookChannel(settings.webhook_url, policy=policy))
    if settings.smtp and settings.email_to:
        channels.append(EmailChannel(settings.smtp, settings.email_to, ssl_context=ssl_context))
    return channels


def dispatch_alert(
    notification: Notification,
    channels: Sequence[Channel],
    *,
    logger: logging.Logger,
) -> DeliveryReport:
    """Deliver ``notification`` everywhere; one log line when there is nowhere to deliver."""
    if not channels:
        logger.warning(
            "Alert not sent, no alert channel configured (set %s, %s or %s): %s",
            PHOENIX_ALERT_SLACK_WEBHOOK_URL,
            PHOENIX_ALERT_WEBHOOK_URL,
            PHOENIX_ALERT_EMAIL_TO,
            notification.title,
        )
        return DeliveryReport()
    return deliver(notification, channels, logger=logger)
