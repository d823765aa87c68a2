"""Several deliveries claimed, sent and recorded together (a sender thread's batch), as the
partner sees them afterwards in the attempt log and on the endpoint."""

import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text, update
from sqlmodel import col

from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import transaction
from buurtplus.core.metrics import WEBHOOK_ATTEMPTS
from buurtplus.delivery.worker import DeliveryWorker
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from buurtplus.outbox.models import Delivery, WebhookEndpoint
from tests.delivery.conftest import add_endpoint, report
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Received, Receiver, Reply


def reported(client: TestClient, make: Factory, reporter: User, count: int) -> list[str]:
    ids = []
    for _ in range(count):
        response = client.post("/api/v1/signals", json=report(), headers=make.auth(reporter))
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def deliveries(
    client: TestClient, make: Factory, person: User, partner: Partner
) -> dict[str, dict[str, Any]]:
    """The partner's attempt log, by delivery id."""
    response = client.get(
        f"/api/v1/partners/{partner.id}/deliveries?limit=100", headers=make.auth(person)
    )
    assert response.status_code == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


def endpoint_of(
    client: TestClient, make: Factory, person: User, partner: Partner, endpoint: dict[str, Any]
) -> dict[str, Any]:
    response = client.get(
        f"/api/v1/partners/{partner.id}/endpoints/{endpoint['id']}", headers=make.auth(person)
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def mark_failing(engine: Engine, endpoint: dict[str, Any], *, since: datetime | None) -> None:
    """The endpoint's failing-since mark, as earlier attempts (or another worker) left it."""
    with transaction(engine) as session:
        session.execute(
            update(WebhookEndpoint)
            .where(col(WebhookEndpoint.id) == uuid.UUID(endpoint["id"]))
            .values(failing_since=since)
        )


def signal_of(request: Received) -> str:
    return str(request.json["data"]["signal_id"])


def superseded_so_far() -> float:
    """Attempts counted as superseded in the process's metrics, whatever the answer."""
    return sum(
        sample.value
        for metric in WEBHOOK_ATTEMPTS.collect()
        for sample in metric.samples
        if sample.name.endswith("_total") and "superseded" in sample.labels.values()
    )


def test_one_endpoint_failing_and_answering_in_one_batch(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FrozenClock,
) -> None:
    endpoint = add_endpoint(client, make, partner_person, partner, receiver.url)
    signals = reported(client, make, reporter, 4)
    failing = {signals[1], signals[3]}
    receiver.responder = lambda request: Reply(500) if signal_of(request) in failing else Reply()
    claims = worker.claim(8)
    assert len(claims) == 4
    worker.deliver_all(claims)

    log = deliveries(client, make, partner_person, partner)
    assert sorted(item["status"] for item in log.values()) == [
        "pending",
        "pending",
        "succeeded",
        "succeeded",
    ]
    assert all(item["attempt_count"] == 1 and len(item["attempts"]) == 1 for item in log.values())
    # Recorded in (endpoint, delivery) order: the endpoint is failing when the last one failed.
    last = max(claims, key=lambda claim: claim.delivery_id)
    last_failed = log[str(last.delivery_id)]["status"] == "pending"
    failing_since = endpoint_of(client, make, partner_person, partner, endpoint)["failing_since"]
    assert (failing_since is not None) == last_failed


def test_a_delivery_another_worker_took_over_is_left_to_it(
    client: TestClient,
    app: Any,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    add_endpoint(client, make, partner_person, partner, receiver.url)
    reported(client, make, reporter, 3)
    claims = worker.claim(8)
    taken = claims[1].delivery_id
    with transaction(app.state.engine) as session:  # its lease ran out; another worker has it
        session.execute(
            update(Delivery).where(col(Delivery.id) == taken).values(leased_by="other/1")
        )
    before = superseded_so_far()
    worker.deliver_all(claims)

    log = deliveries(client, make, partner_person, partner)
    assert superseded_so_far() == before + 1
    # Its attempt is in the log; its state is the other worker's to set.
    assert log[str(taken)]["status"] == "pending"
    assert log[str(taken)]["attempt_count"] == 0
    assert len(log[str(taken)]["attempts"]) == 1
    others = [item for key, item in log.items() if key != str(taken)]
    assert [item["status"] for item in others] == ["succeeded", "succeeded"]


def test_gone_and_days_of_failure_in_one_batch_switch_the_endpoint_off_once(
    client: TestClient,
    app: Any,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FrozenClock,
) -> None:
    endpoint = add_endpoint(client, make, partner_person, partner, receiver.url)
    mark_failing(app.state.engine, endpoint, since=clock.now() - timedelta(days=6))
    signals = reported(client, make, reporter, 3)
    receiver.responder = lambda request: Reply(410 if signal_of(request) == signals[1] else 500)
    worker.deliver_all(worker.claim(8))

    log = deliveries(client, make, partner_person, partner)
    assert sorted(item["last_status_code"] for item in log.values()) == [410, 500, 500]
    # Only the delivery the endpoint answered 410 Gone to is given up.
    dead = [item for item in log.values() if item["status"] == "dead"]
    assert [item["last_status_code"] for item in dead] == [410]
    switched_off = endpoint_of(client, make, partner_person, partner, endpoint)
    assert switched_off["enabled"] is False
    audit = client.get(
        "/api/v1/audit-events",
        params={"action": "webhook_endpoint.disabled"},
        headers=make.auth(make.user(UserRole.admin)),
    )
    assert audit.status_code == 200, audit.text
    assert [event["object_id"] for event in audit.json()["items"]] == [endpoint["id"]]


def test_a_delivery_whose_endpoint_was_deleted_meanwhile_does_not_lose_the_others(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    kept = add_endpoint(client, make, partner_person, partner, receiver.url)
    dropped = add_endpoint(client, make, partner_person, partner, receiver.url + "?second")
    reported(client, make, reporter, 1)  # one delivery to each endpoint
    claims = worker.claim(8)
    assert len(claims) == 2
    deleted = client.delete(
        f"/api/v1/partners/{partner.id}/endpoints/{dropped['id']}",
        headers=make.auth(partner_person),
    )
    assert deleted.status_code == 204, deleted.text
    worker.deliver_all(claims)

    (delivery,) = deliveries(client, make, partner_person, partner).values()
    assert delivery["endpoint_id"] == kept["id"]
    assert delivery["status"] == "succeeded"


def test_a_success_meanwhile_is_seen_before_an_endpoint_is_switched_off(
    client: TestClient,
    app: Any,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FrozenClock,
) -> None:
    """The recorder waits for a delivery's row lock; meanwhile another worker's success clears
    the endpoint's days-old failing mark. The failure recorded after the wait must not switch
    the endpoint off on the mark as it was before the wait."""
    engine = app.state.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("row locks and concurrent workers are PostgreSQL's; SQLite has one writer")
    endpoint = add_endpoint(client, make, partner_person, partner, receiver.url)
    mark_failing(engine, endpoint, since=clock.now() - timedelta(days=6))
    reported(client, make, reporter, 2)
    receiver.responder = lambda _: Reply(500)
    claims = worker.claim(8)
    first = min(claim.delivery_id for claim in claims)

    with engine.connect() as partner_retry:
        # A partner's retry of the first delivery holds its row until it commits.
        partner_retry.execute(
            update(Delivery)
            .where(col(Delivery.id) == first)
            .values(attempt_count=0, leased_by=None, lease_until=None)
        )
        recording = threading.Thread(target=worker.deliver_all, args=(claims,))
        recording.start()
        deadline = time.monotonic() + 30
        with engine.connect() as watcher:
            waiting = "select count(*) from pg_stat_activity where wait_event_type = 'Lock'"
            while not watcher.execute(text(waiting)).scalar_one():
                assert time.monotonic() < deadline, "the recorder never waited for the row"
                watcher.rollback()
                time.sleep(0.02)
        # Another worker's success on the endpoint, committed.
        mark_failing(engine, endpoint, since=None)
        partner_retry.commit()
    recording.join(30)

    seen = endpoint_of(client, make, partner_person, partner, endpoint)
    assert seen["enabled"] is True
    assert seen["disabled_reason"] is None
    # The second delivery's failure starts a new failing spell.
    assert seen["failing_since"] is not None
