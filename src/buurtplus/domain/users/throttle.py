"""Refuse sign-ins for a while after repeated failures.

Three counts are kept for every attempt, each with its own limit:
- the account from this address (low: someone guessing one account from one place);
- the account from any address (higher: guesses spread over many addresses);
- the address for any account (much higher: one fuzzer, or everyone at a community centre's
  shared connection, does not lock out every account used there after a few typos).

The counts live in the database, so every server process behind a load balancer sees the same
ones. Each is a fixed window that starts with its first attempt; reaching the limit locks the
key for the lockout period. An attempt is counted when it starts, so parallel guesses cannot
all slip past the limit while their passwords are being checked. Keys are stored as keyed
hashes (HMAC-SHA256), never as an e-mail address, client id or IP address; records that say
nothing any more are deleted by retention.
"""

import hashlib
import hmac
import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from buurtplus.core.clock import Clock
from buurtplus.core.errors import TooManyAttempts
from buurtplus.domain.users.models import LoginThrottleRecord


@dataclass(frozen=True)
class Count:
    key: str  # the keyed hash
    limit: int


@dataclass(frozen=True)
class LoginAttempt:
    """The three counts one sign-in attempt is held against."""

    pair: Count
    account: Count
    address: Count

    @property
    def counts(self) -> tuple[Count, Count, Count]:
        return (self.pair, self.account, self.address)


class LoginThrottle:
    def __init__(
        self,
        *,
        clock: Clock,
        secret: bytes,
        max_failures: int,
        account_max_failures: int,
        address_max_failures: int,
        window_seconds: int,
        lockout_seconds: int,
    ) -> None:
        self._clock = clock
        # A key of its own, derived from the given secret: the hashes are of no use elsewhere.
        self._key = hmac.new(secret, b"buurtplus login throttle", hashlib.sha256).digest()
        self._max_failures = max_failures
        self._account_max_failures = account_max_failures
        self._address_max_failures = address_max_failures
        self._window = timedelta(seconds=window_seconds)
        self._lockout = timedelta(seconds=lockout_seconds)

    def attempt(self, *, account: str, address: str) -> LoginAttempt:
        """`account` names the account as normalised (e-mail or client id), `address` the
        client's address."""
        return LoginAttempt(
            pair=Count(self._hash("pair", account, address), self._max_failures),
            account=Count(self._hash("account", account), self._account_max_failures),
            address=Count(self._hash("address", address), self._address_max_failures),
        )

    def begin(self, session: Session, attempt: LoginAttempt) -> None:
        """Count an attempt against each of its keys, or refuse it (TooManyAttempts)."""
        now = self._clock.now()
        records = self._records(session, attempt.counts, now)
        waits = []
        for count, record in records:
            if record.locked_until is not None:
                waits.append(math.ceil((record.locked_until - now).total_seconds()))
            elif record.failures + record.in_flight >= count.limit:
                waits.append(1)  # attempts still being checked may free the way
        if waits:
            raise TooManyAttempts("Too many failed logins. Try again later.", max(waits))
        for _, record in records:
            record.in_flight += 1
            self._store(session, record)

    def failed(self, session: Session, attempt: LoginAttempt) -> None:
        now = self._clock.now()
        for count, record in self._records(session, attempt.counts, now):
            record.in_flight = max(0, record.in_flight - 1)
            record.failures += 1
            if record.failures >= count.limit:
                record.locked_until = now + self._lockout
                record.failures = 0
            self._store(session, record)

    def succeeded(self, session: Session, attempt: LoginAttempt) -> None:
        """The account's own counts start afresh; the address only has one attempt less
        running (a success from an address does not forgive that address's failures)."""
        now = self._clock.now()
        session.execute(
            delete(LoginThrottleRecord).where(
                col(LoginThrottleRecord.key).in_([attempt.pair.key, attempt.account.key])
            )
        )
        for _, record in self._records(session, [attempt.address], now):
            record.in_flight = max(0, record.in_flight - 1)
            self._store(session, record)

    def _hash(self, *parts: str) -> str:
        message = "\x00".join(parts).encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def _records(
        self, session: Session, counts: Iterable[Count], now: datetime
    ) -> list[tuple[Count, LoginThrottleRecord]]:
        """The records of these keys, created where missing, locked for this transaction
        (in key order, so two attempts never wait on each other), and with a window or lock
        that has run out already reset."""
        by_key = {count.key: count for count in counts}
        keys = sorted(by_key)
        insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        session.execute(
            insert(LoginThrottleRecord)
            .values(
                [
                    {
                        "key": key,
                        "failures": 0,
                        "in_flight": 0,
                        "window_started_at": now,
                        "locked_until": None,
                        "expires_at": now + self._window,
                    }
                    for key in keys
                ]
            )
            .on_conflict_do_nothing(index_elements=["key"])
        )
        records = session.exec(
            select(LoginThrottleRecord)
            .where(col(LoginThrottleRecord.key).in_(keys))
            .order_by(col(LoginThrottleRecord.key))
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        for record in records:
            if record.locked_until is not None and record.locked_until <= now:
                record.locked_until = None
            if record.window_started_at + self._window <= now:
                # In-flight counts end with the window too: a process that died while checking
                # a password cannot hold a key for longer than that.
                record.failures = 0
                record.in_flight = 0
                record.window_started_at = now
        return [(by_key[record.key], record) for record in records]

    def _store(self, session: Session, record: LoginThrottleRecord) -> None:
        ends = record.window_started_at + self._window
        record.expires_at = max(ends, record.locked_until) if record.locked_until else ends
        session.add(record)
        session.flush()


def purge_settled_records(session: Session, *, now: datetime) -> int:
    """Delete the records whose window and lock are over (they would be reset on next use)."""
    result = session.execute(
        delete(LoginThrottleRecord).where(col(LoginThrottleRecord.expires_at) <= now)
    )
    return int(getattr(result, "rowcount", 0) or 0)
