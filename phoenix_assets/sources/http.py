"""The HTTP client every network source shares: polite, patient, and quiet about secrets.

- a rate limit per source (``aiolimiter``: requests per second) and a cap on requests
  in flight, applied to every attempt, retries included;
- retries with exponential backoff and jitter (``tenacity``) on 429, 5xx, timeouts and
  connection errors, honouring ``Retry-After``;
- a total time budget per run, and an optional request budget counted here, at the one
  place every attempt passes (retries included, whatever transport or proxy carries it);
- connection pooling through one ``httpx.AsyncClient``;
- authentication failures stop the source at once (no retry storm) with a message
  naming the variable to set;
- no secret ever appears in an exception, a log line or metadata: every message goes
  through ``redact``.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

logger = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class HttpPolicy:
    """How hard a source may be asked: rate, concurrency, retries, timeouts, budget."""

    requests_per_second: float = 1.0
    max_concurrency: int = 2
    max_attempts: int = 5
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0
    timeout_seconds: float = 30.0
    total_budget_seconds: float = 1800.0


@dataclass(frozen=True)
class SourceHttpSettings:
    """The HTTP settings every network source has; a source redeclares its own defaults.

    The last five fields tune the client and are not read from the environment.
    """

    requests_per_second: float = 1.0
    max_concurrency: int = 1
    time_budget_seconds: float = 1800.0
    timeout_seconds: float = 30.0
    max_attempts: int = 5
    backoff_initial_seconds: float = 0.5
    backoff_max_seconds: float = 30.0
    max_retry_after_seconds: float = 120.0

    def policy(self) -> HttpPolicy:
        return HttpPolicy(
            requests_per_second=self.requests_per_second,
            max_concurrency=self.max_concurrency,
            max_attempts=self.max_attempts,
            backoff_initial_seconds=self.backoff_initial_seconds,
            backoff_max_seconds=self.backoff_max_seconds,
            max_retry_after_seconds=self.max_retry_after_seconds,
            timeout_seconds=self.timeout_seconds,
            total_budget_seconds=self.time_budget_seconds,
        )


class SourceError(Exception):
    """A request to a source failed; the message is already redacted.

    ``kind`` names the failure for ``collection_failures`` and the run's figures
    (``auth``, ``budget``, ``timeout``, ``connection``, ``http_<status>``, ``html_body``,
    ``bad_json``, ...): set where the error is raised, never guessed from the message.
    """

    retryable = False
    default_kind = "source_error"
    kind_from_status = True  # an HTTP error status names the kind: ``http_404``

    def __init__(self, message: str, *, kind: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        if kind is None:
            by_status = self.kind_from_status and status is not None and status >= 400
            kind = f"http_{status}" if by_status else self.default_kind
        self.kind = kind


class RetryableError(SourceError):
    """A failure worth another try (429, 5xx, timeout, truncated body)."""

    retryable = True
    default_kind = "error"

    def __init__(
        self,
        message: str,
        *,
        kind: str | None = None,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, kind=kind, status=status)
        self.retry_after = retry_after


class AuthenticationError(SourceError):
    """The source refused our credentials: stop the source, tell the user what to set."""

    default_kind = "auth"
    kind_from_status = False


class UnexpectedBodyError(SourceError):
    """The source answered 200 with something that is not the JSON asked for (an HTML page)."""

    default_kind = "html_body"
    kind_from_status = False


class BudgetExhaustedError(SourceError):
    """The run's time budget for this source is spent."""

    default_kind = "budget"
    kind_from_status = False


class RequestBudgetSpentError(BudgetExhaustedError):
    """The run's request budget is spent: the request was refused before the wire."""


# What a failure is called when the client did not expect it (an undecodable body, a bug).
UNEXPECTED_KIND = "unexpected"


def is_retryable_kind(kind: str) -> bool:
    """Whether a failure of this kind (``RequestStats.failures_by_kind``, a ZIP's failure)
    can pass by itself: the source was slow, unreachable or erring (``error``: a
    ``RetryableError`` with no more specific kind). Every other kind (``auth``,
    ``budget``, a 4xx, an HTML or malformed body, ``unexpected``) fails the same way
    on the next attempt, so it is not retried."""
    return kind in ("timeout", "connection", "error", "http_429") or kind.startswith("http_5")


