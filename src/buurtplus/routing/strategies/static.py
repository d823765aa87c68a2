"""A small deployment's router: a TOML file maps category codes to partner names.

default = "Gemeente Amsterdam"       # optional: everything not listed

[categories]
domestic_violence = "Veilig Thuis Amsterdam-Amstelland"
loneliness = "Sociaal wijkteam Oost"
"""

import tomllib
import uuid
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from buurtplus.domain.partners.models import Partner
from buurtplus.domain.routing.router import Decision, RuleCheck, SignalFacts, WhatIf

DEFAULT_ACK_MINUTES = 24 * 60


class StaticRouterError(ValueError):
    pass


class StaticRouter:
    def __init__(
        self,
        mapping: dict[str, str],
        default: str | None = None,
        ack_minutes: int = DEFAULT_ACK_MINUTES,
    ) -> None:
        self.mapping = mapping
        self.default = default
        self.ack_minutes = ack_minutes

    @classmethod
    def from_file(cls, path: Path) -> "StaticRouter":
        try:
            data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise StaticRouterError(f"cannot read the static routing file {path}: {exc}") from exc
        categories = data.get("categories", {})
        if not isinstance(categories, dict) or not all(
            isinstance(v, str) for v in categories.values()
        ):
            raise StaticRouterError(f"{path}: [categories] maps category codes to partner names")
        default = data.get("default")
        if default is not None and not isinstance(default, str):
            raise StaticRouterError(f"{path}: default is a partner name")
        return cls(dict(categories), default, int(data.get("ack_minutes", DEFAULT_ACK_MINUTES)))

    @classmethod
    def from_settings(cls, settings: Any) -> "StaticRouter":
        path = getattr(settings, "routing_static_file", None)
        if not path:
            raise StaticRouterError("the static router needs BUURTPLUS_ROUTING_STATIC_FILE")
        return cls.from_file(Path(path))

    def _partner_name(self, category: str) -> str | None:
        return self.mapping.get(category, self.default)

    def decide(
        self, session: Session, facts: SignalFacts, *, exclude: frozenset[uuid.UUID]
    ) -> Decision | None:
        name = self._partner_name(facts.category)
        if name is None:
            return None
        partner = session.exec(select(Partner).where(Partner.name == name)).first()
        if partner is None or partner.id in exclude:
            return None
        return self._decision(facts, name, partner.id)

    def _decision(self, facts: SignalFacts, name: str, partner_id: uuid.UUID) -> Decision:
        how = "listed" if facts.category in self.mapping else "the default"
        return Decision(
            partner_id=partner_id,
            ack_minutes=self.ack_minutes,
            explanation=f"Static map: {facts.category} goes to {name} ({how}).",
        )

    def what_if(self, session: Session) -> WhatIf:
        """A category is covered when the file names it (or has a default) and that partner
        exists; time and place do not matter to this router."""
        names = set(self.mapping.values()) | ({self.default} if self.default else set())
        ids = {
            p.name: p.id for p in session.exec(select(Partner).where(col(Partner.name).in_(names)))
        }

        def decide(facts: SignalFacts) -> Decision | None:
            name = self._partner_name(facts.category)
            if name is None or name not in ids:
                return None
            return self._decision(facts, name, ids[name])

        return decide

    def explain(self, session: Session, facts: SignalFacts) -> list[RuleCheck]:
        return []
