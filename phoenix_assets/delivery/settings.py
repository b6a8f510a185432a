"""Delivery settings: the SMTP server, the alert and report channels and the UI's address.

Every variable is parsed here, with a ``ConfigError`` naming the variable when its
value cannot be used, so the code location fails at load rather than an alert failing
silently at 3 a.m. Secrets (the SMTP password, webhook URLs) are kept out of ``repr``
and every error message shows a URL only as ``mask_url`` does.
"""

from __future__ import annotations

import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from email.utils import parseaddr
from typing import Literal, cast, get_args

from phoenix_assets.settings import (
    LOCAL_HOSTS,
    ConfigError,
    UrlRules,
    parse_number_setting,
    parse_url,
    text_setting,
)

PHOENIX_SMTP_HOST = "PHOENIX_SMTP_HOST"
PHOENIX_SMTP_PORT = "PHOENIX_SMTP_PORT"
PHOENIX_SMTP_USERNAME = "PHOENIX_SMTP_USERNAME"
PHOENIX_SMTP_PASSWORD = "PHOENIX_SMTP_PASSWORD"
PHOENIX_SMTP_STARTTLS = "PHOENIX_SMTP_STARTTLS"
PHOENIX_EMAIL_FROM = "PHOENIX_EMAIL_FROM"
PHOENIX_ALERT_EMAIL_TO = "PHOENIX_ALERT_EMAIL_TO"
PHOENIX_ALERT_SLACK_WEBHOOK_URL = "PHOENIX_ALERT_SLACK_WEBHOOK_URL"
PHOENIX_ALERT_WEBHOOK_URL = "PHOENIX_ALERT_WEBHOOK_URL"
PHOENIX_ALERT_COOLDOWN_MINUTES = "PHOENIX_ALERT_COOLDOWN_MINUTES"
PHOENIX_UI_URL = "PHOENIX_UI_URL"
PHOENIX_REPORT_EMAIL_TO = "PHOENIX_REPORT_EMAIL_TO"
PHOENIX_REPORT_WEBHOOK_URL = "PHOENIX_REPORT_WEBHOOK_URL"
PHOENIX_REPORT_WEBHOOK_FORMAT = "PHOENIX_REPORT_WEBHOOK_FORMAT"

# Every delivery variable, in the order the README lists them.
DELIVERY_VARIABLES: tuple[str, ...] = (
    PHOENIX_SMTP_HOST,
    PHOENIX_SMTP_PORT,
    PHOENIX_SMTP_USERNAME,
    PHOENIX_SMTP_PASSWORD,
    PHOENIX_SMTP_STARTTLS,
    PHOENIX_EMAIL_FROM,
    PHOENIX_ALERT_EMAIL_TO,
    PHOENIX_ALERT_SLACK_WEBHOOK_URL,
    PHOENIX_ALERT_WEBHOOK_URL,
    PHOENIX_ALERT_COOLDOWN_MINUTES,
    PHOENIX_UI_URL,
    PHOENIX_REPORT_EMAIL_TO,
    PHOENIX_REPORT_WEBHOOK_URL,
    PHOENIX_REPORT_WEBHOOK_FORMAT,
)

DEFAULT_SMTP_PORT = 587
DEFAULT_COOLDOWN_MINUTES = 60
MAX_COOLDOWN_MINUTES = 7 * 24 * 60

WebhookFormat = Literal["auto", "slack", "json"]
WEBHOOK_FORMATS: tuple[str, ...] = get_args(WebhookFormat)

_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off"})
_HOST_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")
# A URL kept as its service gave it, to any host; its path is a secret or not.
PLAIN_URL_RULES = UrlRules(plain_http="anywhere", query=True, credentials=True, strip_slash=False)
SECRET_URL_RULES = replace(PLAIN_URL_RULES, secret_path=True)
# A webhook's address is what its service gave (a query, even credentials); its path is
# its key.
WEBHOOK_URL_RULES = UrlRules(
    query=True,
    credentials=True,
    secret_path=True,
    strip_slash=False,
    why_https="the webhook's secret path and every message would cross the network unencrypted",
)


def parse_bool_setting(env: Mapping[str, str], name: str, default: bool) -> bool:
    """A yes/no setting: true/false, 1/0, yes/no, on/off (any case); ``default`` when unset."""
    text = text_setting(env, name)
    if text is None:
        return default
    if text.lower() in _TRUE:
        return True
    if text.lower() in _FALSE:
        return False
    raise ConfigError(f"{name}: {text!r} is not a yes/no value (expected true or false)")


def parse_url_setting(env: Mapping[str, str], name: str, *, secret: bool = True) -> str | None:
    """An ``http(s)://host/...`` URL, or None when unset, kept as given. The error masks the
    URL's path (``secret``: a webhook's path is its key), or shows the URL when it holds none."""
    rules = SECRET_URL_RULES if secret else PLAIN_URL_RULES
    return parse_url(name, env.get(name), rules)


