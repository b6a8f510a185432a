"""The Mongo IO manager: Dagster's bridge to the storage contract (``partition_store``).

Accepts a DataFrame, a list of dicts or a list of pydantic models; a partition write
replaces exactly that partition; loading one partition or a range is one query and
returns the type the consuming asset declares.
"""

from typing import Any

import dagster as dg

from phoenix_assets.storage.documents import from_documents, to_documents
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import (
    ALLOW_MISSING,
    COLUMNS,
    FIRST_PARTITION_ONLY,
    MANIFEST_COLLECTION,
    NATURAL_KEY,
    PARTITION_FIELD,
    UNPARTITIONED,
    assign_ids,
    collection_name,
    replace_partitions,
    write_metadata,
    written_partitions,
)


class MissingPartitionError(LookupError):
    """An asset partition was asked for that was never written (or only half written)."""


class MongoIOManager(dg.ConfigurableIOManager):
    """Stores each asset in its own MongoDB collection, replacing partitions whole.

    Accepts a DataFrame, a list of dicts or a list of pydantic models, and loads back the
    type the consuming asset asks for.
    """

    mongo: MongoResource
    preview_rows: int = 5

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is None:
            return
        name = collection_name(context.asset_key)
        partitions = list(context.asset_partition_keys) if context.has_asset_partitions else []
        documents = to_documents(obj)
        metadata = context.definition_metadata or {}
        assign_ids(
            documents,
            partitions=partitions,
            natural_key=metadata.get(NATURAL_KEY),
            partition_field=metadata.get(PARTITION_FIELD, "partition_key"),
            asset=context.asset_key.to_user_string(),
        )
        replaced = replace_partitions(
            self.mongo.get_database(), name, partitions, documents, run_id=context.run_id
        )
        context.add_output_metadata(
            write_metadata(
                self.mongo.database, name, partitions, documents, replaced, self.preview_rows
            )
        )

    # -- reading ------------------------------------------------------------------
    def load_input(self, context: dg.InputContext) -> Any:
        if not context.has_asset_key:
            raise TypeError("the Mongo IO manager only loads asset inputs")
        name = collection_name(context.asset_key)
        db = self.mongo.get_database()
        asset = context.asset_key.to_user_string()
        typing_type = context.dagster_type.typing_type

        if not context.has_asset_partitions:
            if db[MANIFEST_COLLECTION].count_documents({"_id": f"{name}:{UNPARTITIONED}"}) == 0:
                raise MissingPartitionError(
                    f"{asset} has never been materialized; materialize it first"
                )
            return from_documents(list(db[name].find({})), typing_type)

        options = context.definition_metadata or {}
        keys = sorted(context.asset_partition_keys)
        if keys and options.get(FIRST_PARTITION_ONLY):
            keys = keys[:1]
        written = written_partitions(db, name, keys)
        missing = [key for key in keys if key not in written]
        if len(keys) == 1 and missing:
            if options.get(ALLOW_MISSING):
                context.log.warning(f"{asset} partition {keys[0]} has never been materialized")
                return from_documents([], typing_type)
            raise MissingPartitionError(
                f"{asset} partition {keys[0]} has never been materialized (or its last write did "
                f"not finish); materialize that partition first"
            )
        columns = options.get(COLUMNS)
        projection = {field: 1 for field in [*columns, "partition_key"]} if columns else None
        documents = list(db[name].find({"partition_key": {"$in": sorted(written)}}, projection))
        value = from_documents(documents, typing_type)
        if missing:
            context.log.warning(
                f"{asset}: {len(missing)} of {len(keys)} partitions missing: {', '.join(missing)}"
            )
            if hasattr(value, "attrs"):  # a DataFrame carries what was missing with it
                value.attrs["missing_partitions"] = missing
        if len(context.asset_partition_keys) == 1:  # Dagster records single-partition loads only
            context.add_input_metadata({"documents_loaded": len(documents)})
        return value
