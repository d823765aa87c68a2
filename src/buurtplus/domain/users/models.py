import uuid
from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from buurtplus.core.actor import UserRole
from buurtplus.core.db import StrEnumType, UTCDateTime, version_column

_VERSION = version_column()


class User(SQLModel, table=True):
    __tablename__ = "users"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    email: str = Field(sa_type=String(254), unique=True)
    full_name: str = Field(sa_type=String(200))
    password_hash: str = Field(sa_type=String(255))
    role: UserRole = Field(sa_type=StrEnumType(UserRole, 20))
    is_active: bool = Field(default=True)
    # Partner accounts act for one partner organisation.
    partner_id: uuid.UUID | None = Field(
        default=None, foreign_key="partners.id", ondelete="RESTRICT", index=True
    )
    # Raised when a password changes, so tokens issued before stop working.
    token_version: int = Field(default=0)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _VERSION}


class LoginThrottleRecord(SQLModel, table=True):
    """Failed and running sign-in attempts of one key (an account, an account from one address,
    or one address), shared by every server process. The key is a keyed hash: the table never
    holds an e-mail address, a client id or an IP address."""

    __tablename__ = "login_throttle"

    key: str = Field(sa_type=String(64), primary_key=True)
    failures: int = Field(default=0)
    # Attempts whose password is being checked right now: they count against the limit, so
    # parallel guesses cannot all slip past it.
    in_flight: int = Field(default=0)
    window_started_at: datetime = Field(sa_type=UTCDateTime)
    locked_until: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # From then on the record says nothing (window over, lock ended): retention deletes it.
    expires_at: datetime = Field(sa_type=UTCDateTime, index=True)
