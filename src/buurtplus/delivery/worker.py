"""The delivery worker: claim due deliveries, send them signed, record every attempt.

Several workers may run against PostgreSQL (claims use FOR UPDATE SKIP LOCKED); a claim is a
lease, so the deliveries of a worker that died are taken over when its lease ends. A worker that
is stopped gives its unfinished claims back, so they are taken over at once. On SQLite one
process delivers (the in-process worker of `buurtplus serve`, or one `buurtplus worker`).
"""

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Protocol, TypeVar

from sqlalchemy import Connection, Engine, bindparam, func, insert, or_, select, update
from sqlmodel import Session

from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import UTCDateTime, transaction
from buurtplus.core.ids import time_ordered_id
from buurtplus.core.metrics import WEBHOOK_ATTEMPTS, WEBHOOK_ENDPOINTS_SWITCHED_OFF, count_on_commit
from buurtplus.core.writer import GroupWriter
from buurtplus.delivery.schedule import RETRY_SCHEDULE, judge
from buurtplus.delivery.sender import AttemptResult, WebhookSender
from buurtplus.delivery.signing import webhook_headers
from buurtplus.outbox import wakeup
from buurtplus.outbox.events import NOTIFY_CHANNEL, announce
from buurtplus.outbox.models import (
    Delivery,
    DeliveryAttempt,
    DeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
)

log = logging.getLogger("buurtplus.delivery")
T = TypeVar("T")

# Deliveries a sender thread claims at once: sent together, recorded in one transaction. A
# backlog drains in a fraction of the transactions; a slow receiver delays only the recording
# of the few claimed with it (its own attempt has its own deadline).
CLAIM_BATCH = 8


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


class _Secrets(Protocol):
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


def secrets_in_force(endpoint: _Secrets, now: datetime) -> list[str]:
    """The current secret, and the previous one while its grace period lasts."""
    in_force = [endpoint.secret]
    if (
        endpoint.previous_secret
        and endpoint.previous_secret_expires_at
        and endpoint.previous_secret_expires_at > now
    ):
        in_force.append(endpoint.previous_secret)
    return in_force


_D = Delivery.__table__  # type: ignore[attr-defined]
_EP = WebhookEndpoint.__table__  # type: ignore[attr-defined]
_EV = WebhookEvent.__table__  # type: ignore[attr-defined]
# Plain statements, built once: a delivery is claimed and recorded without the ORM, which
# cost more than the rest of a delivery (the worker shares the process with the API).
_DUE = (
    select(
        _D.c.id,
        _D.c.endpoint_id,
        _EV.c.id.label("message_id"),
        _EV.c.body,
        _EP.c.url,
        _EP.c.secret,
        _EP.c.previous_secret,
        _EP.c.previous_secret_expires_at,
    )
    .select_from(_D.join(_EP, _EP.c.id == _D.c.endpoint_id).join(_EV, _EV.c.seq == _D.c.event_seq))
    .where(
        _D.c.status == DeliveryStatus.pending,
        _D.c.next_attempt_at <= bindparam("now"),
        or_(_D.c.lease_until.is_(None), _D.c.lease_until < bindparam("now")),
        _EP.c.enabled.is_(True),
    )
    .order_by(_D.c.next_attempt_at, _D.c.event_seq)
    .limit(bindparam("limit"))
)
_DUE_LOCKED = _DUE.with_for_update(skip_locked=True, of=_D)
_LEASE = (
    update(_D)
    .where(_D.c.id == bindparam("claimed"))
    .values(leased_by=bindparam("lease"), lease_until=bindparam("until"))
)
_INSERT_ATTEMPT = insert(DeliveryAttempt.__table__)  # type: ignore[attr-defined]
# The deliveries an attempt batch holds, in the order their rows are locked on PostgreSQL
# (endpoint, delivery: the same in every worker, and before the batch writes anything, so two
# workers recording the same delivery never wait on each other in a cycle).
_HELD = (
    select(_D.c.id, _D.c.leased_by, _D.c.status, _D.c.attempt_count)
    .where(_D.c.id.in_(bindparam("deliveries", expanding=True)))
    .order_by(_D.c.endpoint_id, _D.c.id)
)
_HELD_LOCKED = _HELD.with_for_update()
# Read without a row lock, after the deliveries are locked: an endpoint row is written only when
# its state turns (first failure, first success after failures), by a conditional update.
# Locking it on every attempt made workers deadlock on PostgreSQL when their batches met the same
# endpoints in another order.
_FAILING_SINCE = select(_EP.c.id, _EP.c.failing_since).where(
    _EP.c.id.in_(bindparam("endpoints", expanding=True))
)
# Every attempt ends its lease and sets the judged state: one statement for every outcome.
_RECORD = (
    update(_D)
    .where(_D.c.id == bindparam("delivery"))
    .values(
        status=bindparam("status"),
        # A redelivery of a message delivered before keeps that time unless it succeeds.
        delivered_at=func.coalesce(
            bindparam("delivered_at", type_=UTCDateTime()), _D.c.delivered_at
        ),
        next_attempt_at=bindparam("next_attempt_at"),
        attempt_count=bindparam("attempt_count"),
        last_status_code=bindparam("last_status_code"),
        last_error=bindparam("last_error"),
        leased_by=None,
        lease_until=None,
    )
)


