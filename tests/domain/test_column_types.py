"""The shared column types read back what was stored: times in UTC with their zone, enums as
their members, UUIDs as UUIDs, on both databases."""

import pickle
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from buurtplus.core import db
from buurtplus.core.db import HexUuid, StrEnumType, UTCDateTime, uuid_from_hex
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.signals.workflow import SignalStatus
from tests.fixtures.databases import scratch_tables

_METADATA = sa.MetaData()
_MOMENTS = sa.Table(
    "test_moments",
    _METADATA,
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime()),
    sa.Column("status", StrEnumType(SignalStatus, 20)),
    sa.Column("ref", sa.Uuid()),
)
_READ = sa.select(_MOMENTS.c.n, _MOMENTS.c.at, _MOMENTS.c.status, _MOMENTS.c.ref).order_by(
    _MOMENTS.c.n
)


@pytest.fixture
def engine(app: FastAPI) -> Iterator[sa.Engine]:
    with scratch_tables(app, _METADATA) as engine:
        yield engine


def test_a_moment_is_read_back_in_utc_with_its_zone(engine: sa.Engine) -> None:
    given = [
        datetime(2026, 3, 2, 21, 30, 5, 123456, tzinfo=UTC),
        datetime(2026, 3, 2, 21, 30, tzinfo=UTC),
        datetime(2026, 7, 1, 9, 0, tzinfo=timezone(timedelta(hours=2))),  # summer time
        None,
    ]
    with engine.begin() as connection:
        connection.execute(_MOMENTS.insert(), [{"n": n, "at": at} for n, at in enumerate(given)])
    with engine.connect() as connection:
        by_sqlalchemy = [row.at for row in connection.execute(_READ)]
        on_the_driver = [row.at for row in PlainQuery(_READ).all(connection)]
    expected = [at.astimezone(UTC) if at else None for at in given]
    for read in (by_sqlalchemy, on_the_driver):
        assert read == expected
        assert all(at is None or at.utcoffset() == timedelta(0) for at in read)


def test_sqlite_text_in_other_forms_is_read_as_the_same_moment(engine: sa.Engine) -> None:
    """Text written by SQLAlchemy has microseconds and no zone; text from elsewhere (a
    migration's default, an older row with its offset, a date alone) is read as well."""
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores a moment as a timestamp, not as text")
    stored = {
        "2026-03-02 21:30:05.123456": datetime(2026, 3, 2, 21, 30, 5, 123456, tzinfo=UTC),
        "2026-03-02 21:30:05": datetime(2026, 3, 2, 21, 30, 5, tzinfo=UTC),
        "2026-03-02T21:30:05.000001": datetime(2026, 3, 2, 21, 30, 5, 1, tzinfo=UTC),
        "2026-03-02 21:30:05.123456+00:00": datetime(2026, 3, 2, 21, 30, 5, 123456, tzinfo=UTC),
        "2026-03-02 23:30:05+02:00": datetime(2026, 3, 2, 21, 30, 5, tzinfo=UTC),
        "2026-03-02": datetime(2026, 3, 2, tzinfo=UTC),
    }
    with engine.begin() as connection:
        for n, text in enumerate(stored):
            connection.exec_driver_sql("INSERT INTO test_moments (n, at) VALUES (?, ?)", (n, text))
    with engine.connect() as connection:
        read = [row.at for row in connection.execute(_READ)]
    assert read == list(stored.values())
    assert all(at.utcoffset() == timedelta(0) for at in read)


@pytest.mark.parametrize(
    "text", ["2026-03-02 21:30:05.123456 PST", "2026-03-02 21:30:05.123456CET", "yesterday"]
)
def test_sqlite_text_that_is_no_moment_is_refused(engine: sa.Engine, text: str) -> None:
    if engine.dialect.name != "sqlite":
        pytest.skip("PostgreSQL stores a moment as a timestamp, not as text")
    with engine.begin() as connection:
        connection.exec_driver_sql("INSERT INTO test_moments (n, at) VALUES (1, ?)", (text,))
    with engine.connect() as connection, pytest.raises(ValueError, match="Invalid isoformat"):
        connection.execute(_READ).all()


