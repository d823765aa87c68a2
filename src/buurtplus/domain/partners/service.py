import secrets
import uuid
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from buurtplus.core.actor import Actor
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import check_version, delete_current, flush_or_raise
from buurtplus.core.errors import InvalidCredentials, PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.partners.errors import (
    ClientNotFound,
    PartnerInUse,
    PartnerNameTaken,
    PartnerNotFound,
    StalePartner,
)
from buurtplus.domain.partners.models import Partner, PartnerClient
from buurtplus.security import hash_password, verify_password


def get_partner(session: Session, *, actor: Actor, partner_id: uuid.UUID) -> Partner:
    partner = session.get(Partner, partner_id)
    if partner is None or not (actor.is_admin or actor.partner_id == partner_id):
        raise PartnerNotFound()
    return partner


def partner_name(session: Session, partner_id: uuid.UUID) -> str | None:
    """The name of a partner a routing decision names (public: partners are organisations)."""
    partner = session.get(Partner, partner_id)
    return partner.name if partner else None


def list_partners(
    session: Session, *, actor: Actor, limit: int, cursor: str | None
) -> Page[Partner]:
    statement = select(Partner)
    if not actor.is_admin:
        statement = statement.where(Partner.id == actor.partner_id)
    return paginate(
        session,
        statement,
        order=(Partner.created_at, Partner.id),
        key=lambda p: (p.created_at, p.id),
        limit=limit,
        cursor=cursor,
    )


def _flush_partner(session: Session, partner: Partner) -> None:
    with session.no_autoflush:
        clash = session.exec(
            select(Partner).where(Partner.name == partner.name, Partner.id != partner.id)
        ).first()
    if clash is not None:
        raise PartnerNameTaken(partner.name)
    session.add(partner)
    flush_or_raise(session, conflict=PartnerNameTaken(partner.name), stale=StalePartner())


def create_partner(
    session: Session, *, actor: Actor, fields: dict[str, Any], clock: Clock
) -> Partner:
    actor.require_admin("manages partner organisations")
    now = clock.now()
    partner = Partner(**fields, created_at=now, updated_at=now)
    _flush_partner(session, partner)
    audit(session, actor, AuditAction.partner_create, partner.id, clock=clock)
    return partner


def update_partner(
    session: Session,
    *,
    actor: Actor,
    partner_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int | None,
    clock: Clock,
) -> Partner:
    actor.require_admin("manages partner organisations")
    partner = get_partner(session, actor=actor, partner_id=partner_id)
    check_version(partner.version, expected_version, StalePartner)
    for name, value in changes.items():
        setattr(partner, name, value)
    partner.updated_at = clock.now()
    _flush_partner(session, partner)
    audit(
        session, actor, AuditAction.partner_update, partner.id, clock=clock, fields=sorted(changes)
    )
    return partner


def delete_partner(session: Session, *, actor: Actor, partner_id: uuid.UUID, clock: Clock) -> None:
    actor.require_admin("manages partner organisations")
    partner = get_partner(session, actor=actor, partner_id=partner_id)
    delete_current(session, partner, gone=PartnerNotFound)
    flush_or_raise(session, conflict=PartnerInUse())
    audit(session, actor, AuditAction.partner_delete, partner_id, clock=clock)


@dataclass(frozen=True)
class IssuedClient:
    client: PartnerClient
    secret: str


def create_client(
    session: Session, *, actor: Actor, partner_id: uuid.UUID, name: str, clock: Clock
) -> IssuedClient:
    get_partner(session, actor=actor, partner_id=partner_id)
    if not actor.can_manage_partner(partner_id):
        raise PermissionDenied("Only the partner's own people or an admin manage its clients.")
    secret = "bpcs_" + secrets.token_urlsafe(32)
    client = PartnerClient(
        partner_id=partner_id, name=name, secret_hash=hash_password(secret), created_at=clock.now()
    )
    session.add(client)
    session.flush()
    audit(
        session,
        actor,
        AuditAction.partner_client_create,
        client.id,
        clock=clock,
        partner_id=str(partner_id),
    )
    return IssuedClient(client=client, secret=secret)


def list_clients(
    session: Session, *, actor: Actor, partner_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[PartnerClient]:
    get_partner(session, actor=actor, partner_id=partner_id)
    if not actor.can_manage_partner(partner_id):
        raise PermissionDenied("Only the partner's own people or an admin manage its clients.")
    return paginate(
        session,
        select(PartnerClient).where(PartnerClient.partner_id == partner_id),
        order=(PartnerClient.created_at, PartnerClient.id),
        key=lambda c: (c.created_at, c.id),
        limit=limit,
        cursor=cursor,
    )


def revoke_client(
    session: Session, *, actor: Actor, partner_id: uuid.UUID, client_id: uuid.UUID, clock: Clock
) -> PartnerClient:
    get_partner(session, actor=actor, partner_id=partner_id)
    if not actor.can_manage_partner(partner_id):
        raise PermissionDenied("Only the partner's own people or an admin manage its clients.")
    client = session.get(PartnerClient, client_id)
    if client is None or client.partner_id != partner_id:
        raise ClientNotFound()
    client.active = False
    session.add(client)
    session.flush()
    audit(session, actor, AuditAction.partner_client_revoke, client.id, clock=clock)
    return client


def client_key(client_id: str) -> str:
    """One spelling per client (braces, `urn:uuid:`, hyphens and case all parse to the same
    UUID), so a login limit counts per client, not per way of writing its id."""
    try:
        return str(uuid.UUID(client_id))
    except ValueError:
        return client_id.strip().lower()


def authenticate_client(session: Session, *, client_id: str, secret: str) -> PartnerClient:
    try:
        client = session.get(PartnerClient, uuid.UUID(client_id))
    except ValueError:
        client = None
    valid = verify_password(secret, client.secret_hash if client else None)
    if client is None or not valid or not client.active:
        raise InvalidCredentials("Unknown client or wrong secret.")
    return client
