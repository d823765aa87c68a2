"""Managing the rules of the `rules` router. Invalid rules are refused when saved."""

import uuid
from typing import Any

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import check_version, delete_current, flush_or_raise
from buurtplus.core.errors import InvalidInput, NotFound, PreconditionFailed
from buurtplus.core.opening_hours import parse_opening_hours
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.categories.models import Category
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.routing.models import RoutingRule


class RuleNotFound(NotFound):
    def __init__(self) -> None:
        super().__init__("No such routing rule.")


class InvalidRule(InvalidInput):
    pass


class StaleRule(PreconditionFailed):
    def __init__(self) -> None:
        super().__init__("The routing rule changed since you read it; read it again and retry.")


def _validate(session: Session, rule: RoutingRule) -> None:
    if rule.time_window:
        try:
            parse_opening_hours(rule.time_window)
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
    actor.require_admin("manages routing rules")
    now = clock.now()
    rule = RoutingRule(**fields, created_at=now, updated_at=now)
    _validate(session, rule)
    session.add(rule)
    session.flush()
    audit(session, actor, AuditAction.routing_rule_create, rule.id, clock=clock)
    return rule


def get_rule(session: Session, *, actor: Actor, rule_id: uuid.UUID) -> RoutingRule:
    actor.require_admin("manages routing rules")
    rule = session.get(RoutingRule, rule_id)
    if rule is None:
        raise RuleNotFound()
    return rule


def list_rules(
    session: Session, *, actor: Actor, limit: int, cursor: str | None
) -> Page[RoutingRule]:
    actor.require_admin("manages routing rules")
    return paginate(
        session,
        select(RoutingRule),
        order=(RoutingRule.created_at, RoutingRule.id),
        key=lambda r: (r.created_at, r.id),
        limit=limit,
        cursor=cursor,
    )


def update_rule(
    session: Session,
    *,
    actor: Actor,
    rule_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int | None,
    clock: Clock,
) -> RoutingRule:
    rule = get_rule(session, actor=actor, rule_id=rule_id)
    check_version(rule.version, expected_version, StaleRule)
    with session.no_autoflush:
        for name, value in changes.items():
            setattr(rule, name, value)
        _validate(session, rule)
    rule.updated_at = clock.now()
    session.add(rule)
    flush_or_raise(session, stale=StaleRule())
    audit(
        session,
        actor,
        AuditAction.routing_rule_update,
        rule.id,
        clock=clock,
        fields=sorted(changes),
    )
    return rule


def delete_rule(session: Session, *, actor: Actor, rule_id: uuid.UUID, clock: Clock) -> None:
    rule = get_rule(session, actor=actor, rule_id=rule_id)
    delete_current(session, rule, gone=RuleNotFound)
    session.flush()
    audit(session, actor, AuditAction.routing_rule_delete, rule_id, clock=clock)