def claim_due_deliveries(
    connection: Connection, *, worker_id: str, now: datetime, lease: timedelta, limit: int
) -> list[Claim]:
    # Plain statements on the connection: the ORM is not needed.
    postgres = connection.dialect.name == "postgresql"
    rows = connection.execute(_DUE_LOCKED if postgres else _DUE, {"now": now, "limit": limit}).all()
    claims = [
        Claim(
            delivery_id=row.id,
            lease=f"{worker_id}/{uuid.uuid4().hex[:8]}",
            endpoint_id=row.endpoint_id,
            message_id=str(row.message_id),
            url=row.url,
            body=row.body,
            secrets=secrets_in_force(row, now),
        )
        for row in rows
    ]
    if claims:
        connection.execute(
            _LEASE,
            [{"claimed": c.delivery_id, "lease": c.lease, "until": now + lease} for c in claims],
        )
    return claims


def record_attempts(
    session: Session,
    attempts: list[tuple[Claim, AttemptResult]],
    *,
    worker_id: str,
    now: datetime,
    disable_after: timedelta,
    schedule: tuple[timedelta, ...] = RETRY_SCHEDULE,
    jitter: Callable[[], float] | None = None,
    clock: Clock,
) -> list[str]:
    """Store the attempts and judge their deliveries: what became of each, in the order given
    (delivered, retry, dead, or superseded: another worker had taken it over). A few
    statements for the whole batch, on the session's connection: recording through the ORM,
    four statements an attempt, cost the writer more than storing the report that caused it."""
    if not attempts:
        return []
    connection = session.connection()
    postgres = connection.dialect.name == "postgresql"
    # Locked first: an attempt's insert takes a share lock on its delivery, and taken before the
    # row lock it let two workers that both held the same delivery wait on each other.
    held = {
        row.id: row
        for row in connection.execute(
            _HELD_LOCKED if postgres else _HELD,
            {"deliveries": [claim.delivery_id for claim, _ in attempts]},
        )
    }
    # Each endpoint's failing-since mark as this batch leaves it, attempt by attempt. Read in a
    # statement of its own, after the lock: a statement that waited for a row lock still sees
    # the endpoint as it was when it began (a success meanwhile would go unseen).
    failing: dict[uuid.UUID, datetime | None] = {
        row.id: row.failing_since
        for row in connection.execute(
            _FAILING_SINCE, {"endpoints": list({claim.endpoint_id for claim, _ in attempts})}
        )
    }
    # A delivery whose row is gone (its endpoint deleted meanwhile) has no log to add to; the
    # others are recorded all the same.
    logged = [(claim, result) for claim, result in attempts if claim.delivery_id in held]
    if logged:
        connection.execute(
            _INSERT_ATTEMPT,
            [
                {
                    "id": time_ordered_id(),
                    "delivery_id": claim.delivery_id,
                    "attempted_at": now,
                    "duration_ms": result.duration_ms,
                    "status_code": result.status_code,
                    "response_excerpt": result.response_excerpt,
                    "error": result.error,
                    "worker": worker_id,
                }
                for claim, result in logged
            ],
        )
    changes: list[dict[str, object]] = []
    outcomes: list[str] = []
    for claim, result in attempts:
        row = held.get(claim.delivery_id)
        if row is None or row.leased_by != claim.lease or row.status != DeliveryStatus.pending:
            # Our lease ran out and another worker has it now (or the delivery is gone): its
            # outcome is not ours to record.
            outcomes.append("superseded")
            continue
        failing_since = failing.get(claim.endpoint_id)
        attempts_made = row.attempt_count + 1
        verdict = judge(result, attempts_made=attempts_made, schedule=schedule, jitter=jitter)
        # A held delivery is pending: a retry keeps it so (and keeps when it was delivered before).
        status, delivered_at, next_attempt_at = DeliveryStatus.pending, None, None
        if verdict.succeeded:
            status, delivered_at, outcome = DeliveryStatus.succeeded, now, "delivered"
            if failing_since is not None:
                failing_since = None
                _mark_failing(connection, claim.endpoint_id, since=None)
        else:
            if failing_since is None:
                failing_since = now
                _mark_failing(connection, claim.endpoint_id, since=now)
            reason = None
            if verdict.disable_endpoint:
                reason = "The endpoint answered 410 Gone."
            elif now - failing_since >= disable_after:
                reason = f"Every delivery failed since {failing_since:%Y-%m-%d %H:%M} UTC."
            if reason is not None:
                disable_endpoint(session, claim.endpoint_id, reason=reason, clock=clock)
            if verdict.retry_in is None or verdict.disable_endpoint:
                status, outcome = DeliveryStatus.dead, "dead"
            else:
                next_attempt_at, outcome = now + verdict.retry_in, "retry"
        failing[claim.endpoint_id] = failing_since
        changes.append(
            {
                "delivery": claim.delivery_id,
                "status": status,
                "delivered_at": delivered_at,
                "next_attempt_at": next_attempt_at,
                "attempt_count": attempts_made,
                "last_status_code": result.status_code,
                "last_error": result.error,
            }
        )
        outcomes.append(outcome)
    if changes:
        connection.execute(_RECORD, changes)
    session.flush()
    return outcomes


