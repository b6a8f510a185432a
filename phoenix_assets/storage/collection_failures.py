"""Collection failures: which ZIP of which source failed on which day, and why.

One document per (source, ZIP, day), replaced by each run of that day, so the record
always says what the latest attempt found. A failed ZIP is retried by the next run.
"""

import datetime as dt
from collections.abc import Sequence

from pymongo import ASCENDING
from pymongo.database import Database

from phoenix_assets.sources.collection import ZipFailure
from phoenix_assets.storage.documents import Document

COLLECTION_FAILURES = "collection_failures"


def replace_collection_failures(
    db: Database[Document], source: str, partition_key: str, failures: Sequence[ZipFailure]
) -> None:
    """Record this run's failures of ``source`` for the day, replacing earlier attempts'."""
    collection = db[COLLECTION_FAILURES]
    collection.create_index([("source", ASCENDING), ("partition_key", ASCENDING)])
    collection.delete_many({"source": source, "partition_key": partition_key})
    now = dt.datetime.now(dt.UTC)
    documents = {
        f"{source}:{failure.zip_code}:{partition_key}": {
            "_id": f"{source}:{failure.zip_code}:{partition_key}",
            "source": source,
            "zip_code": failure.zip_code,
            "partition_key": partition_key,
            "kind": failure.kind,
            "reason": failure.reason,
            "failed_at": now,
        }
        for failure in failures
    }
    if documents:
        collection.insert_many(list(documents.values()), ordered=False)
