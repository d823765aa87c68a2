"""The event loop's reads on SQLite share one connection kept open (core/db.py KeptConnection):
each read still sees the latest commit, leaves no transaction open behind it, and a failed read
or a broken connection does not break the next read."""

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy.exc import DBAPIError

from buurtplus.core.db import KeptConnection
from tests.fixtures.databases import scratch_tables

_METADATA = sa.MetaData()
_NOTES = sa.Table("test_kept_notes", _METADATA, sa.Column("n", sa.Integer, primary_key=True))
_COUNT = sa.select(sa.func.count()).select_from(_NOTES)


@pytest.fixture
def engine(app: FastAPI) -> Iterator[sa.Engine]:
    with scratch_tables(app, _METADATA) as engine:
        yield engine


@pytest.fixture
def kept(engine: sa.Engine) -> Iterator[KeptConnection]:
    reads = KeptConnection(engine)
    yield reads
    reads.close()


def _add(engine: sa.Engine, n: int) -> None:
    with engine.begin() as connection:
        connection.execute(_NOTES.insert(), {"n": n})


def _count(kept: KeptConnection) -> int:
    with kept.connection() as connection:
        return int(connection.execute(_COUNT).scalar_one())


def test_each_read_sees_what_was_committed_before_it(
    engine: sa.Engine, kept: KeptConnection
) -> None:
    assert _count(kept) == 0
    _add(engine, 1)
    assert _count(kept) == 1
    with kept.session() as session:
        assert session.execute(_COUNT).scalar_one() == 1
    _add(engine, 2)
    with kept.session() as session:
        assert session.execute(_COUNT).scalar_one() == 2


def test_one_connection_serves_every_read_and_none_stays_in_a_transaction(
    engine: sa.Engine, kept: KeptConnection
) -> None:
    with kept.connection() as first:
        first.execute(_COUNT)
    with kept.session() as session:
        second = session.connection()
        session.execute(_COUNT)
    assert second is first
    assert not first.in_transaction()
    if engine.dialect.name == "sqlite":
        # No snapshot held: a checkpoint may take the whole log back into the database.
        _add(engine, 1)
        with engine.connect() as other:
            busy, _, _ = other.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
        assert busy == 0


def test_a_read_that_fails_leaves_the_next_one_working(
    engine: sa.Engine, kept: KeptConnection
) -> None:
    def read_then_fail() -> None:
        with kept.connection() as connection:
            connection.execute(_COUNT)
            raise LookupError("the read's own error")

    with pytest.raises(LookupError, match="own error"):
        read_then_fail()
    with pytest.raises(DBAPIError), kept.session() as session:
        session.execute(sa.text("SELECT * FROM no_such_table"))
    _add(engine, 1)
    assert _count(kept) == 1


def test_after_a_broken_connection_the_next_read_works(
    engine: sa.Engine, kept: KeptConnection
) -> None:
    with kept.connection() as connection:
        connection.execute(_COUNT)
        broken = connection
    broken.connection.dbapi_connection.close()  # type: ignore[union-attr]
    with pytest.raises(DBAPIError), kept.connection() as connection:
        connection.execute(_COUNT)
    _add(engine, 1)
    assert _count(kept) == 1


def test_a_read_begun_on_the_driver_still_ends_and_a_refused_begin_raises_as_sqlalchemy_does(
    engine: sa.Engine, kept: KeptConnection
) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("SQLite's BEGIN")
    with kept.session() as session:
        assert session.connection().connection.driver_connection.in_transaction
        assert session.execute(_COUNT).scalar_one() == 0
    _add(engine, 1)
    assert _count(kept) == 1
    with engine.connect() as connection:
        # The driver already in a transaction refuses a second BEGIN.
        connection.connection.driver_connection.execute("BEGIN")
        with pytest.raises(DBAPIError, match="within a transaction"):
            connection.begin()
