"""Phoenix-area MLS listings through a RESO Web API (OData 4), by day window per ZIP.

A run is asked, for each ZIP, for the ``Property`` records modified after a point in
time (``ZipWindow.since``: the start of the first day the run collects, less an overlap
for records that become visible late)::

    GET {base}/Property?$filter=PostalCode eq '85018' and ModificationTimestamp gt <since>
        &$orderby=ModificationTimestamp asc,ListingKey asc&$top=<page size>&$select=<fields>

and follows ``@odata.nextLink`` (absolute or relative) until a page has none or is
empty. A ZIP whose standing inventory was never taken (``ZipWindow.inventory``) is first
asked for every listing on the market, whatever its modification date::

    $filter=PostalCode eq '85018' and (StandardStatus eq 'Active' or ... eq 'Hold')

What comes back (``collect_listings``): the records, verbatim (``source_id`` =
``ListingKey``), each the version the server holds now. The raw asset appends them to
the source's version log (``storage.version_log``), which keeps every version it ever
saw: a RESO server keeps only each record's latest version, so a past day can be asked
again only for what has not changed since. A ZIP that failed part-way keeps the records
it got (they are real data) and is reported failed.

Details that protect against gaps:

- ``$skip`` paging over a feed that changes while it is read can skip a record: a
  listing already read that is modified moves to the end, and every later one moves
  up a place. That listing then shows up twice in one ZIP's pages; when that happens
  the ZIP is read again from just before the listing's first appearance (at most
  ``MAX_REREADS`` times), so the possibly-skipped range is read whole.
- Records without a readable ``ModificationTimestamp`` or ``ListingKey``, or with one
  more than a day ahead of ``now``, are kept and counted as ``schema_drift``.
- A ``nextLink`` seen before stops that ZIP (``pagination_loop``); one pointing to
  another host is not followed, so the bearer token never leaves the provider.

Authentication: a static bearer token (``MLS_RESO_TOKEN``) or OAuth2 client
credentials (``MLS_RESO_CLIENT_ID``, ``MLS_RESO_CLIENT_SECRET``, ``MLS_RESO_TOKEN_URL``):
the token is fetched once, reused, refreshed shortly before ``expires_in`` runs out,
and on a 401 refreshed once and the request retried; a second 401 stops the source.
No token or secret is ever logged, raised or returned.

Modules: ``settings`` (``MLS_RESO_*``), ``auth`` (the OAuth2 token), ``timestamps``
(``ModificationTimestamp`` read and written) and ``run`` (a day's collection,
``collect_listings``).
"""

from phoenix_assets.sources.mls.run import (
    COUNT_KEYS,
    MAX_REREADS,
    MISSING_KEY_PREFIX,
    ON_MARKET_FILTER,
    ZipWindow,
    collect_listings,
)
from phoenix_assets.sources.mls.settings import (
    CLIENT_CREDENTIAL_VARIABLES,
    MLS_RESO_BASE_URL,
    MLS_RESO_CLIENT_ID,
    MLS_RESO_CLIENT_SECRET,
    MLS_RESO_MAX_CONCURRENCY,
    MLS_RESO_OVERLAP_HOURS,
    MLS_RESO_PAGE_SIZE,
    MLS_RESO_REQUESTS_PER_SECOND,
    MLS_RESO_TIME_BUDGET_SECONDS,
    MLS_RESO_TOKEN,
    MLS_RESO_TOKEN_URL,
    MLS_SOURCE,
    MlsSettings,
)
from phoenix_assets.sources.mls.timestamps import (
    modification_time,
    odata_timestamp,
    parse_timestamp,
)

__all__ = [
    "CLIENT_CREDENTIAL_VARIABLES",
    "COUNT_KEYS",
    "MAX_REREADS",
    "MISSING_KEY_PREFIX",
    "MLS_RESO_BASE_URL",
    "MLS_RESO_CLIENT_ID",
    "MLS_RESO_CLIENT_SECRET",
    "MLS_RESO_MAX_CONCURRENCY",
    "MLS_RESO_OVERLAP_HOURS",
    "MLS_RESO_PAGE_SIZE",
    "MLS_RESO_REQUESTS_PER_SECOND",
    "MLS_RESO_TIME_BUDGET_SECONDS",
    "MLS_RESO_TOKEN",
    "MLS_RESO_TOKEN_URL",
    "MLS_SOURCE",
    "ON_MARKET_FILTER",
    "MlsSettings",
    "ZipWindow",
    "collect_listings",
    "modification_time",
    "odata_timestamp",
    "parse_timestamp",
]
