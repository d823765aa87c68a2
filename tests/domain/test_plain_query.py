"""Reads on the driver's cursor give what SQLAlchemy's own execution gives, on both databases."""

from datetime import UTC
from typing import Any, NamedTuple

import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from sqlalchemy import func
from sqlalchemy.exc import DBAPIError
from sqlmodel import col

from buurtplus.core.actor import TeamRole, UserRole
from buurtplus.core.db import transaction
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

# Every kind of value the hot reads return: ids, enums, booleans, numbers, text, times, NULLs.
ACCOUNT = (
    sa.select(
        col(User.id),
        col(User.email),
        col(User.role),
        col(User.is_active),
        col(User.token_version),
        col(User.partner_id),
        col(User.created_at),
        col(TeamMembership.team_id),
        col(TeamMembership.team_role),
    )
    .outerjoin(TeamMembership, col(TeamMembership.user_id) == User.id)
    .where(col(User.id) == sa.bindparam("user_id"))
    .order_by(col(TeamMembership.team_id))
)


def test_rows_are_converted_as_sqlalchemy_converts_them(app: FastAPI, make: Factory) -> None:
    first, second = make.team(), make.team()
    volunteer = make.member(first, team_role=TeamRole.coordinator)
    make.member(second, user=volunteer)
    loner = make.user(role=UserRole.admin)
    query = PlainQuery(ACCOUNT)

    with app.state.engine.connect() as connection:
        for user in (volunteer, loner):
            expected = connection.execute(ACCOUNT, {"user_id": user.id}).all()
            rows = query.all(connection, user_id=user.id)
            assert [tuple(row) for row in rows] == [tuple(row) for row in expected]
            assert [row._asdict() for row in rows] == [row._asdict() for row in expected]
        row = query.first(connection, user_id=loner.id)
    assert row is not None
    assert row.id == loner.id and row.role is UserRole.admin and row.is_active is True
    assert row.created_at.tzinfo is not None and row.created_at.utcoffset() == UTC.utcoffset(None)
    assert row.team_id is None and row.partner_id is None


def test_an_unknown_key_gives_no_rows(app: FastAPI, make: Factory) -> None:
    user = make.user()
    with app.state.engine.connect() as connection:
        assert PlainQuery(ACCOUNT).first(connection, user_id=make.team().id) is None
        assert PlainQuery(ACCOUNT).first(connection, user_id=user.id) is not None


def test_it_reads_inside_the_open_transaction(app: FastAPI, make: Factory) -> None:
    team = make.team()
    query = PlainQuery(sa.select(col(Team.name)).where(col(Team.id) == sa.bindparam("team_id")))
    with transaction(app.state.engine) as session:
        session.connection().execute(
            sa.update(Team).where(col(Team.id) == team.id).values(name="Renamed, not committed")
        )
        row = query.first(session.connection(), team_id=team.id)
        assert row is not None and row.name == "Renamed, not committed"
        session.rollback()
    with app.state.engine.connect() as connection:
        row = query.first(connection, team_id=team.id)
    assert row is not None and row.name == team.name


def test_values_the_statement_holds_itself_are_bound_too(app: FastAPI, make: Factory) -> None:
    team = make.team(plus_mode=True)
    statement = sa.select(
        func.count(), func.coalesce(func.sum(Team.version), 0), func.max(Team.created_at)
    ).where(col(Team.id) == sa.bindparam("team_id"))
    with app.state.engine.connect() as connection:
        for team_id in (team.id, make.user().id):
            expected = connection.execute(statement, {"team_id": team_id}).one()
            (row,) = PlainQuery(statement).all(connection, team_id=team_id)
            assert tuple(row) == tuple(expected)
    assert tuple(expected) == (0, 0, None)


def test_a_database_error_is_raised_as_sqlalchemy_raises_it(app: FastAPI) -> None:
    missing = sa.table("no_such_table", sa.column("secret"))
    query = PlainQuery(sa.select(missing.c.secret).where(missing.c.secret == sa.bindparam("value")))
    with app.state.engine.connect() as connection:
        with pytest.raises(DBAPIError) as raised:
            query.all(connection, value="hunter2")
        assert "no_such_table" in str(raised.value)
        assert "hunter2" not in str(raised.value)  # the values stay out of logs
        connection.rollback()
        # The connection is still usable.
        assert connection.execute(sa.select(sa.literal(1))).scalar() == 1


