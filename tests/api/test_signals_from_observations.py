"""A participant makes a signal of an observation: prefilled from it, through the ordinary
intake, once, and linked both ways."""

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.domain.patrols.models import Patrol
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory
from tests.fixtures.patrols import NOW_END, NOW_START, PATROLS, PROBLEM, count, seen


def log(client: TestClient, make: Factory, patrol: Patrol, user: User, **fields: Any) -> str:
    response = client.post(
        f"{PATROLS}/{patrol.id}/observations", json=seen(**fields), headers=make.auth(user)
    )
    assert response.status_code == 201
    observation_id: str = response.json()["id"]
    return observation_id


def test_an_observation_becomes_a_prefilled_signal_linked_both_ways(
    client: TestClient, make: Factory, patrol: Patrol, walker: User
) -> None:
    observation_id = log(client, make, patrol, walker)
    url = f"{PATROLS}/{patrol.id}/observations/{observation_id}/signal"

    response = client.post(url, headers=make.auth(walker))

    assert response.status_code == 201
    signal = response.json()
    assert response.headers["location"] == f"/api/v1/signals/{signal['id']}"
    assert signal["category"]["code"] == "public_space"
    assert signal["description"] == (
        "Kapotte verlichting: Lantaarnpaal bij het speeltuintje brandt niet."
    )
    assert signal["location"] == {"latitude": 52.3601, "longitude": 4.9215}
    assert signal["observed_at"] == "2026-03-02T09:20:00Z"
    assert signal["reporter_id"] == str(walker.id)
    assert signal["team_id"] == str(patrol.team_id)
    assert signal["patrol_id"] == str(patrol.id)
    assert signal["observation_id"] == observation_id
    assert signal["status"] == "unroutable"  # through the ordinary intake: no rules here
    assert signal["advice"]["nl"]
    fetched = client.get(f"/api/v1/signals/{signal['id']}", headers=make.auth(walker)).json()
    assert fetched["observation_id"] == observation_id
    observations = client.get(
        f"{PATROLS}/{patrol.id}/observations", headers=make.auth(walker)
    ).json()["items"]
    assert observations[0]["signal_id"] == signal["id"]


def test_the_volunteer_overrides_the_prefilled_signal(
    client: TestClient, make: Factory, patrol: Patrol, walker: User
) -> None:
    observation_id = log(client, make, patrol, walker, kind="aed_seen", note="Kastje open")
    url = f"{PATROLS}/{patrol.id}/observations/{observation_id}/signal"

    response = client.post(
        url,
        json={
            "category": "aed_defective",
            "description": "AED-kast staat open, de pads ontbreken.",
            "urgency": "high",
            "postcode": "1091 ab",
            "buurt_code": "BU0363AA01",
        },
        headers=make.auth(walker),
    )

    assert response.status_code == 201
    signal = response.json()
    assert signal["category"]["code"] == "aed_defective"
    assert signal["description"] == "AED-kast staat open, de pads ontbreken."
    assert signal["urgency"] == "high"
    assert signal["postcode"] == "1091AB"
    assert signal["buurt_code"] == "BU0363AA01"
    assert signal["location"] == {"latitude": 52.3601, "longitude": 4.9215}


@pytest.mark.parametrize(
    ("kind", "body", "status", "problem"),
    [
        ("aed_seen", None, 422, "category-required"),
        ("contact_with_resident", None, 422, "category-required"),
        ("other", None, 422, "category-required"),
        ("contact_with_resident", {"category": "loneliness"}, 422, "plus-mode-required"),
        ("broken_lighting", {"category": "no_such_thing"}, 422, "unknown-category"),
        ("broken_lighting", {"buurt_code": "BU0599AA01"}, 422, "buurt-outside-team-municipality"),
    ],
)
def test_a_signal_that_cannot_be_made_is_refused_and_nothing_is_stored(
    client: TestClient,
    make: Factory,
    patrol: Patrol,
    walker: User,
    kind: str,
    body: dict[str, Any] | None,
    status: int,
    problem: str,
) -> None:
    observation_id = log(client, make, patrol, walker, kind=kind)
    url = f"{PATROLS}/{patrol.id}/observations/{observation_id}/signal"

    response = client.post(url, json=body, headers=make.auth(walker))

    assert response.status_code == status
    assert response.json()["type"] == PROBLEM + problem
    assert count(client, Signal) == 0


