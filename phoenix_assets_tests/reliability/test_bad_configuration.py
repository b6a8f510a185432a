"""A bad-configuration matrix, end to end through the code location's load.

Each case sets one mistake in an otherwise good environment and loads the code location
as Dagster does (``dg.load_from_defs_folder``, in a fresh import: see ``_load_fresh``).
The load must fail with a ``ConfigError`` naming the variable to fix, showing the bad
value where that is safe and never a secret. What cannot be known at load time is run:
a MongoDB or a source host that does not answer fails the run (or that source alone)
naming the host and the variable; an enabled source without credentials is skipped, as
the README documents, with a line naming what to set.
"""

from __future__ import annotations

import datetime as dt
import importlib
import sys
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.definitions.freshness import TimeWindowFreshnessPolicy
from pymongo.database import Database

import phoenix_assets
from phoenix_assets.settings import ConfigError
from phoenix_assets_tests.tcp_faults import refusing_port

DAY = "2026-11-17"
DEFS_PACKAGE = "phoenix_assets.defs"
MONGO_PASSWORD = "Mongo-PASSWORD-in-uri-4417"
TOKEN = "Maricopa-TOKEN-9c1e77"
MLS_TOKEN = "Mls-BEARER-TOKEN-52aa"
MLS_SECRET = "Mls-CLIENT-SECRET-0b9f"
HOOK_SECRET = "T0AAAA/B0BBBB/hookSECRET4b1d"
SMTP_PASSWORD = "Smtp-PASSWORD-3d2c"
QUERY_SECRET = "apikey-IN-QUERY-77e0"

SMTP = {"PHOENIX_SMTP_HOST": "smtp.example.com", "PHOENIX_EMAIL_FROM": "alerts@example.com"}


def _load_fresh() -> dg.Definitions:
    """Load the code location as a new process would.

    Some settings are read when a module of ``phoenix_assets.defs`` is imported (the
    raw assets' freshness policy), so a second load in one process would reuse the first
    import's values. The modules are imported afresh for the load and the previous
    ones put back after it, so other tests keep the objects they imported.
    """
    saved = {
        name: module
        for name, module in sys.modules.items()
        if name == DEFS_PACKAGE or name.startswith(f"{DEFS_PACKAGE}.")
    }
    for name in saved:
        del sys.modules[name]
    try:
        return dg.load_from_defs_folder(path_within_project=Path(phoenix_assets.__file__).parent)
    finally:
        for name in [
            n for n in sys.modules if n == DEFS_PACKAGE or n.startswith(f"{DEFS_PACKAGE}.")
        ]:
            del sys.modules[name]
        sys.modules.update(saved)
        for name, module in saved.items():
            parent, _, child = name.rpartition(".")
            setattr(sys.modules[parent], child, module)


def _chain(error: BaseException) -> list[BaseException]:
    """The error, its causes and contexts (suppressed ones too: they still exist)."""
    found = [error]
    while (error.__cause__ or error.__context__) is not None:
        error = error.__cause__ or error.__context__  # type: ignore[assignment]
        found.append(error)
    return found


@pytest.fixture
def closed_port() -> Iterator[int]:
    """A port on 127.0.0.1 that refuses connections while the test runs: bound, never
    listening, so no other socket (an ephemeral client port included) can take it."""
    with refusing_port() as port:
        yield port


@dataclass(frozen=True)
class Mistake:
    """One misconfiguration: the environment it adds, what the error must say and hide."""

    id: str
    env: dict[str, str]
    names: str  # the variable the message must name
    shows: str | None = None  # the bad value, where safe to show
    hides: tuple[str, ...] = field(default=())  # secrets that must appear nowhere


