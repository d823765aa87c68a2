"""The AED registry: register, read, list, change (If-Match) and retire AEDs. Every write is
audited; the cabinet code never leaves this module except into the database."""

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, or_
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import flush_or_raise
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.aeds.areas import Reach, reach_of
from buurtplus.domain.aeds.availability import (
    Availability,
    AvailabilityAt,
    availability_at,
    check_opening_hours,
)
from buurtplus.domain.aeds.errors import (
    AedNotFound,
    AedRetired,
    OutsideYourArea,
    SourceTaken,
    StaleAed,
    UnknownMaintainer,
)
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.aeds.vocabulary import AedStatus
from buurtplus.domain.partners.models import Partner

# Fields an AED is registered with; the rest (readiness, checks, signals) the system keeps.
REGISTRY_FIELDS = (
    "latitude",
    "longitude",
    "addr_street",
    "addr_housenumber",
    "addr_postcode",
    "addr_city",
    "buurt_code",
    "defibrillator_location",
    "indoor",
    "level",
    "access",
    "opening_hours",
    "cabinet_locked",
    "cabinet_code",
    "operator",
    "contact_name",
    "contact_phone",
    "manufacturer",
    "model",
    "pads_expiry",
    "battery_expiry",
    "status",
    "visibility",
    "maintainer_partner_id",
    "source_id",
)
DEFAULTS: dict[str, Any] = {
    "indoor": False,
    "access": "yes",
    "cabinet_locked": False,
    "status": AedStatus.active,
    "visibility": "public",
}


@dataclass(frozen=True)
class AedView:
    """An AED as one actor may see it: the contact person only for those who look after it."""

    # Nearby's answers hold an `AedRow` here instead (domain/aeds/nearby.py): the same fields
    # and properties, read only.
    aed: Aed
    manages: bool
    sees_contact: bool
    availability: AvailabilityAt


def view_of(reach: Reach, aed: Aed, at: datetime) -> AedView:
    return AedView(
        aed=aed,
        manages=reach.manages(aed),
        sees_contact=reach.sees_contact(aed),
        availability=availability_at(aed.opening_hours, at),
    )


def validate(session: Session, aed: Aed) -> None:
    """Checks that need more than the field itself: opening hours, the maintainer."""
    if aed.opening_hours is not None:
        check_opening_hours(aed.opening_hours)
    maintainer = aed.maintainer_partner_id
    if maintainer is not None and session.get(Partner, maintainer) is None:
        raise UnknownMaintainer()


def _require_manager_of_place(reach: Reach, aed: Aed) -> None:
    if reach.actor.is_admin:
        return
    if not reach.managed:
        raise PermissionDenied("A team's coordinator or an admin manages AEDs.")
    if not reach.manages(aed):
        raise OutsideYourArea()


def _flush(session: Session, aed: Aed) -> None:
    session.add(aed)
    # The source is the only unique column besides the id.
    flush_or_raise(session, stale=StaleAed(), conflict=SourceTaken(aed.source))


def _ensure_source_free(session: Session, aed: Aed) -> None:
    if aed.source_id is None:
        return
    with session.no_autoflush:
        clash = session.exec(
            select(Aed.id).where(Aed.source_id == aed.source_id, Aed.id != aed.id)
        ).first()
    if clash is not None:
        raise SourceTaken(aed.source_id)


def create_aed(session: Session, *, actor: Actor, fields: dict[str, Any], clock: Clock) -> AedView:
    reach = reach_of(session, actor)
    now = clock.now()
    aed = Aed(**{**DEFAULTS, **fields}, created_at=now, updated_at=now)
    _require_manager_of_place(reach, aed)
    validate(session, aed)
    _ensure_source_free(session, aed)
    _flush(session, aed)
    audit(
        session,
        actor,
        AuditAction.aed_create,
        aed.id,
        clock=clock,
        status=aed.status,
        source=aed.source,
    )
    return view_of(reach, aed, now)


def _readable(session: Session, reach: Reach, aed_id: uuid.UUID) -> Aed:
    aed = session.get(Aed, aed_id)
    if aed is None or not reach.reads(aed):
        raise AedNotFound()
    return aed


def get_aed(session: Session, *, actor: Actor, aed_id: uuid.UUID, clock: Clock) -> AedView:
    reach = reach_of(session, actor)
    return view_of(reach, _readable(session, reach, aed_id), clock.now())


def managed_aed(session: Session, *, actor: Actor, aed_id: uuid.UUID) -> tuple[Reach, Aed]:
    """The AED, if the actor may change it: 404 if they may not see it, 403 if only see."""
    reach = reach_of(session, actor)
    aed = _readable(session, reach, aed_id)
    if not reach.manages(aed):
        raise PermissionDenied("Only a coordinator of the AED's area or an admin changes it.")
    return reach, aed


