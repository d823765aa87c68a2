import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlmodel import Session, col, func, select

from buurtplus.core.actor import Actor, TeamRole, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import check_version, delete_current, flush_or_raise
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.pagination import Page, paginate
from buurtplus.core.plain_query import PlainQuery
from buurtplus.domain.partners.models import PartnerClient
from buurtplus.domain.teams.errors import (
    AlreadyMember,
    BuurtOutsideMunicipality,
    InAnotherTeam,
    MemberNotFound,
    StaleMember,
    StaleTeam,
    TeamNameTaken,
    TeamNotFound,
    UnknownAccount,
)
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.users.errors import UserNotFound
from buurtplus.domain.users.models import User


@dataclass(frozen=True)
class TeamDraft:
    name: str
    municipality_code: str
    buurt_codes: list[str] = field(default_factory=list)
    area: dict[str, Any] | None = None
    contact_name: str | None = None
    contact_email: str | None = None
    contact_phone: str | None = None
    plus_mode: bool = False


def _check_buurt_codes(municipality_code: str, buurt_codes: list[str]) -> None:
    for code in buurt_codes:
        if code[2:6] != municipality_code[2:6]:
            raise BuurtOutsideMunicipality(code, municipality_code)


def _ensure_name_free(session: Session, *, team: Team) -> None:
    with session.no_autoflush:  # the pending change must not hit the constraint first
        clash = session.exec(
            select(Team).where(
                Team.municipality_code == team.municipality_code,
                Team.name == team.name,
                Team.id != team.id,
            )
        ).first()
    if clash is not None:
        raise TeamNameTaken(team.name)


def _flush_team(session: Session, team: Team) -> None:
    _ensure_name_free(session, team=team)
    session.add(team)
    # A concurrent writer may take the name between the check and the flush, or change the
    # team since it was read.
    flush_or_raise(session, conflict=TeamNameTaken(team.name), stale=StaleTeam())


def create_team(session: Session, *, actor: Actor, draft: TeamDraft, clock: Clock) -> Team:
    actor.require_admin("creates teams")
    _check_buurt_codes(draft.municipality_code, draft.buurt_codes)
    now = clock.now()
    team = Team(
        name=draft.name,
        municipality_code=draft.municipality_code,
        buurt_codes=_unique(draft.buurt_codes),
        area=draft.area,
        contact_name=draft.contact_name,
        contact_email=draft.contact_email,
        contact_phone=draft.contact_phone,
        plus_mode=draft.plus_mode,
        created_at=now,
        updated_at=now,
    )
    _flush_team(session, team)
    audit(
        session,
        actor,
        AuditAction.team_create,
        team.id,
        clock=clock,
        municipality_code=team.municipality_code,
        plus_mode=team.plus_mode,
    )
    return team


def _unique(codes: list[str]) -> list[str]:
    return list(dict.fromkeys(codes))


def get_team(session: Session, *, actor: Actor, team_id: uuid.UUID) -> Team:
    team = session.get(Team, team_id)
    if team is None or not actor.can_see_team(team_id):
        raise TeamNotFound()
    return team


def list_teams(session: Session, *, actor: Actor, limit: int, cursor: str | None) -> Page[Team]:
    statement = select(Team)
    if not actor.is_admin:
        statement = statement.where(col(Team.id).in_(list(actor.team_roles)))
    return paginate(
        session,
        statement,
        order=(Team.created_at, Team.id),
        limit=limit,
        cursor=cursor,
        key=lambda team: (team.created_at, team.id),
    )


def update_team(
    session: Session,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int | None,
    clock: Clock,
) -> Team:
    """Apply `changes` (field name to new value, only the fields to change) to the version
    `expected_version` (None: whatever is current)."""
    team = get_team(session, actor=actor, team_id=team_id)
    if not actor.can_manage_team(team_id):
        raise PermissionDenied("Only the team's coordinator or an admin changes a team.")
    check_version(team.version, expected_version, StaleTeam)
    if "municipality_code" in changes and not actor.is_admin:
        raise PermissionDenied("Only an admin moves a team to another municipality.")
    for name, value in changes.items():
        setattr(team, name, _unique(value) if name == "buurt_codes" else value)
    _check_buurt_codes(team.municipality_code, team.buurt_codes)
    team.updated_at = clock.now()
    _flush_team(session, team)
    audit(session, actor, AuditAction.team_update, team.id, clock=clock, changed=sorted(changes))
    return team


