"""Engine, sessions and column types shared by every table."""

import logging
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from copy import deepcopy
from datetime import UTC, datetime
from enum import Enum, StrEnum
from functools import cache, partial
from typing import Any, TypeVar

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Uuid,
    create_engine,
    event,
    inspect,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, IntegrityError, InvalidatePoolError
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator
from sqlmodel import Session, SQLModel

# Explicit constraint names, so migrations name the same thing on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
SQLModel.metadata.naming_convention = NAMING_CONVENTION
metadata: MetaData = SQLModel.metadata

log = logging.getLogger("buurtplus.db")
T = TypeVar("T")

# Execution option that makes a SQLite transaction take the write lock at BEGIN.
WRITE_TRANSACTION = "buurtplus_write"
# A database server's connection that waited in the pool longer than this is asked whether it
# still works before it is handed out (see `_ping_when_idle`).
PING_AFTER_IDLE_S = 1.0


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back with its zone (SQLite drops it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        """On SQLite, where a time is stored as text in UTC without its zone
        (`2026-03-02 21:30:00.000000`), one `fromisoformat` of that text with `+00:00` added:
        a page reads hundreds, and parsing and then giving each its zone took five times as
        long. Text in any other form is read as before."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite" or general is None:
            return general
        parse = datetime.fromisoformat

        def process(value: Any) -> datetime | None:
            # Only the form SQLAlchemy writes (`fromisoformat` takes more than that, such as
            # words after the fraction, which are refused as before).
            if isinstance(value, str) and len(value) == 26 and value[19] == ".":
                try:
                    return parse(value + "+00:00")
                except ValueError:
                    pass
            return general(value)

        return process


_new_uuid = object.__new__
_set_slot = object.__setattr__
_UNKNOWN_SAFETY = uuid.SafeUUID.unknown


def uuid_from_hex(text: str) -> uuid.UUID:
    """The UUID of 32 hex digits, the form SQLAlchemy stores on SQLite, made without
    `UUID()`'s handling of every other form (half the time; a page reads hundreds). Anything
    else goes to `UUID()`, which takes or refuses it as before: for 32 characters without a
    dash it reads the same digits with the same `int(text, 16)`."""
    if len(text) == 32 and "-" not in text:
        try:
            number = int(text, 16)
        except ValueError:
            pass  # UUID() refuses it, in its own words
        else:
            made = _new_uuid(uuid.UUID)
            _set_slot(made, "int", number)
            _set_slot(made, "is_safe", _UNKNOWN_SAFETY)
            return made
    return uuid.UUID(text)


# The ids a read meets again and again (a page's team, its categories, reporters and partners)
# made once: a UUID cannot be changed, so one object serves every row with its text. Every id
# read is kept (a page's own signal ids too), and the whole is dropped when full.
_KNOWN_UUIDS: dict[str, uuid.UUID] = {}
KNOWN_UUIDS_KEPT = 4096


class HexUuid(Uuid[uuid.UUID]):
    """`Uuid` read with `uuid_from_hex` where it is stored as text (SQLite's engines use it
    in its place: `_configure_sqlite`)."""

    def result_processor(self, dialect: Dialect, coltype: Any) -> Callable[[Any], Any] | None:
        if not self.as_uuid or (dialect.supports_native_uuid and self.native_uuid):
            general: Callable[[Any], Any] | None = super().result_processor(  # type: ignore[no-untyped-call]
                dialect, coltype
            )
            return general

        known = _KNOWN_UUIDS

        def process(value: Any) -> uuid.UUID | None:
            if isinstance(value, str):
                made = known.get(value)
                if made is None:
                    made = uuid_from_hex(value)
                    if len(known) >= KNOWN_UUIDS_KEPT:
                        known.clear()
                    known[value] = made
                return made
            return None if value is None else uuid.UUID(value)

        return process


E = TypeVar("E", bound=StrEnum)


class StrEnumType(TypeDecorator[E]):
    """A StrEnum stored as its value in a VARCHAR: read back as the enum, and a value outside
    it refused before it reaches the database. New values need no migration."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[E], length: int) -> None:
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value: E | str | None, dialect: Dialect) -> str | None:
        return None if value is None else self.enum(value).value

    def process_result_value(self, value: str | None, dialect: Dialect) -> E | None:
        if value is None:
            return None
        # The enum's own lookup by value (a page reads a few hundred; calling the enum costs
        # ten times as much); a value outside it raises ValueError as the enum does.
        member = self.enum._value2member_map_.get(value)
        return self.enum(value) if member is None else member  # type: ignore[return-value]


