"""The version log of an incremental source, against the real test MongoDB server (no mocks)."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from pymongo.database import Database

from phoenix_assets.partitions import day_end, day_start, phoenix_day
from phoenix_assets.sources.envelope import raw_document
from phoenix_assets.storage.version_log import (
    BASELINE_COLLECTION,
    LOG_READS_COLLECTION,
    append_versions,
    baseline_zips,
    latest_by_record,
    latest_versions,
    log_read_at,
    record_baselines,
    record_log_read,
    state_versions,
    stored_after,
    to_micros,
    version_document,
    version_id,
)

LOG = "raw_mls_listings"
SOURCE = "mls"
DAYS = ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19", "2026-11-20"]
COLLECTED = dt.datetime(2026, 11, 21, 15, 0, tzinfo=dt.UTC)


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat() + "Z"


def _version(
    key: str,
    modified: dt.datetime | None,
    *,
    price: int = 500_000,
    collected_at: dt.datetime = COLLECTED,
    zip_code: str = "85018",
) -> dict[str, Any]:
    """One version as the raw asset makes it: the raw envelope, then ``version_document``."""
    payload: dict[str, Any] = {"ListingKey": key, "ListPrice": price, "PostalCode": zip_code}
    payload["ModificationTimestamp"] = _iso(modified) if modified is not None else "not a time"
    raw = raw_document(
        source=SOURCE,
        source_id=key,
        zip_code=zip_code,
        payload=payload,
        collected_at=collected_at,
        partition_key="",
    )
    return version_document(raw, modified=modified, collected_at=collected_at)


def _ids(state: dict[str, dict[str, Any]]) -> dict[str, str]:
    return {key: document["_id"] for key, document in state.items()}


def _at(day: str, hours: float) -> dt.datetime:
    """``hours`` after the Phoenix day began."""
    return day_start(day) + dt.timedelta(hours=hours)


# --- the version document -------------------------------------------------------------------


def test_a_version_is_keyed_by_its_record_and_modification_time() -> None:
    # 03:30 UTC on the 18th is 20:30 on the 17th in Phoenix (UTC-7, no daylight saving).
    modified = dt.datetime(2026, 11, 18, 3, 30, 0, 123456, tzinfo=dt.UTC)
    version = _version("L1", modified)
    assert version["_id"] == "mls:L1:2026-11-18T03:30:00.123456Z"
    assert version["partition_key"] == "2026-11-17"
    assert version["modified_at"] == modified
    assert version["collected_at"] == COLLECTED and version["payload"]["ListingKey"] == "L1"
    # Another time zone, the same instant: the same version.
    phoenix = modified.astimezone(dt.timezone(dt.timedelta(hours=-7)))
    assert _version("L1", phoenix)["_id"] == version["_id"]


def test_a_version_without_a_trusted_time_is_keyed_by_its_hash_and_dated_when_collected() -> None:
    version = _version("L1", None)
    assert version["_id"] == f"mls:L1:sha:{version['payload_sha256'][:16]}"
    assert version["modified_at"] == COLLECTED
    assert version["partition_key"] == phoenix_day(COLLECTED) == "2026-11-21"
    other = _version("L1", None, price=1)
    assert other["_id"] != version["_id"]  # another payload, another version


# --- appending ------------------------------------------------------------------------------


def test_appending_twice_stores_each_version_once_and_counts_new_and_known(
    db: Database[dict],
) -> None:
    first_batch = [
        _version("L1", _at(DAYS[0], 9)),
        _version("L2", _at(DAYS[0], 10)),
        _version("L3", _at(DAYS[1], 11)),
    ]
    first = append_versions(db, LOG, first_batch, stored_at=COLLECTED)
    assert (first.new, first.known) == (3, 0)
    assert first.new_by_partition == {DAYS[0]: 2, DAYS[1]: 1}

    again = append_versions(db, LOG, first_batch, stored_at=COLLECTED + dt.timedelta(days=1))
    assert (again.new, again.known, again.new_by_partition) == (0, 3, {})
    assert db[LOG].count_documents({}) == 3

    # A mix: two known versions, a new version of a known record, a new record, and the
    # same new version twice in one batch.
    later = COLLECTED + dt.timedelta(days=2)
    changed = _version("L2", _at(DAYS[2], 8), price=480_000)
    mixed = [first_batch[0], changed, first_batch[2], _version("L4", _at(DAYS[2], 9)), changed]
    result = append_versions(db, LOG, mixed, stored_at=later)
    assert (result.new, result.known) == (2, 3)
    assert result.new_by_partition == {DAYS[2]: 2}
    assert db[LOG].count_documents({}) == 5
    assert db[LOG].count_documents({"source_id": "L2"}) == 2  # both versions kept
    # A known version keeps when it first reached the log.
    stored = {doc["_id"]: doc["stored_at"] for doc in db[LOG].find({})}
    assert stored[first_batch[0]["_id"]] == COLLECTED
    assert stored[changed["_id"]] == later


def test_appending_in_several_insert_batches(
    db: Database[dict], monkeypatch: pytest.MonkeyPatch
) -> None:
    from phoenix_assets.storage import version_log

    monkeypatch.setattr(version_log, "INSERT_BATCH", 4)
    versions = [_version(f"L{n}", _at(DAYS[n % 3], n / 10)) for n in range(11)]
    assert append_versions(db, LOG, versions[:6], stored_at=COLLECTED).new == 6
    # A generator, with the known ones spread across batches.
    result = append_versions(db, LOG, (v for v in reversed(versions)), stored_at=COLLECTED)
    assert (result.new, result.known) == (5, 6)
    assert db[LOG].count_documents({}) == 11


# --- reading the state ----------------------------------------------------------------------


def test_latest_versions_before_a_time(db: Database[dict]) -> None:
    history = [
        _version("L1", _at(DAYS[0], 9), price=1),
        _version("L1", _at(DAYS[1], 9), price=2),
        _version("L1", _at(DAYS[2], 9), price=3),
        _version("L2", _at(DAYS[1], 23.99), price=4),  # the last minutes of the day
        _version("L3", _at(DAYS[2], 0), price=5),  # the first instant of the next day
    ]
    append_versions(db, LOG, history, stored_at=COLLECTED)

    def prices(before: dt.datetime) -> dict[str, int]:
        state = latest_versions(db, LOG, before)
        return {key: doc["payload"]["ListPrice"] for key, doc in state.items()}

    assert prices(day_start(DAYS[0])) == {}
    assert prices(day_end(DAYS[0])) == {"L1": 1}
    assert prices(day_end(DAYS[1])) == {"L1": 2, "L2": 4}  # L3 is of the next day
    # (A second later: the embedded test server compares times in a filter to the second.)
    assert prices(day_end(DAYS[1]) + dt.timedelta(seconds=1)) == {"L1": 2, "L2": 4, "L3": 5}
    assert prices(day_end(DAYS[4])) == {"L1": 3, "L2": 4, "L3": 5}
    # Times come back aware, in UTC.
    state = latest_versions(db, LOG, day_end(DAYS[4]))
    assert state["L1"]["modified_at"] == _at(DAYS[2], 9)
    assert state["L1"]["modified_at"].tzinfo is not None


def test_latest_by_record_keeps_each_records_latest_version() -> None:
    early, late = _at(DAYS[0], 1), _at(DAYS[0], 2)
    versions = [
        {"_id": "b", "source_id": "L1", "modified_us": to_micros(late)},
        {"_id": "a", "source_id": "L1", "modified_us": to_micros(early)},
        {"_id": "c", "source_id": "L2", "modified_us": to_micros(early)},
    ]
    assert _ids(latest_by_record(versions)) == {"L1": "b", "L2": "c"}


def _random_history(rng: random.Random) -> list[dict[str, Any]]:
    """Versions of a few dozen records over the days: some at day boundaries, some with
    microseconds, some without a trusted time (stored under their hash)."""
    versions: list[dict[str, Any]] = []
    first, last = day_start(DAYS[0]) - dt.timedelta(days=2), day_end(DAYS[-1])
    span = int((last - first).total_seconds())
    for n in range(rng.randint(5, 40)):
        key = f"L{n:03d}"
        for _ in range(rng.randint(1, 5)):
            choice = rng.random()
            if choice < 0.1:
                modified: dt.datetime | None = day_start(rng.choice(DAYS))
            elif choice < 0.15:
                modified = day_end(rng.choice(DAYS)) - dt.timedelta(microseconds=1)
            elif choice < 0.2:
                modified = None
            else:
                modified = first + dt.timedelta(
                    seconds=rng.randrange(span), microseconds=rng.choice((0, rng.randrange(10**6)))
                )
            # Distinct for every version: two versions of a record never tie in time.
            collected = (modified or first) + dt.timedelta(
                minutes=rng.randint(1, 600), seconds=len(versions), microseconds=500_001
            )
            versions.append(
                _version(key, modified, price=rng.randrange(10**6), collected_at=collected)
            )
    rng.shuffle(versions)
    return versions


@pytest.mark.parametrize("seed", range(8))
def test_state_from_a_carried_state_equals_the_state_from_the_whole_log(
    db: Database[dict], seed: int
) -> None:
    """What snapshots do (the day before's state plus the versions since) gives, day after
    day, what reading the whole log gives."""
    rng = random.Random(seed)
    append_versions(db, LOG, _random_history(rng), stored_at=COLLECTED)
    chained: dict[str, dt.datetime] | None = None
    for day in DAYS:
        before, after = day_end(day), day_start(day) - dt.timedelta(days=1)
        whole = state_versions(db, LOG, SOURCE, before=before, carried=None, after=after)
        assert _ids(whole) == _ids(latest_versions(db, LOG, before))
        # From the day before's state read from the whole log ...
        previous = latest_versions(db, LOG, day_start(day))
        carried = {key: doc["modified_at"] for key, doc in previous.items()}
        from_log = state_versions(db, LOG, SOURCE, before=before, carried=carried, after=after)
        assert _ids(from_log) == _ids(whole), day
        # ... and from the state carried day after day, as a range run builds it.
        if chained is not None:
            from_chain = state_versions(
                db, LOG, SOURCE, before=before, carried=chained, after=after
            )
            assert _ids(from_chain) == _ids(whole), day
        chained = {key: doc["modified_at"] for key, doc in whole.items()}


def test_a_carried_version_that_cannot_be_found_by_its_id_is_read_from_the_history(
    db: Database[dict],
) -> None:
    """A carried time that names no stored version (a quarantined record, whose time is
    not known, or a version kept under its hash) makes the record's history be read."""
    append_versions(
        db,
        LOG,
        [
            _version("L1", _at(DAYS[0], 3), price=1),
            _version("L1", _at(DAYS[0], 5), price=2),
            _version("L2", None, collected_at=_at(DAYS[0], 6)),
            _version("L3", _at(DAYS[0], 7)),
        ],
        stored_at=COLLECTED,
    )
    day = DAYS[2]  # the versions are older than the day's window
    unknown = dt.datetime.min.replace(tzinfo=dt.UTC)
    carried = {"L1": unknown, "L2": _at(DAYS[0], 6), "L3": _at(DAYS[0], 7)}
    state = state_versions(
        db,
        LOG,
        SOURCE,
        before=day_end(day),
        carried=carried,
        after=day_start(day) - dt.timedelta(days=1),
    )
    assert _ids(state) == _ids(latest_versions(db, LOG, day_end(day)))
    assert state["L1"]["payload"]["ListPrice"] == 2
    assert state["L3"]["_id"] == version_id(SOURCE, "L3", _at(DAYS[0], 7), "")


def test_stored_after(db: Database[dict]) -> None:
    first_stored = COLLECTED
    append_versions(db, LOG, [_version("L1", _at(DAYS[0], 9))], stored_at=first_stored)
    late = first_stored + dt.timedelta(hours=5)
    append_versions(db, LOG, [_version("L2", _at(DAYS[1], 9))], stored_at=late)

    def asked(since: dt.datetime, before: dt.datetime) -> bool:
        return stored_after(db, LOG, stored_since=since, modified_before=before)

    tick = dt.timedelta(microseconds=1)
    # Nothing reached the log after the late append (exactly: compared in microseconds).
    assert not asked(late, day_end(DAYS[4]))
    assert asked(late - tick, day_end(DAYS[4]))
    # L2 reached it after first_stored, but it was modified on DAYS[1] ...
    assert asked(first_stored, day_end(DAYS[1]))
    # ... so a state of DAYS[0] built at first_stored saw everything it needed.
    assert not asked(first_stored, day_end(DAYS[0]))
    assert asked(first_stored - tick, day_end(DAYS[0]))


def test_a_log_read_is_kept_per_partition_and_run_and_the_first_one_wins(
    db: Database[dict],
) -> None:
    asset = "property_snapshots"
    first, later = COLLECTED, COLLECTED + dt.timedelta(hours=1)
    assert log_read_at(db, asset, DAYS[0], "run-1") is None
    record_log_read(db, asset, DAYS[:2], "run-1", first)
    record_log_read(db, asset, DAYS[:2], "run-1", later)  # a retried step of the same run
    record_log_read(db, asset, [DAYS[0]], "run-2", later)
    assert log_read_at(db, asset, DAYS[0], "run-1") == first
    assert log_read_at(db, asset, DAYS[1], "run-1") == first
    assert log_read_at(db, asset, DAYS[0], "run-2") == later
    assert log_read_at(db, asset, DAYS[1], "run-2") is None
    assert log_read_at(db, asset, DAYS[0], None) is None
    assert log_read_at(db, "another_asset", DAYS[0], "run-1") is None
    assert db[LOG_READS_COLLECTION].count_documents({}) == 3


def test_baselines_by_source_zip_and_day(db: Database[dict]) -> None:
    zips = ["85018", "85033", "85044"]
    assert baseline_zips(db, SOURCE, zips, DAYS[4]) == set()
    record_baselines(db, SOURCE, ["85018"], DAYS[1])
    record_baselines(db, SOURCE, ["85018"], DAYS[1])  # again: one entry
    record_baselines(db, SOURCE, ["85033"], DAYS[3])
    record_baselines(db, "another", ["85044"], DAYS[0])
    assert db[BASELINE_COLLECTION].count_documents({"source": SOURCE}) == 2
    assert baseline_zips(db, SOURCE, zips, DAYS[0]) == set()
    assert baseline_zips(db, SOURCE, zips, DAYS[1]) == {"85018"}  # the day itself counts
    assert baseline_zips(db, SOURCE, zips, DAYS[2]) == {"85018"}
    assert baseline_zips(db, SOURCE, zips, DAYS[3]) == {"85018", "85033"}
    assert baseline_zips(db, SOURCE, ["85033"], DAYS[4]) == {"85033"}  # only those asked
    assert baseline_zips(db, "another", zips, DAYS[4]) == {"85044"}
    # A later baseline of the same ZIP adds an entry; the earlier one still counts.
    record_baselines(db, SOURCE, ["85018"], DAYS[4])
    assert baseline_zips(db, SOURCE, zips, DAYS[2]) == {"85018"}
