"""Retention: the one place that says which personal content goes, and when.

Every personal field has a rule here (DESIGN.md, retention): after BUURTPLUS_RETENTION_DAYS
- a signal final for that long loses its description, exact place, address and house part of
  the postcode, its feedback messages and history notes, and the personal fields of the
  events partners received about it (category, buurt, dates, status and outcome stay);
- an observation on a round loses its note and exact place (kind and time stay);
- an AED check loses its note, a retired AED its contact person;
- the delivery log (events, deliveries, attempts) goes altogether.
Sign-in throttle records (keyed hashes of accounts and addresses) go as soon as their window
and lock are over, whatever the retention period.
Each feature removes its own fields; this module runs them together, in one transaction.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from buurtplus.core.clock import Clock
from buurtplus.domain.aeds.retention import purge_aed_personal_content
from buurtplus.domain.patrols.observations import purge_observation_content
from buurtplus.domain.signals.retention import purge_expired_content
from buurtplus.domain.users.throttle import purge_settled_records
from buurtplus.outbox.events import purge_delivery_log


@dataclass(frozen=True)
class RetentionReport:
    signals: int
    feedback_messages: int
    history_notes: int
    observations: int
    aed_rows: int
    delivery_events: int
    login_throttle_records: int


def apply_retention(session: Session, *, retention_days: int, clock: Clock) -> RetentionReport:
    cutoff = clock.now() - timedelta(days=retention_days)
    signals = purge_expired_content(session, retention_days=retention_days, clock=clock)
    return RetentionReport(
        signals=signals.signals,
        feedback_messages=signals.feedback_messages,
        history_notes=signals.history_notes,
        delivery_events=purge_delivery_log(session, before=cutoff, clock=clock),
        observations=purge_observation_content(session, before=cutoff),
        aed_rows=purge_aed_personal_content(session, before=cutoff),
        login_throttle_records=purge_settled_records(session, now=clock.now()),
    )
