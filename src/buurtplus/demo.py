"""Demo data for trying the product: only with BUURTPLUS_DEMO=true, only into an empty database."""

from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from buurtplus.clock import Clock
from buurtplus.domain.access import Actor, TeamRole, UserRole
from buurtplus.domain.signals.service import SignalDraft, submit_signal
from buurtplus.domain.teams.service import TeamDraft, add_member, create_team
from buurtplus.domain.users.models import User
from buurtplus.domain.users.service import create_user, load_actor

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo credential, demo mode only
DEMO_MUNICIPALITY = "GM0363"


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


def seed_demo(session: Session, *, clock: Clock) -> bool:
    """Fill an empty database with demo teams and accounts; False if it held users already."""
    if session.exec(select(User).limit(1)).first() is not None:
        return False
    users = {
        account.email: create_user(
            session,
            email=account.email,
            full_name=account.full_name,
            password=DEMO_PASSWORD,
            role=account.role,
            clock=clock,
        )
        for account in DEMO_ACCOUNTS
    }
    admin = Actor(user_id=users["admin@demo.local"].id, role=UserRole.admin)
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
    for draft in DEMO_SIGNALS:
        submit_signal(session, actor=reporter, draft=draft, idempotency_key=None, clock=clock)
    return True


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
