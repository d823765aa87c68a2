"""The group-committing writer: one thread runs the write jobs handed to it, many in one
transaction, each in a savepoint of its own (DESIGN.md section 8).

A request that hands its rows here does its reads and checks first, without holding the
database's write turn; the writer then stores many requests' rows per commit. On SQLite that
means one `BEGIN IMMEDIATE` and one commit for a whole group instead of one per request, and no
request thread waits in SQLite's busy handler. A job that fails (a unique key taken by a
concurrent retry, say) rolls back its own savepoint only; the others in its group commit.
A caller's `run` returns only after the commit, so a 2xx still means the rows are stored.

`after_commit` runs after a group in which a stored job `announces` something (a report
with deliveries wakes the delivery workers); a worker's own claims and results announce
nothing, or every claim would wake the workers to claim again.

A group is first run in one savepoint, jobs of a kind that can store many at once (`Batch`:
many reports, say) together, a few multi-row inserts for the whole group; only if that fails
is each job of the group run in a savepoint of its own, so the one at fault fails alone.

Under load a group waits a few milliseconds for more jobs while they keep coming (at most
GATHER_S); a job that comes alone, or after a quiet spell, is committed at once.
"""

import asyncio
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeGuard, TypeVar

from sqlalchemy import Connection, Engine

from buurtplus.core.db import WRITE_TRANSACTION

log = logging.getLogger("buurtplus.writer")

T = TypeVar("T")
Job = Callable[[Connection], Any]

# Most jobs stored per commit: enough to drain a burst, small enough that the first waits little.
MAX_GROUP = 64
# While jobs keep coming, a group waits for more in steps of GATHER_STEP_S, for at most
# GATHER_S in all (see `Writer._loop`).
GATHER_S = 0.010
GATHER_STEP_S = 0.002


class GroupWriter(Protocol):
    """What a caller needs of the writer: run a job in its next commit."""

    def run(self, job: Callable[[Connection], T]) -> T: ...


class Batch(Protocol):
    """A job that can be stored together with the other jobs of its type in the group."""

    def __call__(self, connection: Connection) -> None: ...

    @classmethod
    def store_all(cls, connection: Connection, jobs: list[Any]) -> None: ...


def _is_batch(job: Job) -> TypeGuard[Batch]:
    """Whether `job` is a `Batch`, told by its class's `store_all`: `isinstance` against a
    runtime-checkable protocol costs several microseconds a job, on the writer's thread."""
    return getattr(type(job), "store_all", None) is not None


@dataclass
class _Pending:
    job: Job
    future: "Future[Any]" = field(default_factory=Future)


def _copy_outcome(done: "Future[Any]", waiter: "asyncio.Future[Any]") -> None:
    if waiter.done():
        return
    if (error := done.exception()) is not None:
        waiter.set_exception(error)
    else:
        waiter.set_result(done.result())


class WriterStopped(RuntimeError):
    """The writer was stopped (the service is shutting down) before it took the job."""


