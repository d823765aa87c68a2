import uuid
from datetime import datetime
from typing import Annotated, Any, Self

from fastapi import Header, Response
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StringConstraints,
    field_validator,
    model_validator,
)

from buurtplus.api.answers import json_answer
from buurtplus.api.deps import version_from_if_match
from buurtplus.api.schemas.common import InputModel, Moment, Page
from buurtplus.api.schemas.teams import BuurtCode
from buurtplus.core.actor import Actor
from buurtplus.domain.categories.models import Category, CategoryGroup, Sensitivity
from buurtplus.domain.signals.errors import StaleSignal
from buurtplus.domain.signals.intake import Submission
from buurtplus.domain.signals.models import SignalEvent
from buurtplus.domain.signals.reading import SignalReading
from buurtplus.domain.signals.visibility import DetailLevel, sees_event_detail
from buurtplus.domain.signals.workflow import (
    HistoryAction,
    Outcome,
    SignalAction,
    SignalStatus,
    Urgency,
)

CategoryCode = Annotated[
    str,
    StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,39}$"),
    Field(examples=["loneliness"]),
]
Postcode = Annotated[
    str,
    StringConstraints(pattern=r"^[1-9][0-9]{3} ?[A-Za-z]{2}$"),
    Field(description="Dutch postcode, e.g. 1091 AB", examples=["1091 AB"]),
]
Description = Annotated[str, StringConstraints(min_length=1, max_length=4000, pattern=r"\S")]
Note = Annotated[str, StringConstraints(min_length=1, max_length=1000, pattern=r"\S")]


class Location(BaseModel):
    """A point in WGS84."""

    model_config = ConfigDict(extra="forbid")

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False, strict=True, examples=[52.3601])
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False, strict=True, examples=[4.9215])


# Where it was: at least one of these is given, not null (`somewhere` below). The schema says
# so with `not` (not all of them absent or null), which generators leave be; an `anyOf` of
# `required` would turn the whole body into `Any` in generated clients.
PLACE_FIELDS = ("location", "address", "postcode", "buurt_code")


class SignalCreate(InputModel):
    """A report. Say where with at least one of location, address, postcode or buurt_code."""

    model_config = ConfigDict(
        json_schema_extra={
            "not": {"properties": {name: {"type": "null"} for name in PLACE_FIELDS}},
            "examples": [
                {
                    "category": "loneliness",
                    "description": "Oudere buurman zit al weken alleen, de post stapelt zich op.",
                    "location": {"latitude": 52.3601, "longitude": 4.9215},
                    "postcode": "1091 AB",
                    "buurt_code": "BU0363MA01",
                    "observed_at": "2026-03-02T08:45:00+01:00",
                    "urgency": "normal",
                    "emergency_called": False,
                }
            ],
        }
    )

    id: uuid.UUID | None = Field(
        default=None, description="Client-chosen id: sending the same report again is harmless"
    )
    category: CategoryCode
    description: Description
    location: Location | None = None
    address: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = None
    postcode: Postcode | None = None
    buurt_code: BuurtCode | None = None
    observed_at: Moment | None = Field(
        default=None, description="When it was seen; defaults to now; not in the future"
    )
    urgency: Urgency = Urgency.normal
    emergency_called: StrictBool = Field(default=False, description="112 has been called already")
    team_id: uuid.UUID | None = Field(
        default=None, description="The team reported for; may be left out by a one-team member"
    )

    @field_validator("postcode")
    @classmethod
    def normalise_postcode(cls, value: str | None) -> str | None:
        return value.replace(" ", "").upper() if value else value

    @model_validator(mode="after")
    def somewhere(self) -> Self:
        if all(getattr(self, name) is None for name in PLACE_FIELDS):
            raise ValueError("say where: location, address, postcode or buurt_code")
        return self


class CategoryRef(BaseModel):
    code: str
    label_nl: str
    label_en: str
    group: CategoryGroup
    sensitivity: Sensitivity


class SignalRead(BaseModel):
    id: uuid.UUID
    team_id: uuid.UUID
    category: CategoryRef
    detail_level: DetailLevel = Field(
        description="full, or limited: a sensitive signal seen by a coordinator shows only "
        "category, buurt, status and dates; the other fields are null"
    )
    status: SignalStatus
    outcome: Outcome | None
    buurt_code: str | None
    observed_at: datetime
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    allowed_transitions: list[SignalAction] = Field(
        description="Workflow steps you may take on this signal now"
    )
    version: int = Field(description="Also the ETag; send it as If-Match when changing")
    urgency: Urgency | None
    emergency_called: bool | None
    reporter_id: uuid.UUID | None
    description: str | None
    location: Location | None
    address: str | None
    postcode: str | None
    purged: bool = Field(description="Personal content was removed after the retention period")
    partner_id: uuid.UUID | None = Field(description="The partner organisation handling it")
    ack_deadline: datetime | None = Field(description="The partner acknowledges before this")
    routing_explanation: str | None = Field(description="Why it went where it went")
    patrol_id: uuid.UUID | None = Field(description="The patrol round it was seen on, if any")
    observation_id: uuid.UUID | None = Field(
        description="The patrol observation it was made of, if any"
    )


class Advice(BaseModel):
    call_112: bool = Field(description="Tell the reporter to call 112 now")
    nl: list[str]
    en: list[str]


class SignalSubmitted(SignalRead):
    advice: Advice = Field(description="What to do now, shown to the reporter at once")


class SignalPage(Page[SignalRead]):
    pass


class WithdrawRequest(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Toch niets aan de hand"}]}
    )

    reason: Note | None = None


