"""Run figures: what each asset run did, as numeric Dagster metadata and Prometheus metrics.

- ``settings``: the environment variables that say where metrics go, parsed at load;
- ``figures``: one run's figures (documents, requests, retries, ...), built by the assets;
- ``prometheus``: the metric names and labels, and the registry of one run's figures;
- ``export``: the two ways out, a node_exporter textfile and a Pushgateway push;
- ``resource``: ``MetricsExporter``, the Dagster resource the assets receive;
- ``recording``: ``record_run_figures``, the one call an asset makes at its end.
"""
