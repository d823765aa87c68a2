"""Who manages endpoints, who reads the attempt log, and the pull API."""

from typing import Any

from fastapi.testclient import TestClient
from sqlmodel import select

from buurtplus.background import purge_personal_content
from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import transaction
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from buurtplus.outbox.models import WebhookEvent
from tests.delivery.conftest import report
from tests.fixtures.databases import settle_event_feed
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory

EVENTS = "/api/v1/partner/events"


def settled(client: TestClient) -> None:
    """Every event written so far is in the feed (on PostgreSQL a moment after its commit)."""
    app: Any = client.app
    settle_event_feed(app.state.engine)


def client_token(client: TestClient, make: Factory, person: User, partner: Partner) -> str:
    issued = client.post(
        f"/api/v1/partners/{partner.id}/clients",
        json={"name": "Zaaksysteem"},
        headers=make.auth(person),
    ).json()
    response = client.post(
        "/api/v1/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_id": issued["id"],
            "client_secret": issued["client_secret"],
        },
    )
    token: str = response.json()["access_token"]
    return token


def test_endpoints_are_managed_by_the_partners_people_and_the_admin(
    client: TestClient, make: Factory, partner: Partner, partner_person: User
) -> None:
    url = {"url": "https://zaken.example.nl/hook"}
    path = f"/api/v1/partners/{partner.id}/endpoints"
    other = make.partner_user(make.partner())
    volunteer = make.user()
    admin = make.user(UserRole.admin)
    assert client.post(path, json=url, headers=make.auth(other)).status_code == 404
    assert client.post(path, json=url, headers=make.auth(volunteer)).status_code == 404
    assert client.post(path, json=url, headers=make.auth(admin)).status_code == 201
    machine = {"Authorization": f"Bearer {client_token(client, make, partner_person, partner)}"}
    refused = client.post(path, json=url, headers=machine)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"
    # The partner's systems may read the list; other partners may not see it at all.
    assert client.get(path, headers=machine).status_code == 200
    assert client.get(path, headers=make.auth(other)).status_code == 404
    assert (
        client.get("/api/v1/webhook-endpoints", headers=make.auth(partner_person)).status_code
        == 403
    )


def test_bad_endpoint_input_is_refused_and_nothing_is_stored(
    client: TestClient, make: Factory, partner: Partner, partner_person: User
) -> None:
    path = f"/api/v1/partners/{partner.id}/endpoints"
    for body in (
        {"url": "https://zaken.example.nl/hook", "event_types": ["signal.exploded"]},
        {"url": "https://zaken.example.nl/hook", "event_types": []},
        {"url": "https://zaken.example.nl/hook", "secret": "whsec_mine"},
        {"url": "not a url"},
        {},
    ):
        response = client.post(path, json=body, headers=make.auth(partner_person))
        assert response.status_code == 422, body
    assert client.get(path, headers=make.auth(partner_person)).json()["items"] == []


def test_partners_pull_their_events_in_order(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
) -> None:
    ids = [
        client.post("/api/v1/signals", json=report(), headers=make.auth(reporter)).json()["id"]
        for _ in range(3)
    ]
    client.post(f"/api/v1/signals/{ids[0]}/acknowledge", headers=make.auth(partner_person))
    settled(client)
    first = client.get(EVENTS, params={"limit": 2}, headers=make.auth(partner_person)).json()
    assert [e["data"]["signal_id"] for e in first["items"]] == ids[:2]
    assert first["has_more"] is True
    rest = client.get(
        EVENTS, params={"after": first["next_cursor"]}, headers=make.auth(partner_person)
    ).json()
    assert [(e["type"], e["data"]["signal_id"]) for e in rest["items"]] == [
        ("signal.routed", ids[2]),
        ("signal.updated", ids[0]),
    ]
    assert rest["has_more"] is False
    # Nothing new: the same position comes back, to poll with.
    empty = client.get(
        EVENTS, params={"after": rest["next_cursor"]}, headers=make.auth(partner_person)
    ).json()
    assert empty == {"items": [], "next_cursor": rest["next_cursor"], "has_more": False}
    # A system client of the partner reads the same feed; filtered by type here.
    machine = {"Authorization": f"Bearer {client_token(client, make, partner_person, partner)}"}
    updated = client.get(EVENTS, params={"type": "signal.updated"}, headers=machine).json()
    assert [e["data"]["change"] for e in updated["items"]] == ["acknowledge"]


def test_no_one_else_reads_a_partners_events(
    client: TestClient, make: Factory, reporter: User, partner: Partner, partner_person: User
) -> None:
    client.post("/api/v1/signals", json=report(), headers=make.auth(reporter))
    other = make.partner_user(make.partner())
    assert client.get(EVENTS, headers=make.auth(other)).json()["items"] == []
    assert (
        client.get(
            EVENTS, params={"partner_id": str(partner.id)}, headers=make.auth(other)
        ).status_code
        == 403
    )
    assert client.get(EVENTS, headers=make.auth(reporter)).status_code == 403
    admin = make.user(UserRole.admin)
    settled(client)
    on_behalf = client.get(
        EVENTS, params={"partner_id": str(partner.id)}, headers=make.auth(admin)
    ).json()
    assert len(on_behalf["items"]) == 1
    bad = client.get(EVENTS, params={"after": "bm9wZQ"}, headers=make.auth(partner_person))
    assert bad.status_code == 422


