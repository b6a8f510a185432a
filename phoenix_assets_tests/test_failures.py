"""Which failures a retry can fix: every class against its decision, and how a step
applies it (``phoenix_assets.failures``)."""

import logging
import time
from collections.abc import Iterator

import dagster as dg
import httpx
import pydantic
import pytest
from pymongo.errors import (
    AutoReconnect,
    ConfigurationError,
    DuplicateKeyError,
    NetworkTimeout,
    OperationFailure,
    ServerSelectionTimeoutError,
    WaitQueueTimeoutError,
)

from phoenix_assets import failures
from phoenix_assets.failures import (
    FailureKind,
    MissingPartitionError,
    classify,
    retry_transient_only,
    step_failures,
)
from phoenix_assets.settings import ConfigError
from phoenix_assets.sources.http import (
    AuthenticationError,
    BudgetExhaustedError,
    RetryableError,
    SourceError,
    UnexpectedBodyError,
    is_retryable_kind,
)
from phoenix_assets.storage.mongo_resource import MongoUnavailableError

LOG = logging.getLogger("test_failures")


def _status_error(status: int) -> httpx.HTTPStatusError:
    request = httpx.Request("GET", "https://api.example.org/parcels")
    response = httpx.Response(status, request=request)
    return httpx.HTTPStatusError(f"HTTP {status}", request=request, response=response)


def _validation_error() -> pydantic.ValidationError:
    class Record(pydantic.BaseModel):
        price: int

    try:
        Record.model_validate({"price": "a lot"})
    except pydantic.ValidationError as error:
        return error
    raise AssertionError("the model accepted a bad price")


def _raised_from(outer: Exception, cause: Exception) -> Exception:
    try:
        try:
            raise cause
        except Exception as inner:
            raise outer from inner
    except Exception as error:
        return error


CASES: list[tuple[str, BaseException, FailureKind]] = [
    # Transient: the network, a timeout, the server busy or failing over.
    ("httpx connect error", httpx.ConnectError("refused"), FailureKind.TRANSIENT),
    ("httpx read timeout", httpx.ReadTimeout("slow"), FailureKind.TRANSIENT),
    ("HTTP 429", _status_error(429), FailureKind.TRANSIENT),
    ("HTTP 503", _status_error(503), FailureKind.TRANSIENT),
    ("source 5xx after its retries", RetryableError("mls: HTTP 502"), FailureKind.TRANSIENT),
    ("TimeoutError", TimeoutError("timed out"), FailureKind.TRANSIENT),
    ("connection reset", ConnectionResetError("reset by peer"), FailureKind.TRANSIENT),
    ("AutoReconnect", AutoReconnect("primary stepped down"), FailureKind.TRANSIENT),
    ("NetworkTimeout", NetworkTimeout("socket timed out"), FailureKind.TRANSIENT),
    ("no server", ServerSelectionTimeoutError("no servers"), FailureKind.TRANSIENT),
    ("pool exhausted", WaitQueueTimeoutError("wait queue"), FailureKind.TRANSIENT),
    ("MongoDB lost", MongoUnavailableError("Lost MongoDB at ..."), FailureKind.TRANSIENT),
    ("shutting down", OperationFailure("shutdown", code=91), FailureKind.TRANSIENT),
    (
        "retryable write label",
        OperationFailure("x", code=1, details={"errorLabels": ["RetryableWriteError"]}),
        FailureKind.TRANSIENT,
    ),
    (
        "a wrapper raised from a timeout",
        _raised_from(RuntimeError("reading the log failed"), NetworkTimeout("timed out")),
        FailureKind.TRANSIENT,
    ),
    # Permanent: what a retry meets again.
    (
        "missing upstream partition",
        MissingPartitionError("raw_demo_listings partition 2026-11-17 has never been ..."),
        FailureKind.MISSING_INPUT,
    ),
    ("bad setting", ConfigError("PHOENIX_ZIP_CODES: 'x' is not a ZIP"), FailureKind.CONFIGURATION),
    ("bad MongoDB URI", ConfigurationError("unknown option"), FailureKind.CONFIGURATION),
    ("run budget spent", BudgetExhaustedError("time budget spent"), FailureKind.CONFIGURATION),
    ("refused token", AuthenticationError("check MLS_RESO_TOKEN"), FailureKind.AUTHENTICATION),
    ("MongoDB auth", OperationFailure("auth failed", code=18), FailureKind.AUTHENTICATION),
    ("HTTP 404", _status_error(404), FailureKind.VALIDATION),
    ("source HTTP 400", SourceError("mls: HTTP 400"), FailureKind.VALIDATION),
    ("an HTML page", UnexpectedBodyError("expected JSON"), FailureKind.VALIDATION),
    ("pydantic", _validation_error(), FailureKind.VALIDATION),
    ("ValueError", ValueError("not a date"), FailureKind.VALIDATION),
    ("duplicate _id", DuplicateKeyError("E11000"), FailureKind.VALIDATION),
    ("other server error", OperationFailure("bad query", code=2), FailureKind.DEFECT),
    ("KeyError (a bug)", KeyError("listing_key"), FailureKind.DEFECT),
    ("AttributeError (a bug)", AttributeError("'NoneType' has no 'day'"), FailureKind.DEFECT),
    (
        "a wrapper raised from a bug",
        _raised_from(RuntimeError("building failed"), ZeroDivisionError("division by zero")),
        FailureKind.DEFECT,
    ),
]


