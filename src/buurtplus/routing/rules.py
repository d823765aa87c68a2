"""Managing the rules of the `rules` router. Invalid rules are refused when saved."""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from buurtplus.clock import Clock
from buurtplus.domain.access import Actor
from buurtplus.domain.audit.service import record
from buurtplus.domain.errors import InvalidInput, NotFound, PermissionDenied
from buurtplus.domain.pagination import Page, paginate
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.signals.models import Category
from buurtplus.routing.models import RoutingRule
from buurtplus.routing.strategies.rules import parse_time_window


class RuleNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such routing rule.")


class InvalidRule(InvalidInput):
    pass


def _require_admin(actor: Actor) -> None:
    if not actor.is_admin:
        raise PermissionDenied("Only an admin manages routing rules.")


def _validate(session: Session, rule: RoutingRule) -> None:
    if rule.time_window:
        try:
            parse_time_window(rule.time_window)
        except ValueError as exc:
            raise InvalidRule("time_window", f"not a valid opening_hours value: {exc}") from exc
    if rule.categories:
        known = set(
            session.exec(select(Category.code).where(col(Category.code).in_(rule.categories)))
        )
        unknown = sorted(set(rule.categories) - known)
        if unknown:
            raise InvalidRule("categories", f"unknown category codes: {unknown}")
    for field in ("partner_id", "fallback_partner_id"):
        partner_id = getattr(rule, field)
        if partner_id is not None and session.get(Partner, partner_id) is None:
            raise InvalidRule(field, "no such partner organisation")
    if rule.fallback_partner_id == rule.partner_id:
        raise InvalidRule("fallback_partner_id", "the fallback is another partner")


def create_rule(
    session: Session, *, actor: Actor, fields: dict[str, Any], clock: Clock
) -> RoutingRule:
    _require_admin(actor)
    now = clock.now()
    rule = RoutingRule(**fields, created_at=now, updated_at=now)
    _validate(session, rule)
    session.add(rule)
    session.flush()
    record(
        session,
        actor=actor,
        action="routing_rule.create",
        object_type="routing_rule",
        object_id=rule.id,
        clock=clock,
    )
    return rule


def get_rule(session: Session, *, actor: Actor, rule_id: uuid.UUID) -> RoutingRule:
    _require_admin(actor)
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise RuleNotFound()
    return rule


def list_rules(
    session: Session, *, actor: Actor, limit: int, cursor: str | None
) -> Page[RoutingRule]:
    _require_admin(actor)
    return paginate(
        session,
        select(RoutingRule),
        order=(RoutingRule.created_at, RoutingRule.id),
        key=lambda r: (r.created_at, r.id),
        limit=limit,
        cursor=cursor,
    )


def update_rule(
    session: Session, *, actor: Actor, rule_id: uuid.UUID, changes: dict[str, Any], clock: Clock
) -> RoutingRule:
    rule = get_rule(session, actor=actor, rule_id=rule_id)
    with session.no_autoflush:
        for name, value in changes.items():
            setattr(rule, name, value)
        _validate(session, rule)
    rule.updated_at = clock.now()
    rule.revision += 1
    session.add(rule)
    session.flush()
    record(
        session,
        actor=actor,
        action="routing_rule.update",
        object_type="routing_rule",
        object_id=rule.id,
        clock=clock,
        fields=sorted(changes),
    )
    return rule


def delete_rule(session: Session, *, actor: Actor, rule_id: uuid.UUID, clock: Clock) -> None:
    rule = get_rule(session, actor=actor, rule_id=rule_id)
    session.delete(rule)
    session.flush()
    record(
        session,
        actor=actor,
        action="routing_rule.delete",
        object_type="routing_rule",
        object_id=rule_id,
        clock=clock,
    )