def delete_team(
    session: Session,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    clock: Clock,
    held: Mapping[str, int] | None = None,
) -> None:
    """Delete the team with its memberships; `held` counts what other features held for it
    and lose with it (see `domain.departures`), for the audit record."""
    team = get_team(session, actor=actor, team_id=team_id)
    actor.require_admin("deletes a team")
    members = session.exec(select(func.count()).where(TeamMembership.team_id == team_id)).one()
    delete_current(session, team, gone=TeamNotFound)
    session.flush()
    audit(
        session,
        actor,
        AuditAction.team_delete,
        team_id,
        clock=clock,
        name=team.name,
        members=members,
        **(held or {}),
    )


def drop_memberships(session: Session, *, user_id: uuid.UUID) -> None:
    """Take the account out of every team (it is no longer a volunteer)."""
    for membership in session.exec(select(TeamMembership).where(TeamMembership.user_id == user_id)):
        delete_current(session, membership, gone=MemberNotFound)
    session.flush()


# Asked on every request: run on the driver's cursor (core/plain_query.py).
_CLIENT = PlainQuery(
    sa.select(col(PartnerClient.active), col(PartnerClient.partner_id)).where(
        col(PartnerClient.id) == sa.bindparam("subject")
    )
)
_ACCOUNT = PlainQuery(
    sa.select(
        col(User.role),
        col(User.is_active),
        col(User.token_version),
        col(User.partner_id),
        col(TeamMembership.team_id),
        col(TeamMembership.team_role),
    )
    .outerjoin(TeamMembership, col(TeamMembership.user_id) == User.id)
    .where(col(User.id) == sa.bindparam("subject"))
)


def signed_in_actor(
    connection: Connection, *, subject: uuid.UUID, is_client: bool, token_version: int | None
) -> Actor | None:
    """Who a valid token speaks for, in one query; None when the account or client was
    switched off, or the token revoked since (a password change raises the version).

    Every request asks this, so it reads plain rows rather than building ORM objects."""
    if is_client:
        client = _CLIENT.first(connection, subject=subject)
        if client is None or not client.active:
            return None
        return Actor(
            user_id=subject, role=UserRole.partner, partner_id=client.partner_id, is_client=True
        )
    rows = _ACCOUNT.all(connection, subject=subject)
    if not rows or not rows[0].is_active or rows[0].token_version != token_version:
        return None
    teams = {r.team_id: r.team_role for r in rows if r.team_id is not None}
    return _account_actor(subject, rows[0].role, rows[0].partner_id, teams)


@dataclass(frozen=True)
class OwnAccount:
    """The signed-in person's account row and their teams (id, name, plus mode), by name."""

    user: dict[str, Any]
    teams: list[dict[str, Any]]


_OWN_USER_KEYS = (
    "id",
    "email",
    "full_name",
    "role",
    "is_active",
    "partner_id",
    "created_at",
    "updated_at",
    "version",
)
_USERS = User.__table__  # type: ignore[attr-defined]
# The account and its teams in one statement: one snapshot, and no transaction to begin.
_OWN_ACCOUNT = PlainQuery(
    sa.select(
        *(_USERS.c[key] for key in _OWN_USER_KEYS),
        col(Team.id).label("team_id"),
        col(Team.name).label("team_name"),
        col(Team.plus_mode).label("team_plus_mode"),
    )
    .select_from(User)
    .outerjoin(TeamMembership, col(TeamMembership.user_id) == User.id)
    .outerjoin(Team, col(Team.id) == TeamMembership.team_id)
    .where(col(User.id) == sa.bindparam("user_id"))
)


def own_account(connection: Connection, *, actor: Actor) -> OwnAccount:
    """What `GET /me` shows, as plain rows: asked on every screen of a frontend, so it builds
    no ORM objects and its statement is built once. The teams are those the actor acts in."""
    if actor.is_client:
        raise PermissionDenied("A system client has no personal account.")
    rows = _OWN_ACCOUNT.all(connection, user_id=actor.user_id)
    if not rows:
        raise UserNotFound()
    user = {key: getattr(rows[0], key) for key in _OWN_USER_KEYS}
    teams = [
        {"id": row.team_id, "name": row.team_name, "plus_mode": row.team_plus_mode}
        for row in rows
        if row.team_id in actor.team_roles
    ]
    # By name, the same on every database (PostgreSQL's collation would differ from SQLite's).
    return OwnAccount(user=user, teams=sorted(teams, key=lambda team: team["name"]))


def load_actor(session: Session, *, user: User) -> Actor:
    """Who the account acts as: its role, and for a volunteer the teams it belongs to."""
    memberships = session.exec(select(TeamMembership).where(TeamMembership.user_id == user.id))
    teams = {m.team_id: m.team_role for m in memberships}
    return _account_actor(user.id, user.role, user.partner_id, teams)


def _account_actor(
    user_id: uuid.UUID,
    role: UserRole,
    partner_id: uuid.UUID | None,
    teams: dict[uuid.UUID, TeamRole],
) -> Actor:
    return Actor(
        user_id=user_id,
        role=role,
        # Only volunteers act within teams, whatever rows may say.
        team_roles=teams if role == UserRole.volunteer else {},
        partner_id=partner_id if role == UserRole.partner else None,
    )


