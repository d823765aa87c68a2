"""Every table of the application, imported so SQLModel.metadata knows them all (Alembic)."""

from buurtplus.db import metadata
from buurtplus.delivery.models import Delivery, DeliveryAttempt, WebhookEndpoint, WebhookEvent
from buurtplus.domain.aeds.models import Aed, AedCheck
from buurtplus.domain.audit.models import AuditEvent
from buurtplus.domain.partners.models import Partner, PartnerClient
from buurtplus.domain.patrols.models import (
    CalendarFeedToken,
    Patrol,
    PatrolObservation,
    PatrolParticipant,
)
from buurtplus.domain.signals.models import (
    Category,
    Feedback,
    IdempotencyKey,
    Signal,
    SignalEvent,
)
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.users.models import User
from buurtplus.routing.models import RoutingRule

__all__ = [
    "Aed",
    "AedCheck",
    "AuditEvent",
    "CalendarFeedToken",
    "Category",
    "Delivery",
    "DeliveryAttempt",
    "Feedback",
    "IdempotencyKey",
    "Partner",
    "PartnerClient",
    "Patrol",
    "PatrolObservation",
    "PatrolParticipant",
    "RoutingRule",
    "Signal",
    "SignalEvent",
    "Team",
    "TeamMembership",
    "User",
    "WebhookEndpoint",
    "WebhookEvent",
    "metadata",
]
