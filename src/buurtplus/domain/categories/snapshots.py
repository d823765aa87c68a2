"""Categories for the hot paths (every report, every page of signals), read as plain rows.

A category's row is read on every use, so an admin's change, or switching a category off, is
seen by the next report in every process; the `Category` built from a row is kept, keyed by
the whole row, so the same row is never built twice (building a model cost more than reading
it). What these return is shared: read it, never change it (the service loads its own to
change).
"""

import threading
import uuid
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

import sqlalchemy as sa
from sqlmodel import Session, col

from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.categories.models import Category

_CATEGORIES = Category.__table__  # type: ignore[attr-defined]
# Every report asks it: run on the driver's cursor (core/plain_query.py).
_ACTIVE_BY_CODE = PlainQuery(
    sa.select(_CATEGORIES).where(
        col(Category.code) == sa.bindparam("code"), col(Category.active).is_(True)
    )
)


@lru_cache(maxsize=64)
def _by_ids(count: int) -> PlainQuery:
    """The categories of `count` ids (`id_0` …): one statement per count, run on the driver's
    cursor (an expanding `IN` through SQLAlchemy cost a page of signals more than its rows)."""
    ids = [sa.bindparam(f"id_{n}", type_=_CATEGORIES.c.id.type) for n in range(count)]
    return PlainQuery(sa.select(_CATEGORIES).where(_CATEGORIES.c.id.in_(ids)))


# A few dozen categories, a few versions each; a bound, should edits pile up over years.
_MOST = 1024

_built: dict[tuple[Any, ...], Category] = {}
_lock = threading.Lock()


def active_category(session: Session, code: str) -> Category | None:
    """The active category with this code, as it is now; None when there is none."""
    row = _ACTIVE_BY_CODE.first(session.connection(), code=code)
    return None if row is None else _built_from(row)


def categories_by_id(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Category]:
    """The categories with these ids, as they are now (switched off ones too)."""
    wanted = {f"id_{n}": category_id for n, category_id in enumerate(dict.fromkeys(ids))}
    if not wanted:
        return {}
    rows = _by_ids(len(wanted)).all(session.connection(), **wanted)
    return {row.id: _built_from(row) for row in rows}


def _built_from(row: Any) -> Category:
    """`row`: a named row of every column (SQLAlchemy's or a PlainQuery's)."""
    key = tuple(row)
    found = _built.get(key)
    if found is None:
        # Built outside any session: the caller's identity map is left as it was.
        found = Category(**row._asdict())
        with _lock:
            if len(_built) >= _MOST:
                _built.clear()
            _built[key] = found
    return found
