"""Jobs: the daily pipeline and the weekly trends."""

import dagster as dg

from phoenix_assets.defs.automation.policies import run_tags

# The daily graph: every source, the snapshots and events, the day's market summary and
# its report. The missed-day sensor backfills a day until all of these are in, so a day
# repaired late still gets its report (and the newest day its delivery).
DAILY_GRAPH = dg.AssetSelection.groups("raw", "properties") | dg.AssetSelection.assets(
    "daily_market_summary", "daily_market_report"
)

daily_pipeline = dg.define_asset_job(
    "daily_pipeline",
    selection=DAILY_GRAPH,
    tags=run_tags(),
    description="Collect every source for a day, then snapshots, the daily market summary "
    "and the day's report.",
)

weekly_trends = dg.define_asset_job(
    "weekly_trends",
    selection=dg.AssetSelection.assets("weekly_market_trends", "weekly_market_report"),
    tags=run_tags(),
    description="Weekly market trends from the week's daily summaries, and the week's report.",
)
