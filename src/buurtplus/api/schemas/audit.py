import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from buurtplus.api.schemas.common import Page


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    actor_id: uuid.UUID | None
    action: str
    object_type: str
    object_id: uuid.UUID | None
    details: dict[str, Any]


class AuditEventPage(Page[AuditEventRead]):
    pass
