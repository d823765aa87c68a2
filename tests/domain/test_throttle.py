"""The sign-in throttle on a real database: what it counts, for how long, and what it keeps."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine
from sqlmodel import select

from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import make_engine, transaction
from buurtplus.core.errors import TooManyAttempts
from buurtplus.domain.retention import apply_retention
from buurtplus.domain.users.models import LoginThrottleRecord
from buurtplus.domain.users.throttle import LoginAttempt, LoginThrottle


@pytest.fixture
def engine(clean_database: str) -> Iterator[Engine]:
    engine = make_engine(clean_database)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))


def make_throttle(clock: FrozenClock) -> LoginThrottle:
    return LoginThrottle(
        clock=clock,
        secret=b"a secret of the deployment, long enough",
        max_failures=3,
        account_max_failures=5,
        address_max_failures=8,
        window_seconds=60,
        lockout_seconds=120,
    )


class Steps:
    """Each step in its own transaction, as the token endpoint takes them."""

    def __init__(self, engine: Engine, throttle: LoginThrottle) -> None:
        self.engine = engine
        self.throttle = throttle

    def begin(self, attempt: LoginAttempt) -> None:
        with transaction(self.engine) as session:
            self.throttle.begin(session, attempt)

    def fail(self, attempt: LoginAttempt) -> None:
        self.begin(attempt)
        with transaction(self.engine) as session:
            self.throttle.failed(session, attempt)

    def succeed(self, attempt: LoginAttempt) -> None:
        self.begin(attempt)
        with transaction(self.engine) as session:
            self.throttle.succeeded(session, attempt)


def test_locks_after_the_allowed_failures_and_unlocks_later(
    engine: Engine, clock: FrozenClock
) -> None:
    throttle = make_throttle(clock)
    steps = Steps(engine, throttle)
    sanne = throttle.attempt(account="account:sanne@example.nl", address="192.0.2.1")
    for _ in range(3):
        steps.fail(sanne)

    with pytest.raises(TooManyAttempts) as locked:
        steps.begin(sanne)
    assert locked.value.retry_after_seconds == 120
    steps.succeed(throttle.attempt(account="account:piet@example.nl", address="192.0.2.1"))
    clock.advance(seconds=121)
    steps.succeed(sanne)


def test_a_second_process_sees_the_same_counts(clean_database: str, clock: FrozenClock) -> None:
    engines = [make_engine(clean_database), make_engine(clean_database)]
    try:
        one, other = (Steps(engine, make_throttle(clock)) for engine in engines)
        for _ in range(3):
            one.fail(one.throttle.attempt(account="account:a@example.nl", address="192.0.2.1"))

        with pytest.raises(TooManyAttempts):
            other.begin(other.throttle.attempt(account="account:a@example.nl", address="192.0.2.1"))
    finally:
        for engine in engines:
            engine.dispose()


def test_attempts_in_flight_count_against_the_limit(engine: Engine, clock: FrozenClock) -> None:
    throttle = make_throttle(clock)
    steps = Steps(engine, throttle)
    attempt = throttle.attempt(account="account:a@example.nl", address="192.0.2.1")
    for _ in range(3):
        steps.begin(attempt)  # three guesses being checked at once

    with pytest.raises(TooManyAttempts) as busy:
        steps.begin(attempt)
    assert busy.value.retry_after_seconds == 1
    with transaction(engine) as session:
        throttle.succeeded(session, attempt)
    steps.begin(attempt)


def test_attempts_left_running_by_a_dead_process_end_with_the_window(
    engine: Engine, clock: FrozenClock
) -> None:
    throttle = make_throttle(clock)
    steps = Steps(engine, throttle)
    attempt = throttle.attempt(account="account:a@example.nl", address="192.0.2.1")
    for _ in range(3):
        steps.begin(attempt)  # never finished

    clock.advance(seconds=61)

    steps.succeed(attempt)


def test_an_account_is_locked_by_guesses_from_many_addresses(
    engine: Engine, clock: FrozenClock
) -> None:
    throttle = make_throttle(clock)
    steps = Steps(engine, throttle)
    for n in range(5):
        steps.fail(throttle.attempt(account="account:a@example.nl", address=f"198.51.100.{n}"))

    with pytest.raises(TooManyAttempts):
        steps.begin(throttle.attempt(account="account:a@example.nl", address="203.0.113.9"))


def test_an_address_is_locked_only_at_its_much_higher_limit(
    engine: Engine, clock: FrozenClock
) -> None:
    throttle = make_throttle(clock)
    steps = Steps(engine, throttle)
    for n in range(7):
        steps.fail(throttle.attempt(account=f"account:{n}@example.nl", address="192.0.2.1"))
    steps.succeed(throttle.attempt(account="account:x@example.nl", address="192.0.2.1"))
    steps.fail(throttle.attempt(account="account:7@example.nl", address="192.0.2.1"))

    with pytest.raises(TooManyAttempts):
        steps.begin(throttle.attempt(account="account:x@example.nl", address="192.0.2.1"))
    steps.begin(throttle.attempt(account="account:x@example.nl", address="192.0.2.2"))


def test_the_table_holds_no_account_name_or_address(engine: Engine, clock: FrozenClock) -> None:
    throttle = make_throttle(clock)
    Steps(engine, throttle).fail(
        throttle.attempt(account="account:sanne@example.nl", address="192.0.2.1")
    )

    with transaction(engine, write=False) as session:
        records = session.exec(select(LoginThrottleRecord)).all()
    assert len(records) == 3
    stored = repr([record.model_dump() for record in records])
    assert "sanne" not in stored
    assert "192.0.2.1" not in stored


def test_retention_deletes_records_once_their_window_and_lock_are_over(
    engine: Engine, clock: FrozenClock
) -> None:
    throttle = make_throttle(clock)
    steps = Steps(engine, throttle)
    locked = throttle.attempt(account="account:locked@example.nl", address="192.0.2.1")
    for _ in range(3):
        steps.fail(locked)
    steps.fail(throttle.attempt(account="account:once@example.nl", address="192.0.2.2"))

    clock.advance(seconds=61)  # the windows are over; the lock (120 s) is not
    with transaction(engine) as session:
        report = apply_retention(session, retention_days=365, clock=clock)

    # Everything but the locked pair: "once" (pair, account, address), and the account and
    # address of "locked", which stayed under their limits.
    assert report.login_throttle_records == 5
    with pytest.raises(TooManyAttempts):
        steps.begin(locked)
    clock.advance(seconds=60)
    with transaction(engine) as session:
        assert apply_retention(session, retention_days=365, clock=clock).login_throttle_records
    with transaction(engine, write=False) as session:
        assert session.exec(select(LoginThrottleRecord)).all() == []
