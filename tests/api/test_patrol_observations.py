"""On a round, participants log what they see, once per client id, and make signals of it."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.patrols.models import Patrol, PatrolObservation
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

PATROLS = "/api/v1/patrols"
PROBLEM = "urn:buurtplus:problem:"

# The frozen clock reads 2026-03-02 09:30 UTC.
NOW_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NOW_END = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def seen(**fields: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "observed_at": "2026-03-02T10:20:00+01:00",
        "location": {"latitude": 52.3601, "longitude": 4.9215},
        "kind": "broken_lighting",
        "note": "Lantaarnpaal bij het speeltuintje brandt niet.",
        **fields,
    }


def count(client: TestClient, table: type) -> int:
    app: Any = client.app
    with Session(app.state.engine) as session:
        return session.exec(select(func.count()).select_from(table)).one()


@pytest.fixture
def team(make: Factory) -> Team:
    return make.team(name="Oosterpark")


@pytest.fixture
def coordinator(make: Factory, team: Team) -> User:
    return make.coordinator(team)


@pytest.fixture
def walker(make: Factory, team: Team) -> User:
    return make.member(team)


@pytest.fixture
def buddy(make: Factory, team: Team) -> User:
    return make.member(team)


@pytest.fixture
def patrol(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User, buddy: User
) -> Patrol:
    """A round walked by two, started at 09:10 UTC; the clock reads 09:30."""
    patrol = make.patrol(
        team,
        coordinator,
        planned_start=NOW_START,
        planned_end=NOW_END,
        participants=(walker, buddy),
    )
    started = client.post(
        f"{PATROLS}/{patrol.id}/start",
        json={"at": "2026-03-02T09:10:00Z"},
        headers=make.auth(walker),
    )
    assert started.status_code == 200
    return patrol


def test_a_participant_logs_an_observation(
    client: TestClient, make: Factory, patrol: Patrol, walker: User
) -> None:
    body = seen()

    response = client.post(
        f"{PATROLS}/{patrol.id}/observations", json=body, headers=make.auth(walker)
    )

    assert response.status_code == 201
    stored = response.json()
    assert stored["patrol_id"] == str(patrol.id)
    assert stored["author_id"] == str(walker.id)
    assert stored["client_id"] == body["client_id"]
    assert stored["observed_at"] == "2026-03-02T09:20:00Z"
    assert stored["location"] == {"latitude": 52.3601, "longitude": 4.9215}
    assert stored["kind"] == "broken_lighting"
    assert stored["signal_id"] is None
    listed = client.get(f"{PATROLS}/{patrol.id}/observations", headers=make.auth(walker)).json()
    assert listed == {"items": [stored], "next_cursor": None}
    read = client.get(f"{PATROLS}/{patrol.id}", headers=make.auth(walker)).json()
    assert read["observation_count"] == 1


def test_an_observation_sent_again_is_stored_once(
    client: TestClient, make: Factory, patrol: Patrol, walker: User, buddy: User
) -> None:
    url = f"{PATROLS}/{patrol.id}/observations"
    body = seen()

    first = client.post(url, json=body, headers=make.auth(walker))
    retry = client.post(url, json=body, headers=make.auth(walker))
    different = client.post(url, json={**body, "note": "Iets anders"}, headers=make.auth(walker))
    someone_else = client.post(url, json=body, headers=make.auth(buddy))

    assert first.status_code == 201
    assert "idempotent-replayed" not in first.headers
    assert retry.status_code == 201
    assert retry.headers["idempotent-replayed"] == "true"
    assert retry.json() == first.json()
    assert different.status_code == 409
    assert different.json()["type"] == PROBLEM + "observation-id-taken"
    assert someone_else.status_code == 409
    assert count(client, PatrolObservation) == 1


def test_without_a_client_id_each_post_is_an_observation(
    client: TestClient, make: Factory, patrol: Patrol, walker: User
) -> None:
    url = f"{PATROLS}/{patrol.id}/observations"
    body = seen(client_id=None)

    assert client.post(url, json=body, headers=make.auth(walker)).status_code == 201
    assert client.post(url, json=body, headers=make.auth(walker)).status_code == 201
    assert count(client, PatrolObservation) == 2


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"observed_at": "2026-03-02T08:30:00Z"}, "body.observed_at"),  # before the start
        ({"observed_at": "2026-03-02T10:30:00Z"}, "body.observed_at"),  # in the future
        ({"kind": "graffiti"}, "body.kind"),
        ({"location": {"latitude": 91, "longitude": 4.9}}, "body.location.latitude"),
        ({"location": None}, "body.location"),
        ({"note": ""}, "body.note"),
    ],
)
def test_a_bad_observation_is_422_and_stores_nothing(
    client: TestClient,
    make: Factory,
    patrol: Patrol,
    walker: User,
    fields: dict[str, Any],
    field: str,
) -> None:
    response = client.post(
        f"{PATROLS}/{patrol.id}/observations", json=seen(**fields), headers=make.auth(walker)
    )

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert count(client, PatrolObservation) == 0


def test_an_observation_after_the_round_finished_is_outside_it(
    client: TestClient, make: Factory, clock: FrozenClock, patrol: Patrol, walker: User
) -> None:
    url = f"{PATROLS}/{patrol.id}"
    late_sync = seen(observed_at="2026-03-02T09:25:00Z")
    after = seen(observed_at="2026-03-02T09:50:00Z")
    client.post(f"{url}/finish", json={"at": "2026-03-02T09:30:00Z"}, headers=make.auth(walker))
    clock.advance(hours=1)

    synced = client.post(f"{url}/observations", json=late_sync, headers=make.auth(walker))
    outside = client.post(f"{url}/observations", json=after, headers=make.auth(walker))

    assert synced.status_code == 201  # a phone that was offline sends it after the round
    assert outside.status_code == 422
    assert outside.json()["type"] == PROBLEM + "observed-outside-patrol"
    assert count(client, PatrolObservation) == 1


def test_observations_need_a_round_under_way_and_a_participant(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    walker: User,
    patrol: Patrol,
) -> None:
    bystander = make.member(team)
    planned = make.patrol(
        team,
        coordinator,
        planned_start=NOW_END,
        planned_end=NOW_END.replace(hour=13),
        participants=(walker,),
    )

    not_started = client.post(
        f"{PATROLS}/{planned.id}/observations", json=seen(), headers=make.auth(walker)
    )
    by_bystander = client.post(
        f"{PATROLS}/{patrol.id}/observations", json=seen(), headers=make.auth(bystander)
    )
    by_coordinator = client.post(
        f"{PATROLS}/{patrol.id}/observations", json=seen(), headers=make.auth(coordinator)
    )
    by_outsider = client.post(
        f"{PATROLS}/{patrol.id}/observations",
        json=seen(),
        headers=make.auth(make.member(make.team())),
    )

    assert not_started.status_code == 409
    assert not_started.json()["type"] == PROBLEM + "patrol-not-walked"
    assert by_bystander.status_code == 403
    assert by_coordinator.status_code == 403
    assert by_outsider.status_code == 404
    assert count(client, PatrolObservation) == 0


def test_who_reads_a_rounds_observations(
    client: TestClient, make: Factory, team: Team, coordinator: User, patrol: Patrol, walker: User
) -> None:
    client.post(f"{PATROLS}/{patrol.id}/observations", json=seen(), headers=make.auth(walker))
    url = f"{PATROLS}/{patrol.id}/observations"

    def items(user: User) -> int | list[str]:
        response = client.get(url, headers=make.auth(user))
        if response.status_code != 200:
            return response.status_code
        return [o["kind"] for o in response.json()["items"]]

    assert items(walker) == ["broken_lighting"]
    assert items(coordinator) == ["broken_lighting"]
    assert items(make.user(UserRole.admin)) == ["broken_lighting"]
    assert items(make.member(team)) == 403
    assert items(make.member(make.team())) == 404
    assert items(make.user(UserRole.partner)) == 404


# --- from observation to signal -----------------------------------------------------------


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
