import uuid
from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from buurtplus.api.schemas.common import ONE_LINE, InputModel, Name, Page, PatchModel
from buurtplus.api.schemas.signals import Postcode
from buurtplus.api.schemas.teams import BuurtCode, Phone
from buurtplus.core.actor import Actor
from buurtplus.domain.aeds.availability import Availability, AvailabilityAt
from buurtplus.domain.aeds.models import AedCheck
from buurtplus.domain.aeds.nearby import NearbyAed
from buurtplus.domain.aeds.service import AedView
from buurtplus.domain.aeds.tags import NL_LATITUDE, NL_LONGITUDE
from buurtplus.domain.aeds.vocabulary import Access, AedStatus, Visibility

Latitude = Annotated[
    float,
    Field(
        ge=NL_LATITUDE[0],
        le=NL_LATITUDE[1],
        allow_inf_nan=False,
        strict=True,
        description="WGS84 latitude, in the Netherlands",
        examples=[52.3601],
    ),
]
Longitude = Annotated[
    float,
    Field(
        ge=NL_LONGITUDE[0],
        le=NL_LONGITUDE[1],
        allow_inf_nan=False,
        strict=True,
        description="WGS84 longitude, in the Netherlands",
        examples=[4.9215],
    ),
]


Text20 = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=ONE_LINE)]
Text100 = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=ONE_LINE)]
Text200 = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=ONE_LINE)]
Text500 = Annotated[str, StringConstraints(min_length=1, max_length=500, pattern=ONE_LINE)]
OpeningHoursText = Annotated[
    str,
    StringConstraints(min_length=1, max_length=500),
    Field(
        description="OSM opening_hours, Europe/Amsterdam time, Dutch public holidays as `PH`",
        examples=["24/7", "Mo-Fr 08:00-18:00; PH off"],
    ),
]
CabinetCode = Annotated[
    str,
    StringConstraints(min_length=1, max_length=40, pattern=ONE_LINE),
    Field(
        description="Write-only: stored, never shown, listed, exported or sent anywhere",
        json_schema_extra={"writeOnly": True},
    ),
]
Source = Annotated[
    str,
    StringConstraints(pattern=r"^(manual|(osm|csv|geojson):[!-~]{1,110})$"),
    Field(
        description="Where the record comes from: `manual`, `osm:node/123`, `csv:<ref>`; an "
        "import updates the AED with the same source",
        examples=["osm:node/123456789"],
    ),
]
ExpiryDate = Annotated[date, Field(ge=date(2000, 1, 1), le=date(2200, 1, 1))]

EXAMPLE_AED: dict[str, Any] = {
    "latitude": 52.3601,
    "longitude": 4.9215,
    "addr_street": "Oosterpark",
    "addr_housenumber": "1",
    "addr_postcode": "1091AB",
    "addr_city": "Amsterdam",
    "buurt_code": "BU0363MA01",
    "defibrillator_location": "In de kast naast de ingang van het buurthuis",
    "indoor": False,
    "access": "yes",
    "opening_hours": "24/7",
    "cabinet_locked": True,
    "cabinet_code": "1234",
    "operator": "Buurthuis Oosterpark",
    "manufacturer": "Philips",
    "model": "HeartStart FRx",
    "pads_expiry": "2027-05-31",
    "battery_expiry": "2029-01-31",
}


class AedCreate(InputModel):
    model_config = ConfigDict(json_schema_extra={"examples": [EXAMPLE_AED]})

    latitude: Latitude
    longitude: Longitude
    addr_street: Text200 | None = None
    addr_housenumber: Text20 | None = None
    addr_postcode: Postcode | None = None
    addr_city: Text100 | None = None
    buurt_code: BuurtCode | None = None
    defibrillator_location: Text500 | None = Field(
        default=None, description="Where to find it exactly (OSM defibrillator:location)"
    )
    indoor: StrictBool = False
    level: Text20 | None = Field(default=None, description="Floor (OSM level), 0 is the ground")
    access: Access = Access.yes
    opening_hours: OpeningHoursText | None = None
    cabinet_locked: StrictBool = False
    cabinet_code: CabinetCode | None = None
    operator: Text200 | None = None
    contact_name: Name | None = Field(default=None, description="The operator's contact person")
    contact_phone: Phone | None = None
    manufacturer: Text100 | None = None
    model: Text100 | None = None
    pads_expiry: ExpiryDate | None = None
    battery_expiry: ExpiryDate | None = None
    status: AedStatus = AedStatus.active
    visibility: Visibility = Field(
        default=Visibility.public,
        description="public: everyone signed in; responders: members of a team whose area "
        "holds it, the maintaining partner, admins",
    )
    maintainer_partner_id: uuid.UUID | None = Field(
        default=None, description="The partner organisation that maintains it; gets its signals"
    )
    source: Source = "manual"


