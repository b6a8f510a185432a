"""Delivery of the market reports: by email (HTML with its charts inline, CSV attached)
and to a webhook (a JSON summary, or Slack's format), once per report and channel.

The report assets call ``ReportDelivery.deliver`` (resource key ``report_delivery``)
after writing their files. Delivery never fails an asset: every failure is logged and
shown in the returned ``DeliveryOutcome`` (and so in the materialization's metadata).

Each report is sent at most once per channel, through the ``report_deliveries`` ledger
(one document per report and channel, under the natural key
``"<kind>:<period>:<channel>"``):

- Before sending, a run *claims* the send by inserting the document with
  ``status: "sending"``, a random ``claim`` token and its time (``claimed_at``, and
  ``claimed_us``, microseconds since the epoch, which is what is compared). The
  unique ``_id`` lets one claimant in: another run of the same partition at the same
  moment gets a duplicate key, reads the document and sends nothing (``already sent``
  or ``being sent by another run``).
- After the send, the claimant marks its own claim sent (``status: "sent"``,
  ``sent_at``, ``sent_us``): the document is replaced whole, filtered on ``_id`` and
  its token, so its times are always written as dates. A retry or replay of the
  partition finds it and sends nothing. A document without a status but with
  ``sent_at`` (as older versions recorded a send) also counts as sent.
- When the send fails, the claimant deletes its claim, so the next attempt sends.
- A claim older than ``CLAIM_LEASE`` (its run died between claim and mark) may be taken
  over, atomically: the document is replaced only if it still holds the old token, so
  one run alone sends. The lease is far above the longest send (the SMTP and webhook
  timeouts and retries), so a live claim is never taken over.

A send that could not be marked (the ledger went away meanwhile) is logged; a replay
after the lease may send it again. Without the ledger nothing is sent: a send could be a
duplicate. To send a report again, delete its document.
"""

import datetime as dt
import logging
import math
import re
import ssl
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import dagster as dg
from pymongo.collection import Collection
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from phoenix_assets.delivery.channels import WebhookChannel
from phoenix_assets.delivery.email import Attachment, InlineImage, send_email
from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.delivery.message import Level, Notification, Section, render_text
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
from phoenix_assets.domain.market import METRO
from phoenix_assets.env_resource import EnvSettingsResource
from phoenix_assets.reports.measures import MEASURES, PRICE_CUT_SHARE, Measure, format_value
from phoenix_assets.settings import ConfigError

LEDGER_COLLECTION = "report_deliveries"
EMAIL = "email"
WEBHOOK = "webhook"
# Channel labels, in the order they are tried. A label names the kind of channel, not
# its destination: it is part of the ledger's key, so it must hold no secret and stay
# the same when, say, a recipient is added.
CHANNEL_LABELS: tuple[str, ...] = (EMAIL, WEBHOOK)

SENT = "sent"
ALREADY_SENT = "already sent"
BEING_SENT = "being sent by another run"
NOT_CONFIGURED = "not configured"

# The ledger's ``status``: a claimed send in progress, and a send made.
LEDGER_SENDING = "sending"
LEDGER_SENT = "sent"
# How long a claim holds before another run may take it over. Far above the longest
# send: an SMTP exchange times out after 30 s per operation, a webhook after 4 attempts
# of 10 s with at most 20 s between them.
CLAIM_LEASE = dt.timedelta(minutes=30)
_LEASE_MINUTES = CLAIM_LEASE // dt.timedelta(minutes=1)  # as the log lines say it
# How often a run tries to claim when claims are released or taken over under it.
_CLAIM_ATTEMPTS = 3
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)

# How many ZIPs a webhook message lists, and which figures per ZIP (at most four).
MAX_ZIPS_LISTED = 12
FIGURES_PER_ZIP = 4
ZIP_KEY_FIGURES = ("median_list_price", "active_listings", "new_listings", "closed_sales")
_ZIP_LIST_KEYS = ("zips", "per_zip", "by_zip", "zip_codes", "areas")
_ZIP_NAME_KEYS = ("zip_code", "zip", "area")
_ZIP_SKIP_KEYS = frozenset({*_ZIP_NAME_KEYS, "area_type", "partition_key", "name", "city"})
_CID_REF = re.compile(r"""cid:([^"'\s)>]+)""", re.IGNORECASE)

