"""Background work: webhook delivery and periodic jobs (escalation, retention). It runs inside
`buurtplus serve` when BUURTPLUS_WORKER=inline, or on its own with `buurtplus worker`."""

import logging
import threading
from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy import Engine

from buurtplus.config import Settings
from buurtplus.core.clock import Clock
from buurtplus.core.db import transaction
from buurtplus.core.metrics import JOB_FAILURES, JOB_LAST_SUCCESS, JOB_RUNS
from buurtplus.delivery.sender import WebhookSender
from buurtplus.delivery.ssrf import AddressGuard, parse_allow_list
from buurtplus.delivery.worker import DeliveryWorker
from buurtplus.domain.aeds.checks import aeds_with_expired_dates, expire_aed, today
from buurtplus.domain.retention import RetentionReport, apply_retention
from buurtplus.domain.routing.router import Router
from buurtplus.domain.signals.dispatch import escalate_signal, overdue_signal_ids
from buurtplus.routing.registry import load_router

log = logging.getLogger("buurtplus.background")


def purge_personal_content(engine: Engine, *, retention_days: int, clock: Clock) -> RetentionReport:
    with transaction(engine) as session:
        report = apply_retention(session, retention_days=retention_days, clock=clock)
    if any(vars(report).values()):
        log.info("retention purge", extra=vars(report))
    return report


def escalate_missed_deadlines(engine: Engine, *, clock: Clock, limit: int = 500) -> int:
    """Each overdue signal in its own transaction: one broken signal holds up no other, and no
    transaction keeps the event-order lock (see delivery.outbox) for a whole batch."""
    with transaction(engine, write=False) as session:
        overdue = overdue_signal_ids(session, now=clock.now(), limit=limit)
    count = 0
    for signal_id in overdue:
        try:
            with transaction(engine) as session:
                count += escalate_signal(session, signal_id, clock=clock)
        except Exception:  # a broken signal is logged, and tried again next round
            log.exception("escalation failed", extra={"signal_id": str(signal_id)})
    if count:
        log.info("escalated", extra={"signals": count})
    return count


def expire_aed_dates(engine: Engine, *, clock: Clock, router: Router, limit: int = 5000) -> int:
    """AEDs whose pads or battery expired without a check saying so: not ready, and one AED
    signal each (the daily job). Each AED in its own transaction, like escalation."""
    with transaction(engine, write=False) as session:
        expired = aeds_with_expired_dates(session, on=today(clock), limit=limit)
    count = 0
    for aed_id in expired:
        try:
            with transaction(engine) as session:
                count += expire_aed(session, aed_id, clock=clock, router=router)
        except Exception:  # one broken AED holds up no other; tried again tomorrow
            log.exception("AED expiry failed", extra={"aed_id": str(aed_id)})
    if count:
        log.info("AEDs with expired pads or battery marked not ready", extra={"aeds": count})
    return count


# Retention needs no minute-by-minute care.
PURGE_EVERY = timedelta(hours=1)


class PeriodicJobs:
    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        retention_days: int,
        interval_seconds: float,
        router: Router,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._router = router
        self._retention_days = retention_days
        self._interval = interval_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="buurtplus-jobs", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=30)

    def _run(self) -> None:
        last_purge: datetime | None = None
        last_aed_day: date | None = None
        while not self._stop.is_set():
            run_job(
                "escalation", lambda: escalate_missed_deadlines(self._engine, clock=self._clock)
            )
            now = self._clock.now()
            if last_purge is None or now - last_purge >= PURGE_EVERY:
                run_job(
                    "retention",
                    lambda: purge_personal_content(
                        self._engine, retention_days=self._retention_days, clock=self._clock
                    ),
                )
                last_purge = now  # a failed purge waits for the next hour too
            if last_aed_day != today(self._clock):  # once a day (Amsterdam dates)
                run_job(
                    "aed_expiry",
                    lambda: expire_aed_dates(self._engine, clock=self._clock, router=self._router),
                )
                last_aed_day = today(self._clock)
            self._stop.wait(self._interval)


JOBS = ("escalation", "retention", "aed_expiry")
for _job in JOBS:  # every series from the start, at 0
    JOB_RUNS.labels(_job)
    JOB_FAILURES.labels(_job)


def run_job(name: str, job: Callable[[], object]) -> bool:
    """Run one periodic job, counted in the metrics; a failure is logged and tried again
    next time."""
    JOB_RUNS.labels(name).inc()
    try:
        job()
    except Exception:
        JOB_FAILURES.labels(name).inc()
        log.exception("periodic job failed", extra={"job": name})
        return False
    JOB_LAST_SUCCESS.labels(name).set_to_current_time()
    return True


def address_guard(settings: Settings) -> AddressGuard:
    return AddressGuard(parse_allow_list(settings.webhook_allow_networks))


class BackgroundWork:
    """The delivery worker and the periodic jobs, started and stopped together."""

    def __init__(
        self, engine: Engine, *, settings: Settings, clock: Clock, router: Router | None = None
    ) -> None:
        self.delivery = DeliveryWorker(
            engine,
            sender=WebhookSender(
                address_guard(settings),
                clock=clock,
                timeout_seconds=settings.webhook_timeout_seconds,
            ),
            clock=clock,
            lease=timedelta(seconds=settings.webhook_lease_seconds),
            disable_after=timedelta(days=settings.webhook_disable_after_days),
            concurrency=settings.webhook_concurrency,
            poll_seconds=settings.webhook_poll_seconds,
        )
        self.jobs = PeriodicJobs(
            engine,
            clock=clock,
            retention_days=settings.retention_days,
            interval_seconds=settings.job_interval_seconds,
            router=router or load_router(settings.router, settings),
        )

    def start(self) -> None:
        self.delivery.start()
        self.jobs.start()

    def stop(self) -> None:
        self.jobs.stop()
        self.delivery.stop()
