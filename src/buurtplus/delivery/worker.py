"""The delivery worker: claim due deliveries, send them signed, record every attempt.

Several workers may run against PostgreSQL (claims use FOR UPDATE SKIP LOCKED); a claim is a
lease, so the deliveries of a worker that died are taken over when its lease ends. On SQLite
one process delivers (the in-process worker of `buurtplus serve`, or one `buurtplus worker`).
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Engine, or_
from sqlmodel import Session, col, select

from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import transaction
from buurtplus.core.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_ENDPOINTS_SWITCHED_OFF, count_on_commit
from buurtplus.delivery.schedule import RETRY_SCHEDULE, judge
from buurtplus.delivery.sender import AttemptResult, WebhookSender
from buurtplus.delivery.signing import webhook_headers
from buurtplus.outbox import wakeup
from buurtplus.outbox.events import NOTIFY_CHANNEL
from buurtplus.outbox.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)

log = logging.getLogger("buurtplus.delivery")


@dataclass(frozen=True)
class Claim:
    delivery_id: uuid.UUID
    # Who holds it: the worker and this one claim, so a sender whose lease ran out can tell
    # that another (even a thread of the same worker) has it now.
    lease: str
    endpoint_id: uuid.UUID
    message_id: str
    url: str
    body: str
    secrets: list[str]


def secrets_in_force(endpoint: WebhookEndpoint, now: datetime) -> list[str]:
    """The current secret, and the previous one while its grace period lasts."""
    in_force = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        in_force.append(endpoint.previous_secret)
    return in_force


def claim_due_deliveries(
    session: Session, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[Claim]:
    query = (
        select(Delivery, WebhookEndpoint, WebhookEvent)
        .join(WebhookEndpoint, col(WebhookEndpoint.id) == Delivery.endpoint_id)
        .join(WebhookEvent, col(WebhookEvent.seq) == Delivery.event_seq)
        .where(
            Delivery.status == DeliveryStatus.pending,
            col(Delivery.next_attempt_at) <= now,
            or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
            col(WebhookEndpoint.enabled),
        )
        .order_by(col(Delivery.next_attempt_at), col(Delivery.event_seq))
        .limit(limit)
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Delivery)
    claims = []
    for delivery, endpoint, event in session.exec(query):
        delivery.leased_by = f"{worker_id}/{uuid.uuid4().hex[:8]}"
        delivery.lease_until = now + lease
        session.add(delivery)
        claims.append(
            Claim(
                delivery_id=delivery.id,
                lease=delivery.leased_by,
                endpoint_id=endpoint.id,
                message_id=str(event.id),
                url=endpoint.url,
                body=event.body,
                secrets=secrets_in_force(endpoint, now),
            )
        )
    session.flush()
    return claims


def record_attempt(
    session: Session,
    claim: Claim,
    result: AttemptResult,
    *,
    worker_id: str,
    now: datetime,
    disable_after: timedelta,
    schedule: tuple[timedelta, ...] = RETRY_SCHEDULE,
    jitter: Callable[[], float] | None = None,
    clock: Clock,
) -> str:
    """Store the attempt and judge the delivery; what became of it: delivered, retry, dead, or
    superseded (another worker had taken it over)."""
    session.add(
        DeliveryAttempt(
            delivery_id=claim.delivery_id,
            attempted_at=now,
            duration_ms=result.duration_ms,
            status_code=result.status_code,
            response_excerpt=result.response_excerpt,
            error=result.error,
            worker=worker_id,
        )
    )
    delivery = session.get(Delivery, claim.delivery_id, with_for_update=True)
    if (
        delivery is None
        or delivery.leased_by != claim.lease
        or delivery.status != DeliveryStatus.pending
    ):
        # Our lease ran out and another worker has it now: its outcome is the one that counts.
        session.flush()
        return "superseded"
    delivery.attempt_count += 1
    delivery.leased_by = None
    delivery.lease_until = None
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    verdict = judge(result, attempts_made=delivery.attempt_count, schedule=schedule, jitter=jitter)
    endpoint = session.get(WebhookEndpoint, claim.endpoint_id, with_for_update=True)
    assert endpoint is not None
    if verdict.succeeded:
        delivery.status = DeliveryStatus.succeeded
        delivery.delivered_at = now
        delivery.next_attempt_at = None
        endpoint.failing_since = None
        outcome = "delivered"
    else:
        endpoint.failing_since = endpoint.failing_since or now
        if verdict.disable_endpoint:
            disable_endpoint(
                session, endpoint, reason="The endpoint answered 410 Gone.", clock=clock
            )
        elif now - endpoint.failing_since >= disable_after:
            disable_endpoint(
                session,
                endpoint,
                reason=f"Every delivery failed since {endpoint.failing_since:%Y-%m-%d %H:%M} UTC.",
                clock=clock,
            )
        if verdict.retry_in is None or verdict.disable_endpoint:
            delivery.status = DeliveryStatus.dead
            delivery.next_attempt_at = None
            outcome = "dead"
        else:
            delivery.next_attempt_at = now + verdict.retry_in
            outcome = "retry"
    session.add(delivery)
    session.add(endpoint)
    session.flush()
    return outcome


def disable_endpoint(
    session: Session, endpoint: WebhookEndpoint, *, reason: str, clock: Clock
) -> None:
    if not endpoint.enabled:
        return
    endpoint.enabled = False
    endpoint.disabled_reason = reason
    endpoint.disabled_at = clock.now()
    session.add(endpoint)
    count_on_commit(session, WEBHOOK_ENDPOINTS_SWITCHED_OFF)
    audit(
        session,
        None,
        AuditAction.webhook_endpoint_disabled,
        endpoint.id,
        clock=clock,
        partner_id=str(endpoint.partner_id),
        reason=reason,
    )
    log.warning(
        "webhook endpoint disabled",
        extra={"endpoint_id": str(endpoint.id), "partner_id": str(endpoint.partner_id)},
    )


def response_class(status_code: int | None) -> str:
    """2xx, 3xx, 4xx or 5xx; `none` when no answer came (refused, timed out, unreachable)."""
    if status_code is None or not 100 <= status_code <= 599:
        return "none"
    return f"{status_code // 100}xx"


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DeliveryWorker:
    """Sender threads that each claim one due delivery at a time, so one slow endpoint holds
    up one thread, not the rest. Woken when a delivery is queued in this process or (on
    PostgreSQL) announced by NOTIFY; otherwise they look every `poll_seconds` for retries."""

    def __init__(
        self,
        engine: Engine,
        *,
        sender: WebhookSender,
        clock: Clock,
        lease: timedelta,
        disable_after: timedelta,
        concurrency: int = 4,
        poll_seconds: float = 2.0,
        worker_id: str | None = None,
        schedule: tuple[timedelta, ...] = RETRY_SCHEDULE,
        jitter: Callable[[], float] | None = None,
    ) -> None:
        self._engine = engine
        self._sender = sender
        self._clock = clock
        self._lease = lease
        self._disable_after = disable_after
        self._concurrency = concurrency
        self._poll = poll_seconds
        self.worker_id = worker_id or default_worker_id()
        self._schedule = schedule
        self._jitter = jitter
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []
        self._ready = threading.Event()
        self._ready_lock = threading.Lock()
        self._not_yet_ready = 0

    # --- one step at a time (tests, `buurtplus worker --once`) ---

    def claim(self, limit: int) -> list[Claim]:
        with transaction(self._engine) as session:
            return claim_due_deliveries(
                session,
                worker_id=self.worker_id,
                now=self._clock.now(),
                lease=self._lease,
                limit=limit,
            )

    def deliver(self, claim: Claim) -> AttemptResult:
        now = self._clock.now()
        body = claim.body.encode()
        headers = webhook_headers(
            claim.secrets, message_id=claim.message_id, timestamp=int(now.timestamp()), body=body
        )
        result = self._sender.send(claim.url, headers=headers, body=body)
        with transaction(self._engine) as session:
            outcome = record_attempt(
                session,
                claim,
                result,
                worker_id=self.worker_id,
                now=self._clock.now(),
                disable_after=self._disable_after,
                schedule=self._schedule,
                jitter=self._jitter,
                clock=self._clock,
            )
        WEBHOOK_ATTEMPTS.labels(response_class(result.status_code), outcome).inc()
        return result

    def deliver_due(self, limit: int = 100) -> int:
        """Send every delivery that is due now, one after another; how many were sent."""
        claims = self.claim(limit)
        for claim in claims:
            self.deliver(claim)
        return len(claims)

    # --- running in the background ---

    def start(self) -> None:
        listens = self._engine.dialect.name == "postgresql"
        self._not_yet_ready = self._concurrency + (1 if listens else 0)
        wakeup.subscribe(self._wake)
        for n in range(self._concurrency):
            thread = threading.Thread(target=self._run, name=f"buurtplus-delivery-{n}", daemon=True)
            thread.start()
            self._threads.append(thread)
        if listens:
            listener = threading.Thread(target=self._listen, name="buurtplus-listen", daemon=True)
            listener.start()
            self._threads.append(listener)

    def stop(self, timeout: float = 35.0) -> None:
        self._stop.set()
        self._wake.set()
        wakeup.unsubscribe(self._wake)
        for thread in self._threads:
            thread.join(timeout=timeout)
        self._threads.clear()

    def request_stop(self) -> None:
        """Ask the threads to finish their current delivery and stop (from a signal handler)."""
        self._stop.set()
        self._wake.set()

    def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until every sender thread has looked for due deliveries once and (on PostgreSQL)
        the listener hears NOTIFY; from then on a new delivery is found by a wake-up or a poll."""
        return self._ready.wait(timeout)

    def _count_ready(self) -> None:
        with self._ready_lock:
            self._not_yet_ready -= 1
            if self._not_yet_ready == 0:
                self._ready.set()
                log.info("delivery worker ready", extra={"worker_id": self.worker_id})

    def wait(self) -> None:
        """Block until asked to stop (the `buurtplus worker` command)."""
        while not self._stop.wait(1.0):
            pass

    def _run(self) -> None:
        looked = False
        while not self._stop.is_set():
            try:
                claims = self.claim(1)
                for claim in claims:
                    self.deliver(claim)
            except Exception:  # the database or a bug: log, breathe, go on
                log.exception("delivery round failed")
                claims = []
                self._stop.wait(self._poll)
            if not looked:
                looked = True
                self._count_ready()
            if not claims:
                self._wake.wait(self._poll)
                self._rearm()

    def _rearm(self) -> None:
        """Clear the wake-up for the next wait, unless stopping: a stop that came between the
        check and the clear sets it again, so no thread sleeps a whole poll on the way out."""
        if not self._stop.is_set():
            self._wake.clear()
            if self._stop.is_set():
                self._wake.set()

    def _listen(self) -> None:
        """LISTEN for deliveries queued by other processes (PostgreSQL only)."""
        import psycopg

        conninfo = self._engine.url.set(drivername="postgresql").render_as_string(
            hide_password=False
        )
        listened = False
        while not self._stop.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
                    if not listened:
                        listened = True
                        self._count_ready()
                    while not self._stop.is_set():
                        for _ in connection.notifies(timeout=1.0, stop_after=1):
                            self._wake.set()
            except Exception:
                log.exception("listening for deliveries failed; polling meanwhile")
                self._stop.wait(self._poll)