LogLike = logging.Logger | dg.DagsterLogManager


@dataclass(frozen=True)
class ReportMessage:
    """One report, ready to deliver: built by the report assets."""

    kind: str  # "daily" | "weekly"
    period: str  # the partition key: "2026-11-24" (a day) or "2026-11-16" (a week's Monday)
    title: str  # "Phoenix housing market, Tue 24 Nov 2026"
    headline: dict[str, float | int | None]  # the metro's headline numbers
    email_html: str  # the report as email HTML; charts as <img src="cid:NAME">
    inline_images: dict[str, bytes]  # NAME -> PNG bytes
    attachments: tuple[Attachment, ...]  # the CSV file(s)
    summary: dict[str, Any]  # JSON summary for webhooks: headline, per-ZIP figures, quality
    report_path: str | None  # the HTML file's path on disk


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


# --- Rendering -----------------------------------------------------------------------

# The report's own measures (labels, units), so a webhook reads like the HTML report.
_MEASURES: dict[str, Measure] = {m.name: m for m in (*MEASURES, PRICE_CUT_SHARE)}
_MISSING = "\N{EN DASH}"  # as the report shows a missing figure
# Abbreviations in figure names, spelled out for a reader.
_WORDS = {
    "wow": "w/w",
    "pct": "%",
    "sqft": "sq ft",
    "4wk": "4-week",
    "avg": "average",
    "zip": "ZIP",
    "zips": "ZIPs",
}


def figure_label(name: str) -> str:
    """A figure's name as a person reads it: a measure's own label, else the name in
    words (``median_list_price_wow_pct`` -> ``Median list price w/w %``)."""
    if name in _MEASURES:
        return _MEASURES[name].label
    text = " ".join(_WORDS.get(word, word) for word in name.split("_") if word)
    return text[:1].upper() + text[1:]


