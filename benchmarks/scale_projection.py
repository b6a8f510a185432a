"""Scale on paper: how long would a daily run of N ZIPs take against the real sources?

A projection, not a measurement: it multiplies costs measured here by the work a day
of N ZIPs would need, under the sources' published limits. Its inputs, each a flag:

- measured in this project (``benchmarks/README.md`` says by which benchmark):
  the pipeline's cost per property per day (``--pipeline-ms-per-property``, from
  ``backfill.py``: the extra cost of each day of a range, over its properties) and the
  fixed cost of a run (``--run-fixed-s``, also from ``backfill.py``); the listings a ZIP
  has and changes a day, read from the demo source's calibrated model (run here);
- published or observed (``../shared/notes/sources.md``): MLS RESO 2 requests/s and
  40,000 a day, ``$top`` up to 1,000-5,000; the Assessor: no published limit, public
  clients use 0.3-5 requests/s and one measured ~2.6 s per ``/parcel`` call, 25 search
  hits a page; ~1.7 million parcels in Maricopa County over ~150 residential ZIPs.

A request's time is the larger of 1/rate and latency/concurrency (the client keeps
both limits; ``collection_rate.py`` shows it reaches 99-100 % of the rate whenever the
concurrency can carry it). Sources run at the same time (each in its own step), so the
day takes the slowest source, then the pipeline's processing.

    uv run python benchmarks/scale_projection.py
    uv run python benchmarks/scale_projection.py --zips 150 --maricopa-rate 2
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import sys
from dataclasses import dataclass

from phoenix_assets.settings import DEFAULT_ZIP_CODES
from phoenix_assets.sources.demo import demo_listings

BUDGET_MINUTES = 60.0
DAY = dt.date(2026, 11, 17)


@dataclass(frozen=True)
class SourceDay:
    name: str
    requests: float
    seconds_per_request: float
    note: str

    @property
    def minutes(self) -> float:
        return self.requests * self.seconds_per_request / 60


def request_seconds(rate: float, latency: float, concurrency: int) -> float:
    return max(1.0 / rate, latency / concurrency)


def demo_zip_day() -> tuple[float, float]:
    """Listings a ZIP shows and listings modified on a day, averaged over the ten ZIPs."""
    listed = modified = 0
    for zip_code in DEFAULT_ZIP_CODES:
        for listing in demo_listings(zip_code, DAY):
            listed += 1
            stamp = str(listing.get("ModificationTimestamp", ""))
            modified += stamp[:10] == DAY.isoformat()
    return listed / len(DEFAULT_ZIP_CODES), modified / len(DEFAULT_ZIP_CODES)


def project(args: argparse.Namespace, zips: int, listed: float, changed: float) -> list[SourceDay]:
    mls_pages_per_zip = max(1, math.ceil(changed / args.mls_page_size))
    mls = SourceDay(
        "mls (incremental)",
        zips * mls_pages_per_zip,
        request_seconds(args.mls_rate, args.mls_latency, args.mls_concurrency),
        f"{mls_pages_per_zip} page(s) of {args.mls_page_size} per ZIP "
        f"({changed:.0f} changed listings)",
    )
    parcels_per_zip = args.parcels / args.residential_zips
    search_pages = min(math.ceil(parcels_per_zip / 25), args.maricopa_max_search_pages)
    stale_per_day = parcels_per_zip / args.maricopa_stale_after_days
    detail_calls = stale_per_day * args.maricopa_calls_per_parcel
    per_request = request_seconds(
        args.maricopa_rate, args.maricopa_latency, args.maricopa_concurrency
    )
    whole_zip = SourceDay(
        "maricopa (whole-ZIP refresh)",
        zips * (search_pages + detail_calls),
        per_request,
        f"{search_pages} search pages + {stale_per_day:.0f} stale parcels x "
        f"{args.maricopa_calls_per_parcel} calls per ZIP",
    )
    new_per_zip = changed * args.new_share
    listed_only = SourceDay(
        "maricopa (listed parcels only)",
        zips * new_per_zip * args.maricopa_calls_per_parcel,
        per_request,
        f"{new_per_zip:.0f} newly listed parcels x {args.maricopa_calls_per_parcel} calls per ZIP",
    )
    return [mls, whole_zip, listed_only]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add = parser.add_argument
    add("--zips", type=int, default=150)
    add("--pipeline-ms-per-property", type=float, default=3.3)
    add("--run-fixed-s", type=float, default=1.5)
    add("--mls-rate", type=float, default=2.0)
    add("--mls-concurrency", type=int, default=1)
    add("--mls-latency", type=float, default=0.5, help="seconds per RESO page (assumed)")
    add("--mls-page-size", type=int, default=200)
    add("--mls-daily-cap", type=int, default=40_000)
    add("--maricopa-rate", type=float, default=1.0)
    add("--maricopa-concurrency", type=int, default=2)
    add("--maricopa-latency", type=float, default=2.6, help="seconds per call (observed)")
    add("--maricopa-max-search-pages", type=int, default=200)
    add("--maricopa-stale-after-days", type=int, default=30)
    add("--maricopa-calls-per-parcel", type=int, default=3)
    add("--parcels", type=float, default=1_700_000)
    add("--residential-zips", type=int, default=150)
    add("--maricopa-request-budget", type=int, default=2000)
    add("--new-share", type=float, default=0.3, help="share of a day's changes that are new")
    args = parser.parse_args(argv)

    listed, changed = demo_zip_day()
    print(
        f"Per ZIP (demo source's model): {listed:.0f} listings shown a day, "
        f"{changed:.0f} modified a day"
    )
    print(f"Projection for {args.zips} ZIPs, daily budget {BUDGET_MINUTES:.0f} min:")
    print(f"{'source':32} {'requests':>9} {'s/request':>9} {'minutes':>8}  basis")
    sources = project(args, args.zips, listed, changed)
    for source in sources:
        print(
            f"{source.name:32} {source.requests:9.0f} {source.seconds_per_request:9.2f} "
            f"{source.minutes:8.1f}  {source.note}"
        )
    properties = args.zips * listed
    pipeline_minutes = (args.run_fixed_s + properties * args.pipeline_ms_per_property / 1000) / 60
    print(
        f"{'pipeline processing':32} {'':9} {'':9} {pipeline_minutes:8.1f}  "
        f"{properties:.0f} properties x {args.pipeline_ms_per_property} ms + "
        f"{args.run_fixed_s:.0f} s a run"
    )
    mls, whole_zip, listed_only = sources
    if mls.requests > args.mls_daily_cap:
        print(f"MLS requests exceed the provider's {args.mls_daily_cap} a day")
    for label, maricopa in (("whole-ZIP refresh", whole_zip), ("listed only", listed_only)):
        total = max(mls.minutes, maricopa.minutes) + pipeline_minutes
        fits = "fits" if total <= BUDGET_MINUTES else "does NOT fit"
        print(f"day with Maricopa {label}: {total:.1f} min  {fits}")
    budget = args.maricopa_request_budget
    print(
        f"MARICOPA_DAILY_REQUEST_BUDGET={budget} caps the Assessor's day at "
        f"{budget * whole_zip.seconds_per_request / 60:.0f} min: it covers "
        f"{min(1.0, budget / whole_zip.requests):.1%} of a whole-ZIP refresh a day "
        f"(the rest waits for later days), and "
        f"{min(1.0, budget / listed_only.requests):.0%} of the listed-parcels-only work"
    )
    print("Most ZIPs that fit the budget (sources in parallel, then processing):")
    for source in sources:
        per_zip = source.minutes / args.zips
        per_zip_total = per_zip + properties / args.zips * args.pipeline_ms_per_property / 60000
        budget = BUDGET_MINUTES - args.run_fixed_s / 60
        print(f"  {source.name:32} {math.floor(budget / per_zip_total):6d} ZIPs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
