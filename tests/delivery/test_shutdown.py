"""Clean shutdown with real processes: on SIGTERM a server finishes the requests in flight, and
a worker (separate or inside the server) gives back the deliveries it holds, so the next worker
sends them at once instead of after the lease runs out."""

import json
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import col, select

from buurtplus.config import Settings
from buurtplus.core.db import transaction
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.users.models import User
from buurtplus.outbox.models import Delivery
from tests.conftest import TEST_SECRET
from tests.delivery.conftest import LOOPBACK, add_endpoint, report
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Receiver, Reply
from tests.fixtures.server import Running, start_server, start_worker

# Long enough that a delivery taken over within it was given back, not found after expiry.
LEASE_SECONDS = 60


@pytest.fixture
def process_env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    return {
        "BUURTPLUS_DATABASE_URL": settings.database_url,
        "BUURTPLUS_JWT_SECRET": TEST_SECRET,
        "BUURTPLUS_WEBHOOK_ALLOW_NETWORKS": ",".join(LOOPBACK),
        "BUURTPLUS_WEBHOOK_TIMEOUT_SECONDS": "30",
        "BUURTPLUS_WEBHOOK_LEASE_SECONDS": str(LEASE_SECONDS),
        "BUURTPLUS_WEBHOOK_POLL_SECONDS": "0.5",
        "BUURTPLUS_SHUTDOWN_SECONDS": "3",
        "BUURTPLUS_LOG_JSON": "false",
        "BUURTPLUS_LOG_LEVEL": "INFO",
    }


@pytest.fixture
def processes() -> Iterator[list[Running]]:
    started: list[Running] = []
    yield started
    for process in started:
        process.stop()


def deliveries(app: FastAPI) -> list[Delivery]:
    with transaction(app.state.engine) as session:
        return list(session.exec(select(Delivery).order_by(col(Delivery.created_at))))


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting")
        time.sleep(0.1)


def hanging_receiver(receiver: Receiver) -> threading.Event:
    """The receiver holds every request open while the returned flag is set."""
    hang = threading.Event()
    hang.set()
    receiver.responder = lambda _: Reply(200, delay=600) if hang.is_set() else Reply(200)
    return hang


def test_a_stopped_worker_gives_back_its_delivery_and_the_next_worker_sends_it_at_once(
    client: TestClient,
    app: FastAPI,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    process_env: dict[str, str],
    processes: list[Running],
) -> None:
    add_endpoint(client, make, partner_person, partner, receiver.url)
    hang = hanging_receiver(receiver)
    client.post("/api/v1/signals", json=report(), headers=make.auth(reporter))

    first = start_worker(process_env)
    processes.append(first)
    (held,) = receiver.wait_for(1)
    # On PostgreSQL the next worker is already waiting, polling only once a minute: what
    # wakes it is the stopping worker's announcement. On SQLite one worker runs at a time.
    postgres = app.state.engine.dialect.name == "postgresql"
    if postgres:
        second = start_worker({**process_env, "BUURTPLUS_WEBHOOK_POLL_SECONDS": "60"})
        processes.append(second)

    hang.clear()
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=30) == 0, first.output
    assert "unfinished deliveries given back" in first.output

    if not postgres:
        (pending,) = deliveries(app)
        assert pending.status == "pending"
        assert pending.leased_by is None and pending.lease_until is None
        processes.append(start_worker(process_env))

    _, again = receiver.wait_for(2)
    assert again.webhook_id == held.webhook_id and again.body == held.body
    assert again.at - held.at < LEASE_SECONDS  # given back, not taken over after expiry
    wait_until(lambda: deliveries(app)[0].status == "succeeded")
    assert len(receiver.received) == 2


def send_slowly(base: str, path: str, headers: dict[str, str], body: bytes) -> socket.socket:
    """Open a request and send all but the last bytes of its body: it is in flight."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    sock.sendall(
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\n{head}Content-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body[:-5]
    )
    return sock


def read_response(sock: socket.socket) -> tuple[int, dict[str, object]]:
    data = b""
    sock.settimeout(30)
    while chunk := sock.recv(65536):
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


def refuses_connections(base: str) -> bool:
    """A new request is refused, or dropped unanswered (it came as the listener closed: the
    connection is closed without an answer, or reset)."""
    try:
        httpx.get(f"{base}/healthz", timeout=1)
    except (httpx.ConnectError, httpx.RemoteProtocolError, httpx.ReadError):
        return True
    return False


def test_a_stopped_server_finishes_the_request_in_flight_and_gives_back_its_deliveries(
    client: TestClient,
    app: FastAPI,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    process_env: dict[str, str],
    processes: list[Running],
) -> None:
    add_endpoint(client, make, partner_person, partner, receiver.url)
    hang = hanging_receiver(receiver)
    server, base = start_server({**process_env, "BUURTPLUS_WORKER": "inline"})
    processes.append(server)
    auth = make.auth(reporter)
    # A first report: its delivery is under way in the server's own worker, held by the receiver.
    first = httpx.post(f"{base}/api/v1/signals", json=report(), headers=auth, timeout=30)
    assert first.status_code == 201
    receiver.wait_for(1)

    # A second report is half sent when the server is told to stop.
    body = json.dumps(report(description="Een tweede melding, halverwege verstuurd.")).encode()
    sock = send_slowly(base, "/api/v1/signals", auth, body)
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    time.sleep(0.3)  # the server has read the request's head
    server.send_signal(signal.SIGTERM)
    for _ in range(100):
        if refuses_connections(base):
            break
        time.sleep(0.05)
    assert refuses_connections(base), "the stopping server still takes new connections"
    sock.sendall(body[-5:])
    status, answer = read_response(sock)
    sock.close()
    assert status == 201, answer
    # uvicorn ends by raising the SIGTERM again once it has shut down cleanly.
    assert server.wait(timeout=30) in (0, -signal.SIGTERM), server.output
    assert "unfinished deliveries given back" in server.output

    with transaction(app.state.engine) as session:
        stored = session.get(Signal, uuid.UUID(str(answer["id"])))
        assert stored is not None and stored.description == answer["description"]
    # Nothing left leased by the stopped server: both deliveries are due for the next worker.
    left = deliveries(app)
    assert len(left) == 2
    assert all(d.status == "pending" and d.lease_until is None for d in left)

    hang.clear()
    before = len(receiver.received)
    processes.append(start_worker(process_env))
    arrived = receiver.wait_for(before + 2)
    signal_ids = {item.json["data"]["signal_id"] for item in arrived}
    assert signal_ids == {first.json()["id"], answer["id"]}
    held_id = arrived[0].webhook_id
    assert sum(item.webhook_id == held_id for item in arrived) >= 2  # the same id again
