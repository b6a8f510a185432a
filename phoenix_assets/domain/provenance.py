"""Provenance, stored compactly: which source said each field of a property.

In memory a ``Property`` keeps ``provenance`` as a full mapping, field -> source. A
day's snapshot repeats it for every property, and most properties have one source,
so stored whole it was ~40 % of a snapshot document. Stored, it is:

- ``"*"``: the source of every field that has a value and is not named otherwise
  (the most common source of the mapping);
- ``field: source`` for each field another source said, or that has a source but no
  value;
- ``"-"``: the fields that have a value but no source (rare).

``expand`` turns that back into the full mapping, given which fields have a value,
exactly (a mapping stored whole, without ``"*"``, is returned as it is).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Mapping
from typing import Any

DEFAULT_SOURCE = "*"
UNSOURCED = "-"


def compact(provenance: Mapping[str, str], valued: Collection[str]) -> dict[str, Any]:
    """``provenance`` stored compactly; ``valued``: the fields that have a value."""
    if not provenance:
        return {}
    counts = Counter(provenance.values())
    default = min(counts, key=lambda source: (-counts[source], source))
    stored: dict[str, Any] = {DEFAULT_SOURCE: default}
    for field, source in provenance.items():
        if source != default or field not in valued:
            stored[field] = source
    unsourced = sorted(field for field in valued if field not in provenance)
    if unsourced:
        stored[UNSOURCED] = unsourced
    return stored


def expand(stored: Mapping[str, Any], valued: Collection[str]) -> dict[str, str]:
    """The full mapping field -> source from its stored form (see ``compact``)."""
    if DEFAULT_SOURCE not in stored:
        return {str(field): str(source) for field, source in stored.items()}
    default = str(stored[DEFAULT_SOURCE])
    unsourced = set(stored.get(UNSOURCED) or ())
    full = {field: default for field in valued if field not in unsourced}
    for field, source in stored.items():
        if field not in (DEFAULT_SOURCE, UNSOURCED):
            full[str(field)] = str(source)
    return full


def source_of(stored: Any, field: str, *, valued: bool) -> str | None:
    """The source of one ``field`` in a stored provenance, either form; ``valued``: whether
    the field has a value in that record."""
    if not isinstance(stored, Mapping):
        return None
    if field in stored and field not in (DEFAULT_SOURCE, UNSOURCED):
        return str(stored[field])
    if DEFAULT_SOURCE in stored and valued and field not in (stored.get(UNSOURCED) or ()):
        return str(stored[DEFAULT_SOURCE])
    return None
