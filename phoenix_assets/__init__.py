"""phoenix_assets: a Dagster asset graph of Phoenix-area residential property data in MongoDB."""
