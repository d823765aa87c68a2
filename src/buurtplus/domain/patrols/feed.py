"""Calendar feeds: calendar apps send no bearer header, so the feed URL carries a secret token.

Only a hash of the token is stored; it is shown once, when made. Renewing replaces it and
revoking removes it, and either way the old URL stops working."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.domain.patrols.models import CalendarFeedToken, Patrol
from buurtplus.domain.patrols.planning import PatrolView, patrol_views
from buurtplus.domain.teams.models import Team
from buurtplus.domain.teams.service import get_team, load_actor
from buurtplus.domain.users.models import User

TOKEN_PREFIX = "bpf_"  # noqa: S105 - marks the kind of secret, is not one
# How far back a feed goes; calendar apps keep what they saw before.
FEED_HISTORY = timedelta(days=90)
FEED_MAX_EVENTS = 1000


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    token: str
    created_at: datetime
    # The teams whose calendars the token opens, by name.
    teams: list[Team]


def _require_volunteer_or_admin(actor: Actor) -> None:
    if actor.is_client or actor.role == UserRole.partner:
        raise PermissionDenied("Patrol calendars are for team members and admins.")


def issue_feed_token(session: Session, *, actor: Actor, clock: Clock) -> IssuedToken:
    """A new feed token for the actor; one they had before stops working."""
    _require_volunteer_or_admin(actor)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = clock.now()
    stored = session.get(CalendarFeedToken, actor.user_id)
    if stored is None:
        stored = CalendarFeedToken(user_id=actor.user_id, token_hash="", created_at=now)
    stored.token_hash = _digest(token)
    user = session.get(User, actor.user_id)
    stored.token_version = user.token_version if user else 0
    stored.created_at = now
    session.add(stored)
    session.flush()
    audit(session, actor, AuditAction.feed_token_issue, actor.user_id, clock=clock)
    teams = session.exec(select(Team).where(col(Team.id).in_(list(actor.team_roles)))).all()
    return IssuedToken(token=token, created_at=now, teams=sorted(teams, key=lambda team: team.name))


def feed_token_issued_at(session: Session, *, actor: Actor) -> datetime | None:
    _require_volunteer_or_admin(actor)
    stored = session.get(CalendarFeedToken, actor.user_id)
    return stored.created_at if stored else None


def revoke_feed_token(session: Session, *, actor: Actor, clock: Clock) -> None:
    _require_volunteer_or_admin(actor)
    stored = session.get(CalendarFeedToken, actor.user_id)
    if stored is None:
        return
    session.delete(stored)
    session.flush()
    audit(session, actor, AuditAction.feed_token_revoke, actor.user_id, clock=clock)


def actor_for_feed_token(session: Session, *, token: str) -> Actor | None:
    """Who a feed token belongs to, with their current rights; None for an unknown token."""
    stored = session.exec(
        select(CalendarFeedToken).where(CalendarFeedToken.token_hash == _digest(token))
    ).first()
    user = session.get(User, stored.user_id) if stored else None
    if (
        stored is None
        or user is None
        or not user.is_active
        or user.token_version != stored.token_version
    ):
        return None
    return load_actor(session, user=user)


def team_schedule(
    session: Session, *, actor: Actor, team_id: uuid.UUID, clock: Clock
) -> tuple[Team, list[PatrolView]]:
    """A team's patrols from a while back on, for its calendar."""
    team = get_team(session, actor=actor, team_id=team_id)
    patrols = session.exec(
        select(Patrol)
        .where(
            Patrol.team_id == team_id,
            Patrol.planned_start >= clock.now() - FEED_HISTORY,
        )
        .order_by(col(Patrol.planned_start), col(Patrol.id))
        .limit(FEED_MAX_EVENTS)
    ).all()
    return team, patrol_views(session, actor, patrols)