def parse_webhook_url_setting(env: Mapping[str, str], name: str) -> str | None:
    """A webhook URL, or None when unset: https://, or http:// to this machine only
    (``localhost``, ``127.0.0.1``, ``[::1]``: tests, a local relay).

    A webhook URL is a secret (whoever holds it can post to the channel): over plain
    http its path would cross the network readable, with every message.
    """
    return parse_url(name, env.get(name), WEBHOOK_URL_RULES)


def parse_email_address(name: str, text: str, *, allow_display_name: bool) -> str:
    """One email address (``a@b.c``, or ``Name <a@b.c>`` where allowed), or a ``ConfigError``."""
    display, address = parseaddr(text)
    if display and not allow_display_name:
        raise ConfigError(f"{name}: {text!r} should be a bare address such as ops@example.com")
    local, at, domain = address.rpartition("@")
    if (
        not at
        or not local
        or not domain
        or "@" in local
        or any(c.isspace() for c in address)
        or not _HOST_RE.match(domain)
        or (not allow_display_name and address != text)
    ):
        raise ConfigError(f"{name}: {text!r} is not an email address")
    return text


def parse_email_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    """A comma (or semicolon) separated list of addresses; empty when unset."""
    text = text_setting(env, name)
    if text is None:
        return ()
    addresses: list[str] = []
    for item in text.replace(";", ",").split(","):
        item = item.strip()
        if not item:
            continue
        address = parse_email_address(name, item, allow_display_name=False)
        if address.lower() not in (a.lower() for a in addresses):
            addresses.append(address)
    return tuple(addresses)


def parse_recipients(
    env: Mapping[str, str], name: str, smtp: SmtpSettings | None, purpose: str
) -> tuple[str, ...]:
    """``parse_email_list`` of ``name``, refused when no SMTP server is configured."""
    recipients = parse_email_list(env, name)
    if recipients and smtp is None:
        raise ConfigError(
            f"{PHOENIX_SMTP_HOST}: not set, but {name} is ({purpose} need an SMTP server)"
        )
    return recipients


def parse_smtp_host(env: Mapping[str, str]) -> str | None:
    """``PHOENIX_SMTP_HOST``: a host name or IP address, without scheme or port."""
    text = text_setting(env, PHOENIX_SMTP_HOST)
    if text is None:
        return None
    if "://" in text or "/" in text or "@" in text:
        raise ConfigError(
            f"{PHOENIX_SMTP_HOST}: {text!r} should be a host name only, such as smtp.example.com"
        )
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if ":" in text:
        raise ConfigError(
            f"{PHOENIX_SMTP_HOST}: {text!r} should be a host name only; "
            f"put the port in {PHOENIX_SMTP_PORT}"
        )
    if not _HOST_RE.match(text):
        raise ConfigError(f"{PHOENIX_SMTP_HOST}: {text!r} is not a valid host name")
    return text


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the SMTP server. ``password`` is never shown by ``repr``."""

    host: str
    port: int
    sender: str
    starttls: bool = True
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings | None:
        """The SMTP settings, or None when ``PHOENIX_SMTP_HOST`` is unset."""
        env = os.environ if env is None else env
        # Checked even without a host, so a typo shows up before email is turned on.
        port = int(
            parse_number_setting(
                env, PHOENIX_SMTP_PORT, DEFAULT_SMTP_PORT, integer=True, minimum=1, maximum=65535
            )
        )
        starttls = parse_bool_setting(env, PHOENIX_SMTP_STARTTLS, True)
        sender_text = text_setting(env, PHOENIX_EMAIL_FROM)
        if sender_text is not None:
            parse_email_address(PHOENIX_EMAIL_FROM, sender_text, allow_display_name=True)
        host = parse_smtp_host(env)
        if host is None:
            return None
        if sender_text is None:
            raise ConfigError(
                f"{PHOENIX_EMAIL_FROM}: not set; it is required when {PHOENIX_SMTP_HOST} is set "
                "(the sender address, such as 'Phoenix Alerts <alerts@example.com>')"
            )
        sender = parse_email_address(PHOENIX_EMAIL_FROM, sender_text, allow_display_name=True)
        username = text_setting(env, PHOENIX_SMTP_USERNAME)
        # The password is taken verbatim: spaces may be part of it.
        password = env.get(PHOENIX_SMTP_PASSWORD) or None
        if username and not password:
            raise ConfigError(
                f"{PHOENIX_SMTP_PASSWORD}: not set, but {PHOENIX_SMTP_USERNAME} is "
                "(set both to log in, or neither)"
            )
        if password and not username:
            raise ConfigError(
                f"{PHOENIX_SMTP_USERNAME}: not set, but {PHOENIX_SMTP_PASSWORD} is "
                "(set both to log in, or neither)"
            )
        if username and not starttls and host.lower() not in LOCAL_HOSTS:
            raise ConfigError(
                f"{PHOENIX_SMTP_STARTTLS}: false while {PHOENIX_SMTP_USERNAME} is set would send "
                f"the password unencrypted to {host}; set {PHOENIX_SMTP_STARTTLS}=true"
            )
        return cls(
            host=host,
            port=port,
            sender=sender,
            starttls=starttls,
            username=username,
            password=password,
        )


def parse_ui_url(env: Mapping[str, str] | None = None) -> str | None:
    """``PHOENIX_UI_URL``: the Dagster UI's address (for links to runs), without trailing /."""
    env = os.environ if env is None else env
    url = parse_url_setting(env, PHOENIX_UI_URL, secret=False)
    return url.rstrip("/") if url else None


