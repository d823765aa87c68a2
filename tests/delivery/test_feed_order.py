"""The pull feed under concurrent writers: a partner reading with its cursor while many
transactions write its events (some slow to commit, some rolled back) sees every committed
event exactly once, in one stable order, and nothing that was rolled back."""

import json
import random
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.clock import SystemClock
from buurtplus.core.db import make_engine, transaction
from buurtplus.core.errors import InvalidCursor
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from buurtplus.domain.webhooks.feed import read_events
from buurtplus.migrate import upgrade
from buurtplus.models import metadata
from buurtplus.outbox.events import enqueue_event
from buurtplus.outbox.models import EventType
from tests.fixtures.databases import (
    fresh_postgres_database,
    postgres_base_url,
    settle_event_feed,
)
from tests.fixtures.factories import Factory

BACKENDS = ["sqlite"] + (["postgresql"] if postgres_base_url() else [])
EVENTS = "/api/v1/partner/events"
WRITERS = 8
TRANSACTIONS_PER_WRITER = 6
# After the writers are done, how long the reader may take to catch up (on PostgreSQL the
# feed also waits for other transactions on the same server to end).
CATCH_UP_SECONDS = 120


def scratch_url(backend: str, tmp_path: Path, name: str) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / f'{name}.db'}"
    base = postgres_base_url()
    assert base is not None
    return fresh_postgres_database(base, name)


@dataclass
class Written:
    """What the writers did: events of committed transactions, per writer in commit order."""

    committed: dict[int, list[str]] = field(default_factory=dict)
    rolled_back: set[str] = field(default_factory=set)
    failures: list[BaseException] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class ChangedItsMind(Exception):
    pass


def write(engine: Engine, partner_id: uuid.UUID, writer: int, written: Written) -> None:
    try:
        write_transactions(engine, partner_id, writer, written)
    except BaseException as exc:  # shown by the test, not lost in the thread
        written.failures.append(exc)


def write_transactions(
    engine: Engine, partner_id: uuid.UUID, writer: int, written: Written
) -> None:
    rng = random.Random(writer)
    clock = SystemClock()
    for n in range(TRANSACTIONS_PER_WRITER):
        slow = rng.random() < 0.3  # holds its transaction open long, then commits late
        early_id = rng.random() < 0.5  # gets its transaction id before it writes events
        roll_back = rng.random() < 0.2
        ids: list[str] = []
        try:
            with transaction(engine) as session:
                if early_id and engine.dialect.name == "postgresql":
                    session.execute(text("SELECT pg_current_xact_id()"))
                if slow and early_id:
                    time.sleep(rng.uniform(0.3, 0.8))
                for i in range(rng.randint(1, 3)):
                    event = enqueue_event(
                        session,
                        partner_id=partner_id,
                        type_=EventType.ping,
                        data={
                            "endpoint_id": str(uuid.uuid4()),
                            "message": f"writer {writer}, transaction {n}, event {i}",
                        },
                        clock=clock,
                    )
                    ids.append(str(event.id))
                time.sleep(rng.uniform(0.3, 0.8) if slow and not early_id else 0.01)
                if roll_back:
                    raise ChangedItsMind()
        except ChangedItsMind:
            with written.lock:
                written.rolled_back.update(ids)
            continue
        with written.lock:
            written.committed.setdefault(writer, []).extend(ids)


class Reader:
    """A partner's system reading the feed, keeping its cursor."""

    def __init__(self, client: TestClient, headers: dict[str, str], limit: int = 5) -> None:
        self.client = client
        self.headers = headers
        self.limit = limit

    def read(self, after: str | None) -> tuple[list[str], str, bool]:
        params: dict[str, str | int] = {"limit": self.limit}
        if after is not None:
            params["after"] = after
        response = self.client.get(EVENTS, params=params, headers=self.headers)
        assert response.status_code == 200, response.text
        page = response.json()
        return [item["id"] for item in page["items"]], page["next_cursor"], page["has_more"]

    def read_to_end(self, after: str | None) -> tuple[list[str], str]:
        seen: list[str] = []
        while True:
            ids, after, has_more = self.read(after)
            seen.extend(ids)
            if not has_more:
                return seen, after