def test_retention_removes_old_events_and_personal_content_from_the_rest(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    clock: FrozenClock,
) -> None:
    engine = client.app.state.engine  # type: ignore[attr-defined]
    signal: dict[str, Any] = client.post(
        "/api/v1/signals", json=report(), headers=make.auth(reporter)
    ).json()
    client.post(
        f"/api/v1/signals/{signal['id']}/close",
        json={"outcome": "handled"},
        headers=make.auth(partner_person),
    )
    # Half a year on: the events stay, with their content (the signal is not purged yet).
    clock.advance(days=180)
    purge_personal_content(engine, retention_days=365, clock=clock)
    settled(client)
    kept = client.get(EVENTS, headers=make.auth(partner_person)).json()["items"]
    assert kept[0]["data"]["description"] == report()["description"]
    # Feedback months after closing makes a new event; then the signal is purged.
    client.post(
        f"/api/v1/signals/{signal['id']}/feedback",
        json={"message": "Opgelost met de bewoner."},
        headers=make.auth(partner_person),
    )
    clock.advance(days=200)
    purge_personal_content(engine, retention_days=365, clock=clock)
    with transaction(engine) as session:
        bodies = [e.body for e in session.exec(select(WebhookEvent))]
    assert len(bodies) == 1  # the two older than a year are gone; the feedback event stays
    assert all("deuren open" not in body for body in bodies)
    settled(client)
    (left,) = client.get(EVENTS, headers=make.auth(partner_person)).json()["items"]
    assert left["data"]["change"] == "feedback"
    assert "description" not in left["data"]


def test_a_partner_a_signal_left_keeps_no_personal_content_of_it(
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
) -> None:
    other = make.partner("Gemeente", kind="gemeente")
    make.rule(other, name="Vangnet", priority=-10)
    signal = client.post("/api/v1/signals", json=report(), headers=make.auth(reporter)).json()
    settled(client)
    before = client.get(EVENTS, headers=make.auth(partner_person)).json()["items"]
    assert before[0]["data"]["description"] == report()["description"]

    declined = client.post(
        f"/api/v1/signals/{signal['id']}/reject",
        json={"reason": "Niet voor ons"},
        headers=make.auth(partner_person),
    )
    assert declined.status_code == 200, declined.text
    settled(client)
    events = client.get(EVENTS, headers=make.auth(partner_person)).json()["items"]
    assert [e["type"] for e in events] == ["signal.routed", "signal.rerouted"]
    assert all("description" not in e["data"] for e in events)
    assert events[1]["data"]["assigned_to_you"] is False
    assert "status" not in events[1]["data"]
    newcomer = make.partner_user(other)
    (routed,) = client.get(EVENTS, headers=make.auth(newcomer)).json()["items"]
    assert routed["type"] == "signal.routed"
    assert routed["data"]["description"] == report()["description"]


def test_recovery_is_bounded_and_needs_a_switched_on_endpoint(
    client: TestClient, make: Factory, partner: Partner, partner_person: User
) -> None:
    path = f"/api/v1/partners/{partner.id}/endpoints"
    endpoint = client.post(
        path,
        json={"url": "https://zaken.example.nl/hook", "enabled": False},
        headers=make.auth(partner_person),
    ).json()
    window = {"since": "2026-01-01T00:00:00Z", "until": "2026-01-02T00:00:00Z"}
    off = client.post(
        f"{path}/{endpoint['id']}/recover", json=window, headers=make.auth(partner_person)
    )
    assert off.status_code == 409
    ping = client.post(f"{path}/{endpoint['id']}/test", headers=make.auth(partner_person))
    assert ping.status_code == 409
    url = f"{path}/{endpoint['id']}"
    switched_on = client.patch(
        url, json={"enabled": True}, headers=if_match(client, url, make.auth(partner_person))
    )
    assert switched_on.status_code == 200
    too_long = client.post(
        f"{path}/{endpoint['id']}/recover",
        json={"since": "2026-01-01T00:00:00Z", "until": "2026-03-01T00:00:00Z"},
        headers=make.auth(partner_person),
    )
    assert too_long.status_code == 422
    backwards = client.post(
        f"{path}/{endpoint['id']}/recover",
        json={"since": window["until"], "until": window["since"]},
        headers=make.auth(partner_person),
    )
    assert backwards.status_code == 422
    for url in ("http://[::1/hook", "http://[abc]/hook", "http://" + "a" * 70 + ".nl/hook"):
        response = client.patch(
            f"{path}/{endpoint['id']}",
            json={"url": url},
            headers={**make.auth(partner_person), "If-Match": "*"},
        )
        assert response.status_code == 422, url
