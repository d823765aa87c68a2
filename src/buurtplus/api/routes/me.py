from datetime import datetime

from fastapi import Request, Response, status
from pydantic import BaseModel, Field

from buurtplus.api.deps import ClockDep, CurrentActor, SessionDep, audited_read, read_now
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.patrols import (
    FeedTokenCreated,
    FeedTokenRead,
    ObservationRead,
    PatrolParticipationExport,
    TeamFeed,
    observation_read,
)
from buurtplus.api.schemas.signals import (
    FeedbackRead,
    ReportedSignalExport,
    event_read,
    signal_read,
)
from buurtplus.api.schemas.users import MembershipExport, MeRead, MyTeam, UserRead
from buurtplus.core.actor import Actor
from buurtplus.core.errors import PermissionDenied
from buurtplus.domain.patrols.feed import (
    feed_token_issued_at,
    issue_feed_token,
    revoke_feed_token,
)
from buurtplus.domain.patrols.observations import ObservationView
from buurtplus.domain.privacy import export_personal_data
from buurtplus.domain.teams.service import own_account

router = ModuleRouter(prefix="/me", tags=["me"])


def _require_person(actor: Actor) -> None:
    if actor.is_client:
        raise PermissionDenied("A system client has no personal account.")


@router.get(
    "",
    summary="The signed-in user, their role and teams",
    response_model=MeRead,
    responses=problems(401, 403, 404),
)
async def read_me(request: Request, actor: CurrentActor) -> MeRead:
    """Any signed-in person (not a system client): the account, its role, teams and team roles."""
    account = await read_now(request, lambda connection: own_account(connection, actor=actor))
    return MeRead(
        **account.user,
        teams=[
            MyTeam(
                team_id=t["id"],
                name=t["name"],
                team_role=actor.team_roles[t["id"]],
                plus_mode=t["plus_mode"],
            )
            for t in account.teams
        ],
    )


class PersonalDataExport(BaseModel):
    """Everything the system holds about you."""

    exported_at: datetime
    account: UserRead
    memberships: list[MembershipExport]
    signals: list[ReportedSignalExport]
    patrols: list[PatrolParticipationExport]
    observations: list[ObservationRead]
    feed_token_created_at: datetime | None = Field(
        description="When your calendar feed token was made (the token itself is not kept)"
    )


@router.get(
    "/export",
    summary="Download everything the system holds about you",
    response_model=PersonalDataExport,
    responses=problems(401, 403, 404),
)
@audited_read
def export_me(
    actor: CurrentActor, session: SessionDep, clock: ClockDep, response: Response
) -> PersonalDataExport:
    """Any signed-in person: everything held about you (account, memberships, the signals you
    reported with their history and feedback, your patrol participation) as one JSON download.
    The export is in the audit log."""
    _require_person(actor)
    data = export_personal_data(session, actor=actor, clock=clock)
    now = clock.now()
    response.headers["Content-Disposition"] = (
        f'attachment; filename="buurtplus-export-{now:%Y%m%d}.json"'
    )
    return PersonalDataExport(
        exported_at=now,
        account=UserRead.model_validate(data.user),
        memberships=[
            MembershipExport(
                team_id=t.id,
                team_name=t.name,
                team_role=m.team_role,
                cpr_valid_until=m.cpr_valid_until,
                citizen_responder=m.citizen_responder,
                joined_at=m.created_at,
            )
            for m, t in data.memberships
        ],
        signals=[
            ReportedSignalExport(
                **signal_read(item.view).model_dump(),
                history=[event_read(item.view, e, actor) for e in item.history],
                feedback=[
                    FeedbackRead.model_validate(f, from_attributes=True) for f in item.feedback
                ],
            )
            for item in data.signals
        ],
        patrols=[
            PatrolParticipationExport(
                patrol_id=patrol.id,
                team_id=patrol.team_id,
                planned_start=patrol.planned_start,
                planned_end=patrol.planned_end,
                status=patrol.status,
                signed_up_at=participation.joined_at,
            )
            for participation, patrol in data.patrols
        ],
        observations=[observation_read(ObservationView(o, None)) for o in data.observations],
        feed_token_created_at=data.feed_token_created_at,
    )


@router.post(
    "/feed-token",
    summary="Make a calendar feed token (shown once; replaces the one you had)",
    response_model=FeedTokenCreated,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403),
)
def create_feed_token(
    request: Request, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> FeedTokenCreated:
    """Any signed-in person: a new personal token for the iCalendar feed URLs of your teams, shown
    once in the answer. A token you had stops working."""
    issued = issue_feed_token(session, actor=actor, clock=clock)
    return FeedTokenCreated(
        token=issued.token,
        created_at=issued.created_at,
        feeds=[
            TeamFeed(
                team_id=team.id,
                team_name=team.name,
                url=str(
                    request.url_for("team_patrols_calendar", team_id=team.id).include_query_params(
                        token=issued.token
                    )
                ),
            )
            for team in issued.teams
        ],
    )


@router.get(
    "/feed-token",
    summary="Whether you have a calendar feed token (never the token itself)",
    response_model=FeedTokenRead,
    responses=problems(401, 403),
)
def read_feed_token(actor: CurrentActor, session: SessionDep) -> FeedTokenRead:
    """Any signed-in person: whether a personal calendar feed token exists. The token itself is
    never shown again."""
    created_at = feed_token_issued_at(session, actor=actor)
    return FeedTokenRead(active=created_at is not None, created_at=created_at)


@router.delete(
    "/feed-token",
    summary="Revoke your calendar feed token: your feed URLs stop working",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403),
)
def revoke_my_feed_token(actor: CurrentActor, session: SessionDep, clock: ClockDep) -> None:
    """Any signed-in person: your feed URLs stop working at once."""
    revoke_feed_token(session, actor=actor, clock=clock)
