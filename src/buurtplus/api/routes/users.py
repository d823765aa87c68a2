import uuid

from fastapi import Response, status

from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    AdminActor,
    ClockDep,
    Cursor,
    IfMatch,
    Limit,
    SessionDep,
    send_etag,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.users import UserCreate, UserPage, UserRead, UserUpdate
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.departures import service as departures
from buurtplus.domain.users import service
from buurtplus.domain.users.errors import StaleUser
from buurtplus.domain.users.models import User
from buurtplus.domain.users.service import UserChanges

router = ModuleRouter(prefix="/users", tags=["users"])


def _user(response: Response, user: User) -> UserRead:
    send_etag(response, user.version)
    return UserRead.model_validate(user)


@router.get(
    "",
    summary="List user accounts (admin)",
    response_model=UserPage,
    responses=problems(401, 403, 422),
)
def list_users(
    actor: AdminActor, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> UserPage:
    """Admin only: every account, paged."""
    page = service.list_users(session, actor=actor, limit=limit, cursor=cursor)
    return UserPage(
        items=[UserRead.model_validate(u) for u in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    summary="Create a user account (admin)",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 409, 413, 422), **sends(201, "ETag")},
)
def create_user(
    body: UserCreate, response: Response, actor: AdminActor, session: SessionDep, clock: ClockDep
) -> UserRead:
    """Admin only: an account with a role; a partner account names its partner organisation. The
    password is stored hashed and never shown; the write is in the audit log."""
    user = service.create_user(
        session,
        actor=actor,
        email=body.email,
        full_name=body.full_name,
        password=body.password,
        role=body.role,
        partner_id=body.partner_id,
        clock=clock,
    )
    return _user(response, user)


@router.get(
    "/{user_id}",
    summary="Get a user account (admin)",
    response_model=UserRead,
    responses={**problems(401, 403, 404, 422), **sends(200, "ETag")},
)
def get_user(
    user_id: uuid.UUID, response: Response, actor: AdminActor, session: SessionDep
) -> UserRead:
    """Admin only: one account, its role, partner and whether it is active."""
    return _user(response, service.get_user(session, actor=actor, user_id=user_id))


@router.patch(
    "/{user_id}",
    summary="Change or deactivate a user account (admin)",
    response_model=UserRead,
    responses={**problems(401, 403, 404, 409, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_user(
    user_id: uuid.UUID,
    body: UserUpdate,
    response: Response,
    actor: AdminActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> UserRead:
    """Admin only: change the name, role, partner, password or whether the account is active. A
    change of role or password, or switching the account off, stops its tokens and feed tokens
    at once, and someone who stops being a volunteer is taken off open rounds. An admin cannot
    lock themselves out. Requires `If-Match` with the account's ETag (428 without, 412 when
    someone changed it since)."""
    user = departures.change_account(
        session,
        actor=actor,
        user_id=user_id,
        changes=UserChanges(**body.changes()),
        expected_version=version_from_if_match(if_match, StaleUser, required=True),
        clock=clock,
    )
    return _user(response, user)
