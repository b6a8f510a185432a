"""``record_run_figures``: the one call an asset makes at its end."""

import dagster as dg

from phoenix_assets.metrics.figures import RunFigures, partition_label
from phoenix_assets.metrics.resource import MetricsExporter


def record_run_figures(
    context: dg.AssetExecutionContext, metrics: MetricsExporter, figures: RunFigures
) -> None:
    """Record the run's figures as numeric metadata on its materialization, and export
    them to Prometheus when an exporter is configured (a failed export only warns).

    Call it last, once everything the figures count is done; for an asset whose value
    the IO manager stores, just before returning that value.
    """
    # Named: an asset with checks of its own (``check_specs``) has an output per check too.
    output = context.assets_def.get_output_name_for_asset_key(context.asset_key)
    context.add_output_metadata(figures.metadata(), output_name=output)
    partitioned = context.has_partition_key or context.has_partition_key_range
    partitions = list(context.partition_keys) if partitioned else []
    asset = "_".join(context.asset_key.path)
    delivered = metrics.export(asset, partition_label(partitions), figures, context.log)
    if delivered:
        context.log.debug(f"metrics exported to {', '.join(delivered)}")
