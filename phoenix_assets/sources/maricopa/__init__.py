"""The Maricopa County Assessor source: the parcels of the configured ZIP codes.

``settings`` (``MARICOPA_*``), ``search`` (the search endpoint's shapes), ``inventory``
(what the source remembers between days and how it ranks a day's work) and ``run`` (the
day itself, ``collect_parcels``).
"""

from phoenix_assets.sources.maricopa.inventory import ParcelInventory, Tier, ZipSearch
from phoenix_assets.sources.maricopa.run import (
    COUNT_KEYS,
    WORK_FIGURES,
    ListedParcels,
    collect_parcels,
)
from phoenix_assets.sources.maricopa.search import (
    SearchShapeError,
    compact_apn,
    parse_search_page,
)
from phoenix_assets.sources.maricopa.settings import (
    MARICOPA_API_BASE_URL,
    MARICOPA_API_TOKEN,
    MARICOPA_DAILY_REQUEST_BUDGET,
    MARICOPA_MAX_CONCURRENCY,
    MARICOPA_MAX_SEARCH_PAGES,
    MARICOPA_REQUESTS_PER_SECOND,
    MARICOPA_SEARCH_EVERY_DAYS,
    MARICOPA_SOURCE,
    MARICOPA_STALE_AFTER_DAYS,
    MARICOPA_TIME_BUDGET_SECONDS,
    MaricopaSettings,
)

__all__ = [
    "COUNT_KEYS",
    "MARICOPA_API_BASE_URL",
    "MARICOPA_API_TOKEN",
    "MARICOPA_DAILY_REQUEST_BUDGET",
    "MARICOPA_MAX_CONCURRENCY",
    "MARICOPA_MAX_SEARCH_PAGES",
    "MARICOPA_REQUESTS_PER_SECOND",
    "MARICOPA_SEARCH_EVERY_DAYS",
    "MARICOPA_SOURCE",
    "MARICOPA_STALE_AFTER_DAYS",
    "MARICOPA_TIME_BUDGET_SECONDS",
    "WORK_FIGURES",
    "ListedParcels",
    "MaricopaSettings",
    "ParcelInventory",
    "SearchShapeError",
    "Tier",
    "ZipSearch",
    "collect_parcels",
    "compact_apn",
    "parse_search_page",
]
