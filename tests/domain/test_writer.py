"""The group-committing writer: many callers' jobs in one commit, each failing on its own."""

import asyncio
import gc
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import Future as ConcurrentFuture
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, insert, select
from sqlalchemy.exc import IntegrityError

from buurtplus.core import writer as writer_module
from buurtplus.core.audit.models import AuditEvent
from buurtplus.core.db import make_engine
from buurtplus.core.writer import Writer, WriterStopped

AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]


class Note:
    """A batch job: one audit row with a chosen id (a taken id conflicts)."""

    def __init__(self, row_id: uuid.UUID) -> None:
        self.row_id = row_id

    def __call__(self, connection: Connection) -> None:
        self.store_all(connection, [self])

    @classmethod
    def store_all(cls, connection: Connection, jobs: list[Any]) -> None:
        connection.execute(
            insert(AUDIT),
            [
                {
                    "id": job.row_id,
                    "created_at": datetime.now(UTC),
                    "action": "test.note",
                    "object_type": "test",
                    "details": {},
                }
                for job in jobs
            ],
        )


class PlainNote:
    """The same row as a job that stores only itself (no `store_all`), as a claim is."""

    def __init__(self, row_id: uuid.UUID) -> None:
        self.row_id = row_id

    def __call__(self, connection: Connection) -> None:
        Note.store_all(connection, [self])


def _count(writer_url: str) -> int:
    engine = make_engine(writer_url)
    try:
        with engine.connect() as connection:
            return int(
                connection.execute(
                    select(func.count()).select_from(AUDIT).where(AUDIT.c.action == "test.note")
                ).scalar_one()
            )
    finally:
        engine.dispose()


def _in_one_group(writer: Writer, jobs: list[Any]) -> dict[int, object]:
    """Run `jobs` in one group of `writer` (queued while it holds a job of its own): each
    job's result or exception by its place, the held job's at -1."""
    gate = threading.Event()
    holding = threading.Event()
    outcomes: dict[int, object] = {}

    def hold(connection: Connection) -> str:
        holding.set()
        gate.wait(30)  # keeps the writer busy while the next group queues up
        return "held"

    def call(n: int, job: Any) -> None:
        try:
            outcomes[n] = writer.run(job)
        except Exception as exc:
            outcomes[n] = exc

    first = threading.Thread(target=call, args=(-1, hold))
    first.start()
    assert holding.wait(30)  # the writer is in the held job's group, alone
    callers = [threading.Thread(target=call, args=(n, job)) for n, job in enumerate(jobs)]
    for caller in callers:
        caller.start()
    for _ in range(3000):  # the jobs queue up behind it
        if writer.waiting() == len(jobs):
            break
        gate.wait(0.01)
    assert writer.waiting() == len(jobs)
    gate.set()
    for thread in [first, *callers]:
        thread.join(30)
    return outcomes


@pytest.mark.parametrize("kind", [Note, PlainNote], ids=["batch jobs", "plain jobs"])
def test_one_failing_job_fails_alone_and_the_rest_of_its_group_commits(
    clean_database: str, kind: type[Note] | type[PlainNote]
) -> None:
    engine = make_engine(clean_database)
    writer = Writer(engine)
    taken = uuid.uuid4()
    writer.run(kind(taken))
    jobs: list[Any] = [kind(uuid.uuid4()) for _ in range(9)]
    jobs.insert(4, kind(taken))

    outcomes = _in_one_group(writer, jobs)
    writer.stop()
    engine.dispose()

    assert outcomes[-1] == "held"
    assert isinstance(outcomes[4], IntegrityError)
    assert [outcomes[n] for n in range(10) if n != 4] == [None] * 9
    # The nine good notes and the first one are stored; the duplicate is not.
    assert _count(clean_database) == 10
    # One commit each for the first note and the held job, one for the group of ten.
    assert writer.commits == 3


