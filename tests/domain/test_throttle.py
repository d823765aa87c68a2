from datetime import UTC, datetime

import pytest

from buurtplus.core.clock import FrozenClock
from buurtplus.core.errors import TooManyAttempts
from buurtplus.domain.users.throttle import LoginThrottle


def make_throttle(clock: FrozenClock) -> LoginThrottle:
    return LoginThrottle(clock=clock, max_failures=3, window_seconds=60, lockout_seconds=120)


def test_locks_after_the_allowed_failures_and_unlocks_later() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    throttle = make_throttle(clock)
    for _ in range(3):
        throttle.begin("a")
        throttle.failed("a")

    with pytest.raises(TooManyAttempts) as locked:
        throttle.begin("a")
    assert locked.value.retry_after_seconds == 120
    throttle.begin("b")  # others are not affected
    clock.advance(seconds=121)
    throttle.begin("a")


def test_attempts_in_flight_count_against_the_limit() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    throttle = make_throttle(clock)
    for _ in range(3):
        throttle.begin("a")  # three guesses being checked at once

    with pytest.raises(TooManyAttempts):
        throttle.begin("a")
    throttle.succeeded("a")
    throttle.begin("a")


def test_settled_records_are_forgotten_when_many_accounts_are_tried() -> None:
    clock = FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))
    throttle = make_throttle(clock)
    for _ in range(3):
        throttle.failed("locked")
    for n in range(LoginThrottle.MAX_RECORDS):
        throttle.failed(f"guess-{n}")
    clock.advance(seconds=61)

    throttle.begin("one-more")

    assert len(throttle._records) == 2  # "locked" (still locked) and "one-more"
    with pytest.raises(TooManyAttempts):
        throttle.begin("locked")