def _number_mistakes() -> list[Mistake]:
    """Every numeric knob the settings expose, with values that are not numbers or out of
    range (from settings.py, the sources, delivery, automation, metrics, retention and
    quality settings: grep for the PHOENIX_, MONGODB_, MARICOPA_, MLS_RESO_ prefixes)."""
    knobs: dict[str, tuple[str, ...]] = {
        "MARICOPA_REQUESTS_PER_SECOND": ("fast", "0", "0.009", "101", "nan"),
        "MARICOPA_MAX_CONCURRENCY": ("two", "0", "2.5", "33"),
        "MARICOPA_DAILY_REQUEST_BUDGET": ("lots", "0", "-1", "8000.5", "100001"),
        "MARICOPA_STALE_AFTER_DAYS": ("a month", "0", "366"),
        "MARICOPA_TIME_BUDGET_SECONDS": ("an hour", "0", "0.5", "86401", "inf"),
        "MARICOPA_MAX_SEARCH_PAGES": ("all", "0", "4001"),
        "MARICOPA_SEARCH_EVERY_DAYS": ("monthly", "0", "-30", "7.5", "366"),
        "MLS_RESO_REQUESTS_PER_SECOND": ("fast", "0", "101"),
        "MLS_RESO_MAX_CONCURRENCY": ("one", "0", "17"),
        "MLS_RESO_PAGE_SIZE": ("big", "0", "5000"),
        "MLS_RESO_TIME_BUDGET_SECONDS": ("30m", "0", "86401"),
        "MLS_RESO_OVERLAP_HOURS": ("a day", "-1", "145"),
        "PHOENIX_SMTP_PORT": ("smtp", "0", "65536"),
        "PHOENIX_ALERT_COOLDOWN_MINUTES": ("an hour", "-1", "10081"),
        "PHOENIX_BACKFILL_LOOKBACK_DAYS": ("two weeks", "0", "367"),
        "PHOENIX_BACKFILL_MAX_ATTEMPTS": ("three", "0", "11"),
        "PHOENIX_BACKFILL_GRACE_HOURS": ("3h", "-1", "1e12"),
        "PHOENIX_BACKFILL_INTERVAL_SECONDS": ("10m", "4", "86401"),
        "PHOENIX_RUN_TIMEOUT_MINUTES": ("2h", "0", "1441"),
        "PHOENIX_RAW_FRESHNESS_WARN_HOURS": ("a day", "0", "26.5"),
        "PHOENIX_RAW_FRESHNESS_FAIL_HOURS": ("36h", "0", "99999999999999"),
        "PHOENIX_METRICS_PUSH_TIMEOUT_SECONDS": ("5s", "0", "61"),
        "PHOENIX_RAW_RETENTION_DAYS": ("a year", "0", "99999999999999"),
        "PHOENIX_QUALITY_MAX_NULL_LIST_PRICE": ("2%", "-0.1", "1.5"),
        "PHOENIX_QUALITY_MAX_NULL_LIVING_AREA": ("5%", "1.5"),
        "PHOENIX_QUALITY_MAX_NULL_POSTAL_CODE": ("none", "-1"),
        "PHOENIX_QUALITY_MAX_NULL_COORDINATES": ("5%", "2"),
        "PHOENIX_QUALITY_MIN_LIST_PRICE": ("10k", "0", "500000001"),
        "PHOENIX_QUALITY_MAX_LIST_PRICE": ("50M", "-1", "500000000.5"),
        "PHOENIX_QUALITY_MIN_PRICE_PER_SQFT": ("25$", "0", "50001"),
        "PHOENIX_QUALITY_MAX_PRICE_PER_SQFT": ("3k", "0", "50000.5"),
        "PHOENIX_QUALITY_MIN_YEAR_BUILT": ("1850.5", "1600", "2200"),
        "PHOENIX_QUALITY_MAX_OUT_OF_RANGE": ("1%", "1.01"),
        "PHOENIX_QUALITY_ROW_COUNT_TOLERANCE": ("25%", "-1", "11"),
        "PHOENIX_QUALITY_MAX_QUARANTINE": ("2%", "-0.5"),
        "PHOENIX_QUALITY_MAX_INVENTORY_DROP": ("40%", "-0.1", "1.5"),
        "PHOENIX_QUALITY_INVENTORY_CHANGE_TOLERANCE": ("25%", "-1", "11"),
        "PHOENIX_HARD_MAX_LIST_PRICE": ("100M", "999999", "1000000001", "inf"),
        "PHOENIX_HARD_MAX_FUTURE_MODIFICATION_HOURS": ("a day", "0.5", "169"),
        "PHOENIX_HARD_MAX_YEARS_AHEAD_BUILT": ("one", "-1", "1.5", "6"),
    }
    return [
        Mistake(f"{name}={value}", {name: value}, names=name, shows=value)
        for name, values in knobs.items()
        for value in values
    ]