def _mark_failing(
    connection: Connection, endpoint_id: uuid.UUID, *, since: datetime | None
) -> None:
    """Turn the endpoint's state: failing since `since`, or (None) answering again. Conditional,
    so of two workers seeing the same turn only one raises the endpoint's version."""
    turning = _EP.c.failing_since.is_not(None) if since is None else _EP.c.failing_since.is_(None)
    connection.execute(
        update(_EP)
        .where(_EP.c.id == endpoint_id, turning)
        .values(failing_since=since, version=_EP.c.version + 1)
    )


def give_back_claims(session: Session, claims: list[Claim]) -> int:
    """End the leases of claims this worker will not finish: the deliveries are due again at
    once for any worker (woken now), with the same webhook-id; how many were given back."""
    given_back = 0
    for claim in claims:
        delivery = session.get(Delivery, claim.delivery_id, with_for_update=True)
        if (
            delivery is None
            or delivery.leased_by != claim.lease
            or delivery.status != DeliveryStatus.pending
        ):
            continue  # finished after all, or already someone else's
        delivery.leased_by = None
        delivery.lease_until = None
        session.add(delivery)
        given_back += 1
    session.flush()
    if given_back:
        announce(session)
    return given_back


def disable_endpoint(
    session: Session, endpoint_id: uuid.UUID, *, reason: str, clock: Clock
) -> None:
    """Switch the endpoint off, unless it is off already. A conditional update, like the
    failing-since mark: no row lock, and a partner who changes the endpoint at the same time
    finds its version raised (412) instead of switching it back on unseen."""
    partner_id = session.execute(
        update(_EP)
        .where(_EP.c.id == endpoint_id, _EP.c.enabled.is_(True))
        .values(
            enabled=False,
            disabled_reason=reason,
            disabled_at=clock.now(),
            version=_EP.c.version + 1,
        )
        .returning(_EP.c.partner_id)
    ).scalar_one_or_none()
    if partner_id is None:
        return
    count_on_commit(session, WEBHOOK_ENDPOINTS_SWITCHED_OFF)
    audit(
        session,
        None,
        AuditAction.webhook_endpoint_disabled,
        endpoint_id,
        clock=clock,
        partner_id=str(partner_id),
        reason=reason,
    )
    log.warning(
        "webhook endpoint disabled",
        extra={"endpoint_id": str(endpoint_id), "partner_id": str(partner_id)},
    )


def response_class(status_code: int | None) -> str:
    """2xx, 3xx, 4xx or 5xx; `none` when no answer came (refused, timed out, unreachable)."""
    if status_code is None or not 100 <= status_code <= 599:
        return "none"
    return f"{status_code // 100}xx"


