"""Keep secrets out of text that leaves the process (an alert, a report, a log line)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping

# Variables whose value is a secret, by name: passwords, tokens, keys, connection URIs
# (a MongoDB URI carries its password) and webhook URLs.
_SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|SECRET|TOKEN|API_KEY|ACCESS_KEY|PRIVATE_KEY|_URI|_DSN|WEBHOOK_URL)$",
    re.IGNORECASE,
)
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://)[^\s/@:]+:[^\s/@]+@")
_SLACK_HOOK = re.compile(r"(?i)https://hooks\.slack\.com/[^\s\"'<>]+")
# Shorter values would mask ordinary words.
_MIN_SECRET_LENGTH = 6


def secret_values_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    """The values of the variables whose names say they hold a secret."""
    env = os.environ if env is None else env
    return tuple(
        value.strip()
        for name, value in env.items()
        if _SECRET_NAME.search(name) and len(value.strip()) >= _MIN_SECRET_LENGTH
    )


def scrub(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every known secret, URL credential and Slack webhook path replaced."""
    # Longest first, so a secret containing another is replaced whole.
    for secret in sorted({s for s in secrets if s}, key=len, reverse=True):
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, "***")
    text = _URL_CREDENTIALS.sub(r"\1***@", text)
    return _SLACK_HOOK.sub("https://hooks.slack.com/***", text)
