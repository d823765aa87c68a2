import uuid
from typing import Annotated

from fastapi import Query

from buurtplus.api.deps import AdminActor, Cursor, Limit, SessionDep
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.audit import AuditEventPage, AuditEventRead
from buurtplus.api.schemas.common import Moment
from buurtplus.core.audit.service import list_events
from buurtplus.core.pagination import DEFAULT_LIMIT

router = ModuleRouter(prefix="/audit-events", tags=["audit"])


@router.get(
    "",
    summary="Who did or read what, oldest first (admin)",
    response_model=AuditEventPage,
    responses=problems(401, 403, 422),
)
def list_audit_events(
    admin: AdminActor,
    session: SessionDep,
    actor_id: Annotated[uuid.UUID | None, Query()] = None,
    object_id: Annotated[uuid.UUID | None, Query()] = None,
    action: Annotated[str | None, Query(max_length=60, examples=["signal.read"])] = None,
    since: Annotated[Moment | None, Query()] = None,
    until: Annotated[Moment | None, Query()] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AuditEventPage:
    """Admin only: every write and every read of sensitive content, oldest first, filtered by
    actor, object or time."""
    page = list_events(
        session,
        actor=admin,
        actor_id=actor_id,
        object_id=object_id,
        action=action,
        since=since,
        until=until,
        limit=limit,
        cursor=cursor,
    )
    return AuditEventPage(
        items=[AuditEventRead.model_validate(e) for e in page.items], next_cursor=page.next_cursor
    )
