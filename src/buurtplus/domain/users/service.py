import uuid
from dataclasses import dataclass

from sqlmodel import Session, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import check_version, flush_or_raise
from buurtplus.core.errors import InvalidCredentials
from buurtplus.core.pagination import Page, paginate
from buurtplus.domain.partners.errors import PartnerNotAllowed, PartnerRequired, UnknownPartner
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.errors import EmailTaken, SelfLockout, StaleUser, UserNotFound
from buurtplus.domain.users.models import User
from buurtplus.security import hash_password, verify_password


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, *, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def get_user(session: Session, *, user_id: uuid.UUID, actor: Actor | None = None) -> User:
    """An account; someone else's only for an admin (`actor` None: the system looks it up)."""
    if actor is not None and actor.user_id != user_id:
        actor.require_admin("reads other accounts")
    user = session.get(User, user_id)
    if user is None:
        raise UserNotFound()
    return user


def _check_partner(session: Session, role: UserRole, partner_id: uuid.UUID | None) -> None:
    if role == UserRole.partner and partner_id is None:
        raise PartnerRequired()
    if role != UserRole.partner and partner_id is not None:
        raise PartnerNotAllowed()
    if partner_id is not None and session.get(Partner, partner_id) is None:
        raise UnknownPartner()


def create_user(
    session: Session,
    *,
    email: str,
    full_name: str,
    password: str,
    role: UserRole,
    clock: Clock,
    partner_id: uuid.UUID | None = None,
    actor: Actor | None = None,
) -> User:
    """Create an account; `actor` is the admin doing it (None: the command line)."""
    if actor is not None:
        actor.require_admin("manages accounts")
    _check_partner(session, role, partner_id)
    if find_user_by_email(session, email=email) is not None:
        raise EmailTaken(normalise_email(email))
    now = clock.now()
    user = User(
        email=normalise_email(email),
        full_name=full_name,
        password_hash=hash_password(password),
        role=role,
        partner_id=partner_id,
        created_at=now,
        updated_at=now,
    )
    session.add(user)
    # A concurrent request may take the address in between.
    flush_or_raise(session, conflict=EmailTaken(user.email))
    audit(
        session,
        actor,
        AuditAction.user_create,
        user.id,
        clock=clock,
        role=user.role,
        partner_id=str(partner_id) if partner_id else None,
    )
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    user = find_user_by_email(session, email=email)
    valid = verify_password(password, user.password_hash if user else None)
    if user is None or not valid or not user.is_active:
        raise InvalidCredentials("Unknown e-mail address or wrong password.")
    return user


def list_users(session: Session, *, actor: Actor, limit: int, cursor: str | None) -> Page[User]:
    actor.require_admin("lists accounts")
    return paginate(
        session,
        select(User),
        order=(User.created_at, User.id),
        limit=limit,
        cursor=cursor,
        key=lambda user: (user.created_at, user.id),
    )


@dataclass(frozen=True)
class UserChanges:
    full_name: str | None = None
    role: UserRole | None = None
    is_active: bool | None = None
    password: str | None = None
    partner_id: uuid.UUID | None = None


def update_user(
    session: Session,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    changes: UserChanges,
    expected_version: int | None,
    clock: Clock,
) -> User:
    """Change the account itself (the version `expected_version`; None: whatever is current);
    what other features hold for it follows in `domain.departures.change_account`."""
    actor.require_admin("manages accounts")
    user = get_user(session, user_id=user_id)
    check_version(user.version, expected_version, StaleUser)
    before = (user.role, user.is_active, user.partner_id, user.full_name)
    if user.id == actor.user_id and (
        changes.is_active is False or (changes.role not in (None, UserRole.admin))
    ):
        raise SelfLockout()
    role = changes.role or user.role
    partner_id = changes.partner_id or (user.partner_id if role == UserRole.partner else None)
    _check_partner(session, role, partner_id)
    if partner_id != user.partner_id:
        user.partner_id = partner_id
        revoke_tokens = True
    else:
        revoke_tokens = False
    if changes.full_name is not None:
        user.full_name = changes.full_name
    if changes.role is not None and changes.role != user.role:
        user.role = changes.role
        revoke_tokens = True
    if changes.is_active is not None and changes.is_active != user.is_active:
        user.is_active = changes.is_active
        revoke_tokens = True
    if changes.password is not None:
        user.password_hash = hash_password(changes.password)
        revoke_tokens = True
    if revoke_tokens:
        user.token_version += 1
    user.updated_at = clock.now()
    session.add(user)
    flush_or_raise(session, stale=StaleUser())
    changed = [
        name
        for name, old, new in zip(
            ("role", "is_active", "partner_id", "full_name"),
            before,
            (user.role, user.is_active, user.partner_id, user.full_name),
            strict=True,
        )
        if old != new
    ]
    audit(
        session,
        actor,
        AuditAction.user_update,
        user.id,
        clock=clock,
        changed=changed + (["password"] if changes.password is not None else []),
        role=user.role,
        is_active=user.is_active,
        partner_id=str(user.partner_id) if user.partner_id else None,
    )
    return user