def test_a_stored_enum_value_is_read_as_its_member_and_an_unknown_one_refused(
    engine: sa.Engine,
) -> None:
    with engine.begin() as connection:
        connection.execute(_MOMENTS.insert(), [{"n": 1, "status": SignalStatus.routed}])
    with engine.connect() as connection:
        assert connection.execute(_READ).one().status is SignalStatus.routed
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE test_moments SET status = 'no-such-status'"))
    with engine.connect() as connection, pytest.raises(ValueError, match="no-such-status"):
        connection.execute(_READ).all()


def test_a_stored_uuid_is_read_back_as_the_same_uuid(engine: sa.Engine) -> None:
    given = [uuid.uuid4(), uuid.UUID(int=0), uuid.UUID(int=2**128 - 1), None]
    with engine.begin() as connection:
        connection.execute(_MOMENTS.insert(), [{"n": n, "ref": ref} for n, ref in enumerate(given)])
    with engine.connect() as connection:
        by_sqlalchemy = [row.ref for row in connection.execute(_READ)]
        on_the_driver = [row.ref for row in PlainQuery(_READ).all(connection)]
    for read in (by_sqlalchemy, on_the_driver):
        assert read == given
        assert [str(ref) for ref in read] == [str(ref) for ref in given]
        assert all(ref is None or type(ref) is uuid.UUID for ref in read)
    # SQLite keeps the text and reads it with the quicker HexUuid; PostgreSQL has its own type.
    read_as = type(engine.dialect.type_descriptor(_MOMENTS.c.ref.type))
    assert (read_as is HexUuid) == (engine.dialect.name == "sqlite")


def test_ids_read_many_times_over_are_each_read_right(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Ids met again and again are made once (core.db keeps them, up to a bound); with a bound of
    # three, ten ids read in turn, each twice per read, are still each the id stored.
    monkeypatch.setattr(db, "KNOWN_UUIDS_KEPT", 3)
    db._KNOWN_UUIDS.clear()  # what earlier tests read (it is the process's)
    given = [uuid.uuid4() for _ in range(10)]
    with engine.begin() as connection:
        connection.execute(_MOMENTS.insert(), [{"n": n, "ref": given[n % 10]} for n in range(20)])
    with engine.connect() as connection:
        for _ in range(3):
            by_sqlalchemy = [row.ref for row in connection.execute(_READ)]
            on_the_driver = [row.ref for row in PlainQuery(_READ).all(connection)]
            for read in (by_sqlalchemy, on_the_driver):
                assert read == given + given
                assert [str(ref) for ref in read] == [str(ref) for ref in given + given]
    assert len(db._KNOWN_UUIDS) <= 3


@pytest.mark.parametrize(
    "text",
    [
        "0123456789abcdef0123456789ABCDEF",
        "00000000000000000000000000000000",
        "ffffffffffffffffffffffffffffffff",
        "+123456789abcdef0123456789abcdef",  # int() and UUID() both take a sign
        " 123456789abcdef0123456789abcde ",
        "0x23456789abcdef0123456789abcdef",
        "12345678-1234-5678-1234-567812345678",
        "{12345678-1234-5678-1234-567812345678}",
        "-0000000000000000000000000000000",  # UUID() drops the dash and counts 31 digits
        "-123456789abcdef0123456789abcdef",
        "0123456789abcdef-123456789abcdef",
        "0123456789abcdef0123456789abcdeg",
        "0123456789abcdef0123456789abcde",
        "",
    ],
)
def test_uuid_from_hex_takes_and_refuses_what_uuid_does(text: str) -> None:
    try:
        expected = uuid.UUID(text)
    except ValueError as refused:
        with pytest.raises(ValueError, match=re.escape(str(refused))):
            uuid_from_hex(text)
        return
    made = uuid_from_hex(text)
    assert made == expected and hash(made) == hash(expected)
    assert str(made) == str(expected) and made.version == expected.version
    assert made.is_safe is uuid.SafeUUID.unknown
    assert pickle.loads(pickle.dumps(made)) == expected  # noqa: S301 - our own bytes
