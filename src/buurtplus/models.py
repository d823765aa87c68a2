"""Every table of the application, imported so SQLModel.metadata knows them all (Alembic)."""

from buurtplus.db import metadata
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.users.models import User

__all__ = ["Team", "TeamMembership", "User", "metadata"]
