"""The shared column types read back what was stored: times in UTC with their zone, enums as
their members, on both databases."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from buurtplus.core.db import StrEnumType, UTCDateTime
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.signals.workflow import SignalStatus

_METADATA = sa.MetaData()
_MOMENTS = sa.Table(
    "test_moments",
    _METADATA,
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("at", UTCDateTime()),
    sa.Column("status", StrEnumType(SignalStatus, 20)),
)
_READ = sa.select(_MOMENTS.c.n, _MOMENTS.c.at, _MOMENTS.c.status).order_by(_MOMENTS.c.n)


@pytest.fixture
def engine(app: FastAPI) -> Iterator[sa.Engine]:
    engine: sa.Engine = app.state.engine
    _METADATA.create_all(engine)
    yield engine
    _METADATA.drop_all(engine)


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
