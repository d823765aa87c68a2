import uuid
from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from buurtplus.core.db import JSONType, UTCDateTime, version_column

_VERSION = version_column()


class Partner(SQLModel, table=True):
    """A partner organisation that receives signals: Veilig Thuis, GGD, wijkteam, ..."""

    __tablename__ = "partners"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    name: str = Field(sa_type=String(120), unique=True)
    kind: str = Field(sa_type=String(30))
    contact_name: str | None = Field(default=None, sa_type=String(200))
    contact_email: str | None = Field(default=None, sa_type=String(254))
    contact_phone: str | None = Field(default=None, sa_type=String(40))
    # Municipality codes (GM....) it serves.
    municipalities: list[str] = Field(default_factory=list, sa_type=JSONType)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _VERSION}


class PartnerClient(SQLModel, table=True):
    """A system of a partner that signs in with the OAuth2 client-credentials grant."""

    __tablename__ = "partner_clients"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    partner_id: uuid.UUID = Field(foreign_key="partners.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_type=String(120))
    secret_hash: str = Field(sa_type=String(255))
    active: bool = Field(default=True)
    created_at: datetime = Field(sa_type=UTCDateTime)
