import uuid
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select

from buurtplus.clock import Clock
from buurtplus.domain.access import Actor, TeamRole, UserRole
from buurtplus.domain.audit.service import record
from buurtplus.domain.errors import PermissionDenied
from buurtplus.domain.pagination import Page, paginate
from buurtplus.domain.patrols.models import Patrol, PatrolObservation
from buurtplus.domain.patrols.signups import drop_open_signups
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.teams.errors import (
    AlreadyMember,
    BuurtOutsideMunicipality,
    InAnotherTeam,
    MemberNotFound,
    TeamHasSignals,
    TeamNameTaken,
    TeamNotFound,
    UnknownAccount,
)
from buurtplus.domain.teams.models import Team, TeamMembership
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
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # a concurrent writer took the name in between
        raise TeamNameTaken(team.name) from exc


def create_team(session: Session, *, actor: Actor, draft: TeamDraft, clock: Clock) -> Team:
    if not actor.is_admin:
        raise PermissionDenied("Only an admin creates teams.")
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
    record(
        session,
        actor=actor,
        action="team.create",
        object_type="team",
        object_id=team.id,
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
    session: Session, *, actor: Actor, team_id: uuid.UUID, changes: dict[str, Any], clock: Clock
) -> Team:
    """Apply `changes` (field name to new value, only the fields to change)."""
    team = get_team(session, actor=actor, team_id=team_id)
    if not actor.can_manage_team(team_id):
        raise PermissionDenied("Only the team's coordinator or an admin changes a team.")
    if "municipality_code" in changes and not actor.is_admin:
        raise PermissionDenied("Only an admin moves a team to another municipality.")
    for name, value in changes.items():
        setattr(team, name, _unique(value) if name == "buurt_codes" else value)
    _check_buurt_codes(team.municipality_code, team.buurt_codes)
    team.updated_at = clock.now()
    _flush_team(session, team)
    record(
        session,
        actor=actor,
        action="team.update",
        object_type="team",
        object_id=team.id,
        clock=clock,
        changed=sorted(changes),
    )
    return team


def delete_team(session: Session, *, actor: Actor, team_id: uuid.UUID, clock: Clock) -> None:
    team = get_team(session, actor=actor, team_id=team_id)
    if not actor.is_admin:
        raise PermissionDenied("Only an admin deletes a team.")
    if session.exec(select(Signal.id).where(Signal.team_id == team_id).limit(1)).first():
        raise TeamHasSignals()
    patrols = session.exec(select(func.count()).where(Patrol.team_id == team_id)).one()
    observations = session.exec(
        select(func.count())
        .select_from(PatrolObservation)
        .join(Patrol, col(Patrol.id) == PatrolObservation.patrol_id)
        .where(Patrol.team_id == team_id)
    ).one()
    members = session.exec(select(func.count()).where(TeamMembership.team_id == team_id)).one()
    session.delete(team)
    session.flush()
    # The delete takes its memberships, patrols and observations with it: say how many.
    record(
        session,
        actor=actor,
        action="team.delete",
        object_type="team",
        object_id=team_id,
        clock=clock,
        name=team.name,
        members=members,
        patrols=patrols,
        observations=observations,
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
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError as exc:  # added by a concurrent request in between
        raise AlreadyMember() from exc
    record(
        session,
        actor=actor,
        action="member.add",
        object_type="team",
        object_id=team_id,
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
    clock: Clock,
) -> Member:
    member = get_member(session, actor=actor, team_id=team_id, user_id=user_id)
    own = user_id == actor.user_id and set(changes) <= SELF_SERVICE_FIELDS
    if not (own or actor.can_manage_team(team_id)):
        raise PermissionDenied(
            "Members change their own CPR date and responder flag; the rest is for the "
            "team's coordinator or an admin."
        )
    for name, value in changes.items():
        setattr(member.membership, name, value)
    member.membership.updated_at = clock.now()
    session.add(member.membership)
    session.flush()
    record(
        session,
        actor=actor,
        action="member.update",
        object_type="team",
        object_id=team_id,
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
    session.delete(member.membership)
    drop_open_signups(session, user_id=user_id, team_id=team_id, now=clock.now())
    session.flush()
    record(
        session,
        actor=actor,
        action="member.remove",
        object_type="team",
        object_id=team_id,
        clock=clock,
        user_id=str(user_id),
    )
