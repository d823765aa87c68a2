import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert
from sqlmodel import Session, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.models import AuditEvent
from buurtplus.core.clock import Clock
from buurtplus.core.ids import time_ordered_id
from buurtplus.core.pagination import Page, paginate


def audit(
    session: Session,
    actor: Actor | None,
    action: AuditAction,
    object_id: uuid.UUID | None,
    *,
    clock: Clock,
    **details: Any,
) -> None:
    """Append one audit event; `details` never holds personal content or a secret, only ids,
    codes and counts. `actor` is None for the system itself (a job, the router)."""
    session.add(AuditEvent(**audit_row(actor, action, object_id, at=clock.now(), **details)))


def audit_row(
    actor: Actor | None,
    action: AuditAction,
    object_id: uuid.UUID | None,
    *,
    at: datetime,
    **details: Any,
) -> dict[str, Any]:
    """The columns of one audit event, for `audit` and for writes that insert rows directly."""
    return {
        "id": time_ordered_id(),
        "created_at": at,
        "actor_id": actor.user_id if actor else None,
        "action": action.value,
        "object_type": action.object_type,
        "object_id": object_id,
        "details": details,
    }


_INSERT_AUDIT = insert(AuditEvent.__table__)  # type: ignore[attr-defined]


class AuditRows:
    """Audit events written by a read, handed to the group-committing writer (a batch job):
    the read itself holds no write turn, and many readers' events go in one insert."""

    def __init__(self, rows: list[dict[str, Any]]) -> None:
        self.rows = rows

    def __call__(self, connection: Connection) -> None:
        self.store_all(connection, [self])

    @classmethod
    def store_all(cls, connection: Connection, jobs: list["AuditRows"]) -> None:
        connection.execute(_INSERT_AUDIT, [row for job in jobs for row in job.rows])


def take_pending_audit(session: Session) -> AuditRows | None:
    """Take the audit events a read added to `session` out of it, as rows for the writer.
    Anything else pending is a write, which a read must not make."""
    pending = list(session.new)
    events = [item for item in pending if isinstance(item, AuditEvent)]
    if len(events) != len(pending) or session.dirty or session.deleted:
        raise RuntimeError("an audited read may add audit events and nothing else")
    if not events:
        return None
    for event in events:
        session.expunge(event)
    columns = [column.key for column in AuditEvent.__table__.columns if column.key != "seq"]  # type: ignore[attr-defined]
    return AuditRows([{key: getattr(event, key) for key in columns} for event in events])


def list_events(
    session: Session,
    *,
    actor: Actor,
    actor_id: uuid.UUID | None,
    object_id: uuid.UUID | None,
    action: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int,
    cursor: str | None,
) -> Page[AuditEvent]:
    actor.require_admin("reads the audit log")
    statement = select(AuditEvent)
    if actor_id is not None:
        statement = statement.where(AuditEvent.actor_id == actor_id)
    if object_id is not None:
        statement = statement.where(AuditEvent.object_id == object_id)
    if action is not None:
        statement = statement.where(AuditEvent.action == action)
    if since is not None:
        statement = statement.where(AuditEvent.created_at >= since)
    if until is not None:
        statement = statement.where(AuditEvent.created_at < until)
    return paginate(
        session,
        statement,
        order=(AuditEvent.seq,),
        limit=limit,
        cursor=cursor,
        key=lambda event: (event.seq or 0,),
    )