def test_a_group_runs_in_one_savepoint_and_a_report_conflict_runs_no_plain_job_twice(
    clean_database: str,
) -> None:
    engine = make_engine(clean_database)
    savepoints: list[str] = []
    event.listen(
        engine,
        "before_cursor_execute",
        lambda _c, _cur, statement, *_: (
            statement.startswith("SAVEPOINT") and savepoints.append(statement)
        ),
    )
    writer = Writer(engine)
    taken = uuid.uuid4()
    writer.run(Note(taken))
    calls: list[uuid.UUID] = []

    class Counted(PlainNote):
        def __call__(self, connection: Connection) -> None:
            calls.append(self.row_id)
            super().__call__(connection)

    plain = [Counted(uuid.uuid4()) for _ in range(6)]
    savepoints.clear()
    _in_one_group(writer, plain)
    in_one = len(savepoints)
    # Plain jobs with batch jobs, one of which conflicts: the group is stored again job by job.
    calls.clear()
    second = [Counted(uuid.uuid4()), Note(uuid.uuid4()), Note(taken), Counted(uuid.uuid4())]
    outcomes = _in_one_group(writer, second)
    writer.stop()
    engine.dispose()

    assert in_one == 1 + 1  # the held job's group, then one for the six
    assert isinstance(outcomes[2], IntegrityError)
    assert [outcomes[n] for n in (0, 1, 3)] == [None] * 3
    # The conflict met first: each plain job ran once, in its own savepoint.
    assert sorted(calls) == sorted([second[0].row_id, second[3].row_id])
    assert _count(clean_database) == 1 + 6 + 3


class Announcing(Note):
    announces = True


def test_only_a_group_with_an_announcing_job_runs_the_after_commit_hook(
    clean_database: str,
) -> None:
    engine = make_engine(clean_database)
    woken: list[int] = []
    writer = Writer(engine, after_commit=lambda: woken.append(1))
    writer.run(Note(uuid.uuid4()))
    assert woken == []
    writer.run(Announcing(uuid.uuid4()))
    writer.stop()
    engine.dispose()
    assert woken == [1]


def test_a_stopped_writer_stores_what_it_took_and_refuses_more(clean_database: str) -> None:
    engine = make_engine(clean_database)
    writer = Writer(engine)
    writer.run(Note(uuid.uuid4()))
    writer.stop()

    with pytest.raises(WriterStopped):
        writer.run(Note(uuid.uuid4()))
    engine.dispose()
    assert _count(clean_database) == 1


def test_submit_waits_on_the_event_loop_and_a_cancelled_caller_still_gets_its_rows_stored(
    clean_database: str,
) -> None:
    engine = make_engine(clean_database)
    writer = Writer(engine)
    taken = uuid.uuid4()
    gate = threading.Event()

    def hold(connection: Connection) -> str:
        gate.wait(30)
        return "held"

    async def scenario() -> tuple[list[object], int]:
        # Many callers on one loop share a group; the loop stays free while they wait.
        results = await asyncio.gather(
            writer.submit(Note(taken)),
            *(writer.submit(Note(uuid.uuid4())) for _ in range(5)),
            return_exceptions=True,
        )
        duplicate = await asyncio.gather(writer.submit(Note(taken)), return_exceptions=True)
        held = asyncio.ensure_future(writer.submit(hold))
        abandoned = asyncio.ensure_future(writer.submit(Note(uuid.uuid4())))
        await asyncio.sleep(0.05)
        abandoned.cancel()  # the client went away while its report waited for the writer
        ticks = 0
        while ticks < 5:  # the loop runs on while the writer is held
            await asyncio.sleep(0.01)
            ticks += 1
        gate.set()
        return [*results, *duplicate, await held], ticks

    outcomes, ticks = asyncio.run(scenario())
    writer.stop()
    engine.dispose()

    assert ticks == 5
    assert outcomes[:6] == [None] * 6
    assert isinstance(outcomes[6], IntegrityError)
    assert outcomes[7] == "held"
    # Six notes, and the abandoned caller's: handed in is stored.
    assert _count(clean_database) == 7