def test_a_reader_racing_concurrent_writers_sees_each_committed_event_once_in_order(
    app: FastAPI, client: TestClient, make: Factory, partner: Partner, partner_person: User
) -> None:
    reader = Reader(client, make.auth(partner_person))
    _, start = reader.read_to_end(None)  # where the partner stands before the writers start
    written = Written()
    writers = [
        threading.Thread(target=write, args=(app.state.engine, partner.id, w, written))
        for w in range(WRITERS)
    ]
    for thread in writers:
        thread.start()
    seen: list[str] = []
    seen_while_writing = 0
    cursor = start
    while any(thread.is_alive() for thread in writers):
        ids, cursor, _ = reader.read(cursor)
        seen.extend(ids)
        if any(thread.is_alive() for thread in writers):
            seen_while_writing += len(ids)
        time.sleep(0.02)
    for thread in writers:
        thread.join()
    committed = [event for events in written.committed.values() for event in events]
    deadline = time.monotonic() + CATCH_UP_SECONDS
    while len(seen) < len(committed) and time.monotonic() < deadline:
        ids, cursor, _ = reader.read(cursor)
        seen.extend(ids)
        if not ids:
            time.sleep(0.1)
    # Caught up: nothing more comes (no repeats, nothing rolled back).
    ids, cursor, has_more = reader.read(cursor)
    seen.extend(ids)
    again, _ = reader.read_to_end(start)

    assert written.failures == []
    assert written.rolled_back and all(written.committed.values())  # the race had both kinds
    assert seen_while_writing > 0  # the reader did race the writers
    assert len(seen) == len(set(seen))
    assert set(seen) == set(committed)
    assert not written.rolled_back & set(seen)
    assert has_more is False
    # Each writer's events in the order it committed them, and the same order for any reader.
    for events in written.committed.values():
        assert [event for event in seen if event in set(events)] == events
    assert again == seen


@pytest.mark.parametrize("backend", BACKENDS)
def test_cursors_from_before_transaction_ids_were_kept_go_on_where_they_were(
    backend: str, tmp_path: Path
) -> None:
    """Events written before the upgrade keep their order, ahead of newer ones, and a cursor
    handed out then (`evt_<number>`) still reads on from its place; a made-up one is refused."""
    url = scratch_url(backend, tmp_path, "feedupgrade")
    upgrade(url, "0009")  # the revision before events kept their transaction
    engine = make_engine(url)
    try:
        partner_id = uuid.uuid4()
        clock = SystemClock()
        now = clock.now()
        partners, events = metadata.tables["partners"], metadata.tables["webhook_events"]
        with engine.begin() as connection:
            connection.execute(
                partners.insert().values(
                    id=partner_id,
                    name="GGD",
                    kind="ggd",
                    municipalities=[],
                    created_at=now,
                    updated_at=now,
                )
            )
            for n in range(3):
                connection.execute(
                    events.insert().values(
                        id=uuid.uuid4(),
                        partner_id=partner_id,
                        type=EventType.ping,
                        created_at=now,
                        body=json.dumps({"type": "ping", "data": {"n": n}}),
                    )
                )
            first = connection.execute(text("SELECT min(seq) FROM webhook_events")).scalar()
        upgrade(url)
        with transaction(engine) as session:
            enqueue_event(
                session, partner_id=partner_id, type_=EventType.ping, data={"n": 3}, clock=clock
            )
        actor = Actor(user_id=uuid.uuid4(), role=UserRole.partner, partner_id=partner_id)

        def numbers(after: str | None) -> tuple[list[int], str | None]:
            with transaction(engine, write=False) as session:
                feed = read_events(session, actor=actor, partner_id=None, after=after, limit=10)
                return [json.loads(e.body)["data"]["n"] for e in feed.items], feed.position

        settle_event_feed(engine)
        everything, end = numbers(None)
        assert everything == [0, 1, 2, 3]
        assert numbers(f"evt_{first}") == ([1, 2, 3], end)
        assert numbers(end) == ([], end)
        for made_up in ("evt_", "evt_1_2_3", "evt_-1", "evt_1_x", "1", f"evt_{'9' * 19}"):
            with pytest.raises(InvalidCursor):
                numbers(made_up)
    finally:
        engine.dispose()
