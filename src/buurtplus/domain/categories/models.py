"""What a signal is about: the categories volunteers choose from, with their advice."""

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import String, Text
from sqlmodel import Field, SQLModel

from buurtplus.core.db import StrEnumType, UTCDateTime, version_column

_VERSION = version_column()


class Sensitivity(StrEnum):
    normal = "normal"
    sensitive = "sensitive"


class CategoryGroup(StrEnum):
    safety = "safety"
    social = "social"
    heart_safety = "heart_safety"


class Category(SQLModel, table=True):
    __tablename__ = "categories"

    id: uuid.UUID = Field(default_factory=uuid.uuid4, primary_key=True)
    code: str = Field(sa_type=String(40), unique=True)
    label_nl: str = Field(sa_type=String(120))
    label_en: str = Field(sa_type=String(120))
    group: CategoryGroup = Field(sa_type=StrEnumType(CategoryGroup, 20))
    sensitivity: Sensitivity = Field(sa_type=StrEnumType(Sensitivity, 20))
    requires_plus: bool = Field(default=False)
    advice_nl: str = Field(sa_type=Text)
    advice_en: str = Field(sa_type=Text)
    active: bool = Field(default=True)
    # Raised on every change; the ETag, and the guard against lost updates.
    version: int = Field(default=1, sa_column=_VERSION)
    created_at: datetime = Field(sa_type=UTCDateTime)
    updated_at: datetime = Field(sa_type=UTCDateTime)

    __mapper_args__ = {"version_id_col": _VERSION}
