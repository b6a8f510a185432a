"""The raw document envelope: a source's payload kept verbatim, plus where and when it came from."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Any


def payload_sha256(payload: dict[str, Any]) -> str:
    """A stable hash of a payload (canonical JSON), to tell changed records from unchanged."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def raw_document(
    *,
    source: str,
    source_id: str,
    zip_code: str,
    payload: dict[str, Any],
    collected_at: dt.datetime,
    partition_key: str,
) -> dict[str, Any]:
    """One raw document as every raw asset stores it (``_id`` = source:source_id:partition)."""
    return {
        "source": source,
        "source_id": source_id,
        "zip_code": zip_code,
        "collected_at": collected_at,
        "payload_sha256": payload_sha256(payload),
        "partition_key": partition_key,
        "payload": payload,
    }