def test_a_tables_float_columns_are_read_as_sqlalchemy_reads_them(
    app: FastAPI, make: Factory
) -> None:
    aed = make.aed()
    statement = sa.select(col(Aed.latitude), col(Aed.longitude)).where(
        col(Aed.id) == sa.bindparam("aed_id")
    )
    with app.state.engine.connect() as connection:
        expected = connection.execute(statement, {"aed_id": aed.id}).one()
        row = PlainQuery(statement).first(connection, aed_id=aed.id)
    assert row == tuple(expected) == (aed.latitude, aed.longitude)
    assert type(row.latitude) is float and type(row.longitude) is float


@pytest.mark.parametrize(
    "number",
    [
        pytest.param(lambda: sa.cast(col(Aed.latitude), sa.Numeric(9, 6)), id="numeric"),
        pytest.param(lambda: (col(Aed.latitude) * 2).label("doubled"), id="computed float"),
    ],
)
def test_other_numbers_are_read_on_sqlite_and_refused_on_postgresql(
    app: FastAPI, make: Factory, number: Any
) -> None:
    """PostgreSQL's driver answers a number as its type code says (a `numeric` as a Decimal),
    which a statement built once cannot know: only a table's own `Float` columns are read."""
    aed = make.aed()
    statement = sa.select(number()).where(col(Aed.id) == sa.bindparam("aed_id"))
    query = PlainQuery(statement)
    with app.state.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            with pytest.raises(ValueError, match="a PlainQuery does not read"):
                query.all(connection, aed_id=aed.id)
        else:
            expected = connection.execute(statement, {"aed_id": aed.id}).one()
            assert query.first(connection, aed_id=aed.id) == tuple(expected)


def test_a_list_of_values_is_refused_when_the_query_is_made(app: FastAPI) -> None:
    query = PlainQuery(
        sa.select(col(Team.name)).where(col(Team.id).in_(sa.bindparam("team_ids", expanding=True)))
    )
    with app.state.engine.connect() as connection, pytest.raises(ValueError, match="team_ids"):
        query.all(connection, team_ids=[])


def test_json_columns_are_read_as_sqlalchemy_reads_them(app: FastAPI, make: Factory) -> None:
    area = {
        "type": "Polygon",
        "coordinates": [[[4.9, 52.36], [4.93, 52.36], [4.93, 52.38], [4.9, 52.36]]],
    }
    team = make.team(area=area, buurt_codes=["BU0363AA01", "BU0363AA02"])
    bare = make.team(buurt_codes=[])
    statement = sa.select(col(Team.area), col(Team.buurt_codes)).where(
        col(Team.id) == sa.bindparam("team_id")
    )
    with app.state.engine.connect() as connection:
        for each in (team, bare):
            expected = connection.execute(statement, {"team_id": each.id}).one()
            assert PlainQuery(statement).first(connection, team_id=each.id) == tuple(expected)
        row = PlainQuery(statement).first(connection, team_id=team.id)
    assert row == (area, ["BU0363AA01", "BU0363AA02"])


def test_rows_can_be_of_a_named_tuple_class_with_properties_of_its_own(
    app: FastAPI, make: Factory
) -> None:
    class Account(NamedTuple):
        id: Any
        email: str

        @property
        def domain(self) -> str:
            return self.email.split("@")[1]

    user = make.user(email="someone@example.org")
    statement = sa.select(col(User.id), col(User.email)).where(
        col(User.id) == sa.bindparam("user_id")
    )
    with app.state.engine.connect() as connection:
        row = PlainQuery(statement, row=Account).first(connection, user_id=user.id)
    assert isinstance(row, Account)
    assert (row.id, row.email, row.domain) == (user.id, "someone@example.org", "example.org")

    class Other(NamedTuple):
        email: str
        id: Any

    with pytest.raises(ValueError, match="id, email"):
        PlainQuery(statement, row=Other)
