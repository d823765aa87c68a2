"""The one cursor pagination: keyset on (created_at, id), opaque cursor for clients."""

import base64
import binascii
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import and_, or_
from sqlmodel import Session
from sqlmodel.sql.expression import SelectOfScalar

from buurtplus.domain.errors import InvalidCursor

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = json.dumps([created_at.isoformat(), str(row_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_at, row_id = json.loads(raw)
        parsed = datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor() from exc
    if parsed[0].tzinfo is None:
        raise InvalidCursor()
    return parsed


def paginate(
    session: Session,
    statement: SelectOfScalar[T],
    *,
    created_at: Any,
    row_id: Any,
    limit: int,
    cursor: str | None,
    key: Callable[[T], tuple[datetime, uuid.UUID]],
) -> Page[T]:
    """Rows of `statement` after `cursor`, oldest first; `key` reads (created_at, id) of a row."""
    if cursor is not None:
        after_time, after_id = decode_cursor(cursor)
        statement = statement.where(
            or_(created_at > after_time, and_(created_at == after_time, row_id > after_id))
        )
    rows = list(session.exec(statement.order_by(created_at, row_id).limit(limit + 1)))
    if len(rows) <= limit:
        return Page(items=rows, next_cursor=None)
    rows = rows[:limit]
    return Page(items=rows, next_cursor=encode_cursor(*key(rows[-1])))
