"""Nothing is lost: a receiver that fails at random, a worker killed mid-delivery, workers
racing for the same deliveries, and the in-process worker woken by a new delivery."""

import random
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from buurtplus.config import Settings
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import transaction
from buurtplus.delivery.worker import DeliveryWorker
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from buurtplus.main import create_app
from buurtplus.outbox.models import Delivery, DeliveryAttempt, WebhookEvent
from tests.conftest import make_settings
from tests.delivery.conftest import LOOPBACK, add_endpoint, report
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Received, Receiver, Reply
from tests.fixtures.server import cli_env


def deliveries(app: FastAPI) -> list[Delivery]:
    with transaction(app.state.engine) as session:
        return list(session.exec(select(Delivery)))


def test_a_flaky_receiver_gets_every_event_in_the_end(
    client: TestClient,
    app: FastAPI,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FrozenClock,
) -> None:
    add_endpoint(client, make, partner_person, partner, receiver.url)
    chance = random.Random(20261128)
    accepted: set[str] = set()
    lock = threading.Lock()

    def flaky(request: Received) -> Reply:
        if len(receiver.received) <= 40:
            reply = chance.choice(
                [Reply(500), Reply(502), Reply(429), Reply(200, delay=3), Reply(200)]
            )
        else:
            reply = Reply(200)  # recovered
        if reply.status == 200 and not reply.delay:
            with lock:
                accepted.add(request.webhook_id)
        return reply

    receiver.responder = flaky
    for _ in range(20):
        client.post("/api/v1/signals", json=report(), headers=make.auth(reporter))

    for _ in range(12):
        worker.deliver_due()
        clock.advance(hours=11)
    with transaction(app.state.engine) as session:
        event_ids = {str(e.id) for e in session.exec(select(WebhookEvent))}
    assert len(event_ids) == 20
    assert accepted == event_ids
    assert {d.status for d in deliveries(app)} == {"succeeded"}
    assert len(receiver.received) > 20  # it did fail on the way


def test_deliveries_raced_for_by_two_workers_go_out_once_each(
    client: TestClient,
    app: FastAPI,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    add_endpoint(client, make, partner_person, partner, receiver.url)
    for _ in range(20):
        client.post("/api/v1/signals", json=report(), headers=make.auth(reporter))
    other = DeliveryWorker(
        app.state.engine,
        sender=worker._sender,
        clock=app.state.clock,
        lease=worker._lease,
        disable_after=worker._disable_after,
    )
    claimed: list[list[Any]] = []
    start = threading.Barrier(2)

    def claim(w: DeliveryWorker) -> None:
        start.wait()
        claimed.append([c.delivery_id for c in w.claim(15)])

    threads = [threading.Thread(target=claim, args=(w,)) for w in (worker, other)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    first, second = claimed
    assert not set(first) & set(second)
    assert len(first) + len(second) == 20


def wait_until(condition: Any, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def wait_for_output(process: subprocess.Popen[str], text: str, timeout: float = 30.0) -> None:
    """Read the process's output until a line holds `text`; fail at the deadline."""
    assert process.stdout is not None
    stdout = process.stdout
    found = threading.Event()

    def read() -> None:
        # Read on to the end: a full pipe would stop the process.
        for line in stdout:
            if text in line:
                found.set()

    threading.Thread(target=read, daemon=True).start()
    if not found.wait(timeout):
        raise AssertionError(f"no {text!r} in the output within {timeout} s")


@pytest.fixture
def worker_process(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    started: list[subprocess.Popen[str]] = []
    env = {
        "BUURTPLUS_DATABASE_URL": settings.database_url,
        "BUURTPLUS_WEBHOOK_ALLOW_NETWORKS": ",".join(LOOPBACK),
        "BUURTPLUS_WEBHOOK_TIMEOUT_SECONDS": "2",
        "BUURTPLUS_WEBHOOK_LEASE_SECONDS": "4",
        "BUURTPLUS_WEBHOOK_POLL_SECONDS": "0.2",
        "BUURTPLUS_LOG_JSON": "false",
    }

    def start(**overrides: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "-m", "buurtplus", "worker"],
            env=cli_env({**env, **overrides}),
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)


def test_a_worker_killed_mid_delivery_is_taken_over_with_the_same_webhook_id(
    client: TestClient,
    app: FastAPI,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker_process: Any,
) -> None:
    add_endpoint(client, make, partner_person, partner, receiver.url)
    # The first request hangs: the worker is killed while it waits for the answer.
    receiver.responder = lambda r: (
        Reply(200, delay=60) if len(receiver.received) == 1 else Reply(200)
    )
    client.post("/api/v1/signals", json=report(), headers=make.auth(reporter))

    first = worker_process()
    receiver.wait_for(1)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    (pending,) = deliveries(app)
    assert pending.status == "pending" and pending.leased_by is not None

    second = worker_process()
    hung, retried = receiver.wait_for(2)
    assert hung.webhook_id == retried.webhook_id
    assert hung.body == retried.body

    def succeeded() -> bool:
        return deliveries(app)[0].status == "succeeded"

    wait_until(succeeded)
    with transaction(app.state.engine) as session:
        attempts = list(
            session.exec(select(DeliveryAttempt).order_by(col(DeliveryAttempt.attempted_at)))
        )
    # The killed worker never wrote its attempt; the one that took over did.
    assert [a.status_code for a in attempts] == [200]
    second.send_signal(signal.SIGTERM)
    assert second.wait(timeout=30) == 0


def test_the_worker_inside_serve_is_woken_by_a_new_delivery(
    clean_database: str,
    clock: FrozenClock,
    make: Factory,
    receiver: Receiver,
) -> None:
    # Polling only once a minute: what arrives within seconds was woken, not found by polling.
    settings = make_settings(
        clean_database,
        worker="inline",
        webhook_allow_networks=LOOPBACK,
        webhook_poll_seconds=60,
        job_interval_seconds=600,
    )
    app = create_app(settings, clock=clock)
    factory = Factory(app)
    team = factory.team(plus_mode=True, buurt_codes=["BU0363AA01"])
    reporter = factory.member(team)
    partner = factory.partner("Wijkteam")
    factory.rule(partner)
    person = factory.partner_user(partner)
    with TestClient(app) as client:
        add_endpoint(client, factory, person, partner, receiver.url)
        # Every sender thread has had its first look: only a wake-up brings it back early.
        assert app.state.background_work.delivery.wait_ready(timeout=30)
        client.post("/api/v1/signals", json=report(), headers=factory.auth(reporter))
        (received,) = receiver.wait_for(1, timeout=30)
        assert received.json["type"] == "signal.routed"
    app.state.engine.dispose()


def test_a_separate_worker_on_postgresql_is_woken_by_notify(
    client: TestClient,
    app: FastAPI,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker_process: Any,
) -> None:
    if app.state.engine.dialect.name != "postgresql":
        pytest.skip("LISTEN/NOTIFY is PostgreSQL's; on SQLite one in-process worker delivers")
    add_endpoint(client, make, partner_person, partner, receiver.url)
    process = worker_process(BUURTPLUS_WEBHOOK_POLL_SECONDS="60")
    # Past every thread's first look and listening: from now on it polls only once a minute.
    wait_for_output(process, "delivery worker ready")
    client.post("/api/v1/signals", json=report(), headers=make.auth(reporter))
    (received,) = receiver.wait_for(1, timeout=30)
    assert received.json["type"] == "signal.routed"
