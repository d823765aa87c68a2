"""The outbox, deliveries, escalations and jobs as the operator's metrics show them, after
real deliveries to a loopback receiver."""

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr

from buurtplus.background import escalate_missed_deadlines, run_job
from buurtplus.config import Settings
from buurtplus.core.clock import FrozenClock
from buurtplus.delivery.worker import DeliveryWorker
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from buurtplus.main import create_app
from tests.api.test_metrics import BEARER, METRICS_TOKEN, Samples, samples, value
from tests.delivery.conftest import add_endpoint, report
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Receiver, Reply


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = create_app(
        settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)}), clock=clock
    )
    yield application
    application.state.engine.dispose()


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200
    return samples(response.text)


def test_backlog_outcomes_and_switched_off_endpoints_are_reported(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
    clock: FrozenClock,
) -> None:
    add_endpoint(client, make, partner_person, partner, receiver.url)
    before = scrape(client)
    for _ in range(2):
        assert client.post("/api/v1/signals", json=report(), headers=make.auth(reporter)).is_success
    clock.advance(seconds=30)

    waiting = scrape(client)
    assert value(waiting, "buurtplus_outbox_pending_deliveries", state="due") == 2
    assert value(waiting, "buurtplus_outbox_oldest_due_seconds") == 30

    receiver.responder = lambda _: Reply(500)
    assert worker.deliver_due() == 2
    retrying = scrape(client)
    assert value(retrying, "buurtplus_outbox_pending_deliveries", state="due") == 0
    assert value(retrying, "buurtplus_outbox_pending_deliveries", state="waiting") == 2
    assert value(retrying, "buurtplus_outbox_oldest_due_seconds") == 0

    clock.advance(seconds=10)  # the first retry is due after 5 s
    receiver.responder = lambda _: Reply(410)  # "gone": dead, and the endpoint switched off
    (claim,) = worker.claim(1)
    worker.deliver(claim)
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    attempts = "buurtplus_webhook_attempts_total"
    assert delta(attempts, response="5xx", outcome="retry") == 2
    assert delta(attempts, response="4xx", outcome="dead") == 1
    assert value(after, "buurtplus_webhook_dead_deliveries") == 1
    # The other one was still pending when its endpoint was switched off: kept for later.
    assert value(after, "buurtplus_webhook_held_deliveries") == 1
    assert value(after, "buurtplus_outbox_pending_deliveries", state="due") == 0
    assert value(after, "buurtplus_webhook_endpoints", state="off") == 1
    assert value(after, "buurtplus_webhook_endpoints", state="on") == 0
    assert delta("buurtplus_webhook_endpoints_switched_off_total") == 1
    assert receiver.url not in client.get("/metrics", headers=BEARER).text


def test_escalations_and_job_runs_are_counted(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    clock: FrozenClock,
    app: FastAPI,
) -> None:
    fallback = make.partner("Veilig Thuis")
    make.rule(
        partner,
        name="Eerst het wijkteam",
        priority=10,
        ack_minutes=30,
        fallback_partner_id=fallback.id,
    )
    before = scrape(client)
    signal = client.post("/api/v1/signals", json=report(), headers=make.auth(reporter)).json()
    assert signal["status"] == "routed"
    clock.advance(days=2)  # past every acknowledgement deadline

    assert (
        run_job("escalation", lambda: escalate_missed_deadlines(app.state.engine, clock=clock))
        is None
    )
    assert run_job("retention", lambda: 1 / 0) == "ZeroDivisionError"
    after = scrape(client)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert delta("buurtplus_escalations_total", result="escalated") == 1
    assert delta("buurtplus_escalations_total", result="no_fallback") == 0
    assert delta("buurtplus_job_runs_total", job="escalation") == 1
    assert delta("buurtplus_job_failures_total", job="escalation") == 0
    assert delta("buurtplus_job_runs_total", job="retention") == 1
    assert delta("buurtplus_job_failures_total", job="retention") == 1
    assert value(after, "buurtplus_job_last_success_timestamp_seconds", job="escalation") > 0
