import uuid
from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, select

from buurtplus.clock import Clock
from buurtplus.domain.access import Actor, TeamRole, UserRole
from buurtplus.domain.audit.service import record
from buurtplus.domain.errors import InvalidCredentials
from buurtplus.domain.pagination import Page, paginate
from buurtplus.domain.partners.errors import PartnerNotAllowed, PartnerRequired, UnknownPartner
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.patrols.signups import drop_open_signups
from buurtplus.domain.teams.models import TeamMembership
from buurtplus.domain.users.errors import EmailTaken, SelfLockout, UserNotFound
from buurtplus.domain.users.models import User
from buurtplus.security import hash_password, verify_password


def normalise_email(email: str) -> str:
    return email.strip().lower()


def find_user_by_email(session: Session, *, email: str) -> User | None:
    return session.exec(select(User).where(User.email == normalise_email(email))).first()


def get_user(session: Session, *, user_id: uuid.UUID) -> User:
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
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent request took the address in between
        raise EmailTaken(user.email) from exc
    record(
        session,
        actor=actor,
        action="user.create",
        object_type="user",
        object_id=user.id,
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


def load_actor(session: Session, *, user: User) -> Actor:
    # Only volunteers act within teams, whatever rows may say.
    memberships = (
        session.exec(select(TeamMembership).where(TeamMembership.user_id == user.id)).all()
        if user.role == UserRole.volunteer
        else []
    )
    return Actor(
        user_id=user.id,
        role=UserRole(user.role),
        team_roles={m.team_id: TeamRole(m.team_role) for m in memberships},
        partner_id=user.partner_id if user.role == UserRole.partner else None,
    )


def list_users(session: Session, *, limit: int, cursor: str | None) -> Page[User]:
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
    session: Session, *, actor: Actor, user_id: uuid.UUID, changes: UserChanges, clock: Clock
) -> User:
    user = get_user(session, user_id=user_id)
    before = (user.role, user.is_active, user.partner_id, user.full_name)
    if user.id == actor.user_id and (
        changes.is_active is False or (changes.role not in (None, UserRole.admin))
    ):
        raise SelfLockout()
    role = changes.role or UserRole(user.role)
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
        if changes.role != UserRole.volunteer:
            # Team roles are for volunteers only: an admin or partner keeps no team access.
            for membership in session.exec(
                select(TeamMembership).where(TeamMembership.user_id == user.id)
            ):
                session.delete(membership)
        user.role = changes.role
        revoke_tokens = True
    if changes.is_active is not None and changes.is_active != user.is_active:
        user.is_active = changes.is_active
        revoke_tokens = True
    if changes.password is not None:
        user.password_hash = hash_password(changes.password)
        revoke_tokens = True
    if (changes.role is not None and changes.role != UserRole.volunteer) or (
        changes.is_active is False
    ):
        drop_open_signups(session, user_id=user.id, now=clock.now())
    if revoke_tokens:
        user.token_version += 1
    user.updated_at = clock.now()
    session.add(user)
    session.flush()
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
    record(
        session,
        actor=actor,
        action="user.update",
        object_type="user",
        object_id=user.id,
        clock=clock,
        changed=changed + (["password"] if changes.password is not None else []),
        role=user.role,
        is_active=user.is_active,
        partner_id=str(user.partner_id) if user.partner_id else None,
    )
    return user
