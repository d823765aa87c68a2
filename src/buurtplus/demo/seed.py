"""Demo data for trying the product: only with BUURTPLUS_DEMO=true, only into an empty database."""

import base64
import uuid
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session, select

from buurtplus.core.actor import Actor, TeamRole, UserRole
from buurtplus.core.clock import Clock
from buurtplus.demo.aeds import seed_aeds
from buurtplus.demo.partners import (
    AED_OWNER,
    DEMO_MUNICIPALITY,
    DEMO_PARTNERS,
    DEMO_SIGNALS,
    WIJKTEAM,
    demo_rules,
)
from buurtplus.demo.patrols import seed_patrols
from buurtplus.domain.partners.service import create_partner
from buurtplus.domain.routing.management import create_rule
from buurtplus.domain.signals.intake import submit_signal
from buurtplus.domain.teams.service import TeamDraft, add_member, create_team, load_actor
from buurtplus.domain.users.models import User
from buurtplus.domain.users.service import create_user
from buurtplus.outbox.models import EventType, WebhookEndpoint
from buurtplus.routing.strategies.rules import RulesRouter

DEMO_PASSWORD = "demo"  # noqa: S105 - documented demo credential, demo mode only
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