def test_a_social_observation_becomes_a_signal_in_a_plus_team(
    client: TestClient, make: Factory
) -> None:
    plus = make.team(plus_mode=True)
    coordinator, walker = make.coordinator(plus), make.member(plus)
    patrol = make.patrol(
        plus, coordinator, planned_start=NOW_START, planned_end=NOW_END, participants=(walker,)
    )
    client.post(f"{PATROLS}/{patrol.id}/start", headers=make.auth(walker))
    observation_id = log(
        client, make, patrol, walker, kind="contact_with_resident", observed_at=None
    )

    response = client.post(
        f"{PATROLS}/{patrol.id}/observations/{observation_id}/signal",
        json={"category": "loneliness"},
        headers=make.auth(walker),
    )

    assert response.status_code == 201
    assert response.json()["category"]["sensitivity"] == "sensitive"
    # The coordinator sees the sensitive signal only in outline, linked to the round.
    limited = client.get(
        f"/api/v1/signals/{response.json()['id']}", headers=make.auth(coordinator)
    ).json()
    assert limited["detail_level"] == "limited"
    assert limited["description"] is None
    assert limited["patrol_id"] == str(patrol.id)


def test_an_observation_becomes_one_signal(
    client: TestClient, make: Factory, patrol: Patrol, walker: User, buddy: User
) -> None:
    observation_id = log(client, make, patrol, walker)
    url = f"{PATROLS}/{patrol.id}/observations/{observation_id}/signal"

    first = client.post(url, headers=make.auth(walker))
    retry = client.post(url, headers=make.auth(walker))
    by_buddy = client.post(url, headers=make.auth(buddy))

    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json()["id"] == first.json()["id"]
    assert by_buddy.status_code == 409
    assert by_buddy.json()["type"] == PROBLEM + "already-promoted"
    assert count(client, Signal) == 1


def test_who_makes_a_signal_of_an_observation(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    patrol: Patrol,
    walker: User,
    buddy: User,
) -> None:
    def promote(user: User) -> int:
        observation_id = log(client, make, patrol, walker)
        url = f"{PATROLS}/{patrol.id}/observations/{observation_id}/signal"
        return client.post(url, headers=make.auth(user)).status_code

    assert promote(walker) == 201
    assert promote(buddy) == 201
    assert promote(coordinator) == 201
    assert promote(make.user(UserRole.admin)) == 403  # an admin reports no signals
    assert promote(make.member(team)) == 403
    assert promote(make.member(make.team())) == 404
    assert promote(make.user(UserRole.partner)) == 404
    assert count(client, Signal) == 3


def test_an_unknown_or_misplaced_observation_is_404(
    client: TestClient, make: Factory, team: Team, coordinator: User, patrol: Patrol, walker: User
) -> None:
    other = make.patrol(
        team, coordinator, planned_start=NOW_START, planned_end=NOW_END, participants=(walker,)
    )
    observation_id = log(client, make, patrol, walker)

    unknown = client.post(
        f"{PATROLS}/{patrol.id}/observations/{uuid.uuid4()}/signal", headers=make.auth(walker)
    )
    misplaced = client.post(
        f"{PATROLS}/{other.id}/observations/{observation_id}/signal", headers=make.auth(walker)
    )

    assert unknown.status_code == 404
    assert misplaced.status_code == 404
    assert misplaced.json()["type"] == PROBLEM + "observation-not-found"
