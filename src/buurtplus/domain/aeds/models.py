import uuid
from datetime import date, datetime

from sqlalchemy import Column, Index, Integer, String, Text, cast, literal_column
from sqlmodel import Field, SQLModel

from buurtplus.core.db import JSONType, StrEnumType, UTCDateTime
from buurtplus.core.ids import time_ordered_id
from buurtplus.domain.aeds.vocabulary import Access, AedStatus, Visibility

# Every UPDATE of an AED says WHERE version = <the version read>, and raises it by one.
_VERSION = Column("version", Integer, nullable=False)


class Aed(SQLModel, table=True):
    """An AED in the registry. Field names follow the OSM emergency=defibrillator tags where
    one exists (`defibrillator:location` is `defibrillator_location`, `addr:street` is
    `addr_street`)."""

    __tablename__ = "aeds"
    # A bounding box as a range on latitude, filtered on longitude inside the same index (the
    # coverage of an area, the registry's map); nearby has an index of its own (below).
    __table_args__ = (Index("ix_aeds_latitude_longitude", "latitude", "longitude"),)

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    latitude: float
    longitude: float
    addr_street: str | None = Field(default=None, sa_type=String(200))
    addr_housenumber: str | None = Field(default=None, sa_type=String(20))
    addr_postcode: str | None = Field(default=None, sa_type=String(6))
    addr_city: str | None = Field(default=None, sa_type=String(100))
    buurt_code: str | None = Field(default=None, sa_type=String(10), index=True)
    defibrillator_location: str | None = Field(default=None, sa_type=String(500))
    indoor: bool = Field(default=False)
    level: str | None = Field(default=None, sa_type=String(20))
    access: Access = Field(sa_type=StrEnumType(Access, 20))
    opening_hours: str | None = Field(default=None, sa_type=String(500))
    cabinet_locked: bool = Field(default=False)
    # Write-only secret: never in a response, export, event, audit detail or log line.
    cabinet_code: str | None = Field(default=None, sa_type=String(40))
    operator: str | None = Field(default=None, sa_type=String(200))
    # Personal: the operator's contact person; purged once the AED is retired long enough.
    contact_name: str | None = Field(default=None, sa_type=String(200))
    contact_phone: str | None = Field(default=None, sa_type=String(40))
    manufacturer: str | None = Field(default=None, sa_type=String(100))
    model: str | None = Field(default=None, sa_type=String(100))
    pads_expiry: date | None = Field(default=None, index=True)
    battery_expiry: date | None = Field(default=None, index=True)
    # Not indexed (nor retired_at): a handful of values, and an index on them would tempt the
    # planner away from the spatial index in nearby searches.
    status: AedStatus = Field(sa_type=StrEnumType(AedStatus, 20))
    # Not ready: a check failed or a date expired; cleared by a check that passes.
    ready: bool = Field(default=True)
    not_ready_reasons: list[str] = Field(default_factory=list, sa_type=JSONType)
    last_checked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # Where the record came from: None for one entered by hand ("manual"), else e.g.
    # "osm:node/123" or "csv:AED-0042"; an import updates the AED with the same source.
    source_id: str | None = Field(default=None, sa_type=String(120), unique=True)
    visibility: Visibility = Field(sa_type=StrEnumType(Visibility, 20))
    maintainer_partner_id: uuid.UUID | None = Field(
        default=None, foreign_key="partners.id", ondelete="RESTRICT", index=True
    )
    # The last AED signal raised for it: no second one while that one is open.
    signal_id: uuid.UUID | None = Field(default=None, foreign_key="signals.id", ondelete="SET NULL")
    retired_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime, index=True)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _VERSION}

    @property
    def source(self) -> str:
        return self.source_id or "manual"


# Nearby's index: the latitude in cells of a hundredth of a degree (about 1.1 km), then the
# longitude and the latitude. A search box is one short range of longitudes in each of its few
# cells, checked on latitude inside the index; the (latitude, longitude) index reads every AED
# in the box's band of latitude across the whole country. The cell is the database's own
# cast (SQLite truncates, PostgreSQL rounds): `latitude_cells` allows for either.
LATITUDE_CELLS_PER_DEGREE = 100
_AED_COLUMNS = Aed.__table__.c  # type: ignore[attr-defined]
LATITUDE_CELL = cast(
    _AED_COLUMNS.latitude * literal_column(str(LATITUDE_CELLS_PER_DEGREE)), Integer
)
Index("ix_aeds_latitude_cell", LATITUDE_CELL, _AED_COLUMNS.longitude, _AED_COLUMNS.latitude)


def latitude_cells(min_latitude: float, max_latitude: float) -> range:
    """Every cell an AED between these latitudes can be in, truncated or rounded."""
    return range(
        int(min_latitude * LATITUDE_CELLS_PER_DEGREE) - 1,
        int(max_latitude * LATITUDE_CELLS_PER_DEGREE) + 2,
    )


class AedCheck(SQLModel, table=True):
    """A check of one AED, usually on a patrol round."""

    __tablename__ = "aed_checks"

    id: uuid.UUID = Field(default_factory=time_ordered_id, primary_key=True)
    aed_id: uuid.UUID = Field(foreign_key="aeds.id", ondelete="CASCADE", index=True)
    patrol_id: uuid.UUID | None = Field(
        default=None, foreign_key="patrols.id", ondelete="SET NULL", index=True
    )
    checked_by: uuid.UUID = Field(foreign_key="users.id", ondelete="RESTRICT", index=True)
    checked_at: datetime = Field(sa_type=UTCDateTime, index=True)
    display_ok: bool
    cabinet_ok: bool
    kit_present: bool
    pads_expiry: date | None = Field(default=None)
    battery_expiry: date | None = Field(default=None)
    # Personal content: purged after the retention period.
    note: str | None = Field(default=None, sa_type=Text)
    passed: bool
    problems: list[str] = Field(default_factory=list, sa_type=JSONType)
    signal_id: uuid.UUID | None = Field(default=None, foreign_key="signals.id", ondelete="SET NULL")
    created_at: datetime = Field(sa_type=UTCDateTime)
