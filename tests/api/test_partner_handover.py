"""When a signal passes from one partner to the next, the next reads nothing of the one before,
and a coordinator's hand keeps to the rules the routers keep to."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

SIGNALS = "/api/v1/signals"
PROBLEM = "urn:buurtplus:problem:"
CASE = "Moeder heeft schulden, kinderen slapen slecht."


@pytest.fixture
def team(make: Factory) -> Team:
    return make.team(plus_mode=True, buurt_codes=["BU0363AA01"])


@pytest.fixture
def veilig_thuis(make: Factory) -> Partner:
    return make.partner("Veilig Thuis", kind="veilig_thuis")


@pytest.fixture
def gemeente(make: Factory) -> Partner:
    return make.partner("Gemeente", kind="gemeente")


@pytest.fixture
def reporter(make: Factory, team: Team) -> User:
    return make.member(team)


@pytest.fixture
def neglect(
    client: TestClient, make: Factory, reporter: User, veilig_thuis: Partner, gemeente: Partner
) -> dict[str, Any]:
    make.rule(veilig_thuis, name="Veilig Thuis", categories=["neglect"], priority=10)
    make.rule(gemeente, name="Vangnet")
    response = client.post(
        SIGNALS,
        json={
            "category": "neglect",
            "description": "Kinderen spelen 's avonds laat nog buiten, geen eten in huis.",
            "buurt_code": "BU0363AA01",
        },
        headers=make.auth(reporter),
    )
    assert response.status_code == 201, response.text
    assert response.json()["partner_id"] == str(veilig_thuis.id)
    return response.json()


def feedback_messages(client: TestClient, url: str, headers: dict[str, str]) -> list[str]:
    response = client.get(f"{url}/feedback", headers=headers)
    assert response.status_code == 200, response.text
    return [item["message"] for item in response.json()["items"]]


def test_the_next_partner_reads_no_feedback_of_the_partner_before_it(
    client: TestClient,
    make: Factory,
    reporter: User,
    neglect: dict[str, Any],
    veilig_thuis: Partner,
    gemeente: Partner,
    clock: FrozenClock,
) -> None:
    url = f"{SIGNALS}/{neglect['id']}"
    first = make.auth(make.partner_user(veilig_thuis))
    assert client.post(f"{url}/acknowledge", headers=first).status_code == 200
    assert client.post(f"{url}/feedback", json={"message": CASE}, headers=first).status_code == 201
    rejected = client.post(
        f"{url}/reject", json={"reason": "Past beter bij de gemeente"}, headers=first
    )
    assert rejected.status_code == 200

    second = make.auth(make.partner_user(gemeente))
    assert client.get(url, headers=second).json()["partner_id"] == str(gemeente.id)
    assert feedback_messages(client, url, second) == []
    history = client.get(f"{url}/history", headers=second).json()["items"]
    assert CASE not in str(history)

    # What the next partner writes is its own; the reporter and the admin read both.
    clock.advance(seconds=60)
    client.post(f"{url}/acknowledge", headers=second)
    reply = "We nemen contact op met de school."
    assert (
        client.post(f"{url}/feedback", json={"message": reply}, headers=second).status_code == 201
    )
    assert feedback_messages(client, url, second) == [reply]
    assert feedback_messages(client, url, make.auth(reporter)) == [CASE, reply]
    admin = make.auth(make.user(UserRole.admin))
    assert feedback_messages(client, url, admin) == [CASE, reply]
    # The decliner reads none of it any more.
    assert client.get(f"{url}/feedback", headers=first).status_code == 404


def test_a_coordinator_cannot_route_a_signal_back_to_a_partner_that_declined_it(
    client: TestClient,
    make: Factory,
    team: Team,
    neglect: dict[str, Any],
    veilig_thuis: Partner,
    gemeente: Partner,
) -> None:
    url = f"{SIGNALS}/{neglect['id']}"
    for partner in (veilig_thuis, gemeente):
        response = client.post(
            f"{url}/reject",
            json={"reason": "Niet van ons"},
            headers=make.auth(make.partner_user(partner)),
        )
        assert response.status_code == 200, response.text
    coordinator = make.auth(make.coordinator(team))
    assert client.get(url, headers=coordinator).json()["status"] == "unroutable"

    back = client.post(
        f"{url}/route", json={"partner_id": str(veilig_thuis.id)}, headers=coordinator
    )

    assert back.status_code == 422
    assert back.json()["type"] == PROBLEM + "partner-declined"
    assert back.json()["errors"][0]["field"] == "body.partner_id"
    assert client.get(url, headers=make.auth(make.partner_user(veilig_thuis))).status_code == 404
    # Another partner that serves the municipality takes it.
    ggd = make.partner("GGD", kind="ggd")
    routed = client.post(f"{url}/route", json={"partner_id": str(ggd.id)}, headers=coordinator)
    assert routed.status_code == 200, routed.text


def test_a_coordinator_cannot_route_to_a_partner_outside_its_service_area(
    client: TestClient, make: Factory, team: Team
) -> None:
    reporter = make.member(team)
    signal = client.post(
        SIGNALS,
        json={
            "category": "loneliness",
            "description": "Buurvrouw ziet niemand.",
            "buurt_code": "BU0363AA01",
        },
        headers=make.auth(reporter),
    ).json()
    assert signal["status"] == "unroutable"
    elsewhere = make.partner("Wijkteam Utrecht", municipalities=["GM0344"])

    response = client.post(
        f"{SIGNALS}/{signal['id']}/route",
        json={"partner_id": str(elsewhere.id)},
        headers=make.auth(make.coordinator(team)),
    )

    assert response.status_code == 422
    assert response.json()["type"] == PROBLEM + "outside-service-area"
