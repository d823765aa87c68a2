import uuid

from fastapi import APIRouter, Response, status

from buurtplus.api.deps import ClockDep, CurrentActor, Cursor, Limit, SessionDep
from buurtplus.api.errors import problems
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
from buurtplus.domain.teams.service import TeamDraft

router = APIRouter(prefix="/teams", tags=["teams"])


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
    responses=problems(401, 403, 409, 413, 422),
)
def create_team(
    body: TeamCreate, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> TeamRead:
    """Admin only. Buurt codes must lie in the team's municipality; `plus_mode` lets the team take
    on social signals."""
    team = service.create_team(
        session, actor=actor, draft=TeamDraft(**body.model_dump()), clock=clock
    )
    return TeamRead.model_validate(team)


@router.get(
    "/{team_id}", summary="Get a team", response_model=TeamRead, responses=problems(401, 404, 422)
)
def get_team(team_id: uuid.UUID, actor: CurrentActor, session: SessionDep) -> TeamRead:
    """An admin, or a member of the team; to anyone else the team does not exist (404)."""
    return TeamRead.model_validate(service.get_team(session, actor=actor, team_id=team_id))


@router.patch(
    "/{team_id}",
    summary="Change a team (its coordinator or an admin)",
    response_model=TeamRead,
    responses=problems(401, 403, 404, 409, 413, 422),
)
def update_team(
    team_id: uuid.UUID, body: TeamUpdate, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> TeamRead:
    """The team's coordinator or an admin; only an admin moves a team to another municipality. Only
    the fields sent change; `null` clears an optional one."""
    team = service.update_team(
        session, actor=actor, team_id=team_id, changes=body.changes(), clock=clock
    )
    return TeamRead.model_validate(team)


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
    responses=problems(401, 403, 404, 409, 413, 422),
)
def add_team_member(
    team_id: uuid.UUID,
    body: TeamMemberCreate,
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
    return member_read(member, clock)


@router.get(
    "/{team_id}/members/{user_id}",
    summary="Get one member of a team",
    response_model=TeamMemberRead,
    responses=problems(401, 404, 422),
)
def get_team_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> TeamMemberRead:
    """An admin, or a member of the team."""
    member = service.get_member(session, actor=actor, team_id=team_id, user_id=user_id)
    return member_read(member, clock)


@router.patch(
    "/{team_id}/members/{user_id}",
    summary="Change a membership",
    response_model=TeamMemberRead,
    responses=problems(401, 403, 404, 413, 422),
)
def update_team_member(
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    body: TeamMemberUpdate,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> TeamMemberRead:
    """The team's coordinator or an admin: team role, CPR certificate date, responder flag."""
    member = service.update_member(
        session, actor=actor, team_id=team_id, user_id=user_id, changes=body.changes(), clock=clock
    )
    return member_read(member, clock)


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