@pytest.mark.parametrize(("error", "kind"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_every_error_class_gets_its_retry_decision(error: BaseException, kind: FailureKind) -> None:
    verdict = classify(error)
    assert verdict.kind is kind
    assert verdict.transient is (kind is FailureKind.TRANSIENT)


@pytest.mark.parametrize(
    ("kind", "transient"),
    [
        ("timeout", True),
        ("connection", True),
        ("http_503", True),
        ("http_429", True),
        ("auth", False),
        ("budget", False),
        ("http_404", False),
        ("html_body", False),
        ("unexpected", False),
    ],
)
def test_a_sources_failure_kinds_are_transient_only_when_they_can_pass(
    kind: str, transient: bool
) -> None:
    assert is_retryable_kind(kind) is transient


@pytest.fixture
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(failures, "STEP_BACKOFF_SECONDS", 0.05)


def test_a_permanent_error_fails_at_once_saying_what_to_do(quick_backoff: None) -> None:
    started = time.monotonic()
    with pytest.raises(dg.Failure) as raised, step_failures(LOG, attempt=0):
        raise MissingPartitionError("raw_demo_listings partition 2026-11-17 was never written")
    assert time.monotonic() - started < 0.05, "a permanent error must not wait"
    failure = raised.value
    assert failure.allow_retries is False
    assert "raw_demo_listings partition 2026-11-17" in (failure.description or "")
    assert "Not retried (missing input)" in (failure.description or "")
    assert failure.metadata["failure_kind"].value == "missing input"
    assert isinstance(failure.__cause__, MissingPartitionError)


def test_a_transient_error_waits_its_backoff_then_is_left_to_the_retry_policy(
    quick_backoff: None, caplog: pytest.LogCaptureFixture
) -> None:
    started = time.monotonic()
    with (
        pytest.raises(AutoReconnect),
        caplog.at_level(logging.WARNING),
        step_failures(LOG, attempt=1),
    ):
        raise AutoReconnect("primary stepped down")
    # Attempt 1 of 2 waits 2 x base, within the jitter (0.5x..1.5x).
    assert 0.05 <= time.monotonic() - started < 2
    assert "retry 2 of 2" in caplog.text

    started = time.monotonic()
    with pytest.raises(AutoReconnect), step_failures(LOG, attempt=failures.STEP_MAX_RETRIES):
        raise AutoReconnect("still down")
    assert time.monotonic() - started < 0.05, "no retry left: nothing to wait for"


def test_dagsters_own_and_decided_failures_pass_untouched() -> None:
    decided = dg.Failure("every ZIP code failed", allow_retries=True)
    with pytest.raises(dg.Failure) as raised, step_failures(LOG, attempt=0):
        raise decided
    assert raised.value is decided


def test_the_policy_has_no_delay_of_its_own() -> None:
    """The executor busy-waits through a policy's delay; the step sleeps instead."""
    policy = failures.step_retry_policy()
    assert policy.max_retries == failures.STEP_MAX_RETRIES
    assert not policy.delay
    assert all(policy.calculate_delay(n) == 0 for n in (1, 2, 3))


def test_the_wrapper_keeps_generators_generators() -> None:
    class Context:
        log = LOG
        retry_number = 0

    @retry_transient_only
    def evaluations(context: Context) -> Iterator[int]:
        yield 1
        raise ValueError("bad threshold")

    produced = evaluations(Context())
    assert next(produced) == 1
    with pytest.raises(dg.Failure, match="bad threshold") as raised:
        next(produced)
    assert raised.value.allow_retries is False
