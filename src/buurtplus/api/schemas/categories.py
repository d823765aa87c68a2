import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints
from pydantic.json_schema import SkipJsonSchema

from buurtplus.api.schemas.common import InputModel, Page, PatchModel, Version
from buurtplus.api.schemas.signals import CategoryCode
from buurtplus.domain.categories.models import CategoryGroup, Sensitivity

Label = Annotated[str, StringConstraints(min_length=1, max_length=120, pattern=r"\S")]
AdviceText = Annotated[str, StringConstraints(min_length=1, max_length=2000, pattern=r"\S")]


class CategoryCreate(InputModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "fireworks",
                    "label_nl": "Vuurwerkoverlast",
                    "label_en": "Fireworks nuisance",
                    "group": "safety",
                    "sensitivity": "normal",
                    "requires_plus": False,
                    "advice_nl": "Gevaarlijke situatie? Bel 112. Anders: politie 0900-8844.",
                    "advice_en": "Dangerous situation? Call 112. Otherwise: police 0900-8844.",
                }
            ]
        }
    )

    code: CategoryCode
    label_nl: Label
    label_en: Label
    group: CategoryGroup
    sensitivity: Sensitivity
    requires_plus: StrictBool = Field(description="Only teams in Plus mode take these signals")
    advice_nl: AdviceText
    advice_en: AdviceText


class CategoryUpdate(PatchModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{"active": False}]})
    nullable: ClassVar[frozenset[str]] = frozenset()

    label_nl: Label | SkipJsonSchema[None] = None
    label_en: Label | SkipJsonSchema[None] = None
    group: CategoryGroup | SkipJsonSchema[None] = None
    sensitivity: Sensitivity | SkipJsonSchema[None] = None
    requires_plus: StrictBool | SkipJsonSchema[None] = None
    advice_nl: AdviceText | SkipJsonSchema[None] = None
    advice_en: AdviceText | SkipJsonSchema[None] = None
    active: StrictBool | SkipJsonSchema[None] = None


class CategoryRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    label_nl: str
    label_en: str
    group: CategoryGroup
    sensitivity: Sensitivity
    requires_plus: bool
    advice_nl: str
    advice_en: str
    active: bool
    version: Version
    created_at: datetime
    updated_at: datetime


class CategoryPage(Page[CategoryRead]):
    pass
