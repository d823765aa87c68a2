"""Backups of the embedded database: `buurtplus db backup FILE` and `buurtplus db restore FILE`.

A backup is taken with SQLite's online backup API while the service runs: one step, in one
read transaction, so the copy is the database as it was at one moment, however many writes
go on meanwhile (in WAL mode readers never hold writers up). The copy is one self-contained
file, checked before it gets its final name. A restore goes only into a stopped service, and
only from a file that is a buurtplus database this version knows.

PostgreSQL has its own tools (pg_dump, pg_restore); these commands say so.
"""

import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import make_url

from buurtplus.migrate import alembic_config, head_revisions

POSTGRES_ADVICE = (
    "is a PostgreSQL database: back it up with PostgreSQL's own tools, e.g. "
    "`pg_dump --format=custom --file=buurtplus.dump DBNAME`, and restore into a stopped "
    "service with `pg_restore --clean --if-exists --dbname=DBNAME buurtplus.dump`"
)


class BackupRefused(Exception):
    """The backup or restore was not done; the message tells the operator why."""


@dataclass(frozen=True)
class Copy:
    path: Path
    revision: str
    at_head: bool
    size: int


def sqlite_file(database_url: str) -> Path:
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        raise BackupRefused(f"{url.render_as_string(hide_password=True)} {POSTGRES_ADVICE}.")
    if not url.database or url.database == ":memory:":
        raise BackupRefused("An in-memory database has nothing to back up or restore.")
    return Path(url.database)


def backup(database_url: str, target: Path) -> Copy:
    source = sqlite_file(database_url)
    if not source.is_file():
        raise BackupRefused(f"There is no database at {source}.")
    if target.exists():
        raise BackupRefused(f"{target} exists already; choose another name or remove it first.")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        live = sqlite3.connect(source, timeout=30)
        try:
            copy = sqlite3.connect(partial)
            try:
                live.backup(copy)  # all pages in one step: one consistent moment
                copy.execute("PRAGMA journal_mode=DELETE")  # no -wal file beside the copy
                revision = _check(copy, partial)
            finally:
                copy.close()
        finally:
            live.close()
        with partial.open("rb") as written:
            os.fsync(written.fileno())
        partial.replace(target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Copy(target, revision, revision in head_revisions(), target.stat().st_size)


def restore(database_url: str, source: Path) -> Copy:
    target = sqlite_file(database_url)
    if not source.is_file():
        raise BackupRefused(f"There is no backup at {source}.")
    try:
        backup_file = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupRefused(f"{source} cannot be opened as a SQLite database: {exc}.") from exc
    try:
        revision = _check(backup_file, source)
        live = sqlite3.connect(target, timeout=0)
        try:
            _refuse_if_in_use(live, target)
            backup_file.backup(live)
        finally:
            live.close()
    finally:
        backup_file.close()
    return Copy(target, revision, revision in head_revisions(), target.stat().st_size)


def _refuse_if_in_use(connection: sqlite3.Connection, path: Path) -> None:
    """A serving process keeps connections open; SQLite leaves WAL mode only when no other
    connection has the database open, so leaving it tells us nobody else has."""
    in_use = BackupRefused(
        f"{path} is in use: stop every `buurtplus serve` and `buurtplus worker` on it first."
    )
    try:
        (mode,) = connection.execute("PRAGMA journal_mode=DELETE").fetchone()
        connection.execute("BEGIN EXCLUSIVE")
        connection.rollback()
    except sqlite3.OperationalError as exc:
        raise in_use from exc
    if str(mode).lower() != "delete":
        raise in_use


def _check(connection: sqlite3.Connection, path: Path) -> str:
    """The copy's migration revision, if it is a sound buurtplus database this version knows."""
    try:
        (integrity,) = connection.execute("PRAGMA quick_check").fetchone()
        rows = connection.execute("SELECT version_num FROM alembic_version").fetchall()
    except sqlite3.DatabaseError as exc:
        raise BackupRefused(
            f"{path} is not a buurtplus database (no migration version in it: {exc})."
        ) from exc
    if integrity != "ok":
        raise BackupRefused(f"{path} is damaged: {integrity}.")
    if len(rows) != 1:
        raise BackupRefused(f"{path} is not a buurtplus database (no migration version in it).")
    (revision,) = rows[0]
    script = ScriptDirectory.from_config(alembic_config("sqlite://"))
    try:
        known = script.get_revision(revision) is not None
    except CommandError:
        known = False
    if not known:
        raise BackupRefused(
            f"{path} is at migration {revision!r}, which this version of buurtplus does not "
            "know (made by a newer version?)."
        )
    return str(revision)
