"""What a router sees and what it decides: the interface the signal intake owns.
Third-party routers implement `Router`, and `WhatIfRouter` to take part in the gap report."""

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol, runtime_checkable

from sqlmodel import Session


@dataclass(frozen=True)
class SignalFacts:
    category: str
    category_group: str
    municipality: str
    team_id: uuid.UUID
    urgency: str
    at: datetime
    buurt_code: str | None = None
    latitude: float | None = None
    longitude: float | None = None


@dataclass(frozen=True)
class Decision:
    partner_id: uuid.UUID
    ack_minutes: int
    explanation: str
    rule_id: uuid.UUID | None = None
    rule_name: str | None = None
    fallback_partner_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RuleCheck:
    """Why one rule did or did not match, for the dry run."""

    rule_id: uuid.UUID
    rule_name: str
    matched: bool
    reasons: list[str] = field(default_factory=list)


class Router(Protocol):
    """Decides where a signal goes. `exclude`: partners that said "not ours" already."""

    def decide(
        self, session: Session, facts: SignalFacts, *, exclude: frozenset[uuid.UUID]
    ) -> Decision | None: ...

    def explain(self, session: Session, facts: SignalFacts) -> list[RuleCheck]: ...


# Decides an imagined signal against one state of the router's configuration.
WhatIf = Callable[[SignalFacts], Decision | None]


@runtime_checkable
class WhatIfRouter(Protocol):
    """A router that can answer many imagined signals at once: the gap report asks it about
    every category, area, urgency and hour of the week."""

    def what_if(self, session: Session) -> WhatIf: ...
