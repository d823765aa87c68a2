import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints
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
from buurtplus.api.schemas.teams import MunicipalityCode, Phone


class PartnerKind(StrEnum):
    veilig_thuis = "veilig_thuis"
    ggd = "ggd"
    wijkteam = "wijkteam"
    gemeente = "gemeente"
    woningcorporatie = "woningcorporatie"
    wijkagent = "wijkagent"
    aed_owner = "aed_owner"
    other = "other"


PartnerName = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=ONE_LINE)]


class PartnerCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Sociaal wijkteam Oost",
                    "kind": "wijkteam",
                    "contact_email": "wijkteam-oost@example.nl",
                    "municipalities": ["GM0363"],
                }
            ]
        }
    )

    name: PartnerName
    kind: PartnerKind
    contact_name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    municipalities: list[MunicipalityCode] = Field(default_factory=list, max_length=400)


class PartnerUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"contact_phone": "020 123 4567"}]})
    nullable: ClassVar[frozenset[str]] = frozenset(
        {"contact_name", "contact_email", "contact_phone"}
    )

    name: PartnerName | SkipJsonSchema[None] = None
    kind: PartnerKind | SkipJsonSchema[None] = None
    contact_name: Name | None = None
    contact_email: Email | None = None
    contact_phone: Phone | None = None
    municipalities: (
        Annotated[list[MunicipalityCode], Field(max_length=400)] | SkipJsonSchema[None]
    ) = None


class PartnerRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    kind: PartnerKind
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    municipalities: list[str]
    version: Version
    created_at: datetime
    updated_at: datetime


class PartnerPage(Page[PartnerRead]):
    pass


class PartnerClientCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"name": "Zaaksysteem"}]})

    name: PartnerName


class PartnerClientRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID = Field(description="The client_id for the client-credentials grant")
    partner_id: uuid.UUID
    name: str
    active: bool
    created_at: datetime


class PartnerClientIssued(PartnerClientRead):
    client_secret: str = Field(description="Shown once, now; store it safely")


class PartnerClientPage(Page[PartnerClientRead]):
    pass
