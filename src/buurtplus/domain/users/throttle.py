"""Refuse logins for a while after repeated failures, per account and per client address.

Counts live in this process: with several server processes each keeps its own.
"""

import math
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from buurtplus.clock import Clock
from buurtplus.domain.errors import TooManyAttempts


@dataclass
class _Record:
    failures: deque[datetime] = field(default_factory=deque)
    locked_until: datetime | None = None


class LoginThrottle:
    def __init__(
        self, *, clock: Clock, max_failures: int, window_seconds: int, lockout_seconds: int
    ) -> None:
        self._clock = clock
        self._max_failures = max_failures
        self._window = timedelta(seconds=window_seconds)
        self._lockout = timedelta(seconds=lockout_seconds)
        self._records: dict[str, _Record] = {}
        self._lock = threading.Lock()

    def check(self, *keys: str) -> None:
        now = self._clock.now()
        with self._lock:
            waits = [
                (record.locked_until - now).total_seconds()
                for key in keys
                if (record := self._records.get(key)) and record.locked_until
                if record.locked_until > now
            ]
        if waits:
            raise TooManyAttempts("Too many failed logins. Try again later.", math.ceil(max(waits)))

    # Attackers choose the account names; past this many records, forget the settled ones.
    MAX_RECORDS = 10_000

    def record_failure(self, *keys: str) -> None:
        now = self._clock.now()
        with self._lock:
            if len(self._records) >= self.MAX_RECORDS:
                self._forget_settled(now)
            for key in keys:
                record = self._records.setdefault(key, _Record())
                record.failures.append(now)
                while record.failures and record.failures[0] <= now - self._window:
                    record.failures.popleft()
                if len(record.failures) >= self._max_failures:
                    record.locked_until = now + self._lockout
                    record.failures.clear()

    def _forget_settled(self, now: datetime) -> None:
        for key, record in list(self._records.items()):
            locked = record.locked_until is not None and record.locked_until > now
            recent = bool(record.failures) and record.failures[-1] > now - self._window
            if not (locked or recent):
                del self._records[key]

    def record_success(self, key: str) -> None:
        with self._lock:
            self._records.pop(key, None)