def format_figure(name: str, value: Any) -> str:
    """A figure for a person: a measure as the report formats it; otherwise money for
    prices, a percentage for ``*_pct``, thousands separators, signed when it is a change."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return _MISSING
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(str(item) for item in value) or "none"
    if not isinstance(value, int | float):
        return str(value)
    if name in _MEASURES:
        return format_value(value, _MEASURES[name].unit)
    lowered = name.lower()
    signed = any(word in lowered for word in ("change", "wow", "_vs_"))
    sign = "+" if signed and value > 0 else "-" if value < 0 else ""
    if lowered.endswith(("_pct", "_percent")):
        return f"{sign}{abs(value):.1f}%"
    if "price" in lowered:
        return f"{sign}${abs(value):,.0f}"
    if isinstance(value, int):
        return f"{sign}{abs(value):,}"
    return f"{sign}{abs(value):,.1f}".removesuffix(".0")


def _zip_entries(summary: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    """The per-ZIP figures of a summary, as (ZIP, figures): from a list of rows naming
    their ZIP (``zip_code`` or ``area``), or an object keyed by ZIP; never the metro."""
    for key in _ZIP_LIST_KEYS:
        value = summary.get(key)
        if isinstance(value, Mapping):
            rows = [(str(k), v) for k, v in value.items() if isinstance(v, Mapping)]
        elif isinstance(value, list):
            rows = [
                (str(next((row[k] for k in _ZIP_NAME_KEYS if row.get(k)), "?")), row)
                for row in value
                if isinstance(row, Mapping)
            ]
        else:
            continue
        return [
            (name, row) for name, row in rows if name != METRO and row.get("area_type") != METRO
        ]
    return []


def _zip_line(zip_code: str, figures: Mapping[str, Any]) -> str:
    numeric = {
        name: value
        for name, value in figures.items()
        if name not in _ZIP_SKIP_KEYS and isinstance(value, int | float | None)
    }
    # The key figures when the row has them, else its first figures.
    names = [name for name in ZIP_KEY_FIGURES if name in numeric] or list(numeric)
    shown = [f"{figure_label(n).lower()} {format_figure(n, numeric[n])}" for n in names]
    place = f"{zip_code} {figures['city']}" if figures.get("city") else zip_code
    # A partly (or not) collected ZIP's figures are marked with its collection label.
    label = figures.get("collection_label")
    if figures.get("collection") not in (None, "complete") and isinstance(label, str):
        place = f"{place} ({label})"
    return f"{place}: {' · '.join(shown[:FIGURES_PER_ZIP])}" if shown else place


def _quality_section(quality: Mapping[str, Any]) -> Section:
    """The quality facts: the verdict sentence, and each fact that fits in a few words
    (a list of records shows as its length)."""
    fields = []
    for name, value in quality.items():
        if name == "verdict":
            continue
        if isinstance(value, list) and any(isinstance(item, Mapping | list) for item in value):
            value = len(value)
        fields.append((figure_label(str(name)), format_figure(str(name), value)))
    verdict = quality.get("verdict")
    level: Level = "info" if not isinstance(verdict, str) or "care" not in verdict else "warning"
    return Section(
        heading="Data quality",
        text=verdict if isinstance(verdict, str) else "",
        level=level,
        fields=tuple(fields),
    )


def report_notification(message: ReportMessage) -> Notification:
    """The report as a channel-independent ``Notification``: the metro headline, a short
    per-ZIP list and the quality facts; the whole summary rides along as ``data``."""
    summary = _json_safe(message.summary)
    sections = [
        Section(
            heading="Metro",
            fields=tuple(
                (figure_label(name), format_figure(name, value))
                for name, value in message.headline.items()
            ),
        )
    ]
    zips = _zip_entries(summary)
    if zips:
        lines = [_zip_line(zip_code, figures) for zip_code, figures in zips[:MAX_ZIPS_LISTED]]
        if len(zips) > MAX_ZIPS_LISTED:
            lines.append(f"… and {len(zips) - MAX_ZIPS_LISTED} more")
        sections.append(Section(heading="By ZIP code", text="\n".join(lines)))
    quality = summary.get("quality")
    if isinstance(quality, Mapping) and quality:
        sections.append(_quality_section(quality))
    period = f"the week of {message.period}" if message.kind == "weekly" else message.period
    intro = f"{message.kind.capitalize()} report for {period}."
    if summary.get("demo") or (isinstance(quality, Mapping) and quality.get("demo")):
        # The demo source must never be mistaken for the market.
        intro += " Demo data: generated offline, not the real market."
    return Notification(
        title=message.title,
        intro=intro,
        sections=tuple(sections),
        source="phoenix_assets",
        event="market_report",
        data={
            "kind": message.kind,
            "period": message.period,
            "headline": _json_safe(message.headline),
            "summary": summary,
            "report_path": message.report_path,
        },
    )


def email_text(notification: Notification, message: ReportMessage) -> str:
    """The email's plain-text part: the figures, and where the rest of the report is."""
    files = ", ".join(a.filename for a in message.attachments)
    note = "The charts are in the HTML version of this email"
    note += f"; the figures are attached ({files})." if files else "."
    return render_text(notification) + "\n" + note + "\n"


def _json_safe(value: Any) -> Any:
    """``value`` as plain JSON: NaN and infinities become null, NumPy scalars Python
    numbers, dates ISO strings, anything else its text. A webhook must not fail on a
    summary that holds a ``numpy.int64``."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    item = getattr(value, "item", None)  # a NumPy or pandas scalar
    if callable(item):
        try:
            return _json_safe(item())
        except (TypeError, ValueError):
            pass
    return str(value)


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


def ledger_id(kind: str, period: str, label: str) -> str:
    """The ``report_deliveries`` key of one report sent on one channel."""
    return f"{kind}:{period}:{label}"


@dataclass(frozen=True)
class _Claim:
    """This run's claim on one send: its ledger key, its token and the document it wrote."""

    key: str
    token: str
    fields: dict[str, Any]  # the document but its ``_id``

    @property
    def held(self) -> dict[str, str]:
        """The filter matching the ledger document while it is still this claim."""
        return {"_id": self.key, "claim": self.token}


