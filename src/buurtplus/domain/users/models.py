import uuid
from datetime import datetime

from sqlalchemy import String
from sqlmodel import Field, SQLModel

from buurtplus.core.actor import UserRole
from buurtplus.core.db import StrEnumType, UTCDateTime


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
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)
