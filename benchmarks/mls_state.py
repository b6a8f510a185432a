"""What does a day's MLS state cost, from the day before's state and from the whole log?

Fills an MLS version log (``storage.version_log``) with ``--listings`` listings and
``--days`` days of history (``--changes`` of them modified each day), then, on the same
server in the same run, times the state of the last day (per listing, its latest
version modified before the day ended):

- baseline: a plain ``find`` by ``_id`` of exactly the versions that make the state
  (what any design must read once);
- carried: ``state_versions`` from the day before's state (what a snapshot does when
  the day before's snapshot is current): the day's new versions, then the carried ones
  by ``_id``;
- whole log: ``state_versions`` without it (what a snapshot does after a missed day,
  or when versions reached the log after the day before was built).

Cases are interleaved and repeated; the medians are compared (target: carried <= 1.5x
the baseline; the whole log's ratio is what a missed day costs, for information).

    uv run python benchmarks/mls_state.py                      # embedded server
    uv run python benchmarks/mls_state.py --mongo-uri mongodb://localhost:27017
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import sys
import uuid

from pymongo import MongoClient
from support import interleaved_medians, machine, median, mongo_uri, server_name
from support import verdict as judge

from phoenix_assets.partitions import day_end, day_start
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.storage.version_log import (
    append_versions,
    latest_versions,
    state_versions,
    version_document,
)

LOG = "raw_mls_listings"
LAST_DAY = dt.date(2026, 11, 30)


def _payload(key: str, modified: dt.datetime, price: int) -> dict[str, object]:
    return {
        "ListingKey": key,
        "ModificationTimestamp": modified.isoformat().replace("+00:00", "Z"),
        "StandardStatus": "Active",
        "ListPrice": price,
        "PostalCode": "85018",
        "UnparsedAddress": f"{key[-4:]} E Camelback Rd",
        "LivingArea": 1_800,
    }


def fill(db_uri: str, database: str, listings: int, days: int, changes: float) -> int:
    """The log: every listing made before the first day, a share modified each day."""
    rng = random.Random(20261130)
    first = LAST_DAY - dt.timedelta(days=days - 1)
    versions = []
    keys = [f"L{n:06d}" for n in range(listings)]
    for key in keys:
        made = day_start(first) - dt.timedelta(
            days=rng.randint(1, 200), minutes=rng.randint(0, 999)
        )
        versions.append((key, made))
    for offset in range(days):
        day = first + dt.timedelta(days=offset)
        for key in rng.sample(keys, int(listings * changes)):
            versions.append((key, day_start(day) + dt.timedelta(minutes=rng.randint(0, 1_439))))
    collected = day_end(LAST_DAY)
    documents = (
        version_document(
            raw_document(
                source="mls",
                source_id=key,
                zip_code="85018",
                payload=_payload(key, modified, 400_000 + n),
                collected_at=collected,
                partition_key="",
            ),
            modified=modified,
            collected_at=collected,
        )
        for n, (key, modified) in enumerate(versions)
    )
    with MongoClient(db_uri) as client:
        return append_versions(client[database], LOG, documents, stored_at=collected).new


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mongo-uri", help="a real MongoDB (default: the embedded server)")
    parser.add_argument("--listings", type=int, default=5_000)
    parser.add_argument("--days", type=int, default=60)
    parser.add_argument("--changes", type=float, default=0.05, help="share modified a day")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--target", type=float, default=1.5)
    args = parser.parse_args()

    with mongo_uri(args.mongo_uri) as uri:
        database = f"bench_mls_state_{uuid.uuid4().hex[:8]}"
        stored = fill(uri, database, args.listings, args.days, args.changes)
        with MongoClient(uri) as client:
            db = client[database]
            before = day_end(LAST_DAY)
            day_before = LAST_DAY - dt.timedelta(days=1)
            previous = latest_versions(db, LOG, day_end(day_before))
            carried = {key: doc["modified_at"] for key, doc in previous.items()}
            state_ids = [doc["_id"] for doc in latest_versions(db, LOG, before).values()]
            results: dict[str, int] = {}

            def baseline() -> None:
                found = 0
                for start in range(0, len(state_ids), 1_000):
                    found += len(
                        list(db[LOG].find({"_id": {"$in": state_ids[start : start + 1_000]}}))
                    )
                results["baseline"] = found

            def from_carried() -> None:
                results["carried"] = len(
                    state_versions(
                        db,
                        LOG,
                        "mls",
                        before=before,
                        carried=carried,
                        after=day_start(LAST_DAY) - dt.timedelta(days=1),
                    )
                )

            def from_log() -> None:
                results["whole log"] = len(
                    state_versions(db, LOG, "mls", before=before, carried=None, after=before)
                )

            timings = interleaved_medians(
                {"baseline": baseline, "carried": from_carried, "whole log": from_log},
                args.repeats,
            )
            client.drop_database(database)

    assert len(set(results.values())) == 1, f"the cases disagree: {results}"
    base = median(timings["baseline"])
    print(f"machine: {machine()}")
    print(f"server: {server_name(uri, args.mongo_uri)}")
    print(
        f"log: {stored:,} versions of {args.listings:,} listings over {args.days} days "
        f"({args.changes:.0%} modified a day); state of {LAST_DAY}: {results['baseline']:,} "
        f"listings; medians of {args.repeats} interleaved repeats"
    )
    for name in ("baseline", "carried", "whole log"):
        seconds = median(timings[name])
        print(f"  {name:<10} {seconds:7.3f} s   {seconds / base:5.2f}x baseline")
    ratio = median(timings["carried"]) / base
    print(f"carried / baseline: {ratio:.2f}x  {judge(ratio, args.target)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
