"""What does the storage contract cost on top of a plain bulk insert?

Builds one daily partition of ``Property`` snapshots from the demo source (20,000 by
default) and, on the same server in the same run, times:

- baseline: ``insert_many`` of the very documents the IO manager stores (already
  converted, ``_id`` set) into an empty collection;
- the IO manager's ``handle_output`` for that partition, given the ``Property`` models
  the asset returns: conversion, natural ids, duplicate check, un-marking the
  partition in the manifest, deleting it, ``insert_many`` in batches, marking it;
  first into an empty collection (a new day), then over the same partition (a re-run,
  which deletes the 20,000 documents it replaces);
- for the re-run: a baseline ``delete_many`` + ``insert_many`` of the same partition;
- the IO manager's own work without any server (conversion, ids, duplicate check), to
  project the ratio onto a faster server than this one.

Cases are interleaved and repeated; the medians are compared (target: a new
partition through the IO manager <= 1.3x the plain insert).

    uv run python benchmarks/storage_path.py                      # embedded server
    uv run python benchmarks/storage_path.py --mongo-uri mongodb://localhost:27017
"""

from __future__ import annotations

import argparse
import copy
import datetime as dt
import sys
import time
import uuid

import dagster as dg
from pymongo import MongoClient
from support import interleaved_medians, machine, median, mongo_uri, server_name
from support import verdict as judge

from phoenix_assets.domain.adapters import property_from_reso
from phoenix_assets.domain.property import Property
from phoenix_assets.partitions import daily_partitions
from phoenix_assets.settings import DEFAULT_ZIP_CODES
from phoenix_assets.sources.demo import demo_listings
from phoenix_assets.storage.documents import to_documents
from phoenix_assets.storage.io_manager import MongoIOManager
from phoenix_assets.storage.mongo_resource import MongoResource
from phoenix_assets.storage.partition_store import (
    NATURAL_KEY,
    PARTITION_FIELD,
    assign_ids,
)

DAY = "2026-11-17"
TARGET = 1.3
METADATA = {NATURAL_KEY: ["property_id"], PARTITION_FIELD: "snapshot_date"}


def snapshot_models(count: int) -> list[Property]:
    """``count`` demo properties for DAY, as the snapshot asset returns them."""
    day = dt.date.fromisoformat(DAY)
    scale = 1.0
    while True:
        models: dict[str, Property] = {}
        for zip_code in DEFAULT_ZIP_CODES:
            for payload in demo_listings(zip_code, day, scale=scale):
                model = property_from_reso(payload, source="demo", day=day)
                models.setdefault(model.property_id, model)
        if len(models) >= count:
            return list(models.values())[:count]
        scale *= 1.25 * count / len(models)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mongo-uri", help="a real MongoDB (default: embedded server)")
    args = parser.parse_args(argv)

    started = time.perf_counter()
    models = snapshot_models(args.documents)
    documents = to_documents(models)
    assign_ids(
        documents,
        partitions=[DAY],
        natural_key=METADATA[NATURAL_KEY],
        partition_field=METADATA[PARTITION_FIELD],
        asset="property_snapshots",
    )
    print(f"{len(models)} Property documents built in {time.perf_counter() - started:.1f}s")

    with mongo_uri(args.mongo_uri) as uri:
        database = f"bench_storage_{uuid.uuid4().hex[:8]}"
        client: MongoClient[dict] = MongoClient(uri, tz_aware=True)
        db = client[database]
        io_manager = MongoIOManager(mongo=MongoResource(uri=uri, database=database))

        def io_manager_write() -> None:
            context = dg.build_output_context(
                asset_key=dg.AssetKey("property_snapshots"),
                partition_key=DAY,
                asset_partitions_def=daily_partitions,
                definition_metadata=METADATA,
                run_id=uuid.uuid4().hex,
            )
            io_manager.handle_output(context, models)

        def plain_insert() -> None:
            # insert_many adds nothing to documents that have an _id; copy anyway so
            # every round inserts identical input.
            db["baseline"].insert_many(copy.copy(documents), ordered=False)

        def plain_replace() -> None:
            db["baseline"].delete_many({"partition_key": DAY})
            db["baseline"].insert_many(copy.copy(documents), ordered=False)

        def client_side_only() -> None:
            converted = to_documents(models)
            assign_ids(
                converted,
                partitions=[DAY],
                natural_key=METADATA[NATURAL_KEY],
                partition_field=METADATA[PARTITION_FIELD],
                asset="property_snapshots",
            )

        def empty_collections(case: str) -> None:
            if case in ("plain insert_many (new)", "IO manager (new partition)"):
                db.drop_collection("baseline")
                db.drop_collection("property_snapshots")
                db.drop_collection("partition_manifest")
                # Same indexes for both: the contract's partition_key index.
                db["baseline"].create_index("partition_key")

        cases = {
            "plain insert_many (new)": plain_insert,
            "IO manager (new partition)": io_manager_write,
            "plain delete+insert (re-run)": plain_replace,
            "IO manager (re-run)": io_manager_write,
            "IO manager's own work, no server": client_side_only,
        }
        try:
            io_manager_write()  # warm up: connection, indexes, imports
            timings = interleaved_medians(cases, args.repeats, before_each=empty_collections)
            stored = db["property_snapshots"].count_documents({"partition_key": DAY})
            assert stored == len(models), f"{stored} stored, {len(models)} written"
        finally:
            client.drop_database(database)
            client.close()
        name = server_name(uri, args.mongo_uri)

    print(f"Machine: {machine()}")
    print(f"Server: {name}; {len(models)} documents, median of {args.repeats} interleaved runs")
    print(f"{'case':32} {'median s':>9} {'docs/s':>9} {'min s':>7} {'max s':>7}")
    medians = {case: median(values) for case, values in timings.items()}
    for case, values in timings.items():
        rate = len(models) / medians[case]
        print(f"{case:32} {medians[case]:9.2f} {rate:9.0f} {min(values):7.2f} {max(values):7.2f}")
    new_ratio = medians["IO manager (new partition)"] / medians["plain insert_many (new)"]
    rerun_ratio = medians["IO manager (re-run)"] / medians["plain delete+insert (re-run)"]
    print(f"new partition: IO manager / insert_many = {new_ratio:.2f}x  {judge(new_ratio, TARGET)}")
    print(f"re-run: IO manager / (delete_many + insert_many) = {rerun_ratio:.2f}x")
    own = medians["IO manager's own work, no server"]
    print(
        f"the IO manager's own work (models to documents, natural ids, duplicate check) "
        f"is {own:.2f}s: {own / medians['plain insert_many (new)']:.0%} of this server's insert"
    )
    return 0 if new_ratio <= TARGET else 1


if __name__ == "__main__":
    sys.exit(main())
