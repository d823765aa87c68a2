"""What follows when someone leaves: a member leaves a team, an account is switched off or
stops being a volunteer, a team is dissolved. Each feature gives up what it held for them;
this is the one place that knows all of them, so the features below need not know each other.
"""

import uuid

from sqlmodel import Session, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.clock import Clock
from buurtplus.domain.patrols.signups import drop_open_signups
from buurtplus.domain.patrols.stats import count_team_rounds
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.teams import service as teams
from buurtplus.domain.teams.errors import TeamHasSignals
from buurtplus.domain.users import service as users
from buurtplus.domain.users.models import User
from buurtplus.domain.users.service import UserChanges


def remove_member(
    session: Session, *, actor: Actor, team_id: uuid.UUID, user_id: uuid.UUID, clock: Clock
) -> None:
    """The member leaves the team, and every open round of the team they signed up for."""
    teams.remove_member(session, actor=actor, team_id=team_id, user_id=user_id, clock=clock)
    drop_open_signups(session, user_id=user_id, team_id=team_id, now=clock.now())


def change_account(
    session: Session,
    *,
    actor: Actor,
    user_id: uuid.UUID,
    changes: UserChanges,
    expected_version: int | None,
    clock: Clock,
) -> User:
    """Change an account; one switched off or no longer a volunteer leaves its open rounds,
    and one no longer a volunteer leaves its teams (team roles are for volunteers only)."""
    user = users.update_user(
        session,
        actor=actor,
        user_id=user_id,
        changes=changes,
        expected_version=expected_version,
        clock=clock,
    )
    no_longer_volunteer = changes.role is not None and changes.role != UserRole.volunteer
    if no_longer_volunteer:
        teams.drop_memberships(session, user_id=user.id)
    if no_longer_volunteer or changes.is_active is False:
        drop_open_signups(session, user_id=user.id, now=clock.now())
    return user


def dissolve_team(session: Session, *, actor: Actor, team_id: uuid.UUID, clock: Clock) -> None:
    """Delete a team that reported nothing: its rounds and observations go with it. A team
    with signals stays, as their history and the partners' work refer to it."""
    teams.get_team(session, actor=actor, team_id=team_id)
    actor.require_admin("deletes a team")
    if session.exec(select(Signal.id).where(Signal.team_id == team_id).limit(1)).first():
        raise TeamHasSignals()
    held = count_team_rounds(session, team_id=team_id)
    teams.delete_team(session, actor=actor, team_id=team_id, clock=clock, held=held)
