import uuid

from fastapi import Response, status

from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    IfMatch,
    Limit,
    SessionDep,
    send_etag,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.teams import (
    TeamCreate,
    TeamMemberCreate,
    TeamMemberPage,
    TeamMemberRead,
    TeamMemberUpdate,
    TeamPage,
    TeamRead,
    TeamUpdate,
    member_read,
)
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.departures import service as departures
from buurtplus.domain.teams import service
from buurtplus.domain.teams.errors import StaleMember, StaleTeam
from buurtplus.domain.teams.models import Team
from buurtplus.domain.teams.service import Member, TeamDraft

router = ModuleRouter(prefix="/teams", tags=["teams"])


def _team(response: Response, team: Team) -> TeamRead:
    send_etag(response, team.version)
    return TeamRead.model_validate(team)


def _member(response: Response, member: Member, clock: ClockDep) -> TeamMemberRead:
    send_etag(response, member.membership.version)
    return member_read(member, clock)


@router.get(
    "", summary="List the teams you may see", response_model=TeamPage, responses=problems(401, 422)
)
def list_teams(
    actor: CurrentActor, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> TeamPage:
    """An admin sees every team; everyone else the teams they belong to."""
    page = service.list_teams(session, actor=actor, limit=limit, cursor=cursor)
    return TeamPage(
        items=[TeamRead.model_validate(t) for t in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    summary="Create a team (admin)",
    response_model=TeamRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 409, 413, 422), **sends(201, "ETag")},
)
def create_team(
    body: TeamCreate, response: Response, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> TeamRead:
    """Admin only. Buurt codes must lie in the team's municipality; `plus_mode` lets the team take
    on social signals."""
    team = service.create_team(
        session, actor=actor, draft=TeamDraft(**body.model_dump()), clock=clock
    )
    return _team(response, team)


@router.get(
    "/{team_id}",
    summary="Get a team",
    response_model=TeamRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
def get_team(
    team_id: uuid.UUID, response: Response, actor: CurrentActor, session: SessionDep
) -> TeamRead:
    """An admin, or a member of the team; to anyone else the team does not exist (404)."""
    return _team(response, service.get_team(session, actor=actor, team_id=team_id))


@router.patch(
    "/{team_id}",
    summary="Change a team (its coordinator or an admin)",
    response_model=TeamRead,
    responses={**problems(401, 403, 404, 409, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_team(
    team_id: uuid.UUID,
    body: TeamUpdate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> TeamRead:
    """The team's coordinator or an admin; only an admin moves a team to another municipality.
    Requires `If-Match` with the team's ETag (428 without, 412 when someone changed it since).
    Only the fields sent change; `null` clears an optional one."""
    team = service.update_team(
        session,
        actor=actor,
        team_id=team_id,
        changes=body.changes(),
        expected_version=version_from_if_match(if_match, StaleTeam, required=True),
        clock=clock,
    )
    return _team(response, team)


@router.delete(
    "/{team_id}",
    summary="Delete a team and its memberships (admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 409, 422),
)
def delete_team(
    team_id: uuid.UUID, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> None:
    """Admin only, and only while the team has no signals (409 otherwise): its memberships, patrols
    and observations go with it, which the audit event counts."""
    departures.dissolve_team(session, actor=actor, team_id=team_id, clock=clock)


@router.get(
    "/{team_id}/members",
    summary="List a team's members",
    response_model=TeamMemberPage,
    responses=problems(401, 404, 422),
)
def list_team_members(
    team_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> TeamMemberPage:
    """An admin, or a member of the team."""
    page = service.list_members(session, actor=actor, team_id=team_id, limit=limit, cursor=cursor)
    return TeamMemberPage(
        items=[member_read(m, clock) for m in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/{team_id}/members",
    summary="Add a volunteer to a team",
    response_model=TeamMemberRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 404, 409, 413, 422), **sends(201, "ETag")},
)
def add_team_member(
    team_id: uuid.UUID,
    body: TeamMemberCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> TeamMemberRead:
    """The team's coordinator or an admin: a volunteer account joins the team with a team role, CPR
    certificate date and citizen-responder flag. An account is in one team at a time."""
    member = service.add_member(
        session,
        actor=actor,
        team_id=team_id,
        email=body.email,
        team_role=body.team_role,
        cpr_valid_until=body.cpr_valid_until,
        citizen_responder=body.citizen_responder,
        clock=clock,
    )
    return _member(response, member, clock)


@router.get(
    "/{team_id}/members/{user_id}",
    summary="Get one member of a team",
    response_model=TeamMemberRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
def get_team_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> TeamMemberRead:
    """An admin, or a member of the team; the `ETag` is the membership's version."""
    member = service.get_member(session, actor=actor, team_id=team_id, user_id=user_id)
    return _member(response, member, clock)


@router.patch(
    "/{team_id}/members/{user_id}",
    summary="Change a membership",
    response_model=TeamMemberRead,
    responses={**problems(401, 403, 404, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_team_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    body: TeamMemberUpdate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> TeamMemberRead:
    """The team's coordinator or an admin: team role, CPR certificate date, responder flag; a
    member their own CPR date and responder flag. Requires `If-Match` with the membership's ETag
    (428 without, 412 when someone changed it since)."""
    member = service.update_member(
        session,
        actor=actor,
        team_id=team_id,
        user_id=user_id,
        changes=body.changes(),
        expected_version=version_from_if_match(if_match, StaleMember, required=True),
        clock=clock,
    )
    return _member(response, member, clock)


@router.delete(
    "/{team_id}/members/{user_id}",
    summary="Remove a member from a team",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 422),
)
def remove_team_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> None:
    """The team's coordinator or an admin. The person is taken off the team's open rounds; the
    signals they reported stay theirs."""
    departures.remove_member(session, actor=actor, team_id=team_id, user_id=user_id, clock=clock)
