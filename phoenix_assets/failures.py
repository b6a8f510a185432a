"""Which failures a retry can fix: one classifier for every step, source and store.

A retry costs a busy machine minutes and tells the user nothing; it is worth it only
when the cause passes by itself: a network error, a timeout, HTTP 429 or 5xx, MongoDB
unreachable or failing over. Everything else (an upstream partition never
materialized, a bad setting, refused credentials, data that does not validate, a
defect) fails at once with a message that says what to do.

``classify`` decides; ``step_failures`` applies the decision where a step runs its
code (the compute functions through ``retry_transient_only``, the IO manager through
``step_failures`` directly): a permanent failure becomes ``dg.Failure(allow_retries=
False)``, which Dagster's ``RetryPolicy`` never retries; a transient one is left to the
step's ``RetryPolicy`` after the step has slept its backoff in its own process.

Why sleep in the step: Dagster's multiprocess executor busy-waits while a step waits
for its retry delay (a core spins for the whole delay). A process that sleeps costs
nothing, so the step's ``RetryPolicy`` has no delay of its own and the wait happens
here; ``benchmarks/retry_wait.py`` measures both.
"""

from __future__ import annotations

import contextlib
import enum
import functools
import inspect
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ParamSpec, TypeVar

import dagster as dg
import httpx
import pydantic
from pymongo.errors import (
    ConfigurationError,
    ConnectionFailure,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
)

from phoenix_assets.settings import ConfigError
from phoenix_assets.sources.http import AuthenticationError, BudgetExhaustedError, SourceError

logger = logging.getLogger(__name__)

# Server error codes that mean "the server is busy, stepping down or unreachable":
# the codes MongoDB's drivers retry on (the retryable reads and writes specification).
MONGO_TRANSIENT_CODES = frozenset(
    {6, 7, 89, 91, 134, 189, 262, 9001, 10058, 10107, 11600, 11602, 13435, 13436}
)
MONGO_TRANSIENT_LABELS = ("RetryableWriteError", "TransientTransactionError")
MONGO_AUTH_CODES = frozenset({13, 18, 8000})  # Unauthorized, AuthenticationFailed (Atlas)
TRANSIENT_HTTP_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})

# A transient failure is retried twice, after about 2 s and 6 s.
STEP_MAX_RETRIES = 2
STEP_BACKOFF_SECONDS = 2.0


class FailureKind(enum.StrEnum):
    TRANSIENT = "transient"
    MISSING_INPUT = "missing input"
    CONFIGURATION = "configuration"
    AUTHENTICATION = "authentication"
    VALIDATION = "validation"
    DEFECT = "defect"


# What to do, per kind of permanent failure: the last sentence of the step's message.
_ADVICE = {
    FailureKind.MISSING_INPUT: "Materialize that partition first (the command is above); "
    "a retry cannot make it.",
    FailureKind.CONFIGURATION: "Fix the setting named above and run again; a retry cannot fix it.",
    FailureKind.AUTHENTICATION: "Check the credentials named above and run again; a retry "
    "with the same credentials is refused the same way.",
    FailureKind.VALIDATION: "The data or a value does not validate; a retry reads the same "
    "data. See the message above.",
    FailureKind.DEFECT: "An unexpected error: a retry runs the same code on the same data, "
    "so the step was not retried. The stack trace shows where it happened.",
}


@dataclass(frozen=True)
class Verdict:
    """How a failure is treated: its kind, and whether a retry can fix it."""

    kind: FailureKind
    exception: BaseException  # the exception in the chain that decided it

    @property
    def transient(self) -> bool:
        return self.kind is FailureKind.TRANSIENT

    def message(self, error: BaseException) -> str:
        """The step's failure message: the error, what kind it is, what to do."""
        text = str(error).strip() or type(error).__name__
        return f"{text}\n\nNot retried ({self.kind.value}). {_ADVICE[self.kind]}"


class MissingPartitionError(LookupError):
    """An upstream partition was asked for that was never written (or only half written)."""


def _mongo_kind(error: PyMongoError) -> FailureKind | None:
    if isinstance(error, ConnectionFailure):  # AutoReconnect, NetworkTimeout, no server
        return FailureKind.TRANSIENT
    if isinstance(error, ConfigurationError):  # a malformed URI, an unknown option
        return FailureKind.CONFIGURATION
    if any(error.has_error_label(label) for label in MONGO_TRANSIENT_LABELS):
        return FailureKind.TRANSIENT
    if isinstance(error, DuplicateKeyError):
        return FailureKind.VALIDATION
    if isinstance(error, OperationFailure):
        if error.code in MONGO_TRANSIENT_CODES:
            return FailureKind.TRANSIENT
        if error.code in MONGO_AUTH_CODES:
            return FailureKind.AUTHENTICATION
    return None


