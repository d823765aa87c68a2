"""Who is acting, and what the need-to-know rules let them do (DESIGN.md section 2)."""

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from buurtplus.core.errors import PermissionDenied


class UserRole(StrEnum):
    """The kind of account."""

    admin = "admin"
    volunteer = "volunteer"
    partner = "partner"


class TeamRole(StrEnum):
    """What a volunteer is in one team."""

    coordinator = "coordinator"
    member = "member"


@dataclass(frozen=True)
class Actor:
    # The user's id, or for a partner's system client the client's id.
    user_id: uuid.UUID
    role: UserRole
    team_roles: Mapping[uuid.UUID, TeamRole] = field(default_factory=dict)
    # The partner organisation a partner account or client acts for.
    partner_id: uuid.UUID | None = None
    is_client: bool = False

    @property
    def is_admin(self) -> bool:
        return self.role == UserRole.admin

    def belongs_to(self, team_id: uuid.UUID) -> bool:
        return team_id in self.team_roles

    def can_see_team(self, team_id: uuid.UUID) -> bool:
        return self.is_admin or self.belongs_to(team_id)

    def can_manage_team(self, team_id: uuid.UUID) -> bool:
        return self.is_admin or self.team_roles.get(team_id) == TeamRole.coordinator

    def can_manage_partner(self, partner_id: uuid.UUID) -> bool:
        """The partner's own people (not its systems) and the platform admin."""
        return self.is_admin or (self.partner_id == partner_id and not self.is_client)

    def require_admin(self, to: str) -> None:
        """Refuse unless an admin acts; `to` ends "Only an admin ...", e.g. "deletes a team"."""
        if not self.is_admin:
            raise PermissionDenied(f"Only an admin {to}.")
