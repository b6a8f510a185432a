"""Each network source's settings as a Dagster resource, read from its environment variables.

A field is set to ``dg.EnvVar(<PREFIX><FIELD>)`` when that variable is set where the
definitions load, so the value (a token, say) is read in the run's own process and
never shown in the UI; unset fields fall back to the source's documented default.
"""

import os
from typing import ClassVar, Self

import dagster as dg

from phoenix_assets.sources.maricopa import MaricopaSettings
from phoenix_assets.sources.mls import MlsSettings


class EnvSettingsResource(dg.ConfigurableResource):
    """Settings named ``<prefix><FIELD NAME>`` in the environment."""

    prefix: ClassVar[str] = ""

    @classmethod
    def variable(cls, field_name: str) -> str:
        return f"{cls.prefix}{field_name.upper()}"

    @classmethod
    def from_environment(cls) -> Self:
        """The resource with every variable that is set bound through ``dg.EnvVar``."""
        bound = {
            name: dg.EnvVar(cls.variable(name))
            for name in cls.model_fields
            if os.environ.get(cls.variable(name), "").strip()
        }
        return cls(**bound)

    def environ(self) -> dict[str, str]:
        """The settings as the variables they came from."""
        return {
            self.variable(name): value
            for name in type(self).model_fields
            if (value := getattr(self, name)) is not None
        }


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
    initial_lookback_days: str | None = None

    def settings(self) -> MlsSettings:
        return MlsSettings.from_env(self.environ())