def _cross_mistakes() -> list[Mistake]:
    """Numbers that are fine alone but contradict another setting."""
    return [
        Mistake(
            "MARICOPA_STALE_AFTER_DAYS=90 outlives the Assessor window",
            {"MARICOPA_STALE_AFTER_DAYS": "90"},
            names="MARICOPA_STALE_AFTER_DAYS",
            shows="90",
        ),
        Mistake(
            "PHOENIX_RAW_FRESHNESS_WARN_HOURS=40 is after the fail window",
            {"PHOENIX_RAW_FRESHNESS_WARN_HOURS": "40"},
            names="PHOENIX_RAW_FRESHNESS_FAIL_HOURS",
            shows="40",
        ),
        Mistake(
            "PHOENIX_RAW_RETENTION_DAYS=60 drops raw data snapshots still read",
            {"PHOENIX_RAW_RETENTION_DAYS": "60"},
            names="PHOENIX_RAW_RETENTION_DAYS",
            shows="60",
        ),
        Mistake(
            "PHOENIX_RAW_RETENTION_DAYS=100 shorter than the backfill look-back",
            {"PHOENIX_RAW_RETENTION_DAYS": "100", "PHOENIX_BACKFILL_LOOKBACK_DAYS": "120"},
            names="PHOENIX_BACKFILL_LOOKBACK_DAYS",
            shows="100",
        ),
        Mistake(
            "PHOENIX_QUALITY_MIN_LIST_PRICE=60000000 above the maximum",
            {"PHOENIX_QUALITY_MIN_LIST_PRICE": "60000000"},
            names="PHOENIX_QUALITY_MAX_LIST_PRICE",
            shows="60000000",
        ),
        Mistake(
            "PHOENIX_HARD_MAX_LIST_PRICE=40000000 below the soft maximum",
            {"PHOENIX_HARD_MAX_LIST_PRICE": "40000000"},
            names="PHOENIX_QUALITY_MAX_LIST_PRICE",
            shows="40000000",
        ),
        Mistake(
            "PHOENIX_QUALITY_MAX_PRICE_PER_SQFT=20 below the minimum",
            {"PHOENIX_QUALITY_MAX_PRICE_PER_SQFT": "20"},
            names="PHOENIX_QUALITY_MIN_PRICE_PER_SQFT",
            shows="20",
        ),
    ]


MONGODB_MISTAKES = [
    Mistake(
        "mongodb-uri-without-scheme-with-password",
        {"MONGODB_URI": f"admin:{MONGO_PASSWORD}@db.example.com:27017/phoenix"},
        names="MONGODB_URI",
        shows="admin:***@db.example.com:27017/phoenix",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-uri-with-http-scheme",
        {"MONGODB_URI": f"http://admin:{MONGO_PASSWORD}@db.example.com/"},
        names="MONGODB_URI",
        shows="http://admin:***@db.example.com/",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-uri-port-not-a-number",
        {"MONGODB_URI": f"mongodb://admin:{MONGO_PASSWORD}@db.example.com:27o17/"},
        names="MONGODB_URI",
        shows="27o17",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-uri-port-out-of-range",
        {"MONGODB_URI": f"mongodb://admin:{MONGO_PASSWORD}@db.example.com:99999/"},
        names="MONGODB_URI",
        shows="99999",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-uri-password-with-an-unescaped-at-sign",
        {"MONGODB_URI": f"mongodb://admin:p@ss{MONGO_PASSWORD}@db.example.com/"},
        names="MONGODB_URI",
        shows="admin:***@db.example.com",
        hides=(f"ss{MONGO_PASSWORD}", MONGO_PASSWORD),
    ),
    Mistake(
        "mongodb-uri-password-without-a-user-name",
        {"MONGODB_URI": f"mongodb://:{MONGO_PASSWORD}@db.example.com/"},
        names="MONGODB_URI",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-uri-without-a-host",
        {"MONGODB_URI": f"mongodb://admin:{MONGO_PASSWORD}@/phoenix"},
        names="MONGODB_URI",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-srv-uri-with-a-port",
        {"MONGODB_URI": f"mongodb+srv://admin:{MONGO_PASSWORD}@cluster0.example.net:27017/"},
        names="MONGODB_URI",
        shows="port",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-uri-with-a-space-in-the-host",
        {"MONGODB_URI": f"mongodb://admin:{MONGO_PASSWORD}@db example.com/"},
        names="MONGODB_URI",
        shows="space",
        hides=(MONGO_PASSWORD,),
    ),
    Mistake(
        "mongodb-uri-with-an-invalid-option",
        {"MONGODB_URI": "mongodb://db.example.com/?tls=maybe"},
        names="MONGODB_URI",
        shows="tls",
    ),
    Mistake(
        "mongodb-database-name-with-a-dot",
        {"MONGODB_DATABASE": "my.db"},
        names="MONGODB_DATABASE",
        shows="my.db",
    ),
    Mistake(
        "mongodb-database-name-too-long",
        {"MONGODB_DATABASE": "p" * 64},
        names="MONGODB_DATABASE",
        shows="p" * 64,
    ),
]

