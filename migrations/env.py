import warnings

from alembic import context
from sqlalchemy import Connection

from buurtplus.core.db import make_engine
from buurtplus.models import metadata

config = context.config


def run_with(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction(), warnings.catch_warnings():
        if connection.dialect.name == "sqlite":
            # SQLite's indexes on expressions cannot be read back to compare (nearby's latitude
            # cells): tests/test_migrations.py compares that one itself.
            warnings.filterwarnings("ignore", r".*expression-based index '?ix_aeds_latitude_cell")
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        run_with(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from buurtplus.config import get_settings

        url = get_settings().database_url
    # SQLite rebuilds a table to alter it (drop and re-create): with foreign keys enforced,
    # dropping `teams` would cascade into its memberships. Check the keys once done instead.
    engine = make_engine(url, enforce_foreign_keys=False)
    try:
        with engine.connect() as connection:
            run_with(connection)
            if connection.dialect.name == "sqlite":
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"migration left broken foreign keys: {broken[:10]}")
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("Offline (SQL script) migrations are not supported; run against a database.")
run_migrations_online()
