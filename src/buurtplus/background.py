"""Background work: webhook delivery and periodic jobs (escalation, retention). It runs inside
`buurtplus serve` when BUURTPLUS_WORKER=inline, or on its own with `buurtplus worker`."""

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial

from sqlalchemy import Engine

from buurtplus.config import Settings
from buurtplus.core.clock import Clock
from buurtplus.core.db import transaction
from buurtplus.core.jobs import JobName, claim_job_run, finish_job_run, prune_job_runs
from buurtplus.core.metrics import JOB_FAILURES, JOB_LAST_SUCCESS, JOB_RUNS
from buurtplus.core.writer import GroupWriter
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


def escalate_missed_deadlines(
    engine: Engine, *, clock: Clock, limit: int = 500, stop: threading.Event | None = None
) -> int:
    """Each overdue signal in its own transaction: one broken signal holds up no other, and no
    transaction keeps the event-order lock (see delivery.outbox) for a whole batch."""
    with transaction(engine, write=False) as session:
        overdue = overdue_signal_ids(session, now=clock.now(), limit=limit)
    count = 0
    for signal_id in overdue:
        if stop is not None and stop.is_set():
            break  # shutting down: the rest is due again at the next look, in any process
        try:
            with transaction(engine) as session:
                count += escalate_signal(session, signal_id, clock=clock)
        except Exception:  # a broken signal is logged, and tried again next round
            log.exception("escalation failed", extra={"signal_id": str(signal_id)})
    if count:
        log.info("escalated", extra={"signals": count})
    return count


def expire_aed_dates(
    engine: Engine,
    *,
    clock: Clock,
    router: Router,
    limit: int = 5000,
    stop: threading.Event | None = None,
) -> int:
    """AEDs whose pads or battery expired without a check saying so: not ready, and one AED
    signal each (the daily job). Each AED in its own transaction, like escalation."""
    with transaction(engine, write=False) as session:
        expired = aeds_with_expired_dates(session, on=today(clock), limit=limit)
    count = 0
    for aed_id in expired:
        if stop is not None and stop.is_set():
            break
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
# The record of job runs is for operators looking back a few weeks, not for ever.
JOB_RUNS_KEPT = timedelta(days=30)


def interval_slot(now: datetime, seconds: float) -> str:
    """The start of the interval of `seconds` that holds `now`, counted from the epoch, so
    every process names the same moment the same way."""
    start = int(now.timestamp() // seconds * seconds)
    return datetime.fromtimestamp(start, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True)
class Job:
    name: JobName
    slot: Callable[[datetime], str]
    run: Callable[[], int]


class PeriodicJobs:
    """Escalation (every `interval_seconds`), retention (hourly) and AED expiry (daily), each
    once per due moment across every process on the database (see core.jobs)."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Clock,
        retention_days: int,
        interval_seconds: float,
        router: Router,
        runner: str,
    ) -> None:
        self._engine = engine
        self._clock = clock
        self._router = router
        self._retention_days = retention_days
        self._interval = interval_seconds
        self.runner = runner
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="buurtplus-jobs", daemon=True)
        self.jobs = (
            Job(
                JobName.escalation,
                lambda now: interval_slot(now, self._interval),
                lambda: escalate_missed_deadlines(engine, clock=clock, stop=self._stop),
            ),
            Job(
                JobName.retention,
                lambda now: interval_slot(now, PURGE_EVERY.total_seconds()),
                self._purge,
            ),
            Job(
                JobName.aed_expiry,
                lambda now: today(clock).isoformat(),  # Amsterdam dates
                lambda: expire_aed_dates(engine, clock=clock, router=router, stop=self._stop),
            ),
        )

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)

    def run_due(self) -> dict[JobName, int]:
        """Run every job whose due moment no process has taken yet; what each run handled."""
        ran: dict[JobName, int] = {}
        for job in self.jobs:
            if self._stop.is_set():
                break
            slot = job.slot(self._clock.now())
            with transaction(self._engine) as session:
                claimed = claim_job_run(
                    session, job=job.name, slot=slot, runner=self.runner, now=self._clock.now()
                )
            if not claimed:
                continue
            done: dict[JobName, int] = {}
            error = run_job(job.name.value, partial(_run_into, job, done))
            handled = done.get(job.name)
            ran.update(done)
            with transaction(self._engine) as session:
                finish_job_run(
                    session,
                    job=job.name,
                    slot=slot,
                    runner=self.runner,
                    now=self._clock.now(),
                    handled=handled,
                    error=error,
                )
        return ran

    def _purge(self) -> int:
        report = purge_personal_content(
            self._engine, retention_days=self._retention_days, clock=self._clock
        )
        with transaction(self._engine) as session:
            prune_job_runs(session, before=self._clock.now() - JOB_RUNS_KEPT)
        return sum(vars(report).values())

    def _run(self) -> None:
        while not self._stop.is_set():
            looked_at = interval_slot(self._clock.now(), self._interval)
            try:
                self.run_due()
            except Exception:  # the database is away: logged, and looked at again next time
                log.exception("periodic jobs failed")
            now = self._clock.now()
            if interval_slot(now, self._interval) != looked_at:
                continue  # a new moment came while the jobs ran: look at it now
            # Every process wakes at the same boundaries, just after a new escalation slot.
            self._stop.wait(self._interval - now.timestamp() % self._interval + 0.05)


for _job in JobName:  # every series from the start, at 0
    JOB_RUNS.labels(_job.value)
    JOB_FAILURES.labels(_job.value)


def _run_into(job: Job, done: dict[JobName, int]) -> None:
    done[job.name] = job.run()


def run_job(name: str, job: Callable[[], object]) -> str | None:
    """Run one periodic job, counted in the metrics; None when it ran, else the kind of error
    (logged; the job is taken again by the next look)."""
    JOB_RUNS.labels(name).inc()
    try:
        job()
    except Exception as exc:
        JOB_FAILURES.labels(name).inc()
        log.exception("periodic job failed", extra={"job": name})
        return type(exc).__name__
    JOB_LAST_SUCCESS.labels(name).set_to_current_time()
    return None


def address_guard(settings: Settings) -> AddressGuard:
    return AddressGuard(parse_allow_list(settings.webhook_allow_networks))


class BackgroundWork:
    """The delivery worker and the periodic jobs, started and stopped together."""

    def __init__(
        self,
        engine: Engine,
        *,
        settings: Settings,
        clock: Clock,
        router: Router | None = None,
        writer: GroupWriter | None = None,
    ) -> None:
        self._shutdown_seconds = settings.shutdown_seconds
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
            writer=writer,
        )
        self.jobs = PeriodicJobs(
            engine,
            clock=clock,
            retention_days=settings.retention_days,
            interval_seconds=settings.job_interval_seconds,
            router=router or load_router(settings.router, settings),
            runner=self.delivery.worker_id,
        )

    def start(self) -> None:
        self.delivery.start()
        self.jobs.start()

    def stop(self) -> None:
        """Stop taking work; let deliveries in flight finish for up to BUURTPLUS_SHUTDOWN_SECONDS
        and give the rest back, so another worker sends them at once (not when the lease ends);
        a job that is running stops between signals (or AEDs) and leaves the rest to the next."""
        self.delivery.request_stop()
        self.jobs.stop()
        self.delivery.stop(grace=self._shutdown_seconds)