SCOPE_MISTAKES = [
    Mistake(
        "zip-code-with-four-digits",
        {"PHOENIX_ZIP_CODES": "85018,8503"},
        names="PHOENIX_ZIP_CODES",
        shows="8503",
    ),
    Mistake(
        "zip-code-with-a-letter-o-for-a-zero",
        {"PHOENIX_ZIP_CODES": "85O18"},
        names="PHOENIX_ZIP_CODES",
        shows="85O18",
    ),
    Mistake(
        "zip-code-plus-four",
        {"PHOENIX_ZIP_CODES": "85018-1234"},
        names="PHOENIX_ZIP_CODES",
        shows="85018-1234",
    ),
    Mistake(
        "zip-code-outside-arizona",
        {"PHOENIX_ZIP_CODES": "85018,10001"},
        names="PHOENIX_ZIP_CODES",
        shows="10001",
    ),
    Mistake(
        "zip-code-list-with-separators-only",
        {"PHOENIX_ZIP_CODES": " , ; "},
        names="PHOENIX_ZIP_CODES",
        shows="names no ZIP code",
    ),
    Mistake(
        "source-unknown",
        {"PHOENIX_SOURCES": "demo,zillow"},
        names="PHOENIX_SOURCES",
        shows="zillow",
    ),
    Mistake(
        "sources-separated-by-spaces",
        {"PHOENIX_SOURCES": "demo maricopa"},
        names="PHOENIX_SOURCES",
        shows="demo maricopa",
    ),
    Mistake(
        "source-list-with-separators-only",
        {"PHOENIX_SOURCES": ","},
        names="PHOENIX_SOURCES",
        shows="names no source",
    ),
    Mistake(
        "automation-neither-on-nor-off",
        {"PHOENIX_AUTOMATION": "paused"},
        names="PHOENIX_AUTOMATION",
        shows="paused",
    ),
]

SOURCE_MISTAKES = [
    Mistake(
        "maricopa-token-with-a-space-inside",
        {"PHOENIX_SOURCES": "demo,maricopa", "MARICOPA_API_TOKEN": f"{TOKEN} {TOKEN}"},
        names="MARICOPA_API_TOKEN",
        hides=(TOKEN,),
    ),
    Mistake(
        "maricopa-base-url-without-scheme",
        {"MARICOPA_API_BASE_URL": "mcassessor.maricopa.gov"},
        names="MARICOPA_API_BASE_URL",
        shows="mcassessor.maricopa.gov",
    ),
    Mistake(
        "maricopa-base-url-port-not-a-number",
        {"MARICOPA_API_BASE_URL": "http://127.0.0.1:80a"},
        names="MARICOPA_API_BASE_URL",
        shows="127.0.0.1:80a",
    ),
    Mistake(
        "maricopa-base-url-plain-http-to-a-remote-host",
        {"MARICOPA_API_BASE_URL": "http://mcassessor.maricopa.gov"},
        names="MARICOPA_API_BASE_URL",
        shows="https://",
    ),
    Mistake(
        "maricopa-base-url-with-the-token-in-its-query",
        {"MARICOPA_API_BASE_URL": f"https://mcassessor.maricopa.gov/?token={QUERY_SECRET}"},
        names="MARICOPA_API_BASE_URL",
        shows="mcassessor.maricopa.gov",
        hides=(QUERY_SECRET,),
    ),
    Mistake(
        "maricopa-base-url-with-credentials",
        {"MARICOPA_API_BASE_URL": f"https://me:{QUERY_SECRET}@mcassessor.maricopa.gov"},
        names="MARICOPA_API_TOKEN",
        hides=(QUERY_SECRET,),
    ),
    Mistake(
        "mls-client-id-without-secret-and-token-url",
        {"MLS_RESO_CLIENT_ID": "phoenix-client"},
        names="MLS_RESO_CLIENT_SECRET, MLS_RESO_TOKEN_URL",
    ),
    Mistake(
        "mls-client-secret-without-client-id",
        {
            "MLS_RESO_CLIENT_SECRET": MLS_SECRET,
            "MLS_RESO_TOKEN_URL": "https://auth.example.com/token",
        },
        names="MLS_RESO_CLIENT_ID",
        hides=(MLS_SECRET,),
    ),
    Mistake(
        "mls-static-token-and-client-credentials-both",
        {
            "MLS_RESO_TOKEN": MLS_TOKEN,
            "MLS_RESO_CLIENT_ID": "phoenix-client",
            "MLS_RESO_CLIENT_SECRET": MLS_SECRET,
            "MLS_RESO_TOKEN_URL": "https://auth.example.com/token",
        },
        names="MLS_RESO_TOKEN",
        hides=(MLS_TOKEN, MLS_SECRET),
    ),
    Mistake(
        "mls-base-url-without-scheme",
        {"MLS_RESO_BASE_URL": "api.example.com/reso/odata"},
        names="MLS_RESO_BASE_URL",
        shows="api.example.com/reso/odata",
    ),
    Mistake(
        "mls-base-url-plain-http-to-a-remote-host",
        {"MLS_RESO_BASE_URL": "http://api.example.com/reso/odata"},
        names="MLS_RESO_BASE_URL",
        shows="https://",
    ),
    Mistake(
        "mls-base-url-with-a-token-in-its-query",
        {"MLS_RESO_BASE_URL": f"https://api.example.com/reso/odata?access_token={QUERY_SECRET}"},
        names="MLS_RESO_BASE_URL",
        shows="api.example.com/reso/odata",
        hides=(QUERY_SECRET,),
    ),
    Mistake(
        "mls-base-url-with-credentials",
        {"MLS_RESO_BASE_URL": f"https://me:{QUERY_SECRET}@api.example.com/reso/odata"},
        names="MLS_RESO_TOKEN",
        hides=(QUERY_SECRET,),
    ),
    Mistake(
        "mls-token-url-plain-http-to-a-remote-host",
        {
            "MLS_RESO_CLIENT_ID": "phoenix-client",
            "MLS_RESO_CLIENT_SECRET": MLS_SECRET,
            "MLS_RESO_TOKEN_URL": "http://auth.example.com/token",
        },
        names="MLS_RESO_TOKEN_URL",
        hides=(MLS_SECRET,),
    ),
]