class CloseRequest(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"outcome": "duplicate", "note": "Zelfde als eerder"}]}
    )

    outcome: Outcome
    note: Note | None = None


class RouteRequest(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "partner_id": "3f0a4c9e-2b9f-4f7e-9d1a-6c1b2e3d4f50",
                    "ack_minutes": 1440,
                    "note": "Bekend bij wijkteam",
                }
            ]
        }
    )

    partner_id: uuid.UUID
    ack_minutes: int = Field(default=24 * 60, ge=5, le=60 * 24 * 14, strict=True)
    note: Note | None = None


class RejectRequest(InputModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "Geen minderjarigen betrokken; GGD"}]}
    )

    reason: Note = Field(description='Why it is "not ours"')


class StepRequest(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"note": "Wij pakken dit op"}]})

    note: Note | None = None


class SignalEventRead(BaseModel):
    id: uuid.UUID
    created_at: datetime
    action: HistoryAction
    from_status: SignalStatus | None
    to_status: SignalStatus
    actor_id: uuid.UUID | None = Field(description="null for the system, or in a limited view")
    note: str | None


class SignalEventPage(Page[SignalEventRead]):
    pass


class FeedbackCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"message": "Wij zijn langs geweest; er is hulp geregeld."}]
        }
    )

    message: Note = Field(description="Short, and without case details")


class FeedbackRead(BaseModel):
    id: uuid.UUID
    signal_id: uuid.UUID
    message: str | None = Field(description="null once purged after the retention period")
    created_at: datetime


class FeedbackPage(Page[FeedbackRead]):
    pass


class ReportedSignalExport(SignalRead):
    history: list[SignalEventRead]
    feedback: list[FeedbackRead]


# --- from the domain to an answer ---------------------------------------------------------


def signal_read(view: SignalReading) -> SignalRead:
    return SignalRead(**_signal_fields(view))


def signal_page_content(items: list[SignalReading], next_cursor: str | None) -> dict[str, Any]:
    """A `SignalPage` as plain values, for `json_answer`. Each category's fields are made once:
    fifty signals have a handful of categories."""
    categories: dict[uuid.UUID, dict[str, Any]] = {}
    fields = []
    for view in items:
        category = categories.get(view.signal.category_id)
        if category is None:
            category = categories[view.signal.category_id] = _category_fields(view.category)
        fields.append(_signal_fields(view, category))
    return {"items": fields, "next_cursor": next_cursor}


def _category_fields(c: Category) -> dict[str, Any]:
    return {
        "code": c.code,
        "label_nl": c.label_nl,
        "label_en": c.label_en,
        "group": c.group,
        "sensitivity": c.sensitivity,
    }


def _signal_fields(view: SignalReading, category: dict[str, Any] | None = None) -> dict[str, Any]:
    """The answer's fields as plain values, in `SignalRead`'s order (nested ones as dicts,
    validated with the answer, or written as they are by `json_answer`): a page builds fifty
    of these, so each value is read once. A limited view gives its personal content as null.
    `category`: the category's fields, made already."""
    s = view.signal
    full = view.full
    latitude, longitude = s.latitude, s.longitude
    return {
        "id": s.id,
        "team_id": s.team_id,
        "category": category or _category_fields(view.category),
        "detail_level": view.level,
        "status": s.status,
        "outcome": s.outcome,
        "buurt_code": s.buurt_code,
        "observed_at": s.observed_at,
        "created_at": s.created_at,
        "updated_at": s.updated_at,
        "closed_at": s.closed_at,
        "allowed_transitions": view.actions,
        "version": s.version,
        "urgency": Urgency(s.urgency) if full else None,
        "emergency_called": s.emergency_called if full else None,
        "reporter_id": s.reporter_id if full else None,
        "description": s.description if full else None,
        "location": (
            {"latitude": latitude, "longitude": longitude}
            if full and latitude is not None and longitude is not None
            else None
        ),
        "address": s.address if full else None,
        "postcode": s.postcode if full else None,
        "purged": s.purged_at is not None,
        "partner_id": s.partner_id if full else None,
        "ack_deadline": s.ack_deadline if full else None,
        "routing_explanation": s.routing_explanation if full else None,
        "patrol_id": s.patrol_id,
        "observation_id": s.observation_id,
    }


def event_read(view: SignalReading, event: SignalEvent, actor: Actor) -> SignalEventRead:
    detail = view.full and sees_event_detail(actor, event)
    return SignalEventRead(
        id=event.id,
        created_at=event.created_at,
        action=HistoryAction(event.action),
        from_status=event.from_status,
        to_status=SignalStatus(event.to_status),
        actor_id=event.actor_id if detail else None,
        note=event.note if detail else None,
    )


def submitted_answer(submission: Submission) -> Response:
    """The answer to a report (the API's or a promoted observation's), with its headers,
    written by `json_answer`: the report is the call a volunteer waits for."""
    view, advice = submission.view, submission.advice
    headers = {
        "ETag": signal_etag(view),
        "Location": f"/api/v1/signals/{view.signal.id}",
    }
    if submission.replayed:
        headers["Idempotent-Replayed"] = "true"
    content = _signal_fields(view)
    content["advice"] = {"call_112": advice.call_112, "nl": advice.nl, "en": advice.en}
    return json_answer(SignalSubmitted, content, status_code=201, headers=headers)


def signal_etag(view: SignalReading) -> str:
    return f'"{view.signal.version}"'


def expected_version(if_match: str | None) -> int | None:
    return version_from_if_match(if_match, StaleSignal)


IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The signal\'s ETag as you read it, e.g. "3" (with the quotes): the step '
        "applies only to that version (412 if it changed); leave it out to act on the current one",
    ),
]
