"""Quarantine rules: why a record was set aside, as a stable name and the product's sentence.

Every quarantined record carries one rule. The name is what reports, metadata and
checks count by (it never changes once published); the sentence is the product's own
explanation, never source text. What a source actually sent (a value an adapter
quoted) is kept apart, as the entry's ``detail``.
"""

from __future__ import annotations

# Adaptation: the payload could not be made a ``Property``.
NOT_ADAPTABLE = "not_adaptable"
INVALID_FIELD = "invalid_field"
NO_PROPERTY_IDENTITY = "no_property_identity"
# Record keys and time: the record cannot be followed or placed.
MISSING_RECORD_KEY = "missing_record_key"
UNUSABLE_MODIFICATION_TIME = "unusable_modification_time"
# Hard bounds (``phoenix_assets.quality.bounds``): values that cannot be true.
MODIFIED_IN_THE_FUTURE = "modified_in_the_future"
LIST_PRICE_ABOVE_HARD_MAXIMUM = "list_price_above_hard_maximum"
CLOSE_PRICE_ABOVE_HARD_MAXIMUM = "close_price_above_hard_maximum"
AREA_NOT_POSITIVE = "area_not_positive"
YEAR_BUILT_TOO_FAR_AHEAD = "year_built_too_far_ahead"
# An entry stored before rules existed.
UNCLASSIFIED = "unclassified"

REASONS: dict[str, str] = {
    NOT_ADAPTABLE: "the payload is not a record the adapter can read",
    INVALID_FIELD: "a field has a value of the wrong type or outside what the schema accepts",
    NO_PROPERTY_IDENTITY: (
        "no parcel number and no street address with a ZIP: the property cannot be identified"
    ),
    MISSING_RECORD_KEY: (
        "no record key (an MLS ListingKey, an Assessor APN): the record cannot be followed "
        "from day to day"
    ),
    UNUSABLE_MODIFICATION_TIME: (
        "no usable ModificationTimestamp (missing or unreadable): the version cannot be "
        "placed in time"
    ),
    MODIFIED_IN_THE_FUTURE: (
        "its ModificationTimestamp lies further ahead of the day than any clock error "
        "explains (PHOENIX_HARD_MAX_FUTURE_MODIFICATION_HOURS)"
    ),
    LIST_PRICE_ABOVE_HARD_MAXIMUM: (
        "a list price above any home sale recorded in Arizona (PHOENIX_HARD_MAX_LIST_PRICE)"
    ),
    CLOSE_PRICE_ABOVE_HARD_MAXIMUM: (
        "a close price above any home sale recorded in Arizona (PHOENIX_HARD_MAX_LIST_PRICE)"
    ),
    AREA_NOT_POSITIVE: "a living area or lot size of zero or less",
    YEAR_BUILT_TOO_FAR_AHEAD: (
        "built further ahead of the day's year than a home can be listed before it is "
        "finished (PHOENIX_HARD_MAX_YEARS_AHEAD_BUILT)"
    ),
    UNCLASSIFIED: "quarantined before quarantine rules were recorded",
}


def reason_for(rule: str) -> str:
    """The product's sentence for ``rule`` (an unknown rule is named, never guessed)."""
    return REASONS.get(rule, f"quarantine rule {rule}")