DELIVERY_MISTAKES = [
    Mistake(
        "slack-webhook-url-without-scheme",
        {"PHOENIX_ALERT_SLACK_WEBHOOK_URL": f"hooks.slack.com/services/{HOOK_SECRET}"},
        names="PHOENIX_ALERT_SLACK_WEBHOOK_URL",
        hides=(HOOK_SECRET,),
    ),
    Mistake(
        "alert-webhook-url-port-out-of-range",
        {"PHOENIX_ALERT_WEBHOOK_URL": f"https://hooks.example.com:99999/{HOOK_SECRET}"},
        names="PHOENIX_ALERT_WEBHOOK_URL",
        shows="port",
        hides=(HOOK_SECRET,),
    ),
    Mistake(
        "report-webhook-url-with-ftp-scheme",
        {"PHOENIX_REPORT_WEBHOOK_URL": f"ftp://hooks.example.com/{HOOK_SECRET}"},
        names="PHOENIX_REPORT_WEBHOOK_URL",
        shows="ftp://hooks.example.com/***",
        hides=(HOOK_SECRET,),
    ),
    *(
        Mistake(
            f"{name.lower().replace('_', '-')}-plain-http-to-a-remote-host",
            {name: f"http://hooks.example.com/{HOOK_SECRET}"},
            names=name,
            shows="must use https://",
            hides=(HOOK_SECRET,),
        )
        for name in (
            "PHOENIX_ALERT_SLACK_WEBHOOK_URL",
            "PHOENIX_ALERT_WEBHOOK_URL",
            "PHOENIX_REPORT_WEBHOOK_URL",
        )
    ),
    Mistake(
        "report-webhook-format-unknown",
        {"PHOENIX_REPORT_WEBHOOK_FORMAT": "xml"},
        names="PHOENIX_REPORT_WEBHOOK_FORMAT",
        shows="xml",
    ),
    Mistake(
        "ui-url-without-scheme",
        {"PHOENIX_UI_URL": "localhost:3000"},
        names="PHOENIX_UI_URL",
        shows="localhost:3000",
    ),
    Mistake(
        "smtp-host-with-its-port",
        {**SMTP, "PHOENIX_SMTP_HOST": "smtp.example.com:587"},
        names="PHOENIX_SMTP_PORT",
        shows="smtp.example.com:587",
    ),
    Mistake(
        "smtp-host-as-a-url",
        {**SMTP, "PHOENIX_SMTP_HOST": "smtp://smtp.example.com"},
        names="PHOENIX_SMTP_HOST",
        shows="smtp://smtp.example.com",
    ),
    Mistake(
        "smtp-starttls-neither-true-nor-false",
        {**SMTP, "PHOENIX_SMTP_STARTTLS": "maybe"},
        names="PHOENIX_SMTP_STARTTLS",
        shows="maybe",
    ),
    Mistake(
        "smtp-password-sent-unencrypted-to-a-remote-host",
        {
            **SMTP,
            "PHOENIX_SMTP_STARTTLS": "false",
            "PHOENIX_SMTP_USERNAME": "alerts@example.com",
            "PHOENIX_SMTP_PASSWORD": SMTP_PASSWORD,
        },
        names="PHOENIX_SMTP_STARTTLS",
        hides=(SMTP_PASSWORD,),
    ),
    Mistake(
        "smtp-username-without-password",
        {**SMTP, "PHOENIX_SMTP_USERNAME": "alerts@example.com"},
        names="PHOENIX_SMTP_PASSWORD",
    ),
    Mistake(
        "smtp-password-without-username",
        {**SMTP, "PHOENIX_SMTP_PASSWORD": SMTP_PASSWORD},
        names="PHOENIX_SMTP_USERNAME",
        hides=(SMTP_PASSWORD,),
    ),
    Mistake(
        "smtp-host-without-a-sender",
        {"PHOENIX_SMTP_HOST": "smtp.example.com"},
        names="PHOENIX_EMAIL_FROM",
    ),
    Mistake(
        "email-from-not-an-address",
        {**SMTP, "PHOENIX_EMAIL_FROM": "alerts"},
        names="PHOENIX_EMAIL_FROM",
        shows="alerts",
    ),
    Mistake(
        "email-from-not-an-address-before-smtp-is-set",
        {"PHOENIX_EMAIL_FROM": "alerts at example.com"},
        names="PHOENIX_EMAIL_FROM",
        shows="alerts at example.com",
    ),
    Mistake(
        "alert-email-to-with-one-bad-address",
        {**SMTP, "PHOENIX_ALERT_EMAIL_TO": "ops@example.com, nobody"},
        names="PHOENIX_ALERT_EMAIL_TO",
        shows="nobody",
    ),
    Mistake(
        "alert-email-to-without-an-smtp-host",
        {"PHOENIX_ALERT_EMAIL_TO": "ops@example.com"},
        names="PHOENIX_SMTP_HOST",
    ),
    Mistake(
        "report-email-to-with-a-display-name",
        {**SMTP, "PHOENIX_REPORT_EMAIL_TO": "Ops <ops@example.com>"},
        names="PHOENIX_REPORT_EMAIL_TO",
        shows="Ops <ops@example.com>",
    ),
    Mistake(
        "report-email-to-without-an-smtp-host",
        {"PHOENIX_REPORT_EMAIL_TO": "reader@example.com"},
        names="PHOENIX_SMTP_HOST",
    ),
    Mistake(
        "pushgateway-url-with-a-key-in-its-query",
        {"PHOENIX_METRICS_PUSHGATEWAY_URL": f"http://pushgateway:9091/?key={QUERY_SECRET}"},
        names="PHOENIX_METRICS_PUSHGATEWAY_URL",
        shows="pushgateway:9091",
        hides=(QUERY_SECRET,),
    ),
    Mistake(
        "pushgateway-url-with-credentials",
        {"PHOENIX_METRICS_PUSHGATEWAY_URL": f"http://me:{QUERY_SECRET}@pushgateway:9091"},
        names="PHOENIX_METRICS_PUSHGATEWAY_URL",
        hides=(QUERY_SECRET,),
    ),
    Mistake(
        "pushgateway-url-without-scheme",
        {"PHOENIX_METRICS_PUSHGATEWAY_URL": "pushgateway:9091"},
        names="PHOENIX_METRICS_PUSHGATEWAY_URL",
    ),
]