@dataclass(frozen=True)
class Member:
    """A membership together with the account it belongs to."""

    membership: TeamMembership
    user: User


def list_members(
    session: Session, *, actor: Actor, team_id: uuid.UUID, limit: int, cursor: str | None
) -> Page[Member]:
    get_team(session, actor=actor, team_id=team_id)
    page = paginate(
        session,
        select(TeamMembership).where(TeamMembership.team_id == team_id),
        order=(TeamMembership.created_at, TeamMembership.user_id),
        limit=limit,
        cursor=cursor,
        key=lambda m: (m.created_at, m.user_id),
    )
    users = {
        u.id: u
        for u in session.exec(select(User).where(col(User.id).in_([m.user_id for m in page.items])))
    }
    return Page(
        items=[Member(membership=m, user=users[m.user_id]) for m in page.items],
        next_cursor=page.next_cursor,
    )


def get_member(session: Session, *, actor: Actor, team_id: uuid.UUID, user_id: uuid.UUID) -> Member:
    get_team(session, actor=actor, team_id=team_id)
    membership = session.get(TeamMembership, (team_id, user_id))
    user = session.get(User, user_id)
    if membership is None or user is None:
        raise MemberNotFound()
    return Member(membership=membership, user=user)


def add_member(
    session: Session,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    email: str,
    team_role: TeamRole,
    cpr_valid_until: date | None,
    citizen_responder: bool,
    clock: Clock,
) -> Member:
    get_team(session, actor=actor, team_id=team_id)
    if not actor.can_manage_team(team_id):
        raise PermissionDenied("Only the team's coordinator or an admin adds members.")
    user = session.exec(select(User).where(User.email == email.strip().lower())).first()
    # One answer for every address that is no active volunteer: a coordinator cannot tell
    # an admin's or a partner's address from one that has no account.
    if user is None or not user.is_active or user.role != UserRole.volunteer:
        raise UnknownAccount()
    if session.get(TeamMembership, (team_id, user.id)) is not None:
        raise AlreadyMember()
    if (
        not actor.is_admin
        and session.exec(
            select(TeamMembership.team_id).where(TeamMembership.user_id == user.id).limit(1)
        ).first()
    ):
        raise InAnotherTeam()
    now = clock.now()
    membership = TeamMembership(
        team_id=team_id,
        user_id=user.id,
        team_role=team_role,
        cpr_valid_until=cpr_valid_until,
        citizen_responder=citizen_responder,
        created_at=now,
        updated_at=now,
    )
    session.add(membership)
    # A concurrent request may add the same member in between.
    flush_or_raise(session, conflict=AlreadyMember())
    audit(
        session,
        actor,
        AuditAction.member_add,
        team_id,
        clock=clock,
        user_id=str(user.id),
        team_role=team_role,
    )
    return Member(membership=membership, user=user)


# Fields a volunteer may change on their own membership; the rest is the coordinator's.
SELF_SERVICE_FIELDS = frozenset({"cpr_valid_until", "citizen_responder"})


def update_member(
    session: Session,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    changes: dict[str, Any],
    expected_version: int | None,
    clock: Clock,
) -> Member:
    member = get_member(session, actor=actor, team_id=team_id, user_id=user_id)
    own = user_id == actor.user_id and set(changes) <= SELF_SERVICE_FIELDS
    if not (own or actor.can_manage_team(team_id)):
        raise PermissionDenied(
            "Members change their own CPR date and responder flag; the rest is for the "
            "team's coordinator or an admin."
        )
    check_version(member.membership.version, expected_version, StaleMember)
    for name, value in changes.items():
        setattr(member.membership, name, value)
    member.membership.updated_at = clock.now()
    session.add(member.membership)
    flush_or_raise(session, stale=StaleMember())
    audit(
        session,
        actor,
        AuditAction.member_update,
        team_id,
        clock=clock,
        user_id=str(user_id),
        changed=sorted(changes),
        team_role=member.membership.team_role,
    )
    return member


def remove_member(
    session: Session,
    *,
    actor: Actor,
    team_id: uuid.UUID,
    user_id: uuid.UUID,
    clock: Clock,
) -> None:
    member = get_member(session, actor=actor, team_id=team_id, user_id=user_id)
    if not (actor.can_manage_team(team_id) or user_id == actor.user_id):
        raise PermissionDenied("Only the team's coordinator or an admin removes members.")
    delete_current(session, member.membership, gone=MemberNotFound)
    session.flush()
    audit(session, actor, AuditAction.member_remove, team_id, clock=clock, user_id=str(user_id))