# JSON on SQLite, JSONB on PostgreSQL.
JSONType = JSON().with_variant(JSONB(), "postgresql")


def make_engine(
    url: str, *, enforce_foreign_keys: bool = True, ping_after_idle_s: float = PING_AFTER_IDLE_S
) -> Engine:
    """An engine that never writes statement parameters (personal data, hashes) to logs."""
    if url.startswith("sqlite"):
        in_memory = url in ("sqlite://", "sqlite:///:memory:")
        # A file's connections are cheap: as many as the threadpool has threads (40), so no
        # request waits in the pool (readers never block each other in WAL mode). Taken last
        # in, first out: each connection keeps its own page cache (2 MB), so a few warm ones
        # serve instead of all 40 filling caches in turn (+70 MB RSS).
        pool: dict[str, Any] = (
            {} if in_memory else {"pool_size": 40, "max_overflow": 10, "pool_use_lifo": True}
        )
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": 30},
            hide_parameters=True,
            **pool,
        )
        _configure_sqlite(engine, enforce_foreign_keys=enforce_foreign_keys)
        return engine
    # More connections than the request threadpool has threads (40), so none waits for one.
    engine = create_engine(
        url,
        pool_size=20,
        max_overflow=30,
        pool_use_lifo=True,
        hide_parameters=True,
    )
    _ping_when_idle(engine, after_s=ping_after_idle_s)
    return engine