MISTAKES = [
    *MONGODB_MISTAKES,
    *SCOPE_MISTAKES,
    *SOURCE_MISTAKES,
    *DELIVERY_MISTAKES,
    *_number_mistakes(),
    *_cross_mistakes(),
]


def _assert_fails_at_load_naming(mistake: Mistake) -> None:
    with pytest.raises(Exception) as raised:
        _load_fresh()
    chain = _chain(raised.value)
    settings_errors = [error for error in chain if isinstance(error, ConfigError)]
    assert settings_errors, f"the load failed, but not on a setting: {chain!r}"
    message = str(settings_errors[0])
    assert mistake.names in message, message
    if mistake.shows is not None:
        assert mistake.shows in message, message
    everything = "\n".join([*(str(e) for e in chain), *traceback.format_exception(raised.value)])
    for secret in mistake.hides:
        assert secret not in everything, f"{secret!r} leaked: {message}"


@pytest.mark.parametrize("mistake", MISTAKES, ids=[m.id for m in MISTAKES])
def test_a_mistake_fails_the_load_naming_the_variable(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, mistake: Mistake
) -> None:
    """The code location refuses to load, and its error says which variable to fix."""
    for name, value in mistake.env.items():
        monkeypatch.setenv(name, value)
    _assert_fails_at_load_naming(mistake)


