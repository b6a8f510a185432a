"""The shared source HTTP client against a real HTTP server on 127.0.0.1."""

import asyncio
import datetime as dt
import email.utils
import logging
import time
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from phoenix_assets.sources.http import (
    AuthenticationError,
    BudgetExhaustedError,
    HttpPolicy,
    RequestBudgetSpentError,
    RetryableError,
    SourceClient,
    SourceError,
    UnexpectedBodyError,
    parse_retry_after,
)
from phoenix_assets_tests.tcp_faults import SilentServer, refusing_port

TOKEN = "tok-SECRET-1234567890"
FAST = HttpPolicy(
    requests_per_second=50,
    max_concurrency=4,
    max_attempts=4,
    backoff_initial_seconds=0.01,
    backoff_max_seconds=0.05,
    timeout_seconds=2,
)


class Script:
    """Answers requests in turn from a list of responses, recording arrival times."""

    def __init__(self, *responses: Response) -> None:
        self.responses = list(responses)
        self.arrivals: list[float] = []

    def __call__(self, request: Request) -> Response:
        self.arrivals.append(time.monotonic())
        index = min(len(self.arrivals) - 1, len(self.responses) - 1)
        return self.responses[index]


def _json(body: Any = None, status: int = 200, **headers: str) -> Response:
    import json

    return Response(
        json.dumps(body or {"ok": True}),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _get(server: HTTPServer, policy: HttpPolicy = FAST, **kwargs: Any) -> tuple[Any, SourceClient]:
    async def go() -> tuple[Any, SourceClient]:
        async with SourceClient(
            source="test",
            base_url=server.url_for("/"),
            policy=policy,
            headers={"AUTHORIZATION": TOKEN},
            secrets=[TOKEN],
            auth_variables="TEST_TOKEN",
            **kwargs,
        ) as client:
            try:
                return await client.get_json("/data"), client
            except Exception as exc:
                exc.client = client  # type: ignore[attr-defined]
                raise

    return asyncio.run(go())


def test_429_with_retry_after_is_honoured(server: HTTPServer) -> None:
    script = Script(_json(status=429, **{"Retry-After": "1"}), _json({"n": 1}))
    server.expect_request("/data").respond_with_handler(script)
    body, client = _get(server)
    assert body == {"n": 1}
    assert client.stats.requests == 2 and client.stats.retries == 1
    assert script.arrivals[1] - script.arrivals[0] >= 0.9  # waited as told, not the 10 ms backoff


def test_server_errors_are_retried_then_succeed(server: HTTPServer) -> None:
    script = Script(_json(status=500), _json(status=503), _json({"n": 2}))
    server.expect_request("/data").respond_with_handler(script)
    body, client = _get(server)
    assert body == {"n": 2} and client.stats.requests == 3
    assert client.stats.failures_by_kind == {"http_500": 1, "http_503": 1}


def test_persistent_failure_gives_up_after_max_attempts(server: HTTPServer) -> None:
    script = Script(_json(status=502))
    server.expect_request("/data").respond_with_handler(script)
    with pytest.raises(RetryableError, match="HTTP 502"):
        _get(server)
    assert len(script.arrivals) == FAST.max_attempts


@pytest.mark.parametrize("status", [401, 403])
def test_an_auth_failure_stops_at_once_naming_the_variable(server: HTTPServer, status: int) -> None:
    script = Script(_json(status=status))
    server.expect_request("/data").respond_with_handler(script)
    with pytest.raises(AuthenticationError, match="check TEST_TOKEN"):
        _get(server)
    assert len(script.arrivals) == 1


def test_a_source_specific_auth_failure_is_recognised(server: HTTPServer) -> None:
    """The Assessor answers a bad token with HTTP 500 and an HTML body."""
    body = "[search]:Unauthorized access! Please contact support."
    script = Script(Response(body, status=500, content_type="text/html"))
    server.expect_request("/data").respond_with_handler(script)
    with pytest.raises(AuthenticationError):
        _get(server, is_auth_failure=lambda r: b"Unauthorized access" in r.content)
    assert len(script.arrivals) == 1


def test_an_html_page_where_json_was_expected_is_not_retried(server: HTTPServer) -> None:
    script = Script(
        Response("<!DOCTYPE html><html><body>Not here</body></html>", content_type="text/html")
    )
    server.expect_request("/data").respond_with_handler(script)
    with pytest.raises(UnexpectedBodyError, match="HTML page"):
        _get(server)
    assert len(script.arrivals) == 1


def test_truncated_json_is_retried(server: HTTPServer) -> None:
    script = Script(
        Response('{"value": [1, 2', content_type="application/json"), _json({"value": [1, 2]})
    )
    server.expect_request("/data").respond_with_handler(script)
    body, client = _get(server)
    assert body == {"value": [1, 2]} and client.stats.failures_by_kind == {"bad_json": 1}


def test_a_response_slower_than_the_timeout_is_retried(server: HTTPServer) -> None:
    calls: list[float] = []

    def slow_then_fast(request: Request) -> Response:
        calls.append(time.monotonic())
        if len(calls) == 1:
            time.sleep(1.0)
        return _json({"late": len(calls)})

    server.expect_request("/data").respond_with_handler(slow_then_fast)
    policy = HttpPolicy(**{**FAST.__dict__, "timeout_seconds": 0.3})
    body, client = _get(server, policy)
    # The slow first answer timed out and was retried (a loaded machine may time out more).
    assert body["late"] >= 2 and client.stats.failures_by_kind["timeout"] == body["late"] - 1


def test_a_source_that_accepts_and_never_answers_hits_its_own_timeouts() -> None:
    """A hung host (the connection made, no byte back) costs each attempt its timeout,
    then fails the request naming the host and the setting to check: never a hang."""
    policy = HttpPolicy(**{**FAST.__dict__, "timeout_seconds": 0.5, "max_attempts": 2})

    async def go(port: int) -> None:
        async with SourceClient(
            source="test",
            base_url=f"http://127.0.0.1:{port}/",
            policy=policy,
            auth_variables="TEST_TOKEN",
            url_variable="TEST_BASE_URL",
        ) as client:
            await client.get_json("/data")

    with SilentServer() as silent:
        started = time.monotonic()
        with pytest.raises(RetryableError, match="timed out") as raised:
            asyncio.run(go(silent.port))
        elapsed = time.monotonic() - started
        assert silent.accepted >= 1
    assert f"127.0.0.1:{silent.port}" in str(raised.value)
    assert "check TEST_BASE_URL" in str(raised.value)
    # Two attempts of 0.5 s; the bound is a hang guard for a loaded machine.
    assert 1.0 <= elapsed < 15


def test_requests_and_retries_stay_within_the_rate_limit(server: HTTPServer) -> None:
    script = Script(*[_json(status=503)] * 3, _json({"ok": True}))
    server.expect_request("/data").respond_with_handler(script)
    policy = HttpPolicy(
        requests_per_second=10,
        max_concurrency=4,
        max_attempts=6,
        backoff_initial_seconds=0.001,
        backoff_max_seconds=0.001,
    )

    async def many() -> None:
        async with SourceClient(
            source="test", base_url=server.url_for("/"), policy=policy, auth_variables="X"
        ) as client:
            await asyncio.gather(*(client.get_json("/data") for _ in range(8)))

    asyncio.run(many())
    arrivals = sorted(script.arrivals)
    assert len(arrivals) == 11  # 8 requests + 3 retries
    # At 10/s, 11 requests cannot arrive in less than 10 intervals of 0.1 s.
    assert arrivals[-1] - arrivals[0] >= 0.9
    # And no burst: 5 consecutive ones are spread over 0.4 s (0.2 s allows for a request
    # delayed in flight on a loaded machine; a burst would arrive within milliseconds).
    assert min(b - a for a, b in zip(arrivals, arrivals[4:], strict=False)) >= 0.2


def test_the_time_budget_ends_the_retries(server: HTTPServer) -> None:
    script = Script(_json(status=429, **{"Retry-After": "30"}))
    server.expect_request("/data").respond_with_handler(script)
    policy = HttpPolicy(**{**FAST.__dict__, "total_budget_seconds": 2})
    started = time.monotonic()
    with pytest.raises(BudgetExhaustedError):
        _get(server, policy)
    assert time.monotonic() - started < 20 and len(script.arrivals) == 1


def test_no_secret_in_errors_or_logs(server: HTTPServer, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(
        Response(f"echo {TOKEN}", status=500, content_type="text/plain"),
        Response(f"<html>{TOKEN}</html>", content_type="text/html"),
    )
    server.expect_request("/data").respond_with_handler(script)
    with pytest.raises(UnexpectedBodyError) as raised:
        _get(server)
    assert TOKEN not in str(raised.value)
    assert TOKEN not in caplog.text
    assert server.log[0][0].headers["AUTHORIZATION"] == TOKEN  # it was really sent


def test_parse_retry_after() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    now = time.time()
    when = email.utils.format_datetime(dt.datetime.fromtimestamp(now + 60, dt.UTC), usegmt=True)
    assert parse_retry_after(when, now=now) == pytest.approx(60, abs=1)


# --------------------------------------------------------------------------- request budget


def _client(server: HTTPServer, policy: HttpPolicy = FAST, **kwargs: Any) -> SourceClient:
    return SourceClient(
        source="test",
        base_url=server.url_for("/"),
        policy=policy,
        auth_variables="TEST_TOKEN",
        **kwargs,
    )


@pytest.mark.parametrize("budget", [1, 3, 4])
def test_the_request_budget_counts_retries_then_refuses_before_the_wire(
    server: HTTPServer, budget: int
) -> None:
    script = Script(_json(status=503))
    server.expect_request("/data").respond_with_handler(script)
    policy = HttpPolicy(**{**FAST.__dict__, "max_attempts": 10})

    async def go() -> tuple[SourceClient, RequestBudgetSpentError, RequestBudgetSpentError]:
        async with _client(
            server, policy, request_budget=budget, budget_variable="TEST_BUDGET"
        ) as client:
            with pytest.raises(RequestBudgetSpentError) as first:
                await client.get_json("/data")
            # Spent: the next request is refused without reaching the server.
            with pytest.raises(RequestBudgetSpentError) as second:
                await client.get_json("/data")
            return client, first.value, second.value

    client, first, second = asyncio.run(go())
    assert len(script.arrivals) == budget == client.stats.requests
    assert client.stats.retries == budget  # every attempt but the refused one was retried
    assert client.requests_left == 0
    for error in (first, second):
        assert error.kind == "budget" and isinstance(error, BudgetExhaustedError)
        assert "TEST_BUDGET" in str(error) and f"request budget of {budget}" in str(error)


def test_the_request_budget_holds_exactly_under_concurrency(server: HTTPServer) -> None:
    script = Script(_json(status=503), _json(status=503), _json({"ok": True}))
    server.expect_request("/data").respond_with_handler(script)

    async def go() -> tuple[SourceClient, list[Any]]:
        async with _client(server, request_budget=7, budget_variable="TEST_BUDGET") as client:
            assert client.requests_left == 7
            results = await asyncio.gather(
                *(client.get_json("/data") for _ in range(10)), return_exceptions=True
            )
            return client, results

    client, results = asyncio.run(go())
    assert len(script.arrivals) == 7 == client.stats.requests
    refused = [r for r in results if isinstance(r, RequestBudgetSpentError)]
    answered = [r for r in results if r == {"ok": True}]
    # Two 503s were retried (2 of the 7 attempts); 5 requests got their answer.
    assert (len(answered), len(refused)) == (5, 5)
    assert client.stats.failures_by_kind == {"http_503": 2}


def test_without_a_request_budget_nothing_is_refused(server: HTTPServer) -> None:
    script = Script(_json({"ok": True}))
    server.expect_request("/data").respond_with_handler(script)

    async def go() -> SourceClient:
        async with _client(server) as client:
            for _ in range(5):
                await client.get_json("/data")
            return client

    client = asyncio.run(go())
    assert len(script.arrivals) == 5 and client.requests_left is None


# --------------------------------------------------------------------------- error kinds


def _html(status: int = 200) -> Response:
    return Response(
        "<!DOCTYPE html><html><body>Not here</body></html>", status=status, content_type="text/html"
    )


@pytest.mark.parametrize(
    ("response", "error", "kind", "status"),
    [
        (_json(status=503), RetryableError, "http_503", 503),
        (_json(status=429), RetryableError, "http_429", 429),
        (_json(status=404), SourceError, "http_404", 404),
        (_json(status=401), AuthenticationError, "auth", 401),
        (_json(status=403), AuthenticationError, "auth", 403),
        (_html(), UnexpectedBodyError, "html_body", 200),
        (
            Response('{"value": [1, 2', content_type="application/json"),
            RetryableError,
            "bad_json",
            200,
        ),
    ],
    ids=["503", "429", "404", "401", "403", "html", "truncated"],
)
def test_every_error_carries_its_kind(
    server: HTTPServer, response: Response, error: type[SourceError], kind: str, status: int
) -> None:
    script = Script(response)
    server.expect_request("/data").respond_with_handler(script)
    policy = HttpPolicy(**{**FAST.__dict__, "max_attempts": 2})
    with pytest.raises(error) as raised:
        _get(server, policy)
    assert type(raised.value) is error
    assert raised.value.kind == kind and raised.value.status == status
    assert raised.value.retryable == (error is RetryableError)
    assert len(script.arrivals) == (2 if error is RetryableError else 1)
    client: SourceClient = raised.value.client  # type: ignore[attr-defined]
    assert client.stats.failures_by_kind == {kind: len(script.arrivals)}


def test_a_source_specific_auth_failure_has_the_auth_kind_not_its_status(
    server: HTTPServer,
) -> None:
    body = "[search]:Unauthorized access! Please contact support."
    script = Script(Response(body, status=500, content_type="text/html"))
    server.expect_request("/data").respond_with_handler(script)
    with pytest.raises(AuthenticationError) as raised:
        _get(server, is_auth_failure=lambda r: b"Unauthorized access" in r.content)
    assert raised.value.kind == "auth" and raised.value.status == 500


def test_a_timeout_and_a_refused_connection_carry_their_kinds() -> None:
    policy = HttpPolicy(**{**FAST.__dict__, "timeout_seconds": 0.3, "max_attempts": 1})

    async def go(port: int) -> None:
        async with SourceClient(
            source="test",
            base_url=f"http://127.0.0.1:{port}/",
            policy=policy,
            auth_variables="TEST_TOKEN",
        ) as client:
            await client.get_json("/data")

    with SilentServer() as silent, pytest.raises(RetryableError) as timed_out:
        asyncio.run(go(silent.port))
    assert timed_out.value.kind == "timeout" and timed_out.value.status is None
    with refusing_port() as port, pytest.raises(RetryableError) as refused:
        asyncio.run(go(port))
    assert refused.value.kind == "connection" and refused.value.status is None


def test_the_time_budget_error_has_the_budget_kind(server: HTTPServer) -> None:
    script = Script(_json(status=429, **{"Retry-After": "30"}))
    server.expect_request("/data").respond_with_handler(script)
    policy = HttpPolicy(**{**FAST.__dict__, "total_budget_seconds": 2})
    with pytest.raises(BudgetExhaustedError) as raised:
        _get(server, policy)
    assert raised.value.kind == "budget"
    assert not isinstance(raised.value, RequestBudgetSpentError)


def test_a_kind_given_where_an_error_is_raised_wins_over_its_status() -> None:
    assert SourceError("x", status=418).kind == "http_418"
    assert SourceError("x").kind == "source_error"
    assert SourceError("x", status=302).kind == "source_error"
    assert RetryableError("x", kind="timeout", status=503).kind == "timeout"
    assert AuthenticationError("x", status=401).kind == "auth"
    assert UnexpectedBodyError("x", status=200).kind == "html_body"
    assert RequestBudgetSpentError("x").kind == "budget"