@dataclass(frozen=True)
class AlertSettings:
    """Where alerts go and how often. Webhook URLs are secrets and never shown by ``repr``."""

    smtp: SmtpSettings | None = None
    email_to: tuple[str, ...] = ()
    slack_webhook_url: str | None = field(default=None, repr=False)
    webhook_url: str | None = field(default=None, repr=False)
    cooldown_minutes: int = DEFAULT_COOLDOWN_MINUTES
    ui_url: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AlertSettings:
        """Parse every alert variable; a ``ConfigError`` names the first bad one."""
        env = os.environ if env is None else env
        smtp = SmtpSettings.from_env(env)
        email_to = parse_recipients(env, PHOENIX_ALERT_EMAIL_TO, smtp, "email alerts")
        cooldown = parse_number_setting(
            env,
            PHOENIX_ALERT_COOLDOWN_MINUTES,
            DEFAULT_COOLDOWN_MINUTES,
            integer=True,
            minimum=0,
            maximum=MAX_COOLDOWN_MINUTES,
        )
        return cls(
            smtp=smtp,
            email_to=email_to,
            slack_webhook_url=parse_webhook_url_setting(env, PHOENIX_ALERT_SLACK_WEBHOOK_URL),
            webhook_url=parse_webhook_url_setting(env, PHOENIX_ALERT_WEBHOOK_URL),
            cooldown_minutes=int(cooldown),
            ui_url=parse_ui_url(env),
        )

    @property
    def cooldown_seconds(self) -> float:
        return self.cooldown_minutes * 60.0

    def secrets(self) -> tuple[str, ...]:
        """The secret values, to scrub from any text that leaves the process."""
        values = [
            self.smtp.password if self.smtp else None,
            self.slack_webhook_url,
            self.webhook_url,
        ]
        return tuple(v for v in values if v)


@dataclass(frozen=True)
class ReportDeliverySettings:
    """Where the market reports go: email (through ``smtp``) and/or one webhook.

    ``webhook_format`` is ``auto`` (Slack's format for a ``hooks.slack.com`` URL, generic
    JSON otherwise), ``slack`` (for Slack-compatible receivers on other hosts) or
    ``json``. The webhook URL is a secret and never shown by ``repr``.
    """

    smtp: SmtpSettings | None = None
    email_to: tuple[str, ...] = ()
    webhook_url: str | None = field(default=None, repr=False)
    webhook_format: WebhookFormat = "auto"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReportDeliverySettings:
        """Parse the report variables (and the SMTP ones); a ``ConfigError`` names the bad one."""
        env = os.environ if env is None else env
        smtp = SmtpSettings.from_env(env)
        email_to = parse_recipients(env, PHOENIX_REPORT_EMAIL_TO, smtp, "emailed reports")
        webhook_format = (text_setting(env, PHOENIX_REPORT_WEBHOOK_FORMAT) or "auto").lower()
        if webhook_format not in WEBHOOK_FORMATS:
            raise ConfigError(
                f"{PHOENIX_REPORT_WEBHOOK_FORMAT}: {webhook_format!r} is not one of "
                f"{', '.join(WEBHOOK_FORMATS)}"
            )
        return cls(
            smtp=smtp if email_to else None,
            email_to=email_to,
            webhook_url=parse_webhook_url_setting(env, PHOENIX_REPORT_WEBHOOK_URL),
            webhook_format=cast(WebhookFormat, webhook_format),
        )

    @property
    def slack(self) -> bool | None:
        """Whether to post Slack's format: forced by ``webhook_format``, None = by the URL."""
        return {"auto": None, "slack": True, "json": False}[self.webhook_format]

    def secrets(self) -> tuple[str, ...]:
        """The secret values, to scrub from any text that leaves the process."""
        values = [self.smtp.password if self.smtp else None, self.webhook_url]
        return tuple(v for v in values if v)
