import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from buurtplus.api.schemas.common import ONE_LINE, InputModel, Moment, Page, PatchModel, Version
from buurtplus.api.schemas.signals import CategoryCode
from buurtplus.api.schemas.teams import BuurtCode, MunicipalityCode
from buurtplus.domain.categories.models import CategoryGroup
from buurtplus.domain.signals.workflow import Urgency

RuleName = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=ONE_LINE)]
TimeWindow = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500),
    Field(description="OSM opening_hours, Europe/Amsterdam time", examples=["Mo-Fr 08:30-17:00"]),
]
AckMinutes = Annotated[
    int, Field(ge=5, le=60 * 24 * 14, strict=True, description="Minutes to acknowledge")
]
Priority = Annotated[
    int, Field(ge=-1000, le=1000, strict=True, description="Breaks ties in specificity")
]


class RuleCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Eenzaamheid Oost, kantooruren",
                    "categories": ["loneliness", "social_isolation"],
                    "municipalities": ["GM0363"],
                    "time_window": "Mo-Fr 08:30-17:00; PH off",
                    "partner_id": "3f0a4c9e-2b9f-4f7e-9d1a-6c1b2e3d4f50",
                    "ack_minutes": 1440,
                }
            ]
        }
    )

    name: RuleName
    priority: Priority = 0
    active: StrictBool = True
    categories: list[CategoryCode] = Field(default_factory=list, max_length=100)
    category_groups: list[CategoryGroup] = Field(default_factory=list, max_length=3)
    municipalities: list[MunicipalityCode] = Field(default_factory=list, max_length=400)
    buurt_codes: list[BuurtCode] = Field(default_factory=list, max_length=1000)
    team_ids: list[uuid.UUID] = Field(default_factory=list, max_length=100)
    urgencies: list[Urgency] = Field(default_factory=list, max_length=3)
    time_window: TimeWindow | None = None
    partner_id: uuid.UUID
    fallback_partner_id: uuid.UUID | None = None
    ack_minutes: AckMinutes = 24 * 60


class RuleUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    nullable: ClassVar[frozenset[str]] = frozenset({"time_window", "fallback_partner_id"})

    name: RuleName | SkipJsonSchema[None] = None
    priority: Priority | SkipJsonSchema[None] = None
    active: StrictBool | SkipJsonSchema[None] = None
    categories: list[CategoryCode] | SkipJsonSchema[None] = None
    category_groups: list[CategoryGroup] | SkipJsonSchema[None] = None
    municipalities: list[MunicipalityCode] | SkipJsonSchema[None] = None
    buurt_codes: list[BuurtCode] | SkipJsonSchema[None] = None
    team_ids: list[uuid.UUID] | SkipJsonSchema[None] = None
    urgencies: list[Urgency] | SkipJsonSchema[None] = None
    time_window: TimeWindow | None = None
    partner_id: uuid.UUID | SkipJsonSchema[None] = None
    fallback_partner_id: uuid.UUID | None = None
    ack_minutes: AckMinutes | SkipJsonSchema[None] = None


class RuleRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    name: str
    priority: int
    active: bool
    categories: list[str]
    category_groups: list[str]
    municipalities: list[str]
    buurt_codes: list[str]
    team_ids: list[str]
    urgencies: list[str]
    time_window: str | None
    partner_id: uuid.UUID
    fallback_partner_id: uuid.UUID | None
    ack_minutes: int
    version: Version
    created_at: datetime
    updated_at: datetime


class RulePage(Page[RuleRead]):
    pass


class PreviewRequest(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "loneliness",
                    "team_id": "3f0a4c9e-2b9f-4f7e-9d1a-6c1b2e3d4f50",
                    "buurt_code": "BU0363MA01",
                    "urgency": "normal",
                    "at": "2026-03-02T10:00:00+01:00",
                }
            ]
        }
    )

    category: CategoryCode
    team_id: uuid.UUID
    buurt_code: BuurtCode | None = None
    urgency: Urgency = Urgency.normal
    at: Moment | None = Field(default=None, description="When; defaults to now")


class DecisionRead(BaseModel):
    partner_id: uuid.UUID
    partner_name: str
    rule_id: uuid.UUID | None
    rule_name: str | None
    ack_minutes: int
    fallback_partner_id: uuid.UUID | None
    explanation: str


class RuleCheckRead(BaseModel):
    rule_id: uuid.UUID
    rule_name: str
    matched: bool
    reasons: list[str] = Field(description="Why it did not match; empty when it did")


class PreviewResult(BaseModel):
    decision: DecisionRead | None = Field(description="null: unroutable")
    rules: list[RuleCheckRead]


class GapRead(BaseModel):
    category: str
    team_id: uuid.UUID
    buurt_code: str | None = Field(description="null: the team has no buurt codes")
    urgencies: list[Urgency] = Field(description="Urgencies for which some moment is uncovered")
    uncovered_now: bool
    uncovered_hours: list[str] = Field(
        description='Hours of this week (Amsterdam time) with an uncovered moment, "Sa 03:00"'
    )


class GapReport(BaseModel):
    municipality: str
    evaluated_at: datetime
    items: list[GapRead] = Field(description="Empty: every combination is covered at every hour")
