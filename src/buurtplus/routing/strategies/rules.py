"""The default router: rules from the database, compiled once per change, most specific wins."""

import threading
import uuid
from dataclasses import dataclass
from datetime import datetime

from opening_hours import OpeningHours, State
from sqlalchemy import func
from sqlmodel import Session, col, select

from buurtplus.core.opening_hours import AMSTERDAM, parse_opening_hours, state_at
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.routing.models import RoutingRule
from buurtplus.domain.routing.router import Decision, RuleCheck, SignalFacts, WhatIf


@dataclass(frozen=True)
class CompiledRule:
    id: uuid.UUID
    name: str
    priority: int
    categories: frozenset[str]
    category_groups: frozenset[str]
    municipalities: frozenset[str]
    buurt_codes: frozenset[str]
    team_ids: frozenset[str]
    urgencies: frozenset[str]
    time_window: str | None
    window: OpeningHours | None
    partner_id: uuid.UUID
    fallback_partner_id: uuid.UUID | None
    ack_minutes: int
    # Compared in order: the category first, then the area, then urgency and time window.
    specificity: tuple[int, int, int, int]

    @classmethod
    def compile(cls, rule: RoutingRule) -> "CompiledRule":
        category_level = 2 if rule.categories else 1 if rule.category_groups else 0
        area_level = (
            3 if rule.buurt_codes else 2 if rule.team_ids else (1 if rule.municipalities else 0)
        )
        return cls(
            id=rule.id,
            name=rule.name,
            priority=rule.priority,
            categories=frozenset(rule.categories),
            category_groups=frozenset(rule.category_groups),
            municipalities=frozenset(rule.municipalities),
            buurt_codes=frozenset(rule.buurt_codes),
            team_ids=frozenset(rule.team_ids),
            urgencies=frozenset(rule.urgencies),
            time_window=rule.time_window,
            window=parse_opening_hours(rule.time_window) if rule.time_window else None,
            partner_id=rule.partner_id,
            fallback_partner_id=rule.fallback_partner_id,
            ack_minutes=rule.ack_minutes,
            specificity=(
                category_level,
                area_level,
                int(bool(rule.urgencies)),
                int(bool(rule.time_window)),
            ),
        )

    def mismatches(self, facts: SignalFacts) -> list[str]:
        """Why this rule does not match (empty: it matches)."""
        reasons = []
        if self.categories and facts.category not in self.categories:
            reasons.append(f"category {facts.category} is not one of {sorted(self.categories)}")
        if self.category_groups and facts.category_group not in self.category_groups:
            reasons.append(
                f"group {facts.category_group} is not one of {sorted(self.category_groups)}"
            )
        if self.municipalities and facts.municipality not in self.municipalities:
            reasons.append(
                f"municipality {facts.municipality} is not one of {sorted(self.municipalities)}"
            )
        if self.buurt_codes and facts.buurt_code not in self.buurt_codes:
            reasons.append(
                f"buurt {facts.buurt_code or '(none)'} is not one of {sorted(self.buurt_codes)}"
            )
        if self.team_ids and str(facts.team_id) not in self.team_ids:
            reasons.append("the team is not one of the rule's teams")
        if self.urgencies and facts.urgency not in self.urgencies:
            reasons.append(f"urgency {facts.urgency} is not one of {sorted(self.urgencies)}")
        if self.window is not None and not self.is_open(facts.at):
            local = facts.at.astimezone(AMSTERDAM)
            reasons.append(f"{local:%a %H:%M} (Amsterdam) is outside {self.time_window!r}")
        return reasons

    def matches(self, facts: SignalFacts) -> bool:
        """mismatches(facts) == [], without building the reasons: the hot path."""
        return (
            (not self.category_groups or facts.category_group in self.category_groups)
            and (not self.buurt_codes or facts.buurt_code in self.buurt_codes)
            and (not self.team_ids or str(facts.team_id) in self.team_ids)
            and (not self.urgencies or facts.urgency in self.urgencies)
            and (not self.categories or facts.category in self.categories)
            and (not self.municipalities or facts.municipality in self.municipalities)
            and (self.window is None or self.is_open(facts.at))
        )

    def is_open(self, at: datetime) -> bool:
        assert self.window is not None
        # A comment ("by appointment") or an unknown state is no promise someone is there.
        state, comment = state_at(self.window, at)
        return state == State.OPEN and not comment

    def sort_key(self) -> tuple[tuple[int, ...], int, str, str]:
        return (
            tuple(-level for level in self.specificity),
            -self.priority,
            self.name,
            str(self.id),
        )


