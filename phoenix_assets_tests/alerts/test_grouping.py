"""The alert grouping state machine: cooldown, grouping, recovery, JSON state."""

import itertools
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from phoenix_assets.alerts.grouping import FORGET_AFTER_SECONDS, AlertGrouper, Notice

MIN = 60.0
COOLDOWN = 60 * MIN
KEY = "job:daily_pipeline"


def test_a_first_failure_alerts() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    assert grouper.failure(KEY, 1000.0) == Notice(
        kind="failure", key=KEY, at=1000.0, grouped=0, failures=1, failing_seconds=0.0
    )


def test_failures_within_the_cooldown_are_suppressed_then_grouped() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    assert grouper.failure(KEY, 0.0) is not None
    assert grouper.failure(KEY, 10 * MIN) is None
    assert grouper.failure(KEY, 59 * MIN) is None
    assert grouper.groups[KEY].suppressed == 2

    notice = grouper.failure(KEY, 60 * MIN)

    assert notice == Notice(
        kind="failure", key=KEY, at=60 * MIN, grouped=2, failures=4, failing_seconds=60 * MIN
    )
    assert grouper.groups[KEY].suppressed == 0
    # The cooldown runs again from this alert.
    assert grouper.failure(KEY, 61 * MIN) is None


def test_keys_are_independent() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    assert grouper.failure("job:a", 0.0) is not None
    assert grouper.failure("check:raw_demo_listings:schema", 1.0) is not None
    assert grouper.failure("job:a", 2.0) is None


def test_the_first_success_after_failures_recovers_once() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    grouper.failure(KEY, 0.0)
    grouper.failure(KEY, 20 * MIN)
    grouper.failure(KEY, 40 * MIN)

    notice = grouper.success(KEY, 130 * MIN)

    assert notice == Notice(
        kind="recovered", key=KEY, at=130 * MIN, failures=3, failing_seconds=130 * MIN
    )
    assert grouper.success(KEY, 131 * MIN) is None
    assert grouper.success(KEY, 200 * MIN) is None


def test_a_success_without_failures_says_nothing() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    assert grouper.success(KEY, 0.0) is None
    assert grouper.groups == {}


def test_a_flap_inside_the_cooldown_is_counted_in_the_next_alert() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    assert grouper.failure(KEY, 0.0) is not None
    assert grouper.success(KEY, 5 * MIN) is not None  # recovered
    # Fails again 10 minutes after the alert: suppressed, and its recovery is silent.
    assert grouper.failure(KEY, 10 * MIN) is None
    assert grouper.success(KEY, 15 * MIN) is None

    notice = grouper.failure(KEY, 90 * MIN)

    assert notice is not None and notice.kind == "failure"
    assert notice.grouped == 1
    assert notice.failures == 1  # a new streak


def test_a_zero_cooldown_alerts_every_failure() -> None:
    grouper = AlertGrouper(cooldown_seconds=0.0)
    assert all(grouper.failure(KEY, float(t)) is not None for t in range(5))


def test_the_state_is_json_and_survives_a_round_trip() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    grouper.failure(KEY, 0.0)
    grouper.failure(KEY, 1.0)
    saved = json.loads(json.dumps(grouper.to_json()))

    restored = AlertGrouper.from_json(saved, cooldown_seconds=COOLDOWN)

    assert restored == grouper
    assert restored.failure(KEY, 2.0) is None
    assert restored.failure(KEY, COOLDOWN).grouped == 2  # type: ignore[union-attr]


def test_unreadable_state_starts_afresh() -> None:
    assert AlertGrouper.from_json("garbage", cooldown_seconds=1).groups == {}
    grouper = AlertGrouper.from_json({"job:a": {"nope": 1}, "job:b": {}}, cooldown_seconds=1)
    assert list(grouper.groups) == ["job:b"]


def test_prune_forgets_only_what_can_no_longer_matter() -> None:
    grouper = AlertGrouper(cooldown_seconds=COOLDOWN)
    grouper.failure("job:recovered", 0.0)
    grouper.success("job:recovered", 1.0)
    grouper.failure("job:failing", 0.0)
    grouper.failure("job:flapped", 0.0)
    grouper.success("job:flapped", 1.0)
    grouper.failure("job:flapped", 2.0)  # suppressed
    grouper.success("job:flapped", 3.0)

    grouper.prune(now=30 * MIN)
    assert set(grouper.groups) == {"job:recovered", "job:failing", "job:flapped"}  # cooldown

    grouper.prune(now=COOLDOWN + 1)
    assert set(grouper.groups) == {"job:failing", "job:flapped"}  # still failing, pending

    grouper.prune(now=FORGET_AFTER_SECONDS + 10)
    assert grouper.groups == {}


events = st.lists(
    st.tuples(st.sampled_from(["job:a", "job:b"]), st.booleans(), st.integers(0, 3 * 3600)),
    max_size=60,
)


@settings(max_examples=200, deadline=None)
@given(events=events, cooldown_minutes=st.sampled_from([0, 1, 30, 60]), cut=st.integers(0, 60))
def test_invariants_hold_for_any_sequence(
    events: list[tuple[str, bool, int]], cooldown_minutes: int, cut: int
) -> None:
    cooldown = cooldown_minutes * 60.0
    grouper = AlertGrouper(cooldown_seconds=cooldown)
    at = 0.0
    notices: list[Notice] = []
    failures = {"job:a": 0, "job:b": 0}
    for index, (key, ok, gap) in enumerate(events):
        if index == cut:  # a sensor restart in the middle: state through JSON
            grouper = AlertGrouper.from_json(
                json.loads(json.dumps(grouper.to_json())), cooldown_seconds=cooldown
            )
        at += gap
        notice = grouper.success(key, at) if ok else grouper.failure(key, at)
        if not ok:
            failures[key] += 1
        if notice is not None:
            notices.append(notice)

    for key in ("job:a", "job:b"):
        mine = [n for n in notices if n.key == key]
        alerts = [n for n in mine if n.kind == "failure"]
        # Never two alerts for one key inside the cooldown.
        assert all(b.at - a.at >= cooldown for a, b in itertools.pairwise(alerts))
        # Alerts and recoveries alternate, starting with an alert: never a recovery
        # nobody was warned about, never two recoveries in a row.
        kinds = [n.kind for n in mine]
        assert all(k1 != k2 or k1 == "failure" for k1, k2 in itertools.pairwise(kinds))
        if kinds:
            assert kinds[0] == "failure"
        # Every failure is accounted for: alerted, grouped into an alert, reported in a
        # recovery, or still pending.
        reported = sum(1 + n.grouped for n in alerts)
        assert reported <= failures[key]
        if failures[key]:
            assert alerts, "a failure must eventually have been alerted"
