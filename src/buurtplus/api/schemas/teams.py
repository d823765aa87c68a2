import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from buurtplus.api.schemas.common import (
    ONE_LINE,
    Email,
    InputModel,
    Name,
    Page,
    PatchModel,
    Version,
)
from buurtplus.core.actor import TeamRole
from buurtplus.core.clock import Clock
from buurtplus.core.geo import check_area
from buurtplus.core.opening_hours import AMSTERDAM
from buurtplus.domain.teams.service import Member

MunicipalityCode = Annotated[
    str,
    StringConstraints(pattern=r"^GM[0-9]{4}$"),
    Field(description="CBS municipality code: GM and four digits", examples=["GM0363"]),
]
BuurtCode = Annotated[
    str,
    StringConstraints(pattern=r"^BU[0-9]{4}[0-9A-Z]{4}$"),
    Field(description="CBS buurt code: BU, the municipality's four digits, four more"),
]
TeamName = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=ONE_LINE)]
Phone = Annotated[str, StringConstraints(min_length=3, max_length=40, pattern=r"^[0-9 +()-]+$")]


class Area(BaseModel):
    """A GeoJSON Polygon or MultiPolygon in WGS84 ([longitude, latitude])."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]

    @model_validator(mode="after")
    def valid_geometry(self) -> "Area":
        check_area(self.model_dump())
        return self


class AreaRead(BaseModel):
    """A GeoJSON Polygon or MultiPolygon in WGS84 ([longitude, latitude]), as stored."""

    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list[Any]


EXAMPLE_AREA: dict[str, Any] = {
    "type": "Polygon",
    "coordinates": [[[4.90, 52.36], [4.93, 52.36], [4.93, 52.38], [4.90, 52.38], [4.90, 52.36]]],
}


class TeamCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Buurtpreventie Oosterpark",
                    "municipality_code": "GM0363",
                    "buurt_codes": ["BU0363MA01", "BU0363MA02"],
                    "area": EXAMPLE_AREA,
                    "contact_name": "Fatima el Amrani",
                    "contact_email": "oosterpark@example.nl",
                    "plus_mode": True,
                }
            ]
        }
    )

    name: TeamName
    municipality_code: MunicipalityCode
    buurt_codes: list[BuurtCode] = Field(default_factory=list, max_length=500)
    area: Area | None = None
    contact_name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    plus_mode: StrictBool = Field(default=False, description="The team takes on social signals")


class TeamUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"plus_mode": True}]})
    nullable: ClassVar[frozenset[str]] = frozenset(
        {"area", "contact_name", "contact_email", "contact_phone"}
    )

    name: TeamName | SkipJsonSchema[None] = None
    municipality_code: MunicipalityCode | SkipJsonSchema[None] = None
    buurt_codes: Annotated[list[BuurtCode], Field(max_length=500)] | SkipJsonSchema[None] = None
    area: Area | None = None
    contact_name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    plus_mode: StrictBool | SkipJsonSchema[None] = None


class TeamRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    municipality_code: str
    buurt_codes: list[str]
    area: AreaRead | None
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    plus_mode: bool
    version: Version
    created_at: datetime
    updated_at: datetime


class TeamPage(Page[TeamRead]):
    pass


class TeamMemberCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "email": "vrijwilliger@example.nl",
                    "team_role": "member",
                    "cpr_valid_until": "2027-06-30",
                    "citizen_responder": True,
                }
            ]
        }
    )

    email: Email = Field(description="E-mail address of an existing volunteer account")
    team_role: TeamRole = TeamRole.member
    cpr_valid_until: date | None = Field(default=None, description="CPR certificate valid until")
    citizen_responder: StrictBool = Field(default=False, description="Registered citizen responder")


class TeamMemberUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"cpr_valid_until": "2027-06-30"}]})
    nullable: ClassVar[frozenset[str]] = frozenset({"cpr_valid_until"})

    team_role: TeamRole | SkipJsonSchema[None] = None
    cpr_valid_until: date | None = None
    citizen_responder: StrictBool | SkipJsonSchema[None] = None


class TeamMemberRead(BaseModel):
    team_id: uuid.UUID
    user_id: uuid.UUID
    email: str
    full_name: str
    team_role: TeamRole
    cpr_valid_until: date | None
    cpr_valid: StrictBool = Field(description="The CPR certificate is valid today")
    citizen_responder: bool
    version: Version
    created_at: datetime
    updated_at: datetime


class TeamMemberPage(Page[TeamMemberRead]):
    pass


def member_read(member: Member, clock: Clock) -> TeamMemberRead:
    m = member.membership
    today = clock.now().astimezone(AMSTERDAM).date()
    return TeamMemberRead(
        team_id=m.team_id,
        user_id=m.user_id,
        email=member.user.email,
        full_name=member.user.full_name,
        team_role=m.team_role,
        cpr_valid_until=m.cpr_valid_until,
        cpr_valid=m.cpr_valid_until is not None and m.cpr_valid_until >= today,
        citizen_responder=m.citizen_responder,
        version=m.version,
        created_at=m.created_at,
        updated_at=m.updated_at,
    )
