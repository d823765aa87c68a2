import uuid
from datetime import datetime
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, field_validator, model_validator
from pydantic.json_schema import SkipJsonSchema

from buurtplus.api.schemas.common import InputModel, Moment, Page, PatchModel
from buurtplus.api.schemas.signals import (
    CategoryCode,
    Description,
    Location,
    Note,
    Postcode,
)
from buurtplus.api.schemas.teams import BuurtCode
from buurtplus.core.geo import check_route
from buurtplus.domain.patrols.observations import ObservationView
from buurtplus.domain.patrols.planning import PatrolView
from buurtplus.domain.patrols.stats import TeamFigures
from buurtplus.domain.patrols.workflow import ObservationKind, PatrolAction, PatrolStatus
from buurtplus.domain.signals.workflow import Urgency

Coordinate = Annotated[float, Field(allow_inf_nan=False, strict=True)]


class Route(BaseModel):
    """A GeoJSON LineString in WGS84 ([longitude, latitude])."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["LineString"]
    coordinates: list[list[Coordinate]]

    @model_validator(mode="after")
    def valid_geometry(self) -> "Route":
        check_route(self.model_dump())
        return self


class RouteRead(BaseModel):
    """A GeoJSON LineString in WGS84 ([longitude, latitude]), as stored."""

    type: Literal["LineString"]
    coordinates: list[list[float]]


EXAMPLE_ROUTE: dict[str, Any] = {
    "type": "LineString",
    "coordinates": [[4.9150, 52.3580], [4.9215, 52.3601], [4.9260, 52.3625]],
}


class PatrolCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "team_id": "6b1f0c2a-9d4e-4c3b-8a7f-2e5d1c0b9a88",
                    "planned_start": "2026-03-06T19:30:00+01:00",
                    "planned_end": "2026-03-06T21:30:00+01:00",
                    "route": EXAMPLE_ROUTE,
                    "note": "Verzamelen bij het buurthuis; let op de fietsenstalling.",
                }
            ]
        }
    )

    team_id: uuid.UUID
    planned_start: Moment
    planned_end: Moment = Field(description="After planned_start; a round lasts at most 24 hours")
    route: Route | None = None
    note: Note | None = None


class PatrolUpdate(PatchModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"planned_end": "2026-03-06T22:00:00+01:00"}]}
    )
    nullable: ClassVar[frozenset[str]] = frozenset({"route", "note"})

    planned_start: Moment | SkipJsonSchema[None] = None
    planned_end: Moment | SkipJsonSchema[None] = None
    route: Route | None = None
    note: Note | None = None


class ParticipantRead(BaseModel):
    user_id: uuid.UUID
    full_name: str
    joined_at: datetime


class PatrolRead(BaseModel):
    id: uuid.UUID
    team_id: uuid.UUID
    status: PatrolStatus
    planned_start: datetime
    planned_end: datetime
    started_at: datetime | None = Field(description="When the round actually started")
    finished_at: datetime | None = Field(description="When the round actually finished")
    cancelled_at: datetime | None
    cancel_reason: str | None
    route: RouteRead | None
    note: str | None
    participants: list[ParticipantRead]
    understaffed: bool = Field(
        description="Fewer than two participants: rounds are walked in pairs"
    )
    observation_count: int
    allowed_transitions: list[PatrolAction] = Field(
        description="Steps you may take on this patrol now"
    )
    version: int = Field(description="Also the ETag; send it as If-Match when changing")
    created_by: uuid.UUID
    created_at: datetime
    updated_at: datetime


class PatrolPage(Page[PatrolRead]):
    pass


class ParticipantCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{}, {"user_id": "0c4b7e2d-5f6a-4b8c-9d1e-2f3a4b5c6d7e"}]}
    )

    user_id: uuid.UUID | None = Field(
        default=None,
        description="Leave out to sign yourself up; a coordinator may sign up a team member",
    )


class PatrolStepRequest(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"at": "2026-03-06T19:35:00+01:00"}]})

    at: Moment | None = Field(
        default=None, description="When it actually happened; defaults to now; not in the future"
    )


class PatrolCancelRequest(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"reason": "Storm; ronde vervalt"}]})

    reason: Note | None = None


class ObservationCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "client_id": "9a7c1e5b-3d2f-4e6a-8b0c-1d2e3f4a5b6c",
                    "observed_at": "2026-03-06T20:05:00+01:00",
                    "location": {"latitude": 52.3601, "longitude": 4.9215},
                    "kind": "broken_lighting",
                    "note": "Lantaarnpaal bij het speeltuintje brandt niet.",
                }
            ]
        }
    )

    client_id: uuid.UUID | None = Field(
        default=None,
        description="Chosen by the phone: sending the same observation again stores it once",
    )
    observed_at: Moment | None = Field(
        default=None, description="When it was seen; defaults to now; within the round"
    )
    location: Location
    kind: ObservationKind
    note: Note | None = None


class ObservationRead(BaseModel):
    id: uuid.UUID
    patrol_id: uuid.UUID
    author_id: uuid.UUID
    client_id: uuid.UUID | None
    observed_at: datetime
    location: Location | None = Field(
        description="Null when withheld, or purged after the retention period"
    )
    kind: ObservationKind
    note: str | None
    withheld: bool = Field(
        description="Made into a signal of a sensitive category: its note and place are that "
        "signal's content, shown to its author only"
    )
    signal_id: uuid.UUID | None = Field(description="The signal made of it, if any")
    created_at: datetime


class ObservationPage(Page[ObservationRead]):
    pass


class ObservationPromote(InputModel):
    """Everything is prefilled from the observation; send only what should differ."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {},
                {"category": "aed_defective", "description": "AED-kast staat open, geen pads."},
            ]
        }
    )

    category: CategoryCode | None = Field(
        default=None,
        description="Defaults from the kind (broken_lighting: public_space, "
        "open_window_or_door: burglary_risk, ...); required for contact_with_resident, "
        "aed_seen and other",
    )
    description: Description | None = Field(
        default=None, description="Defaults to the kind and the observation's note"
    )
    urgency: Urgency | None = None
    emergency_called: StrictBool = Field(default=False, description="112 has been called already")
    address: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    postcode: Postcode | None = None
    buurt_code: BuurtCode | None = None

    @field_validator("postcode")
    @classmethod
    def normalise_postcode(cls, value: str | None) -> str | None:
        return value.replace(" ", "").upper() if value else value


