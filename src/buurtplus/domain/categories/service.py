"""The admin's list of categories: adding, changing and switching them off."""

from typing import Any

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import check_version, flush_or_raise
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.categories.errors import CategoryCodeTaken, CategoryNotFound, StaleCategory
from buurtplus.domain.categories.models import Category


def list_categories(
    session: Session, *, include_inactive: bool, limit: int, cursor: str | None
) -> Page[Category]:
    statement = select(Category)
    if not include_inactive:
        statement = statement.where(col(Category.active).is_(True))
    return paginate(
        session,
        statement,
        order=(Category.created_at, Category.id),
        limit=limit,
        cursor=cursor,
        key=lambda c: (c.created_at, c.id),
    )


def get_category(session: Session, *, code: str) -> Category:
    category = session.exec(select(Category).where(Category.code == code)).first()
    if category is None:
        raise CategoryNotFound()
    return category


def create_category(
    session: Session, *, actor: Actor, fields: dict[str, Any], clock: Clock
) -> Category:
    actor.require_admin("manages categories")
    if session.exec(select(Category).where(Category.code == fields["code"])).first():
        raise CategoryCodeTaken(fields["code"])
    now = clock.now()
    category = Category(**fields, created_at=now, updated_at=now)
    session.add(category)
    flush_or_raise(session, conflict=CategoryCodeTaken(fields["code"]))
    audit(session, actor, AuditAction.category_create, category.id, clock=clock, code=category.code)
    return category


def update_category(
    session: Session,
    *,
    actor: Actor,
    code: str,
    changes: dict[str, Any],
    expected_version: int | None,
    clock: Clock,
) -> Category:
    actor.require_admin("manages categories")
    category = get_category(session, code=code)
    check_version(category.version, expected_version, StaleCategory)
    for name, value in changes.items():
        setattr(category, name, value)
    category.updated_at = clock.now()
    session.add(category)
    flush_or_raise(session, stale=StaleCategory())
    audit(
        session,
        actor,
        AuditAction.category_update,
        category.id,
        clock=clock,
        code=category.code,
        fields=sorted(changes),
    )
    return category
