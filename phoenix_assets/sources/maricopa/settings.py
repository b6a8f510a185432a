"""The Assessor source's settings (``MARICOPA_*``), parsed and bounded at load."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

import httpx

from phoenix_assets.settings import ConfigError, UrlRules, parse_number_setting, parse_url
from phoenix_assets.sources.http import SourceHttpSettings

MARICOPA_SOURCE = "maricopa"

MARICOPA_API_BASE_URL = "MARICOPA_API_BASE_URL"
MARICOPA_API_TOKEN = "MARICOPA_API_TOKEN"
MARICOPA_REQUESTS_PER_SECOND = "MARICOPA_REQUESTS_PER_SECOND"
MARICOPA_MAX_CONCURRENCY = "MARICOPA_MAX_CONCURRENCY"
MARICOPA_DAILY_REQUEST_BUDGET = "MARICOPA_DAILY_REQUEST_BUDGET"
MARICOPA_STALE_AFTER_DAYS = "MARICOPA_STALE_AFTER_DAYS"
MARICOPA_TIME_BUDGET_SECONDS = "MARICOPA_TIME_BUDGET_SECONDS"
MARICOPA_MAX_SEARCH_PAGES = "MARICOPA_MAX_SEARCH_PAGES"
MARICOPA_SEARCH_EVERY_DAYS = "MARICOPA_SEARCH_EVERY_DAYS"

DEFAULT_BASE_URL = "https://mcassessor.maricopa.gov"
# The metro's day (``benchmarks/scale_projection.py``): 3 requests/s with 8 in flight
# (the observed ~2.6 s a call) sends ~8,000 requests in 45 minutes, inside the
# 3000 s time budget. Public clients of this API use 0.3 to 5 requests/s.
DEFAULT_REQUESTS_PER_SECOND = 3.0
DEFAULT_MAX_CONCURRENCY = 8
DEFAULT_DAILY_REQUEST_BUDGET = 8_000
# Per search pass of one ZIP (it may span days): 50,000 parcels, twice the largest ZIP.
DEFAULT_MAX_SEARCH_PAGES = 2_000
DEFAULT_SEARCH_EVERY_DAYS = 30

# Bounds of the numeric settings; a value outside them fails the load, naming the variable.
# Below one request every 100 s, a run's time budget buys a handful of requests.
MIN_REQUESTS_PER_SECOND = 0.01
# The Assessor publishes no quota: at its polite ~1 request/s a whole day is 86,400
# requests, and the largest daily quota seen at a real provider is 40,000. More is a
# typo (a zero too many), not a plan.
MAX_DAILY_REQUEST_BUDGET = 100_000
# A daily run that works for more than a day overlaps the next day's run.
MAX_TIME_BUDGET_SECONDS = 86_400
# 100,000 hits for one ZIP, ~9x the average ZIP's parcels (~1.7 million over ~150 ZIPs):
# a search pass longer than that is looping, and spending the request budget.
SEARCH_PAGE_LIMIT = 4_000
# A parcel list re-searched less than yearly misses a year of new parcels and sales.
MAX_SEARCH_EVERY_DAYS = 365

# The token goes in a header of every request: never in clear text over a network, never
# in the URL itself.
BASE_URL_RULES = UrlRules(
    secrets_go=f"the token belongs in {MARICOPA_API_TOKEN}",
    example=DEFAULT_BASE_URL,
    why_https="the token would cross the network unencrypted",
)


def _parse_base_url(raw: str | None) -> str:
    return parse_url(MARICOPA_API_BASE_URL, raw, BASE_URL_RULES) or DEFAULT_BASE_URL


def _parse_token(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    token = raw.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in token):
        # Never echo the value: it is a secret.
        raise ConfigError(
            f"{MARICOPA_API_TOKEN}: the token contains spaces or control characters "
            "(paste the token exactly as the Assessor sent it)"
        )
    return token


@dataclass(frozen=True)
class MaricopaSettings(SourceHttpSettings):
    """The Assessor source's settings, parsed and validated (``from_env``)."""

    base_url: str = DEFAULT_BASE_URL
    token: str | None = field(default=None, repr=False)
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    daily_request_budget: int = DEFAULT_DAILY_REQUEST_BUDGET
    stale_after_days: int = 30
    time_budget_seconds: float = 3000.0
    max_search_pages: int = DEFAULT_MAX_SEARCH_PAGES
    search_every_days: int = DEFAULT_SEARCH_EVERY_DAYS

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> MaricopaSettings:
        env = os.environ if environ is None else environ
        return cls(
            base_url=_parse_base_url(env.get(MARICOPA_API_BASE_URL)),
            token=_parse_token(env.get(MARICOPA_API_TOKEN)),
            requests_per_second=float(
                parse_number_setting(
                    env,
                    MARICOPA_REQUESTS_PER_SECOND,
                    DEFAULT_REQUESTS_PER_SECOND,
                    integer=False,
                    minimum=MIN_REQUESTS_PER_SECOND,
                    maximum=100,
                )
            ),
            max_concurrency=parse_number_setting(
                env,
                MARICOPA_MAX_CONCURRENCY,
                DEFAULT_MAX_CONCURRENCY,
                integer=True,
                minimum=1,
                maximum=32,
            ),
            daily_request_budget=parse_number_setting(
                env,
                MARICOPA_DAILY_REQUEST_BUDGET,
                DEFAULT_DAILY_REQUEST_BUDGET,
                integer=True,
                minimum=1,
                maximum=MAX_DAILY_REQUEST_BUDGET,
            ),
            stale_after_days=parse_number_setting(
                env, MARICOPA_STALE_AFTER_DAYS, 30, integer=True, minimum=1, maximum=365
            ),
            time_budget_seconds=float(
                parse_number_setting(
                    env,
                    MARICOPA_TIME_BUDGET_SECONDS,
                    3000.0,
                    integer=False,
                    minimum=1,
                    maximum=MAX_TIME_BUDGET_SECONDS,
                )
            ),
            max_search_pages=parse_number_setting(
                env,
                MARICOPA_MAX_SEARCH_PAGES,
                DEFAULT_MAX_SEARCH_PAGES,
                integer=True,
                minimum=1,
                maximum=SEARCH_PAGE_LIMIT,
            ),
            search_every_days=parse_number_setting(
                env,
                MARICOPA_SEARCH_EVERY_DAYS,
                DEFAULT_SEARCH_EVERY_DAYS,
                integer=True,
                minimum=1,
                maximum=MAX_SEARCH_EVERY_DAYS,
            ),
        )

    @property
    def configured(self) -> bool:
        """Whether a token is set; without one the source cannot run."""
        return bool(self.token)


def is_auth_failure(response: httpx.Response) -> bool:
    """The Assessor refuses a bad token with HTTP 500 and an "Unauthorized access" page."""
    return response.status_code == 500 and b"Unauthorized access" in response.content
