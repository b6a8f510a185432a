"""Jobs: the daily pipeline and the weekly trends."""

import dagster as dg

from phoenix_assets.partitions import daily_partitions, weekly_partitions

daily_pipeline = dg.define_asset_job(
    "daily_pipeline",
    selection=dg.AssetSelection.groups("raw", "properties")
    | dg.AssetSelection.assets("daily_market_summary"),
    partitions_def=daily_partitions,
    description="Collect every source for a day, then snapshots and the daily market summary.",
)

weekly_trends = dg.define_asset_job(
    "weekly_trends",
    selection=dg.AssetSelection.assets("weekly_market_trends"),
    partitions_def=weekly_partitions,
    description="Weekly market trends from the week's daily summaries.",
)
