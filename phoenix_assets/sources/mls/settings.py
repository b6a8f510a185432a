"""The MLS source's settings (``MLS_RESO_*``), parsed and validated when the code
location loads."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from phoenix_assets.settings import (
    ConfigError,
    UrlRules,
    parse_number_setting,
    parse_url,
    text_setting,
)
from phoenix_assets.sources.http import (
    SourceHttpSettings,
)

MLS_SOURCE = "mls"

# Environment variables.
MLS_RESO_BASE_URL = "MLS_RESO_BASE_URL"
MLS_RESO_TOKEN = "MLS_RESO_TOKEN"
MLS_RESO_CLIENT_ID = "MLS_RESO_CLIENT_ID"
MLS_RESO_CLIENT_SECRET = "MLS_RESO_CLIENT_SECRET"
MLS_RESO_TOKEN_URL = "MLS_RESO_TOKEN_URL"
MLS_RESO_REQUESTS_PER_SECOND = "MLS_RESO_REQUESTS_PER_SECOND"
MLS_RESO_MAX_CONCURRENCY = "MLS_RESO_MAX_CONCURRENCY"
MLS_RESO_PAGE_SIZE = "MLS_RESO_PAGE_SIZE"
MLS_RESO_TIME_BUDGET_SECONDS = "MLS_RESO_TIME_BUDGET_SECONDS"
MLS_RESO_OVERLAP_HOURS = "MLS_RESO_OVERLAP_HOURS"

CLIENT_CREDENTIAL_VARIABLES = (MLS_RESO_CLIENT_ID, MLS_RESO_CLIENT_SECRET, MLS_RESO_TOKEN_URL)

DEFAULT_REQUESTS_PER_SECOND = 2.0  # one real RESO provider's limit
DEFAULT_MAX_CONCURRENCY = 1
DEFAULT_PAGE_SIZE = 200
MAX_PAGE_SIZE = 1000  # the lowest `$top` cap among real providers
DEFAULT_TIME_BUDGET_SECONDS = 1800.0
# A day's window reaches this far into the day before, for records that become visible late.
DEFAULT_OVERLAP_HOURS = 24
# Below the week an ended listing stays visible, so an overlap never revives one.
MAX_OVERLAP_HOURS = 144


# A bearer token and a client secret go with every request: never in clear text over a
# network, never in the URL itself.
URL_RULES = UrlRules(
    secrets_go=f"put them in {MLS_RESO_TOKEN} or {', '.join(CLIENT_CREDENTIAL_VARIABLES)}",
    why_https="the token and the client secret would cross the network unencrypted",
)


def _number(
    environ: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float,
    maximum: float,
    integer: bool,
) -> float:
    value: float = parse_number_setting(
        environ, name, default, integer=integer, minimum=minimum, maximum=maximum
    )
    return value


def _url(environ: Mapping[str, str], name: str) -> str | None:
    return parse_url(name, environ.get(name), URL_RULES)


@dataclass(frozen=True)
class MlsSettings(SourceHttpSettings):
    """The MLS source's settings; secrets are left out of ``repr``."""

    base_url: str | None = None
    token: str | None = field(default=None, repr=False)
    client_id: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    token_url: str | None = None
    requests_per_second: float = DEFAULT_REQUESTS_PER_SECOND
    max_concurrency: int = DEFAULT_MAX_CONCURRENCY
    page_size: int = DEFAULT_PAGE_SIZE
    time_budget_seconds: float = DEFAULT_TIME_BUDGET_SECONDS
    overlap_hours: float = DEFAULT_OVERLAP_HOURS

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> MlsSettings:
        """Parse the ``MLS_RESO_*`` variables; a bad or partial set raises ``ConfigError``."""
        token = text_setting(environ, MLS_RESO_TOKEN)
        credentials = {name: text_setting(environ, name) for name in CLIENT_CREDENTIAL_VARIABLES}
        given = [name for name, value in credentials.items() if value is not None]
        if token is not None and given:
            raise ConfigError(
                f"{MLS_RESO_TOKEN}: set either {MLS_RESO_TOKEN} (a static bearer token) or "
                f"{', '.join(CLIENT_CREDENTIAL_VARIABLES)} (OAuth2 client credentials), not both "
                f"(also set: {', '.join(given)})"
            )
        missing = [name for name, value in credentials.items() if value is None]
        if given and missing:
            raise ConfigError(
                f"{', '.join(missing)}: not set; OAuth2 client credentials need all of "
                f"{', '.join(CLIENT_CREDENTIAL_VARIABLES)} (or set {MLS_RESO_TOKEN} instead)"
            )
        return cls(
            base_url=_url(environ, MLS_RESO_BASE_URL),
            token=token,
            client_id=credentials[MLS_RESO_CLIENT_ID],
            client_secret=credentials[MLS_RESO_CLIENT_SECRET],
            token_url=_url(environ, MLS_RESO_TOKEN_URL),
            requests_per_second=_number(
                environ,
                MLS_RESO_REQUESTS_PER_SECOND,
                DEFAULT_REQUESTS_PER_SECOND,
                minimum=0.01,
                maximum=100,
                integer=False,
            ),
            max_concurrency=int(
                _number(
                    environ,
                    MLS_RESO_MAX_CONCURRENCY,
                    DEFAULT_MAX_CONCURRENCY,
                    minimum=1,
                    maximum=16,
                    integer=True,
                )
            ),
            page_size=int(
                _number(
                    environ,
                    MLS_RESO_PAGE_SIZE,
                    DEFAULT_PAGE_SIZE,
                    minimum=1,
                    maximum=MAX_PAGE_SIZE,
                    integer=True,
                )
            ),
            time_budget_seconds=_number(
                environ,
                MLS_RESO_TIME_BUDGET_SECONDS,
                DEFAULT_TIME_BUDGET_SECONDS,
                minimum=1,
                maximum=86_400,
                integer=False,
            ),
            overlap_hours=_number(
                environ,
                MLS_RESO_OVERLAP_HOURS,
                DEFAULT_OVERLAP_HOURS,
                minimum=0,
                maximum=MAX_OVERLAP_HOURS,
                integer=False,
            ),
        )

    @property
    def uses_client_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret and self.token_url)

    @property
    def configured(self) -> bool:
        """True when the base URL and a complete set of credentials are present."""
        return bool(self.base_url and (self.token or self.uses_client_credentials))

    @property
    def auth_variables(self) -> str:
        """The variables to check when the provider refuses the credentials."""
        if self.uses_client_credentials:
            return f"{MLS_RESO_CLIENT_ID}/{MLS_RESO_CLIENT_SECRET}"
        return MLS_RESO_TOKEN

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value, for redaction."""
        return tuple(s for s in (self.token, self.client_secret, self.client_id) if s)

    def missing_variables(self) -> list[str]:
        """What is still to set for the source to be configured (empty when it is)."""
        missing = [] if self.base_url else [MLS_RESO_BASE_URL]
        if not (self.token or self.uses_client_credentials):
            missing.append(f"{MLS_RESO_TOKEN} (or {', '.join(CLIENT_CREDENTIAL_VARIABLES)})")
        return missing

    def require_configured(self) -> None:
        missing = self.missing_variables()
        if missing:
            raise ConfigError(f"{', '.join(missing)}: not set; the MLS source needs them")
