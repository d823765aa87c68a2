import uuid
from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from buurtplus.api.schemas.common import Email, InputModel, Name, Page, PatchModel, Version
from buurtplus.core.actor import TeamRole, UserRole

Password = Annotated[str, StringConstraints(min_length=8, max_length=200)]


class UserCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "vrijwilliger@example.nl",
                    "full_name": "Sanne de Vries",
                    "password": "a-long-passphrase",
                    "role": "volunteer",
                }
            ]
        }
    )

    email: Email
    full_name: Name
    password: Password
    role: UserRole = UserRole.volunteer
    partner_id: uuid.UUID | None = Field(
        default=None, description="For a partner account: the organisation it acts for"
    )


class UserUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"is_active": False}]})

    full_name: Name | SkipJsonSchema[None] = None
    role: UserRole | SkipJsonSchema[None] = None
    is_active: StrictBool | SkipJsonSchema[None] = None
    password: Password | SkipJsonSchema[None] = None
    partner_id: uuid.UUID | SkipJsonSchema[None] = None


class UserRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    email: str
    full_name: str
    role: UserRole
    is_active: bool
    partner_id: uuid.UUID | None
    version: Version
    created_at: datetime
    updated_at: datetime


class UserPage(Page[UserRead]):
    pass


class MyTeam(BaseModel):
    team_id: uuid.UUID
    name: str
    team_role: TeamRole
    plus_mode: bool


class MeRead(UserRead):
    teams: list[MyTeam] = Field(description="Teams this user belongs to, with the role in each")


class MembershipExport(BaseModel):
    team_id: uuid.UUID
    team_name: str
    team_role: TeamRole
    cpr_valid_until: date | None
    citizen_responder: bool
    joined_at: datetime
