"""Every table of the application, imported so SQLModel.metadata knows them all (Alembic)."""

from buurtplus.core.audit.models import AuditEvent
from buurtplus.core.db import metadata
from buurtplus.core.jobs import JobRun
from buurtplus.domain.aeds.models import Aed, AedCheck
from buurtplus.domain.categories.models import Category
from buurtplus.domain.partners.models import Partner, PartnerClient
from buurtplus.domain.patrols.models import (
    CalendarFeedToken,
    Patrol,
    PatrolObservation,
    PatrolParticipant,
)
from buurtplus.domain.routing.models import RoutingRule
from buurtplus.domain.signals.models import Feedback, IdempotencyKey, Signal, SignalEvent
from buurtplus.domain.teams.models import Team, TeamMembership
from buurtplus.domain.users.models import LoginThrottleRecord, User
from buurtplus.outbox.models import Delivery, DeliveryAttempt, WebhookEndpoint, WebhookEvent

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
    "JobRun",
    "LoginThrottleRecord",
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
