"""Alembic is the only way the schema changes: models and migrations agree, and both ways work."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import inspect
from sqlalchemy.schema import CreateIndex

from buurtplus.core.db import make_engine, metadata
from buurtplus.migrate import alembic_config, downgrade, head_revisions, upgrade
from tests.fixtures.databases import fresh_postgres_database, postgres_base_url

BACKENDS = ["sqlite"] + (["postgresql"] if postgres_base_url() else [])


@pytest.fixture(params=BACKENDS)
def scratch_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'scratch.db'}"
    else:
        base = postgres_base_url()
        assert base is not None
        yield fresh_postgres_database(base, "migrations")


def table_names(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_models_and_migrations_agree(scratch_url: str) -> None:
    upgrade(scratch_url)

    command.check(alembic_config(scratch_url))  # raises when autogenerate would add anything


def test_upgrade_downgrade_upgrade(scratch_url: str) -> None:
    upgrade(scratch_url)
    assert table_names(scratch_url) == {table.name for table in metadata.sorted_tables}

    downgrade(scratch_url, "base")
    assert table_names(scratch_url) == set()

    upgrade(scratch_url)
    assert table_names(scratch_url) == {table.name for table in metadata.sorted_tables}


def test_there_is_one_head() -> None:
    assert len(head_revisions()) == 1


def test_the_migrations_make_nearby_s_expression_index_as_the_models_declare_it(
    tmp_path: Path,
) -> None:
    """SQLite cannot read an index on an expression back, so `alembic check` skips it there
    (PostgreSQL compares it): compare the statement that made it with the models' own."""
    url = f"sqlite:///{tmp_path / 'scratch.db'}"
    upgrade(url)
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            made = connection.exec_driver_sql(
                "SELECT sql FROM sqlite_master WHERE name = 'ix_aeds_latitude_cell'"
            ).scalar_one()
        (index,) = [i for i in metadata.tables["aeds"].indexes if i.name == "ix_aeds_latitude_cell"]
        declared = str(CreateIndex(index).compile(dialect=engine.dialect))
    finally:
        engine.dispose()
    assert " ".join(made.split()) == " ".join(declared.split())
