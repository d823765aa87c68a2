"""Creates that a client may retry: the same request stores one object, however often it comes."""

import hashlib
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

T = TypeVar("T")


def fingerprint(fields: Mapping[str, Any]) -> str:
    """A hash of a request's content, to tell a retry from another request.

    Stored with what the request made: keep its output stable across releases.
    """

    def plain(value: Any) -> Any:
        return value.isoformat() if isinstance(value, datetime) else str(value)

    canonical = json.dumps(fields, sort_keys=True, default=plain)
    return hashlib.sha256(canonical.encode()).hexdigest()


def insert_once(
    session: Session, store: Callable[[], None], earlier: Callable[[], T | None]
) -> T | None:
    """Run `store` in a savepoint; None when it stored the new rows.

    When a unique constraint refuses them because a concurrent retry of the same request got
    there first, answer that retry's object, read by `earlier` (the rolled-back savepoint has
    taken the new rows out of the session already).
    """
    try:
        with session.begin_nested():
            store()
            session.flush()
    except IntegrityError:
        found = earlier()
        if found is None:
            raise
        return found
    return None
