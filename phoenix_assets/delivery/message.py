"""A message for a person, independent of the channel, and its renderings per channel.

A ``Notification`` is a title and one or more ``Section``s (an alert is one section; a
digest of several alerts, or a report, several). It renders as plain text and HTML
(email), as Slack Block Kit (``slack_payload``) and as a generic JSON document
(``generic_payload``) for any other webhook.
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

Level = Literal["error", "warning", "info", "success"]

_LEVEL_MARK: dict[str, str] = {
    "error": ":red_circle:",
    "warning": ":large_yellow_circle:",
    "info": ":large_blue_circle:",
    "success": ":large_green_circle:",
}
_LEVEL_COLOUR: dict[str, str] = {
    "error": "#c62828",
    "warning": "#b26a00",
    "info": "#1565c0",
    "success": "#2e7d32",
}

# Slack's limits (Block Kit): header text 150 chars, section text 3000, 10 fields of
# 2000, 50 blocks per message; the top-level `text` is the notification's fallback.
_SLACK_HEADER_MAX = 150
_SLACK_SECTION_MAX = 3000
_SLACK_FIELD_MAX = 2000
_SLACK_MAX_FIELDS = 10
_SLACK_MAX_SECTIONS = 40


@dataclass(frozen=True)
class Section:
    """One item of a notification: a heading, a paragraph, optional facts and a link."""

    heading: str
    text: str = ""
    level: Level = "info"
    fields: tuple[tuple[str, str], ...] = ()
    link: str | None = None
    link_label: str = "Open in Dagster"


@dataclass(frozen=True)
class Notification:
    """What to tell a person, before it is rendered for a channel.

    ``event`` and ``data`` are for machines: a generic webhook receives them as they are
    (``data`` must be JSON-serializable).
    """

    title: str
    sections: tuple[Section, ...] = ()
    level: Level = "info"
    intro: str = ""
    source: str = "phoenix_assets"
    event: str = "notification"
    data: Mapping[str, Any] = field(default_factory=dict)


def render_text(notification: Notification) -> str:
    """The plain-text body (an email's text part, a webhook's ``text``)."""
    lines = [notification.title, ""]
    if notification.intro:
        lines += [notification.intro, ""]
    for section in notification.sections:
        lines.append(f"== {section.heading}")
        if section.text:
            lines.append(section.text)
        lines += [f"{name}: {value}" for name, value in section.fields]
        if section.link:
            lines.append(f"{section.link_label}: {section.link}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_html(notification: Notification) -> str:
    """The HTML body of an email: inline styles only, as mail clients want."""
    e = html.escape
    parts = [
        "<!doctype html><html><body style=\"font-family: -apple-system, 'Segoe UI', "
        'Helvetica, Arial, sans-serif; color: #222; max-width: 720px">',
        f'<h2 style="margin: 0 0 12px">{e(notification.title)}</h2>',
    ]
    if notification.intro:
        parts.append(f"<p>{e(notification.intro)}</p>")
    for section in notification.sections:
        colour = _LEVEL_COLOUR[section.level]
        parts.append(
            f'<div style="border-left: 4px solid {colour}; padding: 4px 12px; margin: 12px 0">'
        )
        parts.append(f'<h3 style="margin: 4px 0; color: {colour}">{e(section.heading)}</h3>')
        if section.text:
            # Error summaries keep their line breaks and indentation.
            parts.append(
                '<pre style="white-space: pre-wrap; font-family: inherit; margin: 4px 0">'
                f"{e(section.text)}</pre>"
            )
        if section.fields:
            parts.append('<table style="border-collapse: collapse; font-size: 90%">')
            parts += [
                f'<tr><td style="padding: 2px 12px 2px 0; color: #666">{e(name)}</td>'
                f"<td>{e(value)}</td></tr>"
                for name, value in section.fields
            ]
            parts.append("</table>")
        if section.link:
            parts.append(
                f'<p style="margin: 6px 0"><a href="{e(section.link, quote=True)}">'
                f"{e(section.link_label)}</a></p>"
            )
        parts.append("</div>")
    parts.append(
        f'<p style="color: #888; font-size: 80%">Sent by {e(notification.source)}.</p>'
        "</body></html>"
    )
    return "\n".join(parts)


def _slack_escape(text: str) -> str:
    # Slack mrkdwn treats these three as control characters.
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack_payload(notification: Notification) -> dict[str, Any]:
    """A Slack incoming-webhook payload: ``text`` (the fallback) and ``blocks``."""
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _cut(notification.title, _SLACK_HEADER_MAX),
                "emoji": True,
            },
        }
    ]
    if notification.intro:
        blocks.append(
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": _cut(_slack_escape(notification.intro), _SLACK_SECTION_MAX),
                },
            }
        )
    shown = notification.sections[:_SLACK_MAX_SECTIONS]
    for section in shown:
        body = f"{_LEVEL_MARK[section.level]} *{_slack_escape(section.heading)}*"
        if section.text:
            body += "\n" + _slack_escape(section.text)
        link = f"\n<{section.link}|{_slack_escape(section.link_label)}>" if section.link else ""
        block: dict[str, Any] = {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": _cut(body, _SLACK_SECTION_MAX - len(link)) + link,
            },
        }
        if section.fields:
            block["fields"] = [
                {
                    "type": "mrkdwn",
                    "text": _cut(
                        f"*{_slack_escape(name)}*\n{_slack_escape(value)}", _SLACK_FIELD_MAX
                    ),
                }
                for name, value in section.fields[:_SLACK_MAX_FIELDS]
            ]
        blocks.append(block)
    hidden = len(notification.sections) - len(shown)
    if hidden > 0:
        blocks.append(
            {
                "type": "context",
                "elements": [{"type": "mrkdwn", "text": f"… and {hidden} more"}],
            }
        )
    return {"text": _cut(notification.title, _SLACK_SECTION_MAX), "blocks": blocks}


def generic_payload(notification: Notification) -> dict[str, Any]:
    """The JSON document a generic webhook receives."""
    return {
        "source": notification.source,
        "event": notification.event,
        "level": notification.level,
        "title": notification.title,
        "text": render_text(notification),
        "sections": [
            {
                "heading": section.heading,
                "text": section.text,
                "level": section.level,
                "fields": dict(section.fields),
                "link": section.link,
            }
            for section in notification.sections
        ],
        "data": dict(notification.data),
    }