def test_an_output_folder_that_cannot_be_created_fails_the_load(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """PHOENIX_REPORTS_DIR and PHOENIX_METRICS_TEXTFILE_DIR pointing at, or under, a file
    fail the load (the folder could never be created)."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder")
    for variable in ("PHOENIX_REPORTS_DIR", "PHOENIX_METRICS_TEXTFILE_DIR"):
        for path in (a_file, a_file / "under-it"):
            with monkeypatch.context() as patch:
                patch.setenv(variable, str(path))
                _assert_fails_at_load_naming(
                    Mistake(f"{variable}={path}", {}, names=variable, shows=str(a_file))
                )


def test_the_environment_the_mistakes_are_made_in_loads(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Without the mistake everything loads: each case above fails for its own reason,
    and loading afresh does read a module-level setting again."""
    for name, value in {
        **SMTP,
        "PHOENIX_SOURCES": "demo,maricopa,mls",
        "MARICOPA_API_TOKEN": TOKEN,
        "MLS_RESO_BASE_URL": "https://api.example.com/reso/odata",
        "MLS_RESO_TOKEN": MLS_TOKEN,
        "PHOENIX_ALERT_EMAIL_TO": "ops@example.com",
        "PHOENIX_REPORTS_DIR": str(tmp_path / "reports"),
        "PHOENIX_METRICS_TEXTFILE_DIR": str(tmp_path / "metrics"),
    }.items():
        monkeypatch.setenv(name, value)
    defs = _load_fresh()
    assert defs.resolve_job_def("daily_pipeline") is not None
    # The freshness policy is read on import: a fresh load sees a new value even after
    # another test of the session imported the module, and leaves that test its module.
    imported = importlib.import_module("phoenix_assets.defs.assets.raw_demo")
    monkeypatch.setenv("PHOENIX_RAW_FRESHNESS_WARN_HOURS", "30")
    (spec,) = _load_fresh().resolve_assets_def("raw_demo_listings").specs
    policy = spec.freshness_policy
    assert isinstance(policy, TimeWindowFreshnessPolicy)
    assert policy.warn_window.to_timedelta() == dt.timedelta(hours=30)
    assert sys.modules["phoenix_assets.defs.assets.raw_demo"] is imported


# --- what only a run can find out ---------------------------------------------------------


def _errors_of(result: dg.ExecuteInProcessResult, node: str | None = None) -> str:
    """Every error text the run recorded (for ``node`` only, when given)."""
    texts = []
    for event in result.all_events:
        if node is not None and event.step_key != node:
            continue
        data = event.event_specific_data
        error = getattr(data, "error", None)
        if error is not None:
            texts.append(error.to_string())
        user_failure = getattr(data, "user_failure_data", None)
        if user_failure is not None and user_failure.description:
            texts.append(user_failure.description)
    return "\n".join(texts)


def test_an_unreachable_mongodb_fails_the_run_naming_host_and_variable(
    pipeline_env: dict[str, str], monkeypatch: pytest.MonkeyPatch, closed_port: int
) -> None:
    """MongoDB on a closed port: the load succeeds (it must not touch the network), the
    run fails before any asset is stored, naming the host, the port and MONGODB_URI,
    with the URI's password masked."""
    port = closed_port
    monkeypatch.setenv("MONGODB_URI", f"mongodb://phoenix:{MONGO_PASSWORD}@127.0.0.1:{port}/")
    defs = _load_fresh()
    result = defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=DAY, raise_on_error=False
    )
    assert not result.success
    assert result.get_asset_materialization_events() == []
    said = _errors_of(result)
    assert f"mongodb://phoenix:***@127.0.0.1:{port}/" in said
    assert "MONGODB_URI" in said
    assert MONGO_PASSWORD not in said


@dataclass(frozen=True)
class Unreachable:
    """A source whose host (``variable``, with ``{port}`` a closed port) does not answer."""

    id: str
    source: str
    asset: str
    variable: str
    env: dict[str, str]


