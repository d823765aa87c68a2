"""Reads in the threadpool on a database server (core/db.py PooledReads): every statement runs
on its own, with no transaction round it; a connection the server closed while it waited in the
pool is replaced before it is lent out; a read whose connection was lost in use is read again;
and a read-only session stores nothing."""

from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.pool import NullPool

from buurtplus.core.db import PooledReads, make_engine
from tests.fixtures.databases import scratch_tables
from tests.fixtures.factories import Factory

_METADATA = sa.MetaData()


class _Base(DeclarativeBase):
    metadata = _METADATA


class _Note(_Base):
    __tablename__ = "test_pooled_notes"
    n: Mapped[int] = mapped_column(primary_key=True)


_COUNT = sa.select(sa.func.count()).select_from(_Note)
_BACKEND = sa.text("SELECT pg_backend_pid()")


@pytest.fixture
def engine(app: FastAPI) -> Iterator[sa.Engine]:
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("a database server's connections; SQLite's reads keep a transaction")
    with scratch_tables(app, _METADATA) as engine:
        yield engine


def _close_on_the_server(engine: sa.Engine, pid: int) -> None:
    """What a server restart does to a connection: the server ends it, the client is not told."""
    with engine.connect() as admin:
        admin.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def _backend(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(_BACKEND).scalar_one())


def test_every_statement_of_a_read_runs_on_its_own(engine: sa.Engine) -> None:
    reads = PooledReads(engine)
    with reads.connection() as connection:
        assert connection.execute(_COUNT).scalar_one() == 0
        lent = connection.execute(_BACKEND).scalar_one()
        raw = connection.connection.driver_connection
        assert isinstance(raw, psycopg.Connection)
        # No transaction begun for it (nor a ROLLBACK owed at its end).
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with reads.session() as session:
        assert session.execute(_COUNT).scalar_one() == 0
        raw = session.connection().connection.driver_connection
        assert raw.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    # Lent out in autocommit only: the pool's next borrower gets a transaction as before.
    with engine.connect() as connection:
        assert connection.execute(_BACKEND).scalar_one() == lent  # the same connection
        assert connection.connection.driver_connection.info.transaction_status == (
            psycopg.pq.TransactionStatus.INTRANS
        )


def test_a_read_only_session_stores_nothing(engine: sa.Engine) -> None:
    reads = PooledReads(engine)
    counted: list[int] = []

    def add_then_count() -> None:
        with reads.session() as session:
            session.add(_Note(n=1))
            # A query does not flush it (in autocommit a flush would be stored at once).
            counted.append(session.execute(_COUNT).scalar_one())

    with pytest.raises(RuntimeError, match="read-only"):
        add_then_count()
    assert counted == [0]
    with engine.connect() as connection:
        assert connection.execute(_COUNT).scalar_one() == 0


def test_a_connection_closed_while_it_waited_in_the_pool_is_replaced(app: FastAPI) -> None:
    url = app.state.engine.url
    if url.get_backend_name() != "postgresql":
        pytest.skip("a database server's connections")
    pinging = make_engine(url.render_as_string(hide_password=False), ping_after_idle_s=0)
    trusting = make_engine(url.render_as_string(hide_password=False), ping_after_idle_s=3600)
    try:
        for engine in (pinging, trusting):
            _close_on_the_server(app.state.engine, _backend(engine))
        # Asked before it is lent out: the closed one is swapped for a new one.
        assert _backend(pinging) > 0
        # Not asked (it waited less than an hour): its first statement finds it closed.
        with pytest.raises(DBAPIError) as lost, trusting.connect() as connection:
            connection.execute(_BACKEND)
        assert lost.value.connection_invalidated
    finally:
        pinging.dispose()
        trusting.dispose()


def test_a_read_whose_connection_was_lost_is_read_again_once(app: FastAPI) -> None:
    url = app.state.engine.url
    if url.get_backend_name() != "postgresql":
        pytest.skip("a database server's connections")
    # No ping: the loss is met by the read itself.
    engine = make_engine(url.render_as_string(hide_password=False), ping_after_idle_s=3600)
    reads = PooledReads(engine)
    runs: list[int] = []

    def read(reads: PooledReads) -> int:
        runs.append(1)
        with reads.connection() as connection:
            return int(connection.execute(_BACKEND).scalar_one())

    try:
        first = reads.again_if_lost(read)
        _close_on_the_server(app.state.engine, first)
        again = reads.again_if_lost(read)
        assert again != first
        assert len(runs) == 3  # the first read, the lost one, and once more

        def broken(reads: PooledReads) -> None:
            runs.append(1)
            with reads.connection() as connection:
                connection.execute(sa.text("SELECT * FROM no_such_table"))

        # Any other error is the read's own: not run again.
        with pytest.raises(DBAPIError) as refused:
            reads.again_if_lost(broken)
        assert not refused.value.connection_invalidated
        assert len(runs) == 4
    finally:
        engine.dispose()


def test_the_api_answers_after_the_server_closed_its_connections(
    app: FastAPI, client: TestClient, make: Factory
) -> None:
    engine: sa.Engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("a database server's connections")
    headers = make.auth(make.user(email="reader@example.org"))
    assert client.get("/api/v1/me", headers=headers).status_code == 200
    # From outside the app's pool: every connection of the app's database, as a server restart
    # ends them.
    admin = sa.create_engine(engine.url, poolclass=NullPool)
    try:
        with admin.connect() as connection:
            ended = connection.execute(
                sa.text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend' AND usename = current_user"
                )
            ).scalar_one()
        assert ended >= 1
    finally:
        admin.dispose()
    answer = client.get("/api/v1/me", headers=headers)
    assert answer.status_code == 200, answer.text
    assert answer.json()["email"] == "reader@example.org"