# Asked on every decision: run on the driver's cursor (core/plain_query.py).
_RULES_REVISION = PlainQuery(
    select(
        func.count(),
        func.coalesce(func.sum(RoutingRule.version), 0),
        func.max(RoutingRule.updated_at),
    ).select_from(RoutingRule)
)


class RulesRouter:
    """Rules are loaded and compiled once per change of the rules table (one cheap query per
    decision checks for a change); a decision only tests the rules of its category."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._revision: tuple[int, int, datetime | None] | None = None
        # The rules and the candidate lists worked out from them, swapped as one.
        self._snapshot: tuple[list[CompiledRule], dict[tuple[str, str], list[CompiledRule]]] = (
            [],
            {},
        )

    @classmethod
    def from_settings(cls, settings: object) -> "RulesRouter":
        return cls()

    @classmethod
    def from_rules(cls, rules: list[RoutingRule]) -> "RulesRouter":
        """A router over a fixed set of rules, without a database (dry runs, benchmarks)."""
        router = cls()
        router._install(rules, revision=None)
        return router

    def rules(self, session: Session) -> list[CompiledRule]:
        self._refresh(session)
        return self._snapshot[0]

    def _refresh(self, session: Session) -> None:
        (count, revisions, latest), *_ = _RULES_REVISION.all(session.connection())
        key = (int(count), int(revisions), latest)
        if key == self._revision:
            return
        rows = session.exec(select(RoutingRule).where(col(RoutingRule.active).is_(True))).all()
        self._install(list(rows), revision=key)

    def _install(
        self, rows: list[RoutingRule], *, revision: tuple[int, int, datetime | None] | None
    ) -> None:
        compiled = sorted(
            (CompiledRule.compile(rule) for rule in rows if rule.active), key=CompiledRule.sort_key
        )
        with self._lock:
            self._snapshot, self._revision = (compiled, {}), revision

    def candidates(self, facts: SignalFacts) -> list[CompiledRule]:
        """The rules that can match this category and municipality, most specific first;
        worked out once per pair and kept until the rules change."""
        key = (facts.category, facts.municipality)
        rules, cache = self._snapshot
        found = cache.get(key)
        if found is None:
            found = [
                rule
                for rule in rules
                if (not rule.categories or facts.category in rule.categories)
                and (not rule.municipalities or facts.municipality in rule.municipalities)
            ]
            cache[key] = found
        return found

    def decide(
        self, session: Session, facts: SignalFacts, *, exclude: frozenset[uuid.UUID]
    ) -> Decision | None:
        self._refresh(session)
        return self.decide_compiled(facts, exclude=exclude)

    def decide_compiled(
        self, facts: SignalFacts, *, exclude: frozenset[uuid.UUID] = frozenset()
    ) -> Decision | None:
        # Candidates are sorted most specific first: the first that matches wins.
        best = next(
            (r for r in self.candidates(facts) if r.partner_id not in exclude and r.matches(facts)),
            None,
        )
        if best is None:
            return None
        fallback = best.fallback_partner_id if best.fallback_partner_id not in exclude else None
        return Decision(
            partner_id=best.partner_id,
            ack_minutes=best.ack_minutes,
            rule_id=best.id,
            rule_name=best.name,
            fallback_partner_id=fallback,
            explanation=(
                f"Rule {best.name!r} matched: the most specific matching rule "
                f"(category, area, urgency, time window: {best.specificity}; "
                f"priority {best.priority})"
                + ("; partners that declined were skipped" if exclude else "")
                + "."
            ),
        )

    def what_if(self, session: Session) -> WhatIf:
        self._refresh(session)
        return self.decide_compiled

    def explain(self, session: Session, facts: SignalFacts) -> list[RuleCheck]:
        self._refresh(session)
        return [
            RuleCheck(
                rule_id=r.id,
                rule_name=r.name,
                matched=not r.mismatches(facts),
                reasons=r.mismatches(facts),
            )
            for r in self._snapshot[0]
        ]
