"""What a volunteer reads right after reporting: call 112 now, or what happens next."""

from dataclasses import dataclass

from buurtplus.domain.categories.models import Category
from buurtplus.domain.signals.workflow import (
    Urgency,
)


@dataclass(frozen=True)
class Advice:
    call_112: bool
    nl: list[str]
    en: list[str]


def advice_for(category: Category, *, urgency: Urgency, emergency_called: bool) -> Advice:
    nl: list[str] = []
    en: list[str] = []
    acute = urgency == Urgency.acute
    if acute and emergency_called:
        nl.append("Je hebt 112 al gebeld: volg de aanwijzingen van de meldkamer op.")
        en.append("You have called 112 already: follow the emergency operator's directions.")
    elif acute:
        nl.append("Acuut gevaar? Bel nu 112.")
        en.append("Acute danger? Call 112 now.")
    nl.append(category.advice_nl)
    en.append(category.advice_en)
    return Advice(call_112=acute and not emergency_called, nl=nl, en=en)
