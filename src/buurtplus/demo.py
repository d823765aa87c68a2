"""Demo data for trying the product: only with BUURTPLUS_DEMO=true, only into an empty database."""

import base64
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlmodel import Session, select

from buurtplus.core.actor import Actor, TeamRole, UserRole
from buurtplus.core.clock import Clock
from buurtplus.demo_aeds import seed_aeds
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.partners.service import create_partner
from buurtplus.domain.patrols.service import (
    ObservationDraft,
    PatrolDraft,
    Promotion,
    create_patrol,
    log_observation,
    promote_observation,
    sign_up,
    take_step,
)
from buurtplus.domain.patrols.workflow import ObservationKind, PatrolAction
from buurtplus.domain.routing.management import create_rule
from buurtplus.domain.signals.intake import SignalDraft, submit_signal
from buurtplus.domain.teams.models import Team
from buurtplus.domain.teams.service import TeamDraft, add_member, create_team, load_actor
from buurtplus.domain.users.models import User
from buurtplus.domain.users.service import create_user
from buurtplus.outbox.models import EventType, WebhookEndpoint
from buurtplus.routing.strategies.rules import RulesRouter

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo credential, demo mode only
DEMO_MUNICIPALITY = "GM0363"
# The secret examples/partner_receiver.py verifies with by default (demo data only).
DEMO_WEBHOOK_SECRET = "whsec_" + base64.b64encode(b"buurtpreventie-plus-demo-webhook").decode()


@dataclass(frozen=True)
class DemoAccount:
    email: str
    full_name: str
    role: UserRole
    team_role: TeamRole | None = None


DEMO_ACCOUNTS = (
    DemoAccount("admin@demo.local", "Demo Beheerder", UserRole.admin),
    DemoAccount(
        "coordinator@demo.local", "Demo Coördinator", UserRole.volunteer, TeamRole.coordinator
    ),
    DemoAccount("member@demo.local", "Demo Vrijwilliger", UserRole.volunteer, TeamRole.member),
    DemoAccount("partner@demo.local", "Demo Partner (sociaal wijkteam)", UserRole.partner),
)


def seed_demo(session: Session, *, clock: Clock, receiver_url: str) -> bool:
    """Fill an empty database with demo teams and accounts; False if it held users already."""
    if session.exec(select(User).limit(1)).first() is not None:
        return False
    root = Actor(user_id=uuid.uuid4(), role=UserRole.admin)
    partners = {
        name: create_partner(
            session,
            actor=root,
            clock=clock,
            fields={
                "name": name,
                "kind": kind,
                "contact_email": email,
                "municipalities": [DEMO_MUNICIPALITY],
            },
        )
        for name, kind, email in DEMO_PARTNERS
    }
    users = {
        account.email: create_user(
            session,
            email=account.email,
            full_name=account.full_name,
            password=DEMO_PASSWORD,
            role=account.role,
            partner_id=partners[WIJKTEAM].id if account.role == UserRole.partner else None,
            clock=clock,
        )
        for account in DEMO_ACCOUNTS
    }
    admin = Actor(user_id=users["admin@demo.local"].id, role=UserRole.admin)
    for partner in partners.values():
        session.add(
            WebhookEndpoint(
                partner_id=partner.id,
                url=f"{receiver_url.rstrip('/')}/{partner.kind}",
                description="Demo receiver (examples/partner_receiver.py)",
                event_types=[t for t in EventType if t != EventType.ping],
                secret=DEMO_WEBHOOK_SECRET,
                created_at=clock.now(),
                updated_at=clock.now(),
            )
        )
    for rule in demo_rules(partners):
        create_rule(session, actor=admin, fields=rule, clock=clock)
    plus_team = create_team(
        session,
        actor=admin,
        draft=TeamDraft(
            name="Buurtpreventie Oosterpark (Plus)",
            municipality_code=DEMO_MUNICIPALITY,
            buurt_codes=["BU0363MA01", "BU0363MA02", "BU0363MA03"],
            area={
                "type": "Polygon",
                "coordinates": [
                    [
                        [4.912, 52.356],
                        [4.929, 52.356],
                        [4.929, 52.364],
                        [4.912, 52.364],
                        [4.912, 52.356],
                    ]
                ],
            },
            contact_name="Demo Coördinator",
            contact_email="coordinator@demo.local",
            plus_mode=True,
        ),
        clock=clock,
    )
    create_team(
        session,
        actor=admin,
        draft=TeamDraft(
            name="Buurtpreventie Dapperbuurt",
            municipality_code=DEMO_MUNICIPALITY,
            buurt_codes=["BU0363MB01", "BU0363MB02"],
            contact_name="Team Dapperbuurt",
            plus_mode=False,
        ),
        clock=clock,
    )
    for account in DEMO_ACCOUNTS:
        if account.team_role is None:
            continue
        add_member(
            session,
            actor=admin,
            team_id=plus_team.id,
            email=account.email,
            team_role=account.team_role,
            cpr_valid_until=date(2027, 12, 31),
            citizen_responder=account.team_role == TeamRole.member,
            clock=clock,
        )
    member = users["member@demo.local"]
    reporter = load_actor(session, user=member)
    router = RulesRouter()
    for draft in DEMO_SIGNALS:
        submit_signal(
            session,
            actor=reporter,
            draft=draft,
            idempotency_key=None,
            clock=clock,
            router=router,
        )
    seed_aeds(
        session,
        admin=admin,
        checker=reporter,
        owner=partners[AED_OWNER],
        router=router,
        clock=clock,
    )
    seed_patrols(
        session,
        team=plus_team,
        coordinator=users["coordinator@demo.local"],
        member=member,
        router=router,
        clock=clock,
    )
    return True


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


