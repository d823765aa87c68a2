"""Demo rounds: walked ones with observations (one made into a signal), a called-off one and
planned ones, so the calendar, the figures and the observation list show something."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlmodel import Session

from buurtplus.core.clock import Clock
from buurtplus.domain.patrols.observations import ObservationDraft, log_observation
from buurtplus.domain.patrols.planning import PatrolDraft, create_patrol
from buurtplus.domain.patrols.promotion import Promotion, promote_observation
from buurtplus.domain.patrols.signups import sign_up
from buurtplus.domain.patrols.walking import take_step
from buurtplus.domain.patrols.workflow import ObservationKind, PatrolAction
from buurtplus.domain.teams.models import Team
from buurtplus.domain.teams.service import load_actor
from buurtplus.domain.users.models import User
from buurtplus.routing.strategies.rules import RulesRouter


class _At:
    """A clock fixed at one moment: demo rounds are walked "then", not now."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def now(self) -> datetime:
        return self.moment


DEMO_ROUTE = {
    "type": "LineString",
    "coordinates": [[4.9150, 52.3580], [4.9215, 52.3601], [4.9260, 52.3625], [4.9180, 52.3630]],
}


def seed_patrols(
    session: Session,
    *,
    team: Team,
    coordinator: User,
    member: User,
    router: RulesRouter,
    clock: Clock,
) -> None:
    """Two walked rounds with observations (one made into a signal), a cancelled one, and
    two planned ones, one still waiting for a second walker."""
    lead = load_actor(session, user=coordinator)
    walker = load_actor(session, user=member)
    evening = clock.now().astimezone(UTC).replace(hour=18, minute=30, second=0, microsecond=0)

    def plan(days: int, note: str, *walkers: User) -> uuid.UUID:
        start = evening + timedelta(days=days)
        patrol = create_patrol(
            session,
            actor=lead,
            draft=PatrolDraft(
                team_id=team.id,
                planned_start=start,
                planned_end=start + timedelta(hours=2),
                route=DEMO_ROUTE,
                note=note,
            ),
            clock=_At(start - timedelta(days=3)),
        ).patrol
        for user in walkers:
            sign_up(
                session,
                actor=lead,
                patrol_id=patrol.id,
                user_id=user.id,
                clock=_At(start - timedelta(days=2)),
            )
        return patrol.id

    for days, seen in ((-8, DEMO_ROUND_ONE), (-3, DEMO_ROUND_TWO)):
        patrol_id = plan(days, "Vaste avondronde door het park.", coordinator, member)
        start = evening + timedelta(days=days)
        take_step(
            session,
            actor=walker,
            patrol_id=patrol_id,
            action=PatrolAction.start,
            at=start,
            reason=None,
            expected_version=None,
            clock=_At(start),
        )
        for minutes, kind, latitude, longitude, note in seen:
            moment = start + timedelta(minutes=minutes)
            logged = log_observation(
                session,
                actor=walker,
                patrol_id=patrol_id,
                draft=ObservationDraft(
                    kind=kind,
                    latitude=latitude,
                    longitude=longitude,
                    observed_at=moment,
                    note=note,
                ),
                clock=_At(moment),
            )
            if kind == ObservationKind.broken_lighting:
                promote_observation(
                    session,
                    actor=walker,
                    patrol_id=patrol_id,
                    observation_id=logged.view.observation.id,
                    promotion=Promotion(buurt_code="BU0363MA01"),
                    clock=_At(moment),
                    router=router,
                )
        end = start + timedelta(hours=2)
        take_step(
            session,
            actor=walker,
            patrol_id=patrol_id,
            action=PatrolAction.finish,
            at=end,
            reason=None,
            expected_version=None,
            clock=_At(end),
        )
    called_off = plan(-1, "Extra ronde na de inbraken in de straat.", member)
    take_step(
        session,
        actor=lead,
        patrol_id=called_off,
        action=PatrolAction.cancel,
        at=None,
        reason="Storm; de ronde vervalt.",
        expected_version=None,
        clock=_At(evening - timedelta(days=2)),
    )
    plan(2, "Let op de fietsenstalling bij het buurthuis.", member)
    plan(5, "Ronde met de wijkagent.", coordinator, member)


K = ObservationKind
DEMO_ROUND_ONE = (
    (20, K.broken_lighting, 52.3601, 4.9215, "Lantaarnpaal op de hoek brandt niet."),
    (
        45,
        K.open_window_or_door,
        52.3612,
        4.9240,
        "Raam op de begane grond staat open, niemand thuis.",
    ),
    (70, K.aed_seen, 52.3620, 4.9255, "AED bij de supermarkt: kast dicht, lampje groen."),
)
DEMO_ROUND_TWO = (
    (15, K.youth_gathering, 52.3590, 4.9190, "Groepje jongeren bij het bankje, rustig."),
    (50, K.wrongly_parked_trailer, 52.3628, 4.9200, "Aanhanger staat al een week op de stoep."),
)
