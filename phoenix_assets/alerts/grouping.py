"""When to tell a person: the alert grouping state machine (pure: no clock, no I/O).

One state per key (``job:<name>``, ``check:<asset>:<check>``). Rules:

- a failure sends an alert, unless an alert for the same key went out less than the
  cooldown ago; then it is counted as suppressed, and the next alert (the first failure
  after the cooldown) says how many failures it groups;
- the first success after a failing streak sends exactly one "recovered" notice, with
  how long the key was failing and how many failures the streak had; later successes
  send nothing;
- a streak whose every failure fell in the cooldown (a flap right after an alert) was
  never announced, so its recovery is not either; its failures stay counted and the
  next alert reports them.

Timestamps are POSIX seconds supplied by the caller, in the order the events happened.
The state (``to_json``) is plain JSON, kept in the sensor's cursor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

# A key that has been quiet this long is forgotten (a renamed job, a removed check).
FORGET_AFTER_SECONDS = 30 * 24 * 3600.0


@dataclass
class GroupState:
    """What is known about one key."""

    failing_since: float | None = None  # first failure of the current streak
    streak_failures: int = 0
    streak_announced: bool = False  # an alert went out during this streak
    last_alert_at: float | None = None
    suppressed: int = 0  # failures no alert has reported yet
    last_event_at: float = 0.0

    @property
    def failing(self) -> bool:
        return self.failing_since is not None


def _since(state: GroupState, at: float) -> float:
    return at if state.failing_since is None else state.failing_since


@dataclass(frozen=True)
class Notice:
    """A message to send: ``failure`` (an alert) or ``recovered``.

    For a failure, ``grouped`` is how many earlier failures were suppressed and are
    reported with this one. For a recovery, ``failures`` is the streak's length and
    ``failing_seconds`` how long it lasted.
    """

    kind: Literal["failure", "recovered"]
    key: str
    at: float
    grouped: int = 0
    failures: int = 0
    failing_seconds: float = 0.0


@dataclass
class AlertGrouper:
    """The grouping state of every key, and the rules that update it."""

    cooldown_seconds: float
    groups: dict[str, GroupState] = field(default_factory=dict)

    def failure(self, key: str, at: float) -> Notice | None:
        """Record a failure of ``key`` at ``at``; the alert to send, if any."""
        state = self.groups.setdefault(key, GroupState())
        state.last_event_at = max(state.last_event_at, at)
        if not state.failing:
            state.failing_since = at
            state.streak_failures = 0
            state.streak_announced = False
        state.streak_failures += 1
        if state.last_alert_at is not None and at - state.last_alert_at < self.cooldown_seconds:
            state.suppressed += 1
            return None
        notice = Notice(
            kind="failure",
            key=key,
            at=at,
            grouped=state.suppressed,
            failures=state.streak_failures,
            failing_seconds=at - _since(state, at),
        )
        state.suppressed = 0
        state.last_alert_at = at
        state.streak_announced = True
        return notice

    def success(self, key: str, at: float) -> Notice | None:
        """Record a success of ``key`` at ``at``; the "recovered" notice to send, if any."""
        state = self.groups.get(key)
        if state is None:
            return None
        state.last_event_at = max(state.last_event_at, at)
        if not state.failing:
            return None
        notice = None
        if state.streak_announced:
            notice = Notice(
                kind="recovered",
                key=key,
                at=at,
                failures=state.streak_failures,
                failing_seconds=max(0.0, at - _since(state, at)),
            )
            # The recovery reports the whole streak, suppressed failures included.
            state.suppressed = 0
        state.failing_since = None
        state.streak_failures = 0
        state.streak_announced = False
        return notice

    def prune(self, now: float) -> None:
        """Forget keys that can no longer affect a message, and keys quiet for a month."""
        for key in list(self.groups):
            state = self.groups[key]
            settled = (
                not state.failing
                and state.suppressed == 0
                and (
                    state.last_alert_at is None
                    or now - state.last_alert_at >= self.cooldown_seconds
                )
            )
            if settled or now - state.last_event_at > FORGET_AFTER_SECONDS:
                del self.groups[key]

    def to_json(self) -> dict[str, Any]:
        """The state as plain JSON (the cooldown is a setting, not state)."""
        return {key: asdict(state) for key, state in sorted(self.groups.items())}

    @classmethod
    def from_json(cls, data: Any, *, cooldown_seconds: float) -> AlertGrouper:
        """The state saved by ``to_json``; anything unreadable starts afresh."""
        groups: dict[str, GroupState] = {}
        if isinstance(data, dict):
            for key, raw in data.items():
                try:
                    groups[str(key)] = GroupState(**raw)
                except TypeError:
                    continue
        return cls(cooldown_seconds=cooldown_seconds, groups=groups)
