"""The pipeline's scope as a Dagster resource: which ZIP codes and which sources."""

import dagster as dg
from pydantic import Field

from phoenix_assets.settings import (
    DEFAULT_SOURCES,
    DEFAULT_ZIP_CODES,
    parse_sources,
    parse_zip_codes,
)


class PipelineConfig(dg.ConfigurableResource):
    """ZIP codes to track (PHOENIX_ZIP_CODES) and sources to collect from (PHOENIX_SOURCES)."""

    zip_codes: str = Field(
        default=",".join(DEFAULT_ZIP_CODES),
        description="Comma list of 5-digit ZIP codes (PHOENIX_ZIP_CODES).",
    )
    sources: str = Field(
        default=",".join(DEFAULT_SOURCES),
        description="Comma list of enabled sources (PHOENIX_SOURCES).",
    )

    demo_scale: float = Field(
        default=1.0,
        description="Multiplier of the demo source's new listings a day, for load tests "
        "(PHOENIX_DEMO_SCALE; 1 gives ~2,800 listings over the ten default ZIPs).",
    )

    @property
    def zip_code_list(self) -> tuple[str, ...]:
        return parse_zip_codes(self.zip_codes)

    @property
    def source_list(self) -> tuple[str, ...]:
        return parse_sources(self.sources)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        # The values may come from the run worker's environment: validate them there too.
        self.zip_code_list, self.source_list  # noqa: B018
