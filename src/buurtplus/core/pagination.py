"""The one cursor pagination: keyset on a row's sort key, opaque cursor for clients."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import ColumnElement, bindparam, tuple_
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from buurtplus.core.errors import InvalidCursor

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200

SortValue = datetime | uuid.UUID | int


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _encode_value(value: SortValue) -> list[Any]:
    if isinstance(value, datetime):
        return ["t", value.isoformat()]
    if isinstance(value, uuid.UUID):
        return ["u", str(value)]
    return ["i", int(value)]


def _decode_value(tagged: Any) -> SortValue:
    kind, raw = tagged
    if kind == "t":
        parsed = datetime.fromisoformat(raw)
        if parsed.tzinfo is None or not 1970 <= parsed.year <= 9000:
            raise ValueError("timestamp in cursor out of range")
        return parsed
    if kind == "u":
        return uuid.UUID(raw)
    if kind == "i" and isinstance(raw, int) and not isinstance(raw, bool) and abs(raw) < 2**31:
        return raw
    raise ValueError("unknown cursor value")


def encode_cursor(values: Sequence[SortValue]) -> str:
    raw = json.dumps([_encode_value(v) for v in values]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> tuple[SortValue, ...]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = tuple(_decode_value(tagged) for tagged in json.loads(raw))
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidCursor() from exc
    if len(values) != size:
        raise InvalidCursor()
    return values


def paginate(
    session: Session,
    statement: SelectOfScalar[T],
    *,
    order: Sequence[Any],
    key: Callable[[T], Sequence[SortValue]],
    limit: int,
    cursor: str | None,
) -> Page[T]:
    """Rows of `statement` after `cursor`, ascending by the `order` columns (unique together);
    `key` reads those values off a row."""
    if cursor is not None:
        statement = statement.where(after_cursor(order, cursor))
    rows = list(session.exec(statement.order_by(*order).limit(limit + 1)))
    return page_of(rows, limit=limit, key=key)


def after_cursor(order: Sequence[Any], cursor: str) -> ColumnElement[bool]:
    """The keyset condition: rows after the one `cursor` names, in `order`."""
    bounds = [
        bindparam(None, value, type_=column.type)
        for column, value in zip(order, cursor_values(order, cursor), strict=True)
    ]
    return tuple_(*order) > tuple_(*bounds)


def after_bound(order: Sequence[Any], prefix: str = "after") -> ColumnElement[bool]:
    """The keyset condition with named values (`prefix_0`, `prefix_1`, ...) instead of the
    cursor's own, for a statement built once and run with `bound_after(...)`."""
    bounds = [
        bindparam(f"{prefix}_{n}", type_=column.type, required=True)
        for n, column in enumerate(order)
    ]
    return tuple_(*order) > tuple_(*bounds)


def bound_after(order: Sequence[Any], cursor: str, prefix: str = "after") -> dict[str, Any]:
    """The values of `after_bound(order, prefix)` for the row `cursor` names."""
    return {f"{prefix}_{n}": value for n, value in enumerate(cursor_values(order, cursor))}


def cursor_values(order: Sequence[Any], cursor: str) -> tuple[SortValue, ...]:
    """The sort values `cursor` names, each of its column's kind, or InvalidCursor."""
    after = decode_cursor(cursor, len(order))
    for column, value in zip(order, after, strict=True):
        if not isinstance(value, column.type.python_type):
            raise InvalidCursor()
    return after


def page_of(rows: list[T], *, limit: int, key: Callable[[T], Sequence[SortValue]]) -> Page[T]:
    """A page of up to `limit` of `rows` (read with one more, to know whether more follow)."""
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(key(rows[-1])))
