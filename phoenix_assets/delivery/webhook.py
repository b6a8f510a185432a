"""POST a JSON document to a webhook (a Slack incoming webhook or any HTTP endpoint).

A webhook URL is a secret (whoever has it can post to the channel), so it never
appears in full in a log line or an error: ``mask_url`` keeps the scheme and host and
hides the path and query. Transient failures (5xx, 429, timeouts, connection errors)
are retried a few times with exponential backoff and jitter; anything else fails at
once with a ``DeliveryError``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from phoenix_assets.delivery.errors import DeliveryError
from phoenix_assets.settings import mask_url

logger = logging.getLogger(__name__)

SLACK_WEBHOOK_HOST = "hooks.slack.com"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class WebhookPolicy:
    """How patiently a webhook is called."""

    timeout_seconds: float = 10.0
    max_attempts: int = 4
    backoff_initial_seconds: float = 1.0
    backoff_max_seconds: float = 20.0


def is_slack_webhook_url(url: str) -> bool:
    """Whether ``url`` is a Slack incoming webhook (host ``hooks.slack.com``)."""
    try:
        host = (urlsplit(url.strip()).hostname or "").lower()
    except ValueError:
        return False
    return host == SLACK_WEBHOOK_HOST


class _MaskSecretUrls(logging.Filter):
    """Masks webhook URLs in httpx's own log lines ("HTTP Request: POST <url> ...")."""

    def __init__(self) -> None:
        super().__init__()
        self.secret_urls: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and record.args:
            record.args = tuple(
                mask_url(str(arg)) if str(arg) in self.secret_urls else arg for arg in record.args
            )
        return True


# httpx logs every request's full URL at INFO; a webhook's URL is its secret.
_URL_MASK = _MaskSecretUrls()
logging.getLogger("httpx").addFilter(_URL_MASK)


class _RetryableWebhookError(DeliveryError):
    """A failure worth another try."""


def post_json(
    url: str,
    payload: Any,
    *,
    policy: WebhookPolicy | None = None,
    transport: httpx.BaseTransport | None = None,
) -> httpx.Response:
    """POST ``payload`` as JSON to ``url``; return the (2xx) response or raise ``DeliveryError``.

    Retries 5xx, 408/425/429, timeouts and connection errors up to ``policy.max_attempts``
    times in all; the error names the URL only as ``mask_url`` shows it.
    """
    policy = policy or WebhookPolicy()
    where = mask_url(url)
    _URL_MASK.secret_urls.update({url, str(httpx.URL(url))})
    retrying = Retrying(
        stop=stop_after_attempt(policy.max_attempts),
        wait=wait_exponential_jitter(
            multiplier=policy.backoff_initial_seconds,
            max=policy.backoff_max_seconds,
            jitter=policy.backoff_initial_seconds,
        ),
        retry=retry_if_exception(lambda exc: isinstance(exc, _RetryableWebhookError)),
        before_sleep=_log_retry,
        reraise=True,
    )
    with httpx.Client(timeout=httpx.Timeout(policy.timeout_seconds), transport=transport) as client:
        for attempt in retrying:
            with attempt:
                return _attempt(client, url, payload, where)
    raise AssertionError("unreachable: tenacity reraises the last error")


def _attempt(client: httpx.Client, url: str, payload: Any, where: str) -> httpx.Response:
    try:
        response = client.post(url, json=payload)
    except httpx.TimeoutException as exc:
        raise _RetryableWebhookError(f"POST {where}: timed out ({type(exc).__name__})") from None
    except httpx.TransportError as exc:
        # The exception's text can quote the URL: name its type only.
        raise _RetryableWebhookError(
            f"POST {where}: connection failed ({type(exc).__name__})"
        ) from None
    status = response.status_code
    if status in RETRYABLE_STATUS:
        raise _RetryableWebhookError(f"POST {where}: HTTP {status}")
    if status >= 300:
        # Slack explains a refusal in a short plain-text body (invalid_payload, no_text...).
        # A generic server may echo the path ("Cannot POST /hooks/abc"): hide it.
        reason = response.text.strip()[:200] if len(response.content) <= 1000 else ""
        path = urlsplit(url).path
        if len(path.strip("/")) >= 4:
            reason = reason.replace(path.rstrip("/"), "/***")
        raise DeliveryError(f"POST {where}: HTTP {status}" + (f" ({reason})" if reason else ""))
    return response


def _log_retry(state: RetryCallState) -> None:
    error = state.outcome.exception() if state.outcome else None
    wait = state.next_action.sleep if state.next_action else 0.0
    logger.info("webhook: retry %d in %.1fs after: %s", state.attempt_number, wait, error)