def _kind_of(error: BaseException) -> FailureKind | None:
    """The kind of one exception, or None when it says nothing by itself (a wrapper)."""
    if isinstance(error, MissingPartitionError):
        return FailureKind.MISSING_INPUT
    if isinstance(error, ConfigError):
        return FailureKind.CONFIGURATION
    if isinstance(error, AuthenticationError):
        return FailureKind.AUTHENTICATION
    if isinstance(error, BudgetExhaustedError):
        # The run's budget is spent: a retry starts with a new one, but collects the
        # same ZIPs again; the next day's run (or the sensor) is the place for it.
        return FailureKind.CONFIGURATION
    if isinstance(error, SourceError):
        return FailureKind.TRANSIENT if error.retryable else FailureKind.VALIDATION
    if isinstance(error, PyMongoError):
        return _mongo_kind(error)
    if isinstance(error, httpx.HTTPStatusError):
        status = error.response.status_code
        return FailureKind.TRANSIENT if status in TRANSIENT_HTTP_STATUS else FailureKind.VALIDATION
    if isinstance(error, httpx.TransportError | TimeoutError | ConnectionError):
        return FailureKind.TRANSIENT
    if isinstance(error, pydantic.ValidationError | ValueError):
        return FailureKind.VALIDATION
    return None


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(error: BaseException) -> Verdict:
    """The verdict on ``error``: the first exception in its chain (itself, then what it
    was raised from) whose kind is known; a defect when none is."""
    for link in _chain(error):
        kind = _kind_of(link)
        if kind is not None:
            return Verdict(kind, link)
    return Verdict(FailureKind.DEFECT, error)


def step_retry_policy() -> dg.RetryPolicy:
    """Every asset's and check's ``RetryPolicy``: only transient failures reach it
    (``step_failures`` turns the others into non-retryable ``dg.Failure``s), and it has
    no delay of its own: the step sleeps its backoff before it fails (see the module)."""
    return dg.RetryPolicy(max_retries=STEP_MAX_RETRIES)


def backoff_seconds(attempt: int) -> float:
    """The wait before retry ``attempt + 1`` (0-based ``attempt``): 2 s, 4 s, ... ±50 %."""
    base = STEP_BACKOFF_SECONDS * 2**attempt
    return base * random.uniform(0.5, 1.5)


@contextlib.contextmanager
def step_failures(
    log: logging.Logger | dg.DagsterLogManager, attempt: int, *, what: str = "step"
) -> Iterator[None]:
    """Decide, for an error raised inside it, whether the step is retried.

    ``attempt`` is the step's previous attempt count (0 on its first run). A permanent
    error is raised as ``dg.Failure(allow_retries=False)`` carrying the message and what
    to do; a transient one is re-raised after the backoff, when a retry is left.
    """
    try:
        yield
    except (dg.Failure, dg.RetryRequested, dg.DagsterError):
        raise  # decided already, or Dagster's own
    except Exception as error:
        verdict = classify(error)
        if not verdict.transient:
            raise dg.Failure(
                description=verdict.message(error),
                metadata={"failure_kind": verdict.kind.value, "error": type(error).__name__},
                allow_retries=False,
            ) from error
        if attempt < STEP_MAX_RETRIES:
            wait = backoff_seconds(attempt)
            log.warning(
                f"{what} failed on a transient error ({type(verdict.exception).__name__}); "
                f"retry {attempt + 1} of {STEP_MAX_RETRIES} in {wait:.1f} s: {error}"
            )
            time.sleep(wait)
        raise


P = ParamSpec("P")
R = TypeVar("R")
RETRY_TRANSIENT_ONLY = "__phoenix_retry_transient_only__"


def retry_transient_only(function: Callable[P, R]) -> Callable[P, R]:
    """Wrap an asset's or check's compute function (its first argument the context) in
    ``step_failures``; generators too (the checks yield their evaluations)."""

    def context_of(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        return args[0] if args else kwargs["context"]

    if inspect.isgeneratorfunction(function):

        @functools.wraps(function)
        def generator(*args: P.args, **kwargs: P.kwargs) -> Any:
            context = context_of(args, kwargs)
            with step_failures(context.log, context.retry_number):
                return (yield from function(*args, **kwargs))

        wrapped: Callable[P, R] = generator
    else:

        @functools.wraps(function)
        def plain(*args: P.args, **kwargs: P.kwargs) -> R:
            context = context_of(args, kwargs)
            with step_failures(context.log, context.retry_number):
                return function(*args, **kwargs)

        wrapped = plain
    setattr(wrapped, RETRY_TRANSIENT_ONLY, True)
    return wrapped