def unexpected_failure(source: str, error: Exception, redact: Callable[[str], str]) -> SourceError:
    """A ``SourceError`` for an exception the client let through: its type and redacted
    text, of kind ``unexpected``, which is not retried."""
    return SourceError(redact(f"{source}: {type(error).__name__}: {error}"), kind=UNEXPECTED_KIND)


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with every secret value replaced by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass
class RequestStats:
    """What a client did, for the run's metadata."""

    requests: int = 0
    retries: int = 0
    failures_by_kind: dict[str, int] = field(default_factory=dict)

    def failed(self, kind: str) -> None:
        self.failures_by_kind[kind] = self.failures_by_kind.get(kind, 0) + 1


def _looks_like_html(response: httpx.Response) -> bool:
    content_type = response.headers.get("content-type", "")
    head = response.content[:200].lstrip().lower()
    return "html" in content_type or head.startswith((b"<!doctype", b"<html"))


class SourceClient:
    """An async HTTP client for one source. Use as ``async with SourceClient(...) as client``."""

    def __init__(
        self,
        *,
        source: str,
        base_url: str,
        policy: HttpPolicy,
        headers: Mapping[str, str] | None = None,
        secrets: Iterable[str] = (),
        auth_variables: str,
        url_variable: str | None = None,
        is_auth_failure: Callable[[httpx.Response], bool] | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        request_budget: int | None = None,
        budget_variable: str | None = None,
    ) -> None:
        """``url_variable`` names the setting that holds ``base_url``: a host that cannot be
        reached is reported with it, so the message says what to check.

        ``request_budget`` caps the attempts this client sends (retries included); one
        past it raises ``RequestBudgetSpentError`` naming ``budget_variable``, before the
        wire. None: no cap.
        """
        self.source = source
        self.request_budget = request_budget
        self._budget_variable = budget_variable
        self.policy = policy
        self.stats = RequestStats()
        self._secrets = [s for s in secrets if s]
        self._auth_variables = auth_variables
        self._url_hint = f"; check {url_variable}" if url_variable else ""
        self._is_auth_failure = is_auth_failure
        # One request per 1/rate seconds: aiolimiter would let a burst of `rate` requests
        # through at once with (rate, 1 s); a source's limit means no bursts.
        self._limiter = AsyncLimiter(max_rate=1, time_period=1.0 / policy.requests_per_second)
        self._in_flight = asyncio.Semaphore(policy.max_concurrency)
        self._deadline = time.monotonic() + policy.total_budget_seconds
        self._backoff = wait_exponential_jitter(
            multiplier=policy.backoff_initial_seconds, max=policy.backoff_max_seconds
        )
        self._client = httpx.AsyncClient(
            base_url=base_url,
            headers=dict(headers or {}),
            timeout=httpx.Timeout(policy.timeout_seconds),
            limits=httpx.Limits(
                max_connections=policy.max_concurrency,
                max_keepalive_connections=policy.max_concurrency,
            ),
            follow_redirects=True,
            transport=transport,
        )

    async def __aenter__(self) -> SourceClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._client.aclose()

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def set_header(self, name: str, value: str) -> None:
        """Set a header on every later request (a refreshed bearer token, say)."""
        self._client.headers[name] = value
        self._secrets.append(value.removeprefix("Bearer ").strip())

    @property
    def budget_left_seconds(self) -> float:
        return self._deadline - time.monotonic()

    @property
    def requests_left(self) -> int | None:
        """Attempts the request budget still allows (None: no budget)."""
        if self.request_budget is None:
            return None
        return max(0, self.request_budget - self.stats.requests)

    def _spend_request(self) -> None:
        """Count one attempt, or refuse it when the request budget is spent."""
        if self.request_budget is not None and self.stats.requests >= self.request_budget:
            setting = f" ({self._budget_variable})" if self._budget_variable else ""
            raise RequestBudgetSpentError(
                f"{self.source}: request budget of {self.request_budget} spent{setting}"
            )
        self.stats.requests += 1

    async def get_json(self, url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET ``url`` and return its JSON, retrying what is worth retrying."""
        return await self.request_json("GET", url, params=params)

    async def request_json(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
    ) -> Any:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, RetryableError)),
            before_sleep=self._before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(method, url, params=params, data=data)
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _wait(self, state: RetryCallState) -> float:
        backoff = self._backoff(state)
        error = state.outcome.exception() if state.outcome else None
        retry_after = getattr(error, "retry_after", None)
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.policy.max_retry_after_seconds)
        return backoff

    def _before_sleep(self, state: RetryCallState) -> None:
        self.stats.retries += 1
        error = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        if wait > self.budget_left_seconds:
            raise BudgetExhaustedError(
                f"{self.source}: time budget spent; giving up after: {error}"
            ) from None
        logger.info(
            "%s: retry %d in %.1fs after: %s", self.source, state.attempt_number, wait, error
        )

    async def _attempt(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None,
        data: Mapping[str, str] | None,
    ) -> Any:
        if self.budget_left_seconds <= 0:
            raise BudgetExhaustedError(f"{self.source}: time budget spent")
        async with self._in_flight, self._limiter:
            self._spend_request()
            try:
                response = await self._client.request(method, url, params=params, data=data)
            except httpx.TimeoutException as exc:
                self.stats.failed("timeout")
                raise RetryableError(
                    f"{self.source}: timed out ({type(exc).__name__}) waiting for "
                    f"{self._origin(exc, url)}{self._url_hint}",
                    kind="timeout",
                ) from None
            except httpx.TransportError as exc:
                self.stats.failed("connection")
                raise RetryableError(
                    f"{self.source}: connection failed to {self._origin(exc, url)} "
                    f"({type(exc).__name__}: {self.redact(str(exc))}){self._url_hint}",
                    kind="connection",
                ) from None
        return self._json_of(response)

    def _origin(self, exc: httpx.TransportError, url: str) -> str:
        """``scheme://host:port`` the failed request went to: where, never what (no path,
        no query, no credentials)."""
        try:
            target = exc.request.url
        except RuntimeError:  # an error raised before a request was built
            target = self._client.base_url.join(url)
        host = f"[{target.host}]" if ":" in target.host else target.host
        port = f":{target.port}" if target.port else ""
        return self.redact(f"{target.scheme}://{host}{port}")

    def _json_of(self, response: httpx.Response) -> Any:
        where = self.redact(
            f"{response.request.method} {response.request.url.copy_with(query=None)}"
        )
        status = response.status_code
        if status in (401, 403) or (self._is_auth_failure and self._is_auth_failure(response)):
            self.stats.failed("auth")
            raise AuthenticationError(
                f"{self.source}: the source refused the credentials (HTTP {status} for {where}); "
                f"check {self._auth_variables}",
                status=status,
            )
        if status in RETRYABLE_STATUS:
            self.stats.failed(f"http_{status}")
            raise RetryableError(
                f"{self.source}: HTTP {status} for {where}",
                status=status,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
            )
        if status >= 400:
            self.stats.failed(f"http_{status}")
            raise SourceError(f"{self.source}: HTTP {status} for {where}", status=status)
        if _looks_like_html(response):
            self.stats.failed("html_body")
            raise UnexpectedBodyError(
                f"{self.source}: expected JSON, got an HTML page (HTTP {status}) for {where}",
                status=status,
            )
        try:
            return json.loads(response.content)
        except ValueError as exc:
            self.stats.failed("bad_json")
            # Truncated JSON is usually a dropped connection: worth another try.
            raise RetryableError(
                f"{self.source}: malformed JSON for {where} ({exc.msg} at {exc.pos})"
                if isinstance(exc, json.JSONDecodeError)
                else f"{self.source}: malformed JSON for {where}",
                kind="bad_json",
                status=status,
            ) from None