class Writer:
    def __init__(
        self,
        engine: Engine,
        *,
        after_commit: Callable[[], None] | None = None,
        max_group: int = MAX_GROUP,
        gather_s: float = GATHER_S,
        gather_step_s: float = GATHER_STEP_S,
    ) -> None:
        self._engine = engine
        self._after_commit = after_commit
        self._max_group = max_group
        self._gather_s = gather_s
        self._gather_step_s = gather_step_s
        self._queue: queue.SimpleQueue[_Pending | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._stopped = False
        self._lock = threading.Lock()
        self.commits = 0
        self.jobs = 0

    def start(self) -> None:
        with self._lock:
            if self._thread is not None or self._stopped:
                return
            self._thread = threading.Thread(target=self._loop, name="buurtplus-writer", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Store what was handed in already, then stop."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopped = True
            # Under the lock: no job is handed in after the stop marker.
            self._queue.put(None)
        if thread is not None:
            thread.join(timeout)

    def waiting(self) -> int:
        """Jobs handed in and not yet taken into a group."""
        return self._queue.qsize()

    def run(self, job: Callable[[Connection], T]) -> T:
        """Run `job` in the writer's next group and return its result once that group has
        committed; its exception if it failed (its savepoint was rolled back) or the commit did."""
        result: T = self._hand_in(job).result()
        return result

    async def submit(self, job: Callable[[Connection], T]) -> T:
        """`run` for the event loop: waits for the commit without holding a thread. A request
        cancelled meanwhile (the client went away) does not take the job back: like `run`, what
        was handed in is stored, and a retry with the same key finds it."""
        done: Future[Any] = self._hand_in(job)
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[T] = loop.create_future()

        # The finished future comes as the argument: a callback that named `done` itself would
        # make a reference cycle (the future holds its callbacks) of every report's futures,
        # locks and closures, left for the garbage collector's passes (docs/performance.md).
        def settle(finished: "Future[Any]") -> None:
            loop.call_soon_threadsafe(_copy_outcome, finished, waiter)

        done.add_done_callback(settle)
        return await waiter

    def _hand_in(self, job: Job) -> "Future[Any]":
        if self._thread is None:
            self.start()  # on first use, also where no lifespan ran (a bare test client)
        pending = _Pending(job)
        with self._lock:
            if self._stopped:
                raise WriterStopped("the writer has stopped: the service is shutting down")
            self._queue.put(pending)
        return pending.future

    def _loop(self) -> None:
        stopping = False
        busy = False
        committed = 0.0  # when the last group committed (monotonic)
        while not stopping:
            first = self._queue.get()
            group: list[_Pending] = []
            if first is None:
                stopping = True
            else:
                group.append(first)
            # Whatever queued while the last group committed goes in this one. While jobs keep
            # coming (the last group had several and committed moments ago), the group then
            # waits a moment for more: a commit costs as much as storing several reports, and
            # a writer that commits what it has at once took 2.7 jobs per commit under intake
            # load and spent nearly as much time as the requests (docs/performance.md). A job
            # that comes alone, or after a quiet spell, is stored at once.
            stopping = self._take_waiting(group) or stopping
            if busy and not stopping and time.monotonic() - committed < self._gather_s:
                stopping = self._gather(group)
            if group:
                busy = len(group) > 1
                self._commit_group(group)
                committed = time.monotonic()

    def _gather(self, group: list[_Pending]) -> bool:
        """Wait for more jobs while they keep coming, up to `gather_s`; whether the stop came."""
        until = time.monotonic() + self._gather_s
        while len(group) < self._max_group and (left := until - time.monotonic()) > 0:
            had = len(group)
            time.sleep(min(self._gather_step_s, left))
            if self._take_waiting(group):
                return True
            if len(group) == had:
                break
        return False

    def _take_waiting(self, group: list[_Pending]) -> bool:
        """Add what is waiting to `group`, up to the most per group; whether the stop came."""
        while len(group) < self._max_group:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return False
            if item is None:
                return True
            group.append(item)
        return False

    def _commit_group(self, group: list[_Pending]) -> None:
        outcomes: list[tuple[_Pending, bool, Any]] = []
        try:
            with self._engine.connect() as connection:
                writing = connection.execution_options(**{WRITE_TRANSACTION: True})
                with writing.begin():
                    outcomes = self._together(writing, group) or self._one_by_one(writing, group)
        except Exception as exc:  # nothing of the group is stored
            log.exception("a group of writes failed to commit")
            for pending in group:
                pending.future.set_exception(exc)
            return
        self.commits += 1
        self.jobs += len(group)
        if self._after_commit is not None and any(
            getattr(pending.job, "announces", False) for pending, ok, _ in outcomes if ok
        ):
            try:
                self._after_commit()
            except Exception:
                log.exception("after-commit hook failed")
        for pending, ok, value in outcomes:
            if ok:
                pending.future.set_result(value)
            else:
                pending.future.set_exception(value)

    @staticmethod
    def _together(
        connection: Connection, group: list[_Pending]
    ) -> list[tuple[_Pending, bool, Any]] | None:
        """Run the group in one savepoint, with one call per kind of batch job; None if any
        of it failed (nothing of it is kept then). The batch jobs first: a report's conflict
        (a concurrent retry) is the usual failure, and met before any plain job has run, no
        plain job runs twice (its log lines and counts would)."""
        if len(group) == 1:
            return None
        kinds: dict[type[Batch], list[Batch]] = {}
        for pending in group:
            if _is_batch(pending.job):
                kinds.setdefault(type(pending.job), []).append(pending.job)
        savepoint = connection.begin_nested()
        try:
            for kind, jobs in kinds.items():
                kind.store_all(connection, jobs)
            results: list[tuple[_Pending, bool, Any]] = [
                (pending, True, None if _is_batch(pending.job) else pending.job(connection))
                for pending in group
            ]
        except Exception:
            savepoint.rollback()
            return None
        savepoint.commit()
        return results

    @staticmethod
    def _one_by_one(
        connection: Connection, group: list[_Pending]
    ) -> list[tuple[_Pending, bool, Any]]:
        outcomes: list[tuple[_Pending, bool, Any]] = []
        for pending in group:
            savepoint = connection.begin_nested()
            try:
                result = pending.job(connection)
            except Exception as exc:  # handed to the caller
                savepoint.rollback()
                outcomes.append((pending, False, exc))
            else:
                savepoint.commit()
                outcomes.append((pending, True, result))
        return outcomes