class AedUpdate(PatchModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"status": "defective"}, {"opening_hours": "24/7"}]}
    )
    nullable: ClassVar[frozenset[str]] = frozenset(
        {
            "addr_street",
            "addr_housenumber",
            "addr_postcode",
            "addr_city",
            "buurt_code",
            "defibrillator_location",
            "level",
            "opening_hours",
            "cabinet_code",
            "operator",
            "contact_name",
            "contact_phone",
            "manufacturer",
            "model",
            "pads_expiry",
            "battery_expiry",
            "maintainer_partner_id",
        }
    )

    latitude: Latitude | SkipJsonSchema[None] = None
    longitude: Longitude | SkipJsonSchema[None] = None
    addr_street: Text200 | None = None
    addr_housenumber: Text20 | None = None
    addr_postcode: Postcode | None = None
    addr_city: Text100 | None = None
    buurt_code: BuurtCode | None = None
    defibrillator_location: Text500 | None = None
    indoor: StrictBool | SkipJsonSchema[None] = None
    level: Text20 | None = None
    access: Access | SkipJsonSchema[None] = None
    opening_hours: OpeningHoursText | None = None
    cabinet_locked: StrictBool | SkipJsonSchema[None] = None
    cabinet_code: CabinetCode | None = None
    operator: Text200 | None = None
    contact_name: Name | None = None
    contact_phone: Phone | None = None
    manufacturer: Text100 | None = None
    model: Text100 | None = None
    pads_expiry: ExpiryDate | None = None
    battery_expiry: ExpiryDate | None = None
    status: AedStatus | SkipJsonSchema[None] = None
    visibility: Visibility | SkipJsonSchema[None] = None
    maintainer_partner_id: uuid.UUID | None = None
    source: Source | SkipJsonSchema[None] = None


class AvailabilityRead(BaseModel):
    state: Availability = Field(
        description="open; closed; uncertain: open only with a comment, or no hours known"
    )
    next_change: datetime | None = Field(description="When the state next changes; null: never")
    comment: str | None = None


class AedRead(BaseModel):
    id: uuid.UUID
    latitude: float
    longitude: float
    addr_street: str | None
    addr_housenumber: str | None
    addr_postcode: str | None
    addr_city: str | None
    buurt_code: str | None
    defibrillator_location: str | None
    indoor: bool
    level: str | None
    access: Access
    opening_hours: str | None
    availability: AvailabilityRead = Field(description="At the moment of the request")
    cabinet_locked: bool
    cabinet_code_set: bool = Field(description="A cabinet code is stored (it is never shown)")
    operator: str | None
    contact_name: str | None = Field(description="Only for those who look after the AED")
    contact_phone: str | None = Field(description="Only for those who look after the AED")
    manufacturer: str | None
    model: str | None
    pads_expiry: date | None
    battery_expiry: date | None
    status: AedStatus
    ready: bool = Field(description="False after a failed check or an expired date")
    not_ready_reasons: list[str]
    last_checked_at: datetime | None
    source: str
    visibility: Visibility
    maintainer_partner_id: uuid.UUID | None
    signal_id: uuid.UUID | None = Field(description="The last AED signal raised for it")
    retired_at: datetime | None
    may_manage: bool = Field(description="You may change or retire it")
    version: int
    created_at: datetime
    updated_at: datetime


class AedPage(Page[AedRead]):
    pass


class AedNearbyItem(BaseModel):
    aed: AedRead
    distance_m: float = Field(description="Geodesic distance in metres")
    walking_seconds: int = Field(description="Straight-line walk at 5 km/h (streets are longer)")
    availability: AvailabilityRead = Field(description="At the moment asked for (`at`)")


class AedNearby(BaseModel):
    at: datetime
    latitude: float
    longitude: float
    walking_speed_kmh: float
    items: list[AedNearbyItem]


class AedCheckCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "display_ok": True,
                    "cabinet_ok": True,
                    "kit_present": True,
                    "pads_expiry": "2027-05-31",
                    "battery_expiry": "2029-01-31",
                    "note": "Lampje groen, kast schoon.",
                }
            ]
        }
    )

    patrol_id: uuid.UUID | None = Field(default=None, description="The round it was done on")
    display_ok: StrictBool = Field(description="Status light or display shows ready")
    cabinet_ok: StrictBool = Field(description="Cabinet intact and opens")
    kit_present: StrictBool = Field(description="The AED is in the cabinet")
    pads_expiry: ExpiryDate | None = Field(default=None, description="Date on the pads")
    battery_expiry: ExpiryDate | None = Field(default=None, description="Date on the battery")
    note: Annotated[str, StringConstraints(min_length=1, max_length=2000)] | None = None