def _unreachable_cases() -> list[Unreachable]:
    return [
        Unreachable(
            "maricopa-base-url-on-a-closed-port",
            "maricopa",
            "raw_maricopa_parcels",
            "MARICOPA_API_BASE_URL",
            {
                "MARICOPA_API_BASE_URL": "http://127.0.0.1:{port}",
                "MARICOPA_API_TOKEN": TOKEN,
                "MARICOPA_REQUESTS_PER_SECOND": "100",
                "MARICOPA_TIME_BUDGET_SECONDS": "1",
            },
        ),
        Unreachable(
            "mls-base-url-on-a-closed-port",
            "mls",
            "raw_mls_listings",
            "MLS_RESO_BASE_URL",
            {
                "MLS_RESO_BASE_URL": "http://127.0.0.1:{port}/reso/odata",
                "MLS_RESO_TOKEN": MLS_TOKEN,
                "MLS_RESO_REQUESTS_PER_SECOND": "100",
                "MLS_RESO_TIME_BUDGET_SECONDS": "1",
            },
        ),
        Unreachable(
            "mls-token-url-on-a-closed-port",
            "mls",
            "raw_mls_listings",
            "MLS_RESO_TOKEN_URL",
            {
                "MLS_RESO_BASE_URL": "http://localhost:9/reso/odata",
                "MLS_RESO_CLIENT_ID": "phoenix-client",
                "MLS_RESO_CLIENT_SECRET": MLS_SECRET,
                "MLS_RESO_TOKEN_URL": "http://127.0.0.1:{port}/token",
                "MLS_RESO_REQUESTS_PER_SECOND": "100",
                "MLS_RESO_TIME_BUDGET_SECONDS": "1",
            },
        ),
    ]


UNREACHABLE = _unreachable_cases()


@pytest.mark.parametrize("case", UNREACHABLE, ids=[c.id for c in UNREACHABLE])
def test_an_unreachable_source_fails_alone_naming_host_and_variable(
    pipeline_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    db: Database[dict],
    case: Unreachable,
    closed_port: int,
) -> None:
    """A source whose host does not answer: the demo source's data still lands; the
    source's asset fails (its every ZIP failed) saying which host it could not reach and
    which variable holds it, and the failed ZIP is recorded with the same reason.

    The source's time budget is 1 s so that its retries give up at once (a closed port
    is refused immediately; the budget only bounds the backoff between attempts)."""
    port = closed_port
    monkeypatch.setenv("PHOENIX_SOURCES", f"demo,{case.source}")
    monkeypatch.setenv("PHOENIX_ZIP_CODES", "85018")
    for name, value in case.env.items():
        monkeypatch.setenv(name, value.format(port=port))
    defs = _load_fresh()
    result = defs.resolve_job_def("daily_pipeline").execute_in_process(
        partition_key=DAY, raise_on_error=False
    )
    assert not result.success
    assert result.is_node_success("raw_demo_listings")
    assert db["raw_demo_listings"].count_documents({"partition_key": DAY}) > 0
    said = _errors_of(result, case.asset)
    where = f"127.0.0.1:{port}"
    assert where in said and case.variable in said, said
    (failure,) = db["collection_failures"].find({"source": case.source})
    assert where in failure["reason"] and case.variable in failure["reason"], failure
    for secret in (TOKEN, MLS_TOKEN, MLS_SECRET):
        assert secret not in said and secret not in str(failure)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as instance:
        yield instance


@pytest.mark.parametrize(
    ("env", "source", "what_to_set"),
    [
        pytest.param(
            {"PHOENIX_SOURCES": "demo,maricopa"},
            "maricopa",
            "MARICOPA_API_TOKEN",
            id="maricopa-enabled-without-a-token",
        ),
        pytest.param(
            {"PHOENIX_SOURCES": "demo,mls", "MLS_RESO_BASE_URL": "https://api.example.com/o"},
            "mls",
            "MLS_RESO_TOKEN",
            id="mls-enabled-without-credentials",
        ),
        pytest.param(
            {"PHOENIX_SOURCES": "demo,mls", "MLS_RESO_TOKEN": MLS_TOKEN},
            "mls",
            "MLS_RESO_BASE_URL",
            id="mls-enabled-without-a-base-url",
        ),
    ],
)
def test_an_enabled_source_without_credentials_is_skipped_naming_what_to_set(
    pipeline_env: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    instance: dg.DagsterInstance,
    env: dict[str, str],
    source: str,
    what_to_set: str,
) -> None:
    """Not a load failure, by the README's design ("an enabled network source without its
    credentials is skipped ... with one log line naming what to set"): the code location
    loads, the source's asset stores an empty partition marked ``configured: false``,
    and the run's log names the variable to set."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    asset = {"maricopa": "raw_maricopa_parcels", "mls": "raw_mls_listings"}[source]
    result = (
        _load_fresh()
        .resolve_job_def("daily_pipeline")
        .execute_in_process(
            partition_key=DAY, asset_selection=[dg.AssetKey(asset)], instance=instance
        )
    )
    assert result.success
    (materialization,) = result.asset_materializations_for_node(asset)
    assert materialization.metadata["enabled"].value is True
    assert materialization.metadata["configured"].value is False
    lines = [entry.user_message for entry in instance.all_logs(result.run_id)]
    assert any(f"source {source!r} skipped" in line and what_to_set in line for line in lines)
    assert MLS_TOKEN not in "\n".join(lines)
