"""Demo AEDs around the demo teams: 24/7 cabinets, shop and practice hours, a school closed in
the evening, dates running out, one defective; so the night has a visible gap in coverage and
the maintenance list has work on it."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlmodel import Session

from buurtplus.core.actor import Actor
from buurtplus.core.clock import Clock
from buurtplus.domain.aeds.checks import CheckDraft, check_aed
from buurtplus.domain.aeds.service import create_aed, update_aed
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.routing.router import Router


@dataclass(frozen=True)
class DemoAed:
    fields: dict[str, Any]
    maintained: bool = False
    # Days from today until the pads or battery expire (None: a date well ahead).
    pads_in_days: int | None = None
    battery_in_days: int | None = None
    check: CheckDraft | None = None
    defective: bool = False


PASSED = CheckDraft(display_ok=True, cabinet_ok=True, kit_present=True)

DEMO_AEDS = (
    DemoAed(
        {
            "latitude": 52.3601,
            "longitude": 4.9215,
            "addr_street": "Oosterpark",
            "addr_housenumber": "1",
            "addr_postcode": "1091AB",
            "addr_city": "Amsterdam",
            "buurt_code": "BU0363MA01",
            "defibrillator_location": "Buitenkast naast de ingang van het buurthuis",
            "opening_hours": "24/7",
            "cabinet_locked": True,
            "cabinet_code": "1958",
            "operator": "Buurthuis Oosterpark",
            "contact_name": "Demo Beheerder Buurthuis",
            "contact_phone": "020 555 0100",
            "manufacturer": "Philips",
            "model": "HeartStart FRx",
        },
        maintained=True,
        pads_in_days=20,
        check=PASSED,
    ),
    DemoAed(
        {
            "latitude": 52.3592,
            "longitude": 4.9265,
            "addr_street": "Linnaeusstraat",
            "addr_housenumber": "40",
            "buurt_code": "BU0363MA02",
            "defibrillator_location": "Bij de kassa's, vraag het personeel",
            "indoor": True,
            "level": "0",
            "access": "customers",
            "opening_hours": "Mo-Sa 08:00-22:00; Su 12:00-18:00; PH off",
            "operator": "Supermarkt Linnaeus",
        },
        check=PASSED,
    ),
    DemoAed(
        {
            "latitude": 52.3575,
            "longitude": 4.9160,
            "addr_street": "Eerste Oosterparkstraat",
            "addr_housenumber": "88",
            "buurt_code": "BU0363MA03",
            "defibrillator_location": "In de hal van de basisschool",
            "indoor": True,
            "access": "permissive",
            "opening_hours": "Mo-Fr 07:30-17:00; PH off",
            "operator": "Basisschool De Oosterpoort",
        },
        battery_in_days=-3,
    ),
    DemoAed(
        {
            "latitude": 52.3630,
            "longitude": 4.9180,
            "addr_street": "Wijttenbachstraat",
            "addr_housenumber": "12",
            "buurt_code": "BU0363MA01",
            "defibrillator_location": "Sporthal, naast de kleedkamers",
            "indoor": True,
            "opening_hours": "Mo-Fr 09:00-23:00; Sa,Su 09:00-18:00",
            "operator": "Sporthal Oost",
        },
        maintained=True,
        check=CheckDraft(
            display_ok=False,
            cabinet_ok=True,
            kit_present=True,
            note="Statuslampje knippert rood.",
        ),
        defective=True,
    ),
    DemoAed(
        {
            "latitude": 52.3615,
            "longitude": 4.9245,
            "addr_street": "Mauritskade",
            "addr_housenumber": "5",
            "buurt_code": "BU0363MA02",
            "defibrillator_location": "Huisartsenpraktijk, bel aan bij de voordeur",
            "indoor": True,
            "access": "private",
            "opening_hours": 'Mo-Fr 08:00-17:00 "bel aan"; PH off',
            "operator": "Huisartsenpraktijk Oosterpark",
            "visibility": "responders",
        }
    ),
    DemoAed(
        {
            "latitude": 52.3640,
            "longitude": 4.9330,
            "addr_street": "Dapperstraat",
            "addr_housenumber": "70",
            "buurt_code": "BU0363MB01",
            "defibrillator_location": "Buitenkast aan de gevel van de bibliotheek",
            "opening_hours": "24/7",
            "cabinet_locked": True,
            "cabinet_code": "2024",
            "operator": "OBA Dapperbuurt",
        },
        maintained=True,
        battery_in_days=12,
    ),
    DemoAed(
        {
            "latitude": 52.3655,
            "longitude": 4.9360,
            "addr_street": "Javaplein",
            "addr_housenumber": "3",
            "buurt_code": "BU0363MB02",
            "defibrillator_location": "Achter de toonbank van de apotheek",
            "indoor": True,
            "access": "customers",
            "opening_hours": "Mo-Fr 08:30-18:00; Sa 10:00-17:00; PH off",
            "operator": "Apotheek Dapperbuurt",
        }
    ),
)


def seed_aeds(
    session: Session,
    *,
    admin: Actor,
    checker: Actor,
    owner: Partner,
    router: Router,
    clock: Clock,
) -> None:
    today = clock.now().date()
    far = today + timedelta(days=400)

    def expiry(days: int | None) -> date:
        return far if days is None else today + timedelta(days=days)

    for demo in DEMO_AEDS:
        fields = {
            **demo.fields,
            "source_id": None,
            "pads_expiry": expiry(demo.pads_in_days),
            "battery_expiry": expiry(demo.battery_in_days),
            "maintainer_partner_id": owner.id if demo.maintained else None,
        }
        aed = create_aed(session, actor=admin, fields=fields, clock=clock).aed
        if demo.check is not None:
            check_aed(
                session, actor=checker, aed_id=aed.id, draft=demo.check, clock=clock, router=router
            )
        if demo.defective:
            update_aed(
                session,
                actor=admin,
                aed_id=aed.id,
                changes={"status": "defective"},
                expected_version=None,
                clock=clock,
            )
