"""Demo partners, the routing rules that cover every category at every hour, and the signals
that are routed when the demo starts (one of them to the sociaal wijkteam, whose account
partner@demo.local is, at whatever hour the demo is seeded)."""

from typing import Any

from buurtplus.domain.partners.models import Partner
from buurtplus.domain.signals.intake import SignalDraft

DEMO_MUNICIPALITY = "GM0363"

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


SOCIAL = ["loneliness", "social_isolation", "other_concern"]


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
        # The wijkteam takes social signals at any hour (so partner@demo.local always has work)
        # but works office hours: what comes in then is acknowledged within a day, the rest
        # within three days, which spans a weekend. The time window picks the deadline.
        rule(
            "Sociale signalen in kantooruren: sociaal wijkteam, binnen een dag",
            SOCIAL,
            WIJKTEAM,
            GEMEENTE,
            24 * 60,
            time_window="Mo-Fr 08:30-17:00; PH off",
            municipalities=[DEMO_MUNICIPALITY],
        ),
        rule(
            "Sociale signalen buiten kantooruren: sociaal wijkteam, binnen drie dagen",
            SOCIAL,
            WIJKTEAM,
            GEMEENTE,
            3 * 24 * 60,
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