def default_worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class DeliveryWorker:
    """Sender threads that each claim a few due deliveries at a time (CLAIM_BATCH) and send
    them at once, so one slow endpoint holds up one thread's few, not the rest. Woken when a
    delivery is queued in this process or (on PostgreSQL) announced by NOTIFY; otherwise they
    look every `poll_seconds` for retries."""

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
        writer: GroupWriter | None = None,
    ) -> None:
        self._engine = engine
        self._writer = writer
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
        # Claimed and not yet recorded, by delivery id: what a stop gives back.
        self._in_flight: dict[uuid.UUID, Claim] = {}
        self._in_flight_lock = threading.Lock()

    # --- one step at a time (tests, `buurtplus worker --once`) ---

    def _in_transaction(self, work: Callable[[Session], T]) -> T:
        """Run `work` in a write transaction: through the process's group-committing writer when
        there is one (inside `buurtplus serve`: on SQLite the worker then never waits in the
        database's busy handler for the write turn), else in a transaction of its own."""
        if self._writer is None:
            with transaction(self._engine) as session:
                return work(session)

        def job(connection: Connection) -> T:
            # Commit ends the session's savepoint only; the writer commits the group.
            with Session(
                bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
            ) as session:
                result = work(session)
                session.commit()
                return result

        return self._writer.run(job)

    def claim(self, limit: int) -> list[Claim]:
        claim = partial(self._claim, limit=limit)
        if self._writer is None:
            with transaction(self._engine) as session:
                return claim(session.connection())
        # On the writer's connection, without a session of its own: a claim is a job of every
        # sending thread after every stored report (a session and its savepoint cost as much
        # as the claim's two statements).
        return self._writer.run(claim)

    def _claim(self, connection: Connection, *, limit: int) -> list[Claim]:
        return claim_due_deliveries(
            connection,
            worker_id=self.worker_id,
            now=self._clock.now(),
            lease=self._lease,
            limit=limit,
        )

    def deliver(self, claim: Claim) -> AttemptResult:
        return self.deliver_all([claim])[0]

    def deliver_all(self, claims: list[Claim]) -> list[AttemptResult]:
        """Send the claimed deliveries at once, then record every attempt in one transaction."""
        now = self._clock.now()
        requests = []
        for claim in claims:
            body = claim.body.encode()
            headers = webhook_headers(
                claim.secrets,
                message_id=claim.message_id,
                timestamp=int(now.timestamp()),
                body=body,
            )
            requests.append((claim.url, headers, body))
        results = self._sender.send_many(requests)

        # Rows are locked in one order (endpoint, delivery) in every worker: no lock cycles.
        attempts = sorted(
            zip(claims, results, strict=True),
            key=lambda attempt: (attempt[0].endpoint_id, attempt[0].delivery_id),
        )

        def record(session: Session) -> list[str]:
            return record_attempts(
                session,
                attempts,
                worker_id=self.worker_id,
                now=self._clock.now(),
                disable_after=self._disable_after,
                schedule=self._schedule,
                jitter=self._jitter,
                clock=self._clock,
            )

        outcomes = self._in_transaction(record)
        for (_, result), outcome in zip(attempts, outcomes, strict=True):
            WEBHOOK_ATTEMPTS.labels(response_class(result.status_code), outcome).inc()
        return results

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

    def stop(self, grace: float = 10.0) -> int:
        """Stop claiming, give the deliveries in flight up to `grace` seconds to finish, then
        give back the ones that did not; how many were given back. Sender threads still
        waiting for a receiver are left behind (daemons): their late outcome is not recorded
        against a delivery they no longer hold."""
        self.request_stop()
        wakeup.unsubscribe(self._wake)
        deadline = time.monotonic() + grace
        for thread in self._threads:
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
        self._threads.clear()
        with self._in_flight_lock:
            unfinished = list(self._in_flight.values())
        if not unfinished:
            return 0
        given_back = self._in_transaction(partial(give_back_claims, claims=unfinished))
        log.info(
            "delivery worker stopped; unfinished deliveries given back",
            extra={"worker_id": self.worker_id, "deliveries": given_back},
        )
        return given_back

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
        try:
            self._claim_and_deliver()
        finally:
            self._sender.close()  # this thread's connections

    def _claim_and_deliver(self) -> None:
        looked = False
        while not self._stop.is_set():
            claims: list[Claim] = []
            try:
                claims = self.claim(CLAIM_BATCH)
            except Exception:  # the database or a bug: log, breathe, go on
                log.exception("claiming deliveries failed")
                self._stop.wait(self._poll)
            if not looked:  # ready once it has looked, not once a slow receiver answered
                looked = True
                self._count_ready()
            if claims:
                self._deliver_held(claims)
            else:
                self._sender.close_stale()  # nothing to send now
                self._wake.wait(self._poll)
                self._rearm()

    def _deliver_held(self, claims: list[Claim]) -> None:
        """Deliver claims, known as in flight meanwhile (what a stop gives back)."""
        with self._in_flight_lock:
            self._in_flight.update((claim.delivery_id, claim) for claim in claims)
        try:
            self.deliver_all(claims)
        except Exception:  # recording failed: the leases run out and the deliveries are retried
            log.exception("delivery failed", extra={"deliveries": len(claims)})
            self._stop.wait(self._poll)
        finally:
            with self._in_flight_lock:
                for claim in claims:
                    self._in_flight.pop(claim.delivery_id, None)

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