class AedCheckRead(BaseModel):
    id: uuid.UUID
    aed_id: uuid.UUID
    patrol_id: uuid.UUID | None
    checked_by: uuid.UUID
    checked_at: datetime
    display_ok: bool
    cabinet_ok: bool
    kit_present: bool
    pads_expiry: date | None
    battery_expiry: date | None
    note: str | None = Field(description="For the checker and those who manage the AED")
    passed: bool
    problems: list[str]
    signal_id: uuid.UUID | None = Field(description="The AED signal this check raised or joined")


class AedCheckPage(Page[AedCheckRead]):
    pass


class AedCheckResult(BaseModel):
    check: AedCheckRead
    aed: AedRead
    signal_raised: bool = Field(
        description="A new AED signal was reported (false: none needed, or one is open already)"
    )


class AedMaintenanceItem(BaseModel):
    aed: AedRead
    reasons: list[str] = Field(
        description="pads_expiring, pads_expired, battery_expiring, battery_expired, "
        "not_ready, check_due, never_checked"
    )


class AedMaintenancePage(Page[AedMaintenanceItem]):
    pass


def availability_read(at: AvailabilityAt) -> AvailabilityRead:
    return AvailabilityRead(**_availability_fields(at))


def _availability_fields(at: AvailabilityAt) -> dict[str, Any]:
    return {"state": at.state, "next_change": at.next_change, "comment": at.comment}


def aed_read(view: AedView) -> AedRead:
    return AedRead(**_aed_fields(view))


def _aed_fields(view: AedView) -> dict[str, Any]:
    """The answer's fields as plain values, in `AedRead`'s order (for the model, or written as
    they are by `json_answer`)."""
    a = view.aed
    return {
        "id": a.id,
        "latitude": a.latitude,
        "longitude": a.longitude,
        "addr_street": a.addr_street,
        "addr_housenumber": a.addr_housenumber,
        "addr_postcode": a.addr_postcode,
        "addr_city": a.addr_city,
        "buurt_code": a.buurt_code,
        "defibrillator_location": a.defibrillator_location,
        "indoor": a.indoor,
        "level": a.level,
        "access": a.access,
        "opening_hours": a.opening_hours,
        "availability": _availability_fields(view.availability),
        "cabinet_locked": a.cabinet_locked,
        "cabinet_code_set": a.cabinet_code is not None,
        "operator": a.operator,
        "contact_name": a.contact_name if view.sees_contact else None,
        "contact_phone": a.contact_phone if view.sees_contact else None,
        "manufacturer": a.manufacturer,
        "model": a.model,
        "pads_expiry": a.pads_expiry,
        "battery_expiry": a.battery_expiry,
        "status": AedStatus(a.status),
        "ready": a.ready,
        "not_ready_reasons": a.not_ready_reasons,
        "last_checked_at": a.last_checked_at,
        "source": a.source,
        "visibility": a.visibility,
        "maintainer_partner_id": a.maintainer_partner_id,
        "signal_id": a.signal_id,
        "retired_at": a.retired_at,
        "may_manage": view.manages,
        "version": a.version,
        "created_at": a.created_at,
        "updated_at": a.updated_at,
    }


def nearby_content(
    *,
    at: datetime,
    latitude: float,
    longitude: float,
    walking_speed_kmh: float,
    found: list[NearbyAed],
) -> dict[str, Any]:
    """An `AedNearby` as plain values, for `json_answer` (`found`: the search's `NearbyAed`s):
    asked many times a minute in a cardiac arrest."""
    return {
        "at": at,
        "latitude": latitude,
        "longitude": longitude,
        "walking_speed_kmh": walking_speed_kmh,
        "items": [
            {
                "aed": _aed_fields(f.view),
                "distance_m": round(f.distance_m, 1),
                "walking_seconds": f.walking_seconds,
                "availability": _availability_fields(f.view.availability),
            }
            for f in found
        ],
    }


def check_read(check: AedCheck, *, actor: Actor, manages: bool) -> AedCheckRead:
    shows_note = manages or check.checked_by == actor.user_id
    return AedCheckRead(
        id=check.id,
        aed_id=check.aed_id,
        patrol_id=check.patrol_id,
        checked_by=check.checked_by,
        checked_at=check.checked_at,
        display_ok=check.display_ok,
        cabinet_ok=check.cabinet_ok,
        kit_present=check.kit_present,
        pads_expiry=check.pads_expiry,
        battery_expiry=check.battery_expiry,
        note=check.note if shows_note else None,
        passed=check.passed,
        problems=check.problems,
        signal_id=check.signal_id,
    )
