"""Watermarks of incremental sources, against the real test MongoDB server."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from pymongo.database import Database

from phoenix_assets.storage.watermarks import WATERMARK_COLLECTION, WatermarkStore

T0 = dt.datetime(2026, 11, 24, 17, 3, 12, tzinfo=dt.UTC)


def test_round_trip(db: Database[dict]) -> None:
    store = WatermarkStore(db)
    assert store.get_all("mls") == {} and store.get("mls", "85018") is None
    precise = T0 + dt.timedelta(microseconds=123456)
    assert store.advance("mls", "85018", precise) == precise
    assert store.advance("mls", "85033", T0) == T0
    assert store.get_all("mls") == {"85018": precise, "85033": T0}
    assert store.get("mls", "85018") == precise
    # A second store on the same database reads the same (nothing cached in the object).
    assert WatermarkStore(db).get_all("mls") == {"85018": precise, "85033": T0}


def test_stored_as_natural_id_and_fixed_width_iso_strings(db: Database[dict]) -> None:
    store = WatermarkStore(db)
    store.advance("mls", "85018", T0)
    store.advance("mls", "85018", T0 + dt.timedelta(hours=1))
    docs = list(db[WATERMARK_COLLECTION].find({}))
    assert len(docs) == 1
    doc = docs[0]
    assert doc["_id"] == "mls:85018" and doc["source"] == "mls" and doc["zip_code"] == "85018"
    assert doc["watermark"] == "2026-11-24T18:03:12.000000Z"
    assert doc["watermark_us"] == int((T0.timestamp() + 3600) * 1_000_000)
    assert isinstance(doc["updated_at"], str) and doc["updated_at"].endswith("Z")


def test_a_watermark_never_moves_backwards(db: Database[dict]) -> None:
    store = WatermarkStore(db)
    later = T0 + dt.timedelta(days=1)
    store.advance("mls", "85018", later)
    assert store.advance("mls", "85018", T0) == later
    assert store.advance("mls", "85018", later) == later  # equal: no change
    assert store.advance("mls", "85018", later - dt.timedelta(microseconds=1)) == later
    assert store.get_all("mls") == {"85018": later}
    newer = later + dt.timedelta(microseconds=1)
    assert store.advance("mls", "85018", newer) == newer
    assert store.get("mls", "85018") == newer


def test_other_timezones_are_stored_as_utc(db: Database[dict]) -> None:
    store = WatermarkStore(db)
    phoenix = dt.datetime(2026, 11, 24, 10, 3, 12, tzinfo=ZoneInfo("America/Phoenix"))
    store.advance("mls", "85018", phoenix)
    stored = store.get("mls", "85018")
    assert stored == T0 and stored is not None and stored.tzinfo == dt.UTC
    # An earlier instant written in a later-looking local time is still earlier.
    tokyo = dt.datetime(2026, 11, 25, 1, 0, tzinfo=ZoneInfo("Asia/Tokyo"))  # 16:00 UTC
    assert store.advance("mls", "85018", tokyo) == T0


def test_naive_datetimes_are_refused(db: Database[dict]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WatermarkStore(db).advance("mls", "85018", dt.datetime(2026, 11, 24))


def test_sources_and_zips_are_isolated(db: Database[dict]) -> None:
    store = WatermarkStore(db)
    store.advance("mls", "85018", T0)
    store.advance("maricopa", "85018", T0 + dt.timedelta(days=3))
    store.advance("mls", "85033", T0 - dt.timedelta(days=3))
    assert store.get_all("mls") == {"85018": T0, "85033": T0 - dt.timedelta(days=3)}
    assert store.get_all("maricopa") == {"85018": T0 + dt.timedelta(days=3)}
    assert store.get_all("demo") == {}
    # Advancing one source's ZIP does not hold another's back or move it.
    store.advance("mls", "85018", T0 + dt.timedelta(days=5))
    assert store.get_all("maricopa") == {"85018": T0 + dt.timedelta(days=3)}


def test_concurrent_writers_end_at_the_latest(db: Database[dict]) -> None:
    store = WatermarkStore(db)
    stamps = [T0 + dt.timedelta(minutes=m) for m in range(40)]
    errors: list[BaseException] = []

    def write(chunk: list[dt.datetime]) -> None:
        try:
            for stamp in chunk:
                WatermarkStore(db).advance("mls", "85018", stamp)
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(stamps[i::4][::-1],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert store.get_all("mls") == {"85018": stamps[-1]}
    assert db[WATERMARK_COLLECTION].count_documents({}) == 1


def test_an_unreadable_stored_watermark_is_an_error_not_a_guess(db: Database[dict]) -> None:
    db[WATERMARK_COLLECTION].insert_one(
        {"_id": "mls:85018", "source": "mls", "zip_code": "85018", "watermark": "yesterday"}
    )
    store = WatermarkStore(db)
    with pytest.raises(ValueError, match="mls:85018"):
        store.get_all("mls")
    with pytest.raises(ValueError, match="mls:85018"):
        store.advance("mls", "85018", T0)


def test_sub_second_advances_are_exact(db: Database[dict]) -> None:
    """The embedded server compares date-like strings in an update filter to the second;
    the store compares integers, so a microsecond still counts (both ways)."""
    store = WatermarkStore(db)
    store.advance("mls", "85018", T0)
    for micros in (1, 2, 999, 1000, 999_999):
        stamp = T0 + dt.timedelta(microseconds=micros)
        assert store.advance("mls", "85018", stamp) == stamp
        assert store.advance("mls", "85018", stamp - dt.timedelta(microseconds=1)) == stamp
    assert store.get("mls", "85018") == T0 + dt.timedelta(microseconds=999_999)