class TeamFeed(BaseModel):
    team_id: uuid.UUID
    team_name: str
    url: str = Field(description="Subscribe to this in a calendar app; it holds your token")


class FeedTokenCreated(BaseModel):
    token: str = Field(description="Shown only now; make a new one if it is lost")
    created_at: datetime
    feeds: list[TeamFeed] = Field(description="Your teams' patrol calendars")


class FeedTokenRead(BaseModel):
    active: StrictBool = Field(description="A feed token exists")
    created_at: datetime | None


class CategoryFiguresRead(BaseModel):
    code: str
    label_nl: str
    label_en: str
    sensitivity: str
    count: int
    by_outcome: dict[str, int] | None = Field(
        description="Closed signals by outcome, plus withdrawn and open; null for a "
        "sensitive category, which shows only as a count"
    )


class TeamStatsRead(BaseModel):
    team_id: uuid.UUID
    period_from: datetime = Field(description="From (inclusive)")
    period_to: datetime = Field(description="To (exclusive)")
    rounds_walked: int = Field(description="Completed patrols started in the period")
    rounds_understaffed: int = Field(description="Of those, walked with fewer than two")
    rounds_cancelled: int = Field(description="Cancelled patrols planned in the period")
    hours: float = Field(description="Hours of the rounds walked")
    volunteer_hours: float = Field(description="Hours walked, times the participants")
    participants: int = Field(description="Different volunteers who walked")
    observations_by_kind: dict[str, int]
    signals: int = Field(description="Signals the team reported in the period")
    signals_from_patrols: int = Field(description="Of those, made from patrol observations")
    signals_by_category: list[CategoryFiguresRead]


class PatrolParticipationExport(BaseModel):
    """A round you signed up for (in your personal data export)."""

    patrol_id: uuid.UUID
    team_id: uuid.UUID
    planned_start: datetime
    planned_end: datetime
    status: str
    signed_up_at: datetime


# --- from the domain to an answer ---------------------------------------------------------


def patrol_read(view: PatrolView) -> PatrolRead:
    p = view.patrol
    return PatrolRead(
        id=p.id,
        team_id=p.team_id,
        status=p.status,
        planned_start=p.planned_start,
        planned_end=p.planned_end,
        started_at=p.started_at,
        finished_at=p.finished_at,
        cancelled_at=p.cancelled_at,
        cancel_reason=p.cancel_reason,
        route=RouteRead.model_validate(p.route) if p.route else None,
        note=p.note,
        participants=[
            ParticipantRead(user_id=x.user_id, full_name=x.full_name, joined_at=x.joined_at)
            for x in view.participants
        ],
        understaffed=view.understaffed,
        observation_count=view.observation_count,
        allowed_transitions=view.actions,
        version=p.version,
        created_by=p.created_by,
        created_at=p.created_at,
        updated_at=p.updated_at,
    )


def observation_read(view: ObservationView) -> ObservationRead:
    o = view.observation
    shown = not view.withheld
    return ObservationRead(
        id=o.id,
        patrol_id=o.patrol_id,
        author_id=o.author_id,
        client_id=o.client_id,
        observed_at=o.observed_at,
        location=(
            Location(latitude=o.latitude, longitude=o.longitude)
            if shown and o.latitude is not None and o.longitude is not None
            else None
        ),
        kind=o.kind,
        note=o.note if shown else None,
        withheld=view.withheld,
        signal_id=view.signal_id,
        created_at=o.created_at,
    )


def team_stats_read(figures: TeamFigures) -> TeamStatsRead:
    return TeamStatsRead.model_validate(figures, from_attributes=True)