def update_aed(
    session: Session,
    *,
    actor: Actor,
    aed_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int | None,
    clock: Clock,
) -> AedView:
    reach, aed = managed_aed(session, actor=actor, aed_id=aed_id)
    if aed.retired_at is not None:
        raise AedRetired()
    if expected_version is not None and expected_version != aed.version:
        raise StaleAed()
    before = aed.status
    with session.no_autoflush:
        for name, value in changes.items():
            setattr(aed, name, value)
        _require_manager_of_place(reach, aed)  # it may not be moved out of your area
        validate(session, aed)
        _ensure_source_free(session, aed)
    aed.updated_at = clock.now()
    _flush(session, aed)
    details: dict[str, Any] = {"fields": sorted(changes)}
    if aed.status != before:
        details.update(from_status=before, to_status=aed.status)
    audit(session, actor, AuditAction.aed_update, aed.id, clock=clock, **details)
    return view_of(reach, aed, clock.now())


def retire_aed(
    session: Session,
    *,
    actor: Actor,
    aed_id: uuid.UUID,
    expected_version: int | None,
    clock: Clock,
) -> None:
    """Take an AED out of the registry: kept (with its checks and signals) but no longer
    listed, searched or exported. Retiring a retired AED again changes nothing."""
    _, aed = managed_aed(session, actor=actor, aed_id=aed_id)
    if aed.retired_at is not None:
        return
    if expected_version is not None and expected_version != aed.version:
        raise StaleAed()
    before = aed.status
    aed.retired_at = aed.updated_at = clock.now()
    aed.status = AedStatus.inactive
    _flush(session, aed)
    audit(
        session,
        actor,
        AuditAction.aed_retire,
        aed.id,
        clock=clock,
        from_status=before,
        to_status=aed.status,
    )


@dataclass(frozen=True)
class AedFilter:
    # (min_lon, min_lat, max_lon, max_lat)
    bbox: tuple[float, float, float, float] | None = None
    buurt_code: str | None = None
    statuses: list[AedStatus] = field(default_factory=list)
    available_now: bool = False
    include_retired: bool = False


def visible_clause(reach: Reach) -> ColumnElement[bool] | None:
    """A first cut in SQL of the AEDs `reach` may read (None: all); the exact rule is
    Reach.reads, applied to the rows this lets through."""
    actor = reach.actor
    if actor.is_admin:
        return None
    clauses: list[ColumnElement[bool]] = [col(Aed.visibility) == "public"]
    if actor.partner_id is not None:
        clauses.append(col(Aed.maintainer_partner_id) == actor.partner_id)
    for area in reach.member_of:
        if area.buurt_codes:
            clauses.append(col(Aed.buurt_code).in_(sorted(area.buurt_codes)))
        if area.bounds is not None:
            min_lon, min_lat, max_lon, max_lat = area.bounds
            clauses.append(
                and_(
                    col(Aed.latitude).between(min_lat, max_lat),
                    col(Aed.longitude).between(min_lon, max_lon),
                )
            )
        if area.polygon is None and not area.buurt_codes:
            clauses.append(col(Aed.buurt_code).startswith(f"BU{area.municipality_digits}"))
    return or_(*clauses)


def list_aeds(
    session: Session,
    *,
    actor: Actor,
    filters: AedFilter,
    limit: int,
    cursor: str | None,
    clock: Clock,
) -> Page[AedView]:
    reach = reach_of(session, actor)
    statement = select(Aed)
    visible = visible_clause(reach)
    if visible is not None:
        statement = statement.where(visible)
    if not filters.include_retired:
        statement = statement.where(col(Aed.retired_at).is_(None))
    if filters.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = filters.bbox
        statement = statement.where(
            col(Aed.latitude).between(min_lat, max_lat),
            col(Aed.longitude).between(min_lon, max_lon),
        )
    if filters.buurt_code is not None:
        statement = statement.where(Aed.buurt_code == filters.buurt_code)
    if filters.statuses:
        statement = statement.where(col(Aed.status).in_(list(filters.statuses)))
    if filters.available_now:
        statement = statement.where(col(Aed.ready).is_(True), col(Aed.status) == AedStatus.active)
    page = paginate(
        session,
        statement,
        order=(Aed.created_at, Aed.id),
        limit=limit,
        cursor=cursor,
        key=lambda a: (a.created_at, a.id),
    )
    now = clock.now()
    views = [view_of(reach, aed, now) for aed in page.items if reach.reads(aed)]
    if filters.available_now:
        views = [v for v in views if v.availability.state == Availability.open]
    return Page(items=views, next_cursor=page.next_cursor)
