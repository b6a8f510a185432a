"""The ``report_deliveries`` ledger: each market report is sent at most once per channel.

One document per report and channel, under the natural key
``"<kind>:<period>:<channel>"``:

- Before sending, a run *claims* the send by inserting the document with
  ``status: "sending"``, a random ``claim`` token and its time (``claimed_at``, and
  ``claimed_us``, microseconds since the epoch, which is what is compared). The
  unique ``_id`` lets one claimant in: another run of the same partition at the same
  moment gets a duplicate key, reads the document and sends nothing (``already sent``
  or ``being sent by another run``).
- After the send, the claimant marks its own claim sent (``status: "sent"``,
  ``sent_at``, ``sent_us``): the document is replaced whole, filtered on ``_id`` and
  its token, so its times are always written as dates. A retry or replay of the
  partition finds it and sends nothing. A document without a status but with
  ``sent_at`` (as older versions recorded a send) also counts as sent.
- When the send fails, the claimant deletes its claim, so the next attempt sends.
- A claim older than ``CLAIM_LEASE`` (its run died between claim and mark) may be taken
  over, atomically: the document is replaced only if it still holds the old token, so
  one run alone sends. The lease is far above the longest send (the SMTP and webhook
  timeouts and retries), so a live claim is never taken over.

A send that could not be marked (the ledger went away meanwhile) is logged; a replay
after the lease may send it again. Without the ledger nothing is sent: a send could be a
duplicate. To send a report again, delete its document.
"""

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

LEDGER_COLLECTION = "report_deliveries"
# Why a run must not send: the report went out already, or another run is sending it.
ALREADY_SENT = "already sent"
BEING_SENT = "being sent by another run"
# The ledger's ``status``: a claimed send in progress, and a send made.
LEDGER_SENDING = "sending"
LEDGER_SENT = "sent"
# How long a claim holds before another run may take it over. Far above the longest
# send: an SMTP exchange times out after 30 s per operation, a webhook after 4 attempts
# of 10 s with at most 20 s between them.
CLAIM_LEASE = dt.timedelta(minutes=30)
LEASE_MINUTES = CLAIM_LEASE // dt.timedelta(minutes=1)  # as the log lines say it
# How often a run tries to claim when claims are released or taken over under it.
_CLAIM_ATTEMPTS = 3
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def ledger_id(kind: str, period: str, label: str) -> str:
    """The ``report_deliveries`` key of one report sent on one channel."""
    return f"{kind}:{period}:{label}"


@dataclass(frozen=True)
class Claim:
    """This run's claim on one send: its ledger key, its token and the document it wrote."""

    key: str
    token: str
    fields: dict[str, Any]  # the document but its ``_id``

    @property
    def held(self) -> dict[str, str]:
        """The filter matching the ledger document while it is still this claim."""
        return {"_id": self.key, "claim": self.token}


def _epoch_us(when: dt.datetime) -> int:
    """``when`` in whole microseconds since the epoch: integers compare exactly
    everywhere, where stored dates may not."""
    return (when - _EPOCH) // dt.timedelta(microseconds=1)


def _new_claim(key: str, about: Mapping[str, Any]) -> Claim:
    token = uuid.uuid4().hex
    now = dt.datetime.now(dt.UTC)
    fields = {
        **about,
        "status": LEDGER_SENDING,
        "claim": token,
        "claimed_at": now,
        "claimed_us": _epoch_us(now),
    }
    return Claim(key=key, token=token, fields=fields)


def _is_stale(held: Mapping[str, Any], now_us: int) -> bool:
    """Whether a ``sending`` claim has outlived its lease. A claim without a readable
    time was not written by this module: it holds no lease."""
    claimed_us = held.get("claimed_us")
    if not isinstance(claimed_us, int) or isinstance(claimed_us, bool):
        return True
    return claimed_us < now_us - CLAIM_LEASE // dt.timedelta(microseconds=1)


def claim_send(db: Database[Any], key: str, about: Mapping[str, Any]) -> Claim | str:
    """Claim the send of ``key``: this run's claim, or why it must not send
    (``ALREADY_SENT``, ``BEING_SENT``). ``about`` is what the document says of the send
    (kind, period, channel, destination, title). A ``PyMongoError`` is the caller's."""
    ledger = db[LEDGER_COLLECTION]
    for _ in range(_CLAIM_ATTEMPTS):
        claim = _new_claim(key, about)
        try:
            ledger.insert_one({"_id": key, **claim.fields})
            return claim
        except DuplicateKeyError:
            pass
        held = ledger.find_one({"_id": key})
        if held is None:
            continue  # its claimant's send failed and released it: claim again
        if held.get("status") != LEDGER_SENDING:
            # "sent", or a document without status: how a send was recorded before claims.
            return ALREADY_SENT
        if not _is_stale(held, claim.fields["claimed_us"]):
            return BEING_SENT
        # Its claimant died before marking it. Take it over only if it is still that
        # claim: of runs doing so at once, one matches; the others see a live claim.
        taken = ledger.replace_one(
            {"_id": key, "status": LEDGER_SENDING, "claim": held.get("claim")}, claim.fields
        )
        if taken.matched_count == 1:
            return claim
    return BEING_SENT


def mark_sent(db: Database[Any], claim: Claim) -> str | None:
    """Mark this run's claim sent; what went wrong if it could not be, else None.

    The document is replaced whole rather than ``$set``: its dates are then written as
    dates on any server."""
    sent_at = dt.datetime.now(dt.UTC)
    sent = {
        **claim.fields,
        "status": LEDGER_SENT,
        "sent_at": sent_at,
        "sent_us": _epoch_us(sent_at),
    }
    try:
        if db[LEDGER_COLLECTION].replace_one(claim.held, sent).matched_count == 1:
            return None
        return "its claim was no longer there"
    except PyMongoError as exc:
        return type(exc).__name__


def release(db: Database[Any], claim: Claim) -> str | None:
    """Delete this run's claim after a failed send, so the next attempt sends; the
    error's type if it could not be deleted, else None."""
    try:
        db[LEDGER_COLLECTION].delete_one(claim.held)
    except PyMongoError as exc:
        return type(exc).__name__
    return None
