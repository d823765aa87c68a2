"""Reads asked on every request, run on the database driver's own cursor.

SQLAlchemy's execution of a statement built once still costs about 40 µs on SQLite (its cache
key, execution context and result machinery), ten times the query itself: the token's account,
read on every request, spent more time there than in SQLite. A `PlainQuery` is compiled once
per dialect, binds and converts values with the columns' own types (the same conversions
SQLAlchemy applies), and returns plain named rows.

It runs in the connection's transaction when one has begun. On a connection that has not
begun one, SQLite runs the statement as a transaction of its own (the driver is in autocommit
mode, see `core.db`), and psycopg begins one that lasts until the connection goes back to the
pool. A driver's error is raised as SQLAlchemy raises it (`sqlalchemy.exc.DBAPIError` and its
kinds, without the values), and a lost connection is invalidated as SQLAlchemy would.

For statements with plain bound values only: an expanding `IN`, a value rendered into the SQL
or computed per execution is refused when the query is first run. A column whose conversion
needs the driver's type code (`Numeric`, a computed `Float` on PostgreSQL) is refused there too;
a table's `Float` column is read as the `double precision` it is created as. NULL is returned as
None without conversion.
"""

from collections import namedtuple
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Connection, Float, Numeric, Select, Table
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError


@dataclass(frozen=True)
class _Compiled:
    sql: str
    # Positional drivers (SQLite) take the values in this order; named ones (psycopg) by name.
    positional: tuple[str, ...] | None
    binds: dict[str, Callable[[Any], Any] | None]
    # The values the statement holds itself (the 0 of `coalesce(sum(...), 0)`), converted.
    own_values: dict[str, Any]
    # The position and conversion of each result column that has one.
    converted: tuple[tuple[int, Callable[[Any], Any]], ...]

    def parameters(self, values: dict[str, Any]) -> Sequence[Any] | dict[str, Any]:
        """The values converted with their columns' types, in the form the driver takes."""
        bound = dict(self.own_values)
        for name, value in values.items():
            bound[name] = _converted(self.binds[name], value)
        if self.positional is not None:
            return tuple(bound[name] for name in self.positional)
        return bound


class PlainQuery:
    def __init__(self, statement: Select[*tuple[Any, ...]], *, row: Any = None) -> None:
        """`row`: the named tuple class of the rows (its fields the columns' keys, in order),
        for rows with properties of their own; by default one made here."""
        self._statement = statement
        # Named by the columns' keys; one without a usable name (an unlabelled count, a key
        # taken twice) is named by its position (`_0`, `_1`, ...).
        keys = [str(column.key) for column in statement.selected_columns]
        if row is None:
            row = namedtuple("Row", keys, rename=True)  # type: ignore[misc, no-redef]
        elif list(row._fields) != keys:
            raise ValueError(f"{row.__name__} has not the fields {', '.join(keys)}")
        self._row: Callable[[Iterable[Any]], Any] = row._make
        self._compiled: dict[tuple[str, str, str], _Compiled] = {}

    def _for(self, dialect: Dialect) -> _Compiled:
        key = (dialect.name, dialect.driver, dialect.paramstyle)
        compiled = self._compiled.get(key)
        if compiled is None:
            compiled = self._compiled[key] = self._compile(dialect)
        return compiled

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled = self._statement.compile(dialect=dialect)
        for bind in compiled.binds.values():
            if bind.expanding or bind.literal_execute or bind.callable is not None:
                raise ValueError(f"{bind.key}: a PlainQuery takes plain bound values only")
        if compiled.escaped_bind_names:
            raise ValueError("a PlainQuery takes bound names the driver can use as they are")
        binds: dict[str, Callable[[Any], Any] | None] = {
            name: bind.type.dialect_impl(dialect).bind_processor(dialect)
            for name, bind in compiled.binds.items()
        }
        own_values = {
            name: _converted(binds[name], bind.effective_value)
            for name, bind in compiled.binds.items()
            if not bind.required
        }
        return _Compiled(
            sql=compiled.string,
            positional=tuple(compiled.positiontup) if compiled.positiontup else None,
            binds=binds,
            own_values=own_values,
            converted=tuple(
                (position, convert)
                for position, column in enumerate(self._statement.selected_columns)
                if (convert := _result_processor(column, dialect)) is not None
            ),
        )

    def driver_call(
        self, dialect: Dialect, **values: Any
    ) -> tuple[str, Sequence[Any] | dict[str, Any]]:
        """The SQL and the converted values the driver's cursor is given for these values."""
        compiled = self._for(dialect)
        return compiled.sql, compiled.parameters(values)

    def all(self, connection: Connection, **values: Any) -> list[Any]:
        """Every row, as named tuples of converted values."""
        dialect = connection.dialect
        compiled = self._for(dialect)
        parameters = compiled.parameters(values)
        raw = connection.connection
        cursor = raw.cursor()
        try:
            cursor.execute(compiled.sql, parameters)
            rows = cursor.fetchall()
        except dialect.loaded_dbapi.Error as error:
            lost = dialect.is_disconnect(error, raw, cursor)
            if lost:
                connection.invalidate(error)
            elif not connection.in_transaction():
                # psycopg began a transaction SQLAlchemy does not know of, and the error
                # aborted it: end it, or the connection's next statement would fail.
                raw.rollback()
            raise DBAPIError.instance(
                compiled.sql,
                None,
                error,
                dialect.loaded_dbapi.Error,
                hide_parameters=True,
                connection_invalidated=lost,
                dialect=dialect,
            ) from error
        finally:
            cursor.close()
        # Only the columns with a conversion are touched (a loop over the few, not a
        # generator over every column: half the time for a box of AEDs).
        converted, make = compiled.converted, self._row
        if not converted:
            return [make(row) for row in rows]
        answer = []
        for row in rows:
            fields = list(row)
            for position, convert in converted:
                value = fields[position]
                if value is not None:
                    fields[position] = convert(value)
            answer.append(make(fields))
        return answer

    def first(self, connection: Connection, **values: Any) -> Any | None:
        """The first row, or None."""
        rows = self.all(connection, **values)
        return rows[0] if rows else None


# PostgreSQL's type code of `double precision`: what a table's `Float` column is created as.
_FLOAT8 = 701


def _result_processor(column: Any, dialect: Dialect) -> Callable[[Any], Any] | None:
    """The column type's conversion of a driver's value. On PostgreSQL a number's conversion
    depends on the driver's type code: a table's `Float` column is read as the
    `double precision` it is created as; other numbers (`Numeric`, a computed `Float`) are
    refused."""
    implementation = column.type.dialect_impl(dialect)
    type_code = None
    if isinstance(column.type, Float | Numeric) and dialect.name == "postgresql":
        if not (_is_table_column(column) and isinstance(column.type, Float)):
            raise ValueError(
                f"{column.key}: a PlainQuery does not read {type(column.type).__name__} values "
                "on PostgreSQL other than a table's Float columns (a number's conversion "
                "depends on the driver's type code)"
            )
        type_code = _FLOAT8
    processor: Callable[[Any], Any] | None = implementation.result_processor(dialect, type_code)
    return processor


def _is_table_column(column: Any) -> bool:
    return isinstance(column, Column) and isinstance(column.table, Table)


def _converted(convert: Callable[[Any], Any] | None, value: Any) -> Any:
    return value if convert is None else convert(value)