def _epoch_us(when: dt.datetime) -> int:
    """``when`` in whole microseconds since the epoch: integers compare exactly
    everywhere, where stored dates may not."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1)


def _new_claim(key: str, message: ReportMessage, channel: _Channel) -> _Claim:
    token = uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    fields = {
        "kind": message.kind,
        "period": message.period,
        "channel": channel.label,
        "destination": channel.name,
        "title": message.title,
        "status": LEDGER_SENDING,
        "claim": token,
        "claimed_at": now,
        "claimed_us": _epoch_us(now),
    }
    return _Claim(key=key, token=token, fields=fields)


def _is_stale(held: Mapping[str, Any], now_us: int) -> bool:
    """Whether a ``sending`` claim has outlived its lease. A claim without a readable
    time was not written by this module: it holds no lease."""
    claimed_us = held.get("claimed_us")
    if not isinstance(claimed_us, int) or isinstance(claimed_us, bool):
        return True
    return claimed_us < now_us - CLAIM_LEASE // dt.timedelta(microseconds=1)


def _claim(ledger: Collection, key: str, message: ReportMessage, channel: _Channel) -> _Claim | str:
    """Claim the send of ``key``: this run's claim, or why it must not send
    (``ALREADY_SENT``, ``BEING_SENT``). A ``PyMongoError`` is the caller's."""
    for _ in range(_CLAIM_ATTEMPTS):
        claim = _new_claim(key, message, channel)
        try:
            ledger.insert_one({"_id": key, **claim.fields})
            return claim
        except DuplicateKeyError:
            pass
        held = ledger.find_one({"_id": key})
        if held is None:
            continue  # its claimant's send failed and released it: claim again
        if held.get("status") != LEDGER_SENDING:
            # "sent", or a document without status: how a send was recorded before claims.
            return ALREADY_SENT
        if not _is_stale(held, claim.fields["claimed_us"]):
            return BEING_SENT
        # Its claimant died before marking it. Take it over only if it is still that
        # claim: of runs doing so at once, one matches; the others see a live claim.
        taken = ledger.replace_one(
            {"_id": key, "status": LEDGER_SENDING, "claim": held.get("claim")}, claim.fields
        )
        if taken.matched_count == 1:
            return claim
    return BEING_SENT


def _deliver_once(
    db: Database,
    message: ReportMessage,
    channel: _Channel,
    secrets: tuple[str, ...],
    log: LogLike,
) -> str:
    ledger = db[LEDGER_COLLECTION]
    key = ledger_id(message.kind, message.period, channel.label)
    try:
        claim = _claim(ledger, key, message, channel)
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
        _record(ledger, claim, message, channel, log)
        return SENT
    log.error("Could not send report %r by %s: %s", message.title, channel.name, reason)
    _release(ledger, claim, message, channel, log)
    return f"failed: {reason}"


def _record(
    ledger: Collection, claim: _Claim, message: ReportMessage, channel: _Channel, log: LogLike
) -> None:
    """Mark this run's claim sent. The document is replaced whole rather than ``$set``:
    its dates are then written as dates on any server."""
    sent_at = dt.datetime.now(dt.UTC)
    sent = {
        **claim.fields,
        "status": LEDGER_SENT,
        "sent_at": sent_at,
        "sent_us": _epoch_us(sent_at),
    }
    try:
        marked = ledger.replace_one(claim.held, sent).matched_count == 1
        problem = "its claim was no longer there"
    except PyMongoError as exc:
        marked, problem = False, type(exc).__name__
    if not marked:
        log.warning(
            "Report %r was sent by %s but not recorded in %s (%s): a replay after the "
            "claim's lease (%d minutes) may send it again",
            message.title,
            channel.name,
            LEDGER_COLLECTION,
            problem,
            _LEASE_MINUTES,
        )


def _release(
    ledger: Collection, claim: _Claim, message: ReportMessage, channel: _Channel, log: LogLike
) -> None:
    """Delete this run's claim after a failed send, so the next attempt sends."""
    try:
        ledger.delete_one(claim.held)
    except PyMongoError as exc:
        log.error(
            "Could not release the claim on report %r by %s in %s (%s): it is sent again "
            "only once the claim's lease (%d minutes) has passed",
            message.title,
            channel.name,
            LEDGER_COLLECTION,
            type(exc).__name__,
            _LEASE_MINUTES,
        )


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
