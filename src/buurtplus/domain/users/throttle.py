"""Refuse logins for a while after repeated failures, per account and per client address.

An attempt is counted when it starts, so parallel guesses cannot all slip past the limit while
their passwords are being checked. Counts live in this process: each server process keeps its
own.
"""

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from buurtplus.core.clock import Clock
from buurtplus.core.errors import TooManyAttempts


@dataclass
class _Record:
    failures: deque[datetime] = field(default_factory=deque)
    in_flight: int = 0
    locked_until: datetime | None = None


class LoginThrottle:
    # Attackers choose the account names; past this many records, forget the settled ones.
    MAX_RECORDS = 10_000

    def __init__(
        self, *, clock: Clock, max_failures: int, window_seconds: int, lockout_seconds: int
    ) -> None:
        self._clock = clock
        self._max_failures = max_failures
        self._window = timedelta(seconds=window_seconds)
        self._lockout = timedelta(seconds=lockout_seconds)
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def begin(self, *keys: str) -> None:
        """Count an attempt for each key, or refuse it (TooManyAttempts)."""
        now = self._clock.now()
        with self._lock:
            if len(self._records) >= self.MAX_RECORDS:
                self._forget_settled(now)
            waits = []
            for key in keys:
                record = self._records.setdefault(key, _Record())
                self._expire(record, now)
                if record.locked_until is not None:
                    waits.append(math.ceil((record.locked_until - now).total_seconds()))
                elif len(record.failures) + record.in_flight >= self._max_failures:
                    waits.append(1)  # attempts still being checked may free the way
            if waits:
                raise TooManyAttempts("Too many failed logins. Try again later.", max(waits))
            for key in keys:
                self._records[key].in_flight += 1

    def failed(self, *keys: str) -> None:
        now = self._clock.now()
        with self._lock:
            for key in keys:
                record = self._records.setdefault(key, _Record())
                record.in_flight = max(0, record.in_flight - 1)
                record.failures.append(now)
                self._expire(record, now)
                if len(record.failures) >= self._max_failures:
                    record.locked_until = now + self._lockout
                    record.failures.clear()

    def succeeded(self, account_key: str, *other_keys: str) -> None:
        with self._lock:
            self._records.pop(account_key, None)
            for key in other_keys:
                if (record := self._records.get(key)) is not None:
                    record.in_flight = max(0, record.in_flight - 1)

    def _expire(self, record: _Record, now: datetime) -> None:
        while record.failures and record.failures[0] <= now - self._window:
            record.failures.popleft()
        if record.locked_until is not None and record.locked_until <= now:
            record.locked_until = None

    def _forget_settled(self, now: datetime) -> None:
        for key, record in list(self._records.items()):
            self._expire(record, now)
            if not (record.failures or record.in_flight or record.locked_until):
                del self._records[key]
