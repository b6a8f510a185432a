"""Each network source's settings as a Dagster resource, read from its environment variables.

A field is set to ``dg.EnvVar(<PREFIX><FIELD>)`` when that variable is set where the
definitions load, so the value (a token, say) is read in the run's own process and
never shown in the UI; unset fields fall back to the source's documented default.
"""

from typing import ClassVar

from phoenix_assets.env_resource import EnvSettingsResource
from phoenix_assets.sources.maricopa import MaricopaSettings
from phoenix_assets.sources.mls import MlsSettings


class MaricopaApiResource(EnvSettingsResource):
    """The Maricopa County Assessor API (MARICOPA_*)."""

    prefix: ClassVar[str] = "MARICOPA_"

    api_base_url: str | None = None
    api_token: str | None = None
    requests_per_second: str | None = None
    max_concurrency: str | None = None
    daily_request_budget: str | None = None
    stale_after_days: str | None = None
    time_budget_seconds: str | None = None
    max_search_pages: str | None = None
    search_every_days: str | None = None

    def settings(self) -> MaricopaSettings:
        return MaricopaSettings.from_env(self.environ())


class MlsResoResource(EnvSettingsResource):
    """An MLS feed through a RESO Web API (MLS_RESO_*)."""

    prefix: ClassVar[str] = "MLS_RESO_"

    base_url: str | None = None
    token: str | None = None
    client_id: str | None = None
    client_secret: str | None = None
    token_url: str | None = None
    requests_per_second: str | None = None
    max_concurrency: str | None = None
    page_size: str | None = None
    time_budget_seconds: str | None = None
    overlap_hours: str | None = None

    def settings(self) -> MlsSettings:
        return MlsSettings.from_env(self.environ())
