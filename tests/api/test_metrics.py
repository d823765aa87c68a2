"""GET /metrics as an operator's Prometheus sees it: what it counts, and who may read it."""

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from buurtplus.config import Settings
from buurtplus.core.clock import FrozenClock
from buurtplus.main import create_app
from tests.fixtures.factories import Factory

METRICS_TOKEN = "metrics-token-that-is-long-enough-0123456789"
BEARER = {"Authorization": f"Bearer {METRICS_TOKEN}"}
SIGNALS = "/api/v1/signals"

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def samples(text: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(scraped: Samples, name: str, **labels: str) -> float:
    return scraped.get((name, frozenset(labels.items())), 0.0)


@pytest.fixture
def metrics_app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    app = create_app(
        settings.model_copy(
            update={"metrics_token": SecretStr(METRICS_TOKEN), "metrics_networks": ["10.0.0.0/8"]}
        ),
        clock=clock,
    )
    yield app
    app.state.engine.dispose()


@pytest.fixture
def operator(metrics_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(metrics_app) as client:
        yield client


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics", headers=BEARER)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


def report(**fields: Any) -> dict[str, Any]:
    return {
        "category": "suspicious_situation",
        "description": "Twee mannen kijken bij de achterdeuren van Dapperstraat 7 naar binnen.",
        "location": {"latitude": 52.3601, "longitude": 4.9215},
        "postcode": "1091 AB",
        "address": "Dapperstraat 7",
        "buurt_code": "BU0363MA01",
        **fields,
    }


def test_a_scrape_after_real_traffic_counts_requests_by_route_and_signals_by_group(
    operator: TestClient, metrics_app: FastAPI
) -> None:
    make = Factory(metrics_app)
    reporter = make.member(make.team(plus_mode=True), make.user(email="sanne.reporter@example.nl"))
    headers = make.auth(reporter)
    before = scrape(operator)

    first = operator.post(SIGNALS, json=report(), headers=headers)
    operator.post(SIGNALS, json=report(), headers={**headers, "Idempotency-Key": "k1"})
    operator.post(SIGNALS, json=report(), headers={**headers, "Idempotency-Key": "k1"})  # retry
    operator.post(
        SIGNALS,
        json=report(category="loneliness", description="Mevrouw Jansen ziet niemand meer."),
        headers=headers,
    )
    refused = operator.post(SIGNALS, json=report(category="no_such_category"), headers=headers)
    read = operator.get(f"{SIGNALS}/{first.json()['id']}", headers=headers)
    missing = operator.get("/api/v1/no/such/path")
    text = operator.get("/metrics", headers=BEARER).text
    after = samples(text)

    assert first.status_code == 201
    assert refused.status_code == 422
    assert read.status_code == 200
    assert missing.status_code == 404

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    requests = "buurtplus_http_requests_total"
    assert delta(requests, method="POST", route=SIGNALS, status="201") == 4  # with the replay
    assert delta(requests, method="POST", route=SIGNALS, status="422") == 1
    assert delta(requests, method="GET", route=f"{SIGNALS}/{{signal_id}}", status="200") == 1
    assert delta(requests, method="GET", route="unmatched", status="404") == 1
    duration = "buurtplus_http_request_duration_seconds"
    assert delta(f"{duration}_count", method="POST", route=SIGNALS) == 5
    assert delta(f"{duration}_bucket", method="POST", route=SIGNALS, le="+Inf") == 5
    # Stored signals only, once each, by category group; the retry and the refusal not.
    assert delta("buurtplus_signals_reported_total", category_group="safety") == 2
    assert delta("buurtplus_signals_reported_total", category_group="social") == 1
    # Nothing a person could be found by.
    for personal in (
        "sanne",
        "Dapperstraat",
        "Jansen",
        "1091AB",
        "1091 AB",
        '"1091',  # the postcode's digits as a label value (a float sample may hold them)
        first.json()["id"],
        str(reporter.id),
        "testclient",
        METRICS_TOKEN,
    ):
        assert personal not in text, personal


def test_the_process_and_the_outbox_are_reported_too(operator: TestClient) -> None:
    scraped = scrape(operator)

    assert value(scraped, "buurtplus_database_up") == 1
    assert value(scraped, "buurtplus_outbox_pending_deliveries", state="due") == 0
    assert value(scraped, "buurtplus_outbox_oldest_due_seconds") == 0
    assert ("buurtplus_webhook_endpoints", frozenset({("state", "off")})) in scraped
    assert value(scraped, "process_open_fds") > 0
    assert value(scraped, "process_resident_memory_bytes") > 0


def test_metrics_are_refused_without_the_token_or_a_configured_network(
    operator: TestClient, metrics_app: FastAPI
) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer not-the-token"},
        {"Authorization": f"Basic {METRICS_TOKEN}"},
    ):
        refused = operator.get("/metrics", headers=headers)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:buurtplus:problem:forbidden"
        assert "buurtplus_" not in refused.text

    with TestClient(metrics_app, client=("10.20.30.40", 50000)) as inside:
        assert inside.get("/metrics").status_code == 200
    with TestClient(metrics_app, client=("192.0.2.1", 50000)) as outside:
        assert outside.get("/metrics").status_code == 403


def test_without_a_token_or_networks_there_are_no_metrics(client: TestClient) -> None:
    response = client.get("/metrics", headers=BEARER)

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:buurtplus:problem:not-found"


def test_metrics_are_not_part_of_the_api_contract(client: TestClient) -> None:
    assert "/metrics" not in client.get("/openapi.json").json()["paths"]