def _ping_when_idle(engine: Engine, *, after_s: float) -> None:
    """Before a connection that waited in the pool longer than `after_s` is handed out, ask the
    server whether it still works; one that does not is replaced (the pool takes another). A
    connection the server closed while it waited (a restart, a proxy's idle timeout) then fails
    no request. SQLAlchemy's `pool_pre_ping` asks on every checkout: one round trip more for each
    read of a few rows, which under load cost more than the read (docs/performance.md). Under
    load no connection waits that long; a connection lost meanwhile fails its statement, and a
    read is run again on another (`PooledReads.again_if_lost`)."""

    @event.listens_for(engine, "checkin")
    def on_checkin(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        record.info["returned_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def on_checkout(dbapi_connection: Any, record: ConnectionPoolEntry, proxy: Any) -> None:
        returned_at = record.info.get("returned_at")
        if returned_at is None or time.monotonic() - returned_at <= after_s:
            return  # new, or back in the pool a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as error:
            # The pool replaces this one, and every connection older than it at its next
            # checkout (as `pool_pre_ping` did): a restart ended them all.
            raise InvalidatePoolError("the connection was lost while it waited") from error


def make_event_loop_engine(url: str) -> Engine | None:
    """The SQLite file's own connections for the reads the event loop makes (`read_now`), or
    None where those reads go to a thread (a database server) or must share the one
    in-memory database. One read runs at a time on the loop, so one connection serves; its
    pool and busy waits are short, because while the loop waits every request waits: a read
    that cannot start within a second or two fails alone instead."""
    if not url.startswith("sqlite") or url in ("sqlite://", "sqlite:///:memory:"):
        return None
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": 2},
        hide_parameters=True,
        pool_size=1,
        max_overflow=1,
        pool_timeout=2,
    )
    _configure_sqlite(engine, enforce_foreign_keys=True, busy_timeout_ms=2000)
    return engine


def _configure_sqlite(
    engine: Engine, *, enforce_foreign_keys: bool, busy_timeout_ms: int = 30_000
) -> None:
    # This engine's UUID columns are read with the quicker `HexUuid` (the dialect adapts each
    # column's type through its own `colspecs`; the class-wide mapping stays as it is).
    engine.dialect.colspecs = {**engine.dialect.colspecs, Uuid: HexUuid}

    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        # Let SQLAlchemy emit BEGIN itself, so a writer can ask for BEGIN IMMEDIATE.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if enforce_foreign_keys else 'OFF'}")
        cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail at once with "database is locked";
        # a writer that takes the lock up front waits its turn instead.
        if connection.get_execution_options().get(WRITE_TRANSACTION):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        # A read's BEGIN takes no lock and waits for nothing: on the driver's own connection
        # it costs a tenth of a statement run through SQLAlchemy (every read session begins
        # with it). Should the driver refuse it, SQLAlchemy runs it again and raises its error.
        try:
            connection.connection.driver_connection.execute("BEGIN")
        except sqlite3.Error:
            connection.exec_driver_sql("BEGIN")


@contextmanager
def transaction(engine: Engine, *, write: bool = True) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error.

    Requests (through the session dependency), the CLI and workers all use this. A write
    transaction on SQLite starts with BEGIN IMMEDIATE, so it never fails half-way for a lock.
    """
    session = Session(engine, expire_on_commit=False)
    try:
        if write:
            session.connection(execution_options={WRITE_TRANSACTION: True})
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


M = TypeVar("M", bound=SQLModel)


def unsaved(model: type[M], /, **values: Any) -> M:
    """`model(**values)` for a table model, built the way SQLAlchemy loads a row: the values
    and the fields' defaults put in place at once. SQLModel's constructor sets each field
    through the ORM's instrumentation, one at a time; for a signal (thirty fields) that took
    150 µs, more than checking and routing the report around it. The object is an ordinary
    transient one: read, change, add to a session and flush it as any other. Like SQLModel's
    constructor it validates nothing; an unknown name is refused."""
    unknown = values.keys() - model.model_fields.keys()
    if unknown:
        raise TypeError(f"{model.__name__} has no field {', '.join(sorted(unknown))}")
    defaults, factories = _field_defaults(model)
    made: M = model._sa_class_manager.new_instance()  # type: ignore[attr-defined]
    state = made.__dict__
    state.update(defaults)
    for name, factory in factories.items():
        if name not in values:
            state[name] = factory()
    state.update(values)
    object.__setattr__(made, "__pydantic_fields_set__", set(values))
    object.__setattr__(made, "__pydantic_extra__", None)
    object.__setattr__(made, "__pydantic_private__", None)
    if model.__pydantic_post_init__:
        made.model_post_init(None)
    return made


_IMMUTABLE = (type(None), bool, int, float, str, bytes, Enum, datetime, uuid.UUID, frozenset)


@cache
def _field_defaults(model: type[SQLModel]) -> tuple[dict[str, Any], dict[str, Callable[[], Any]]]:
    defaults: dict[str, Any] = {}
    factories: dict[str, Callable[[], Any]] = {}
    for name, info in model.model_fields.items():
        if info.default_factory is not None:
            factories[name] = info.default_factory  # type: ignore[assignment]
        elif isinstance(info.default, _IMMUTABLE):
            defaults[name] = info.default
        elif not info.is_required():
            # Each object its own copy of a default list or dict, as pydantic gives.
            factories[name] = partial(deepcopy, info.default)
    return defaults, factories


class PooledReads:
    """Reads on connections taken from `engine`'s pool, one per read (any thread).

    On a database server every statement of a read runs on its own (autocommit): under READ
    COMMITTED each statement sees the latest commits anyway, so a transaction round a read
    bought nothing but two round trips more (BEGIN and ROLLBACK: with the ping the pool made
    before, four round trips for a read of one row; docs/performance.md). On SQLite a read keeps
    its transaction: one snapshot for all its statements."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._autocommit = engine.dialect.name != "sqlite"
        # Shares the engine's pool; each connection is in autocommit while it is lent out.
        self._reads = (
            engine.execution_options(isolation_level="AUTOCOMMIT") if self._autocommit else engine
        )

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        with self._reads.connect() as connection:
            yield connection

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only ORM session. In autocommit nothing it holds is flushed (a flush would
        be stored at once), and a change still pending at the end is an error, as on the event
        loop's connection (`KeptConnection.session`)."""
        if not self._autocommit:
            with transaction(self.engine, write=False) as session:
                yield session
            return
        # Bound to the engine, not a connection: it takes one at its first query.
        with _read_only_session(self._reads, autoflush=False) as session:
            yield session

    def again_if_lost(self, run: Callable[["PooledReads"], T]) -> T:
        """`run(self)`, and once more if the server closed the connection it read on (a restart
        since the connection was last used): a read changes nothing, so running it again is
        safe, and the pool hands out a working connection then (`_ping_when_idle`)."""
        try:
            return run(self)
        except DBAPIError as error:
            if not error.connection_invalidated:
                raise
            log.warning("a read lost its database connection; reading again")
            return run(self)

    def close(self) -> None:
        pass


@contextmanager
def _read_only_session(bind: Engine | Connection, *, autoflush: bool = True) -> Iterator[Session]:
    """A session that is closed, never committed: a change still pending at its end is an
    error."""
    session = Session(bind=bind, expire_on_commit=False, autoflush=autoflush)
    try:
        yield session
        if session.new or session.dirty or session.deleted:
            raise RuntimeError("a read-only session was asked to store changes")
    finally:
        session.close()


class KeptConnection:
    """Reads on one connection of `engine`, kept open, for reads that run one after another
    on one thread and never wait in between (the event loop's short reads on SQLite): taking
    a connection from the pool and giving it back took more time than a read of a few rows.
    Each read's transaction ends with it, so the next sees the latest commit and none holds
    back SQLite's checkpoints; a connection that cannot end it is closed, the next read opens
    another."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._open: Connection | None = None

    @contextmanager
    def connection(self) -> Iterator[Connection]:
        connection = self._open or self._connect()
        try:
            yield connection
        finally:
            try:
                connection.rollback()
            except Exception:
                self.close()
                raise

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A read-only ORM session in a transaction of its own on the kept connection. It is
        closed, not committed (a commit of nothing was a tenth of the session's own cost), and
        its transaction rolled back: a change still pending in it at the end is an error."""
        with self.connection() as connection, _read_only_session(connection) as session:
            yield session

    def _connect(self) -> Connection:
        self._open = self.engine.connect()
        return self._open

    def close(self) -> None:
        connection, self._open = self._open, None
        if connection is not None:
            connection.close()


def flush_or_raise(
    session: Session, *, conflict: Exception | None = None, stale: Exception | None = None
) -> None:
    """Flush in a savepoint, so a refused write leaves the transaction usable.

    A unique or foreign-key conflict raises `conflict` (for example "the name is taken"), a
    version check lost to a concurrent writer raises `stale`; without them the error passes.
    """
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:
        if conflict is None:
            raise
        raise conflict from exc
    except StaleDataError as exc:
        if stale is None:
            raise
        raise stale from exc


def delete_current(session: Session, record: Any, *, gone: Callable[[], Exception]) -> None:
    """Delete `record` whatever its version is now (a DELETE takes no If-Match). Its row is
    locked and read again first: an edit committed since it was loaded would otherwise make the
    delete's own version check fail, and an edit still running waits for this one (PostgreSQL;
    on SQLite writers take turns anyway). `gone()` when someone deleted it meanwhile."""
    model = type(record)
    key = inspect(record).identity
    if key is None:
        raise gone()
    primary_key = inspect(model).primary_key
    current = session.execute(
        select(model)
        .where(*(column == value for column, value in zip(primary_key, key, strict=True)))
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()
    if current is None:
        raise gone()
    session.delete(current)


def version_column() -> "Column[int]":
    """A record's `version`: 1 when stored, raised by one on every change. Used as the mapper's
    `version_id_col`, so every UPDATE says WHERE version = <the version read>: of two writers
    that read the same version one stores, the other's flush finds no row (StaleDataError,
    which `flush_or_raise` turns into the record's stale error)."""
    return Column("version", Integer, nullable=False, server_default=text("1"))


def check_version(
    version: int, expected_version: int | None, stale: Callable[[], Exception]
) -> None:
    """Refuse a change made to another version than the current one (`expected_version` None:
    whatever is current); `stale()` is the record's own error."""
    if expected_version is not None and expected_version != version:
        raise stale()
