from fastapi import APIRouter
from sqlmodel import col, select

from buurtplus.api.deps import CurrentActor, SessionDep
from buurtplus.api.errors import problems
from buurtplus.api.schemas.users import MeRead, MyTeam, UserRead
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.service import get_user

router = APIRouter(prefix="/me", tags=["me"])


@router.get(
    "",
    summary="The signed-in user, their role and teams",
    response_model=MeRead,
    responses=problems(401),
)
def read_me(actor: CurrentActor, session: SessionDep) -> MeRead:
    user = get_user(session, user_id=actor.user_id)
    teams = session.exec(select(Team).where(col(Team.id).in_(list(actor.team_roles)))).all()
    return MeRead(
        **UserRead.model_validate(user).model_dump(),
        teams=[
            MyTeam(
                team_id=t.id, name=t.name, team_role=actor.team_roles[t.id], plus_mode=t.plus_mode
            )
            for t in sorted(teams, key=lambda t: t.name)
        ],
    )
