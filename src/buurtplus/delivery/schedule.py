"""When to try again (the Standard Webhooks / Svix schedule) and what a response means."""

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from buurtplus.delivery.sender import AttemptResult

# Waits before the 2nd, 3rd, ... attempt; after the last one the delivery is dead.
RETRY_SCHEDULE: tuple[timedelta, ...] = (
    timedelta(seconds=5),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=10),
)
# A receiver that is overloaded (429) or slow (timeout) gets at least this long.
BACKOFF_FLOOR = timedelta(seconds=60)
# A Retry-After beyond this is not believed.
RETRY_AFTER_CAP = timedelta(hours=10)
JITTER = 0.1


@dataclass(frozen=True)
class Verdict:
    succeeded: bool = False
    # The endpoint said it is gone for good (410).
    disable_endpoint: bool = False
    # None: no more attempts, the delivery is dead.
    retry_in: timedelta | None = None


def judge(
    result: AttemptResult,
    *,
    attempts_made: int,
    schedule: tuple[timedelta, ...] = RETRY_SCHEDULE,
    jitter: Callable[[], float] | None = None,
) -> Verdict:
    """What to do after attempt number `attempts_made` (1-based) ended with `result`;
    `jitter` gives the spread (tests pass a fixed one)."""
    if result.succeeded:
        return Verdict(succeeded=True)
    if result.status_code == 410:
        return Verdict(disable_endpoint=True)
    if attempts_made > len(schedule):
        return Verdict()
    spread = jitter() if jitter else random.uniform(-JITTER, JITTER)  # noqa: S311
    wait = schedule[attempts_made - 1] * (1 + spread)
    if result.status_code == 429 or result.timed_out:
        wait = max(wait, BACKOFF_FLOOR)
    if result.retry_after is not None:
        wait = max(wait, min(timedelta(seconds=result.retry_after), RETRY_AFTER_CAP))
    return Verdict(retry_in=wait)
