"""Checks on rounds: a failed check or an expired date makes the AED not ready and raises one
AED signal, routed to the partner that maintains it (or by the rules)."""

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from buurtplus.background import expire_aed_dates
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.signals.models import Signal
from buurtplus.outbox.models import WebhookEvent
from buurtplus.routing.strategies.rules import RulesRouter
from tests.aeds.conftest import AEDS, World
from tests.fixtures.databases import settle_event_feed
from tests.fixtures.factories import Factory

OK = {"display_ok": True, "cabinet_ok": True, "kit_present": True}


def checks_url(aed_id: object) -> str:
    return f"{AEDS}/{aed_id}/checks"


def all_signals(client: TestClient) -> list[Signal]:
    app: Any = client.app
    with Session(app.state.engine) as session:
        return list(session.exec(select(Signal).order_by(Signal.created_at)))  # type: ignore[arg-type]


@pytest.fixture
def gemeente(make: Factory) -> Any:
    partner = make.partner("Gemeente")
    make.rule(partner, categories=["aed_missing", "aed_defective"])
    return partner


def test_a_check_that_passes(client: TestClient, make: Factory, world: World) -> None:
    response = client.post(
        checks_url(world.public_aed.id),
        headers=make.auth(world.member_a),
        json={**OK, "pads_expiry": "2027-05-31", "note": "Lampje groen."},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["check"]["passed"] is True
    assert body["signal_raised"] is False
    assert body["aed"]["ready"] is True
    assert body["aed"]["pads_expiry"] == "2027-05-31"
    assert body["aed"]["last_checked_at"] == "2026-03-02T09:30:00Z"
    assert all_signals(client) == []


def test_a_failed_check_raises_one_routed_signal(
    client: TestClient, make: Factory, world: World, gemeente: Any
) -> None:
    headers = make.auth(world.member_a)
    first = client.post(
        checks_url(world.public_aed.id), headers=headers, json={**OK, "display_ok": False}
    ).json()
    assert first["signal_raised"] is True
    assert first["aed"]["ready"] is False
    assert first["aed"]["not_ready_reasons"] == ["display_fault"]
    assert first["check"]["problems"] == ["display_fault"]
    signal_id = first["check"]["signal_id"]
    assert first["aed"]["signal_id"] == signal_id

    signal = client.get(f"/api/v1/signals/{signal_id}", headers=headers).json()
    assert signal["category"]["code"] == "aed_defective"
    assert signal["status"] == "routed"
    assert signal["partner_id"] == str(gemeente.id)
    assert "AED niet gebruiksklaar" in signal["description"]
    assert signal["location"] == {"latitude": 52.3601, "longitude": 4.9215}

    # Not ready: out of the default nearby search.
    nearby = client.get(
        f"{AEDS}/nearby", headers=headers, params={"lat": 52.3601, "lon": 4.9215}
    ).json()["items"]
    assert str(world.public_aed.id) not in {i["aed"]["id"] for i in nearby}

    second = client.post(
        checks_url(world.public_aed.id),
        headers=make.auth(world.coordinator_a),
        json={**OK, "kit_present": False},
    ).json()
    assert second["signal_raised"] is False
    assert second["check"]["signal_id"] == signal_id
    assert second["aed"]["not_ready_reasons"] == ["display_fault", "kit_missing"]
    assert len(all_signals(client)) == 1

    # Closed by the partner: the next failure is a new signal.
    partner = make.auth(make.partner_user(gemeente))
    for step, body in (("acknowledge", {}), ("close", {"outcome": "handled"})):
        done = client.post(f"/api/v1/signals/{signal_id}/{step}", headers=partner, json=body)
        assert done.status_code == 200, done.text
    third = client.post(
        checks_url(world.public_aed.id), headers=headers, json={**OK, "cabinet_ok": False}
    ).json()
    assert third["signal_raised"] is True
    assert len(all_signals(client)) == 2

    fixed = client.post(checks_url(world.public_aed.id), headers=headers, json=OK).json()
    assert fixed["aed"]["ready"] is True
    assert fixed["aed"]["not_ready_reasons"] == []


def test_the_maintaining_partner_gets_the_signal(
    client: TestClient, make: Factory, world: World, gemeente: Any
) -> None:
    response = client.post(
        checks_url(world.responders_aed.id),
        headers=make.auth(world.member_a),
        json={**OK, "pads_expiry": "2026-02-28"},
    ).json()
    assert response["check"]["problems"] == ["pads_expired"]
    signal_id = response["check"]["signal_id"]
    partner = make.auth(world.maintainer_user)
    signal = client.get(f"/api/v1/signals/{signal_id}", headers=partner)
    assert signal.status_code == 200
    assert signal.json()["partner_id"] == str(world.maintainer.id)
    app: Any = client.app
    with Session(app.state.engine) as session:
        stored = session.get(Signal, uuid.UUID(signal_id))
        assert stored is not None and stored.fallback_partner_id == gemeente.id
    settle_event_feed(app.state.engine)  # on PostgreSQL, a moment after the commit
    events = client.get("/api/v1/partner/events", headers=partner).json()
    assert [e["type"] for e in events["items"]] == ["signal.routed"]


def test_who_may_check(client: TestClient, make: Factory, world: World, clock: FrozenClock) -> None:
    url = checks_url(world.public_aed.id)
    for who, status in (
        ("member_b", 403),
        ("admin", 403),
        ("maintainer_user", 403),
        ("loner", 403),
    ):
        response = client.post(url, headers=make.auth(getattr(world, who)), json=OK)
        assert response.status_code == status, (who, response.text)
    assert (
        client.post(
            checks_url(world.responders_aed.id), headers=make.auth(world.member_b), json=OK
        ).status_code
        == 404
    )
    # On a round of their own team, a member of another team checks it.
    start = clock.now() + timedelta(hours=1)
    patrol = make.patrol(
        world.team_b,
        world.coordinator_b,
        planned_start=start,
        planned_end=start + timedelta(hours=2),
        participants=(world.member_b,),
    )
    on_round = client.post(
        url, headers=make.auth(world.member_b), json={**OK, "patrol_id": str(patrol.id)}
    )
    assert on_round.status_code == 201, on_round.text
    assert on_round.json()["check"]["patrol_id"] == str(patrol.id)
    not_on_it = client.post(
        url, headers=make.auth(world.member_a), json={**OK, "patrol_id": str(patrol.id)}
    )
    assert not_on_it.status_code == 422


def test_the_list_of_checks_shows_notes_to_whom_it_may(
    client: TestClient, make: Factory, world: World
) -> None:
    url = checks_url(world.public_aed.id)
    for _ in range(3):
        client.post(url, headers=make.auth(world.member_a), json={**OK, "note": "Alles goed."})
    other = make.member(world.team_a)
    first = client.get(url, headers=make.auth(other), params={"limit": 2}).json()
    assert len(first["items"]) == 2
    assert {c["note"] for c in first["items"]} == {None}
    rest = client.get(
        url, headers=make.auth(other), params={"limit": 2, "cursor": first["next_cursor"]}
    ).json()
    assert len(rest["items"]) == 1
    coordinator = client.get(url, headers=make.auth(world.coordinator_a)).json()
    assert {c["note"] for c in coordinator["items"]} == {"Alles goed."}


def test_the_daily_job_catches_dates_that_expire_unchecked(
    client: TestClient, make: Factory, world: World, clock: FrozenClock, gemeente: Any
) -> None:
    app: Any = client.app
    expiring = make.aed(latitude=52.3580, longitude=4.9150, battery_expiry=date(2026, 3, 10))
    router = RulesRouter()
    assert expire_aed_dates(app.state.engine, clock=clock, router=router) == 0
    clock.advance(days=9)
    assert expire_aed_dates(app.state.engine, clock=clock, router=router) == 1
    assert expire_aed_dates(app.state.engine, clock=clock, router=router) == 0
    read = client.get(f"{AEDS}/{expiring.id}", headers=make.auth(world.admin)).json()
    assert read["ready"] is False
    assert read["not_ready_reasons"] == ["battery_expired"]
    signals = all_signals(client)
    assert len(signals) == 1
    assert signals[0].reporter_id == world.coordinator_a.id
    assert signals[0].partner_id == gemeente.id
    with Session(app.state.engine) as session:
        routed = session.exec(select(WebhookEvent)).all()
    assert [e.type for e in routed] == ["signal.routed"]