def test_a_job_submitted_from_the_event_loop_leaves_no_reference_cycle(
    clean_database: str,
) -> None:
    """Every report waits through `submit`: what it leaves in reference cycles (its futures,
    their locks, callbacks) is freed only by the garbage collector's passes, which a server
    makes seldom (main.settle_long_lived_objects). It must leave none."""
    engine = make_engine(clean_database)
    writer = Writer(engine)
    flags, enabled = gc.get_debug(), gc.isenabled()

    async def reports() -> list[str]:
        await writer.submit(Note(uuid.uuid4()))  # the loop's and the writer's own start
        gc.collect()
        gc.disable()
        gc.set_debug(gc.DEBUG_SAVEALL)  # what a pass finds unreachable is kept to be seen
        try:
            already = len(gc.garbage)
            for _ in range(20):
                await writer.submit(Note(uuid.uuid4()))
            gc.collect()
            # Only the waiting's own objects: other threads of the process may leave theirs.
            return [
                type(thing).__name__
                for thing in gc.garbage[already:]
                if isinstance(thing, ConcurrentFuture | asyncio.Future)
            ]
        finally:
            gc.set_debug(flags)
            gc.garbage.clear()
            if enabled:
                gc.enable()

    left = asyncio.run(reports())
    writer.stop()
    engine.dispose()

    assert _count(clean_database) == 21
    assert left == []


class Naps:
    """The writer's clock with its sleeps counted (and a flag raised while it sleeps)."""

    def __init__(self) -> None:
        self.count = 0
        self.sleeping = threading.Event()

    def monotonic(self) -> float:
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        self.count += 1
        self.sleeping.set()
        time.sleep(seconds)


@pytest.fixture
def busy_writer(
    clean_database: str, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Writer, Naps]]:
    """A writer whose last group had two jobs (jobs are coming), with long gathering steps."""
    naps = Naps()
    monkeypatch.setattr(writer_module, "time", naps)
    writer = Writer(make_engine(clean_database), gather_s=60.0, gather_step_s=1.0)
    gate, holding = threading.Event(), threading.Event()

    def hold(connection: Connection) -> None:
        holding.set()
        gate.wait(30)

    held = writer._hand_in(hold)
    assert holding.wait(30)
    pair = [writer._hand_in(Note(uuid.uuid4())) for _ in range(2)]
    gate.set()
    for future in [held, *pair]:
        future.result(30)
    assert (writer.commits, writer.jobs) == (2, 3)
    yield writer, naps
    writer.stop()
    writer._engine.dispose()


def test_a_lone_job_is_committed_without_waiting(
    clean_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    naps = Naps()
    monkeypatch.setattr(writer_module, "time", naps)
    engine = make_engine(clean_database)
    writer = Writer(engine, gather_s=60.0, gather_step_s=1.0)
    try:
        for _ in range(3):
            writer.run(Note(uuid.uuid4()))
        assert (writer.commits, naps.count) == (3, 0)
    finally:
        writer.stop()
        engine.dispose()


def test_while_jobs_keep_coming_a_group_waits_for_more(
    clean_database: str, busy_writer: tuple[Writer, Naps]
) -> None:
    writer, naps = busy_writer
    # The next job waits for more: one handed in while it waits shares its commit, and the
    # group is committed once a step passes with nothing new.
    first = writer._hand_in(Note(uuid.uuid4()))
    assert naps.sleeping.wait(30)
    second = writer._hand_in(Note(uuid.uuid4()))
    first.result(30)
    second.result(30)
    assert (writer.commits, writer.jobs) == (3, 5)
    assert naps.count == 2  # the step that brought the second, and one that brought none
    assert _count(clean_database) == 4


def test_after_a_quiet_spell_a_job_is_committed_without_waiting(
    busy_writer: tuple[Writer, Naps],
) -> None:
    writer, naps = busy_writer
    writer._gather_s = 0.05  # quiet for longer than a group would gather
    time.sleep(0.2)
    writer.run(Note(uuid.uuid4()))
    assert (writer.commits, naps.count) == (3, 0)


def test_a_stop_while_a_group_waits_for_more_stores_it_and_ends_the_writer(
    clean_database: str, busy_writer: tuple[Writer, Naps]
) -> None:
    writer, naps = busy_writer
    thread = writer._thread
    assert thread is not None
    waiting = writer._hand_in(Note(uuid.uuid4()))
    assert naps.sleeping.wait(30)
    writer.stop(timeout=30)
    assert not thread.is_alive()  # ended after its step, not after the 60 s of gathering
    waiting.result(0)
    assert _count(clean_database) == 3
    with pytest.raises(WriterStopped):
        writer.run(Note(uuid.uuid4()))
