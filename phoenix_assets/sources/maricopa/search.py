"""The Assessor's parcel search: its response shapes, its hits, and a hit's APN.

``/search/property/?q=<text>&page=N`` answers 25 hits a page in one of several shapes
that public clients have met (``parse_search_page``); a hit is a parcel's search row
(APN, situs address, owner, subdivision), kept in the parcel inventory.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from phoenix_assets.domain.property import normalize_apn
from phoenix_assets.sources.envelope import payload_sha256

PAGE_SIZE = 25
SEARCH_PATH = "/search/property/"

_COMPACT_APN = re.compile(r"^[A-Z0-9]{1,20}$")


class SearchShapeError(ValueError):
    """A search response in none of the shapes the Assessor is known to send."""


def _key(mapping: Mapping[Any, Any], name: str) -> Any:
    for key in mapping:
        if isinstance(key, str) and key.lower() == name.lower():
            return key
    return None


def _total_found(mapping: Mapping[Any, Any]) -> int | None:
    key = _key(mapping, "TotalFound")
    value = mapping.get(key) if key is not None else None
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.replace(",", "").strip()
        return int(value) if value.isdigit() else None
    return value if isinstance(value, int) and value >= 0 else None


def parse_search_page(data: Any) -> tuple[list[Any], int | None]:
    """``(hits, TotalFound or None)`` from one search response, whatever its known shape.

    Shapes seen in public clients: ``{"RealPropertyResults": [...]}``,
    ``{"RealProperty": [...], "TotalFound": n}``, ``{"Results": [...]}``,
    ``{"RealProperty": {"results": [...]}}`` and a bare list.
    """
    if isinstance(data, list):
        return data, None
    if not isinstance(data, Mapping):
        raise SearchShapeError(f"search response is a {type(data).__name__}, not an object")
    total = _total_found(data)
    for name in ("RealPropertyResults", "RealProperty", "Results"):
        key = _key(data, name)
        if key is None:
            continue
        value = data[key]
        if value is None:
            return [], total
        if isinstance(value, list):
            return value, total
        if isinstance(value, Mapping):
            inner_key = _key(value, "results")
            inner = value.get(inner_key) if inner_key is not None else None
            if isinstance(inner, list) or (inner_key is not None and inner is None):
                inner_total = _total_found(value)
                return inner or [], inner_total if inner_total is not None else total
        raise SearchShapeError(f"search response's {key!r} is a {type(value).__name__}")
    if total == 0:
        return [], 0
    keys = sorted(str(k) for k in data)[:8]
    raise SearchShapeError(f"unknown search response shape (keys: {', '.join(keys) or 'none'})")


def hit_apn(hit: Mapping[Any, Any]) -> str | None:
    key = _key(hit, "APN") or _key(hit, "ParcelNumber")
    value = hit.get(key) if key is not None else None
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    apn = normalize_apn(str(value))
    if apn is None or not _COMPACT_APN.match(apn.replace("-", "")):
        return None
    return apn


def compact_apn(apn: str) -> str:
    """The APN as it goes in a URL: no separators (the Assessor accepts both forms)."""
    return quote((normalize_apn(apn) or apn).replace("-", ""), safe="")


def hit_fingerprint(hit: Mapping[Any, Any]) -> str:
    """A short, stable digest of a search row: a change means the parcel changed (a sale,
    a new address, a rental registration) and its details are worth fetching again."""
    return payload_sha256(dict(hit))[:16]
