"""What partners receive is what the contract publishes: every webhook body and every feed item
validates against the document's schemas, holds no key the schema does not name, and the feed
gives the same payloads as the webhooks (with the event's id)."""

import re
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient
from jsonschema_rs import Draft202012Validator

from buurtplus.delivery.worker import DeliveryWorker
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from tests.delivery.conftest import add_endpoint, report
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Receiver

SIGNALS = "/api/v1/signals"


def moments(value: Any) -> Any:
    """The same payload with its times as datetimes (`Z` and `+00:00` are one moment)."""
    if isinstance(value, dict):
        return {key: moments(item) for key, item in value.items()}
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[^ ]+", value):
        return datetime.fromisoformat(value)
    return value


def validator(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    return Draft202012Validator({**schema, "components": document["components"]})


def test_every_event_a_partner_gets_matches_the_published_contract(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    receiver: Receiver,
    worker: DeliveryWorker,
) -> None:
    document: dict[str, Any] = client.get("/openapi.json").json()
    endpoint = add_endpoint(
        client,
        make,
        partner_person,
        partner,
        receiver.url,
        event_types=["signal.routed", "signal.rerouted", "signal.withdrawn", "signal.updated"],
    )
    person = make.auth(partner_person)
    handled, withdrawn, declined = (
        client.post(SIGNALS, json=report(), headers=make.auth(reporter)).json() for _ in range(3)
    )
    client.post(f"{SIGNALS}/{handled['id']}/acknowledge", headers=person)
    client.post(f"{SIGNALS}/{handled['id']}/feedback", json={"message": "Ok."}, headers=person)
    client.post(f"{SIGNALS}/{withdrawn['id']}/withdraw", headers=make.auth(reporter))
    client.post(f"{SIGNALS}/{declined['id']}/reject", json={"reason": "GGD"}, headers=person)
    client.post(f"/api/v1/partners/{partner.id}/endpoints/{endpoint['id']}/test", headers=person)
    while worker.deliver_due():
        pass

    pushed = receiver.wait_for(8)
    types = sorted(r.json["type"] for r in pushed)
    assert types == sorted(
        ["signal.routed"] * 3
        + ["signal.updated"] * 2
        + ["signal.withdrawn", "signal.rerouted", "ping"]
    )
    schemas = document["components"]["schemas"]
    for request in pushed:
        body = request.json
        operation = document["webhooks"][body["type"]]["post"]
        schema = operation["requestBody"]["content"]["application/json"]["schema"]
        errors = list(validator(document, schema).iter_errors(body))
        assert [str(e) for e in errors] == [], body
        data_schema = schemas["PingData" if body["type"] == "ping" else "SignalChange"]
        assert set(body["data"]) <= set(data_schema["properties"]), body
        headers = {p["name"] for p in operation["parameters"] if p["in"] == "header"}
        assert headers <= set(request.headers)

    feed = client.get("/api/v1/partner/events", headers=person)
    assert feed.status_code == 200
    page = feed.json()
    feed_schema = schemas["EventFeedRead"]
    assert [str(e) for e in validator(document, feed_schema).iter_errors(page)] == []
    by_id = {r.webhook_id: moments(r.json) for r in pushed}
    for item in page["items"]:
        # Keys a partner may not see are left out in the feed too, never sent as null.
        assert moments({k: v for k, v in item.items() if k != "id"}) == by_id[item["id"]]
    rerouted = next(i for i in page["items"] if i["type"] == "signal.rerouted")
    assert rerouted["data"]["assigned_to_you"] is False
    assert "description" not in rerouted["data"]