VEILIG_THUIS = "Veilig Thuis Amsterdam-Amstelland"
WIJKTEAM = "Sociaal wijkteam Oost"
GEMEENTE = "Gemeente Amsterdam"
GGD = "GGD Amsterdam"
WIJKAGENT = "Wijkagent Oosterpark"
AED_OWNER = "Buurthuis Oosterpark (AED-eigenaar)"

DEMO_PARTNERS = (
    (VEILIG_THUIS, "veilig_thuis", "veiligthuis@demo.local"),
    (WIJKTEAM, "wijkteam", "wijkteam@demo.local"),
    (GEMEENTE, "gemeente", "gemeente@demo.local"),
    (GGD, "ggd", "ggd@demo.local"),
    (WIJKAGENT, "wijkagent", "wijkagent@demo.local"),
    (AED_OWNER, "aed_owner", "aed@demo.local"),
)


def demo_rules(partners: dict[str, Partner]) -> list[dict[str, Any]]:
    """Rules that send every default category somewhere at every hour of the week."""

    def rule(
        name: str,
        categories: list[str],
        partner: str,
        fallback: str | None,
        ack_minutes: int,
        **extra: Any,
    ) -> dict[str, Any]:
        return {
            "name": name,
            "categories": categories,
            "partner_id": partners[partner].id,
            "fallback_partner_id": partners[fallback].id if fallback else None,
            "ack_minutes": ack_minutes,
            **extra,
        }

    return [
        rule(
            "Huiselijk geweld en verwaarlozing: Veilig Thuis (altijd)",
            ["domestic_violence", "neglect"],
            VEILIG_THUIS,
            GGD,
            60,
        ),
        rule(
            "Sociale signalen in kantooruren: sociaal wijkteam",
            ["loneliness", "social_isolation", "other_concern"],
            WIJKTEAM,
            GEMEENTE,
            24 * 60,
            time_window="Mo-Fr 08:30-17:00; PH off",
            municipalities=[DEMO_MUNICIPALITY],
        ),
        rule("Zorgwekkend gedrag: GGD", ["worrying_behaviour"], GGD, GEMEENTE, 240),
        rule(
            "Veiligheid: wijkagent",
            ["burglary_risk", "vehicle_crime", "suspicious_situation", "youth_nuisance"],
            WIJKAGENT,
            GEMEENTE,
            24 * 60,
        ),
        rule(
            "Openbare ruimte en aanhangers: gemeente",
            ["public_space", "trailer_parking"],
            GEMEENTE,
            None,
            3 * 24 * 60,
        ),
        rule("AED: eigenaar", ["aed_missing", "aed_defective"], AED_OWNER, GEMEENTE, 24 * 60),
        rule("Vangnet: al het andere naar de gemeente", [], GEMEENTE, None, 24 * 60, priority=-10),
    ]


DEMO_SIGNALS = (
    SignalDraft(
        category="public_space",
        description="Lantaarnpaal bij het speeltuintje is al een week kapot; het pad is donker.",
        latitude=52.3601,
        longitude=4.9215,
        buurt_code="BU0363MA01",
    ),
    SignalDraft(
        category="loneliness",
        description="Oudere buurvrouw op nummer 14 zegt dat ze al weken niemand spreekt.",
        postcode="1091AB",
        buurt_code="BU0363MA02",
    ),
)
