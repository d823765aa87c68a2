"""On a round, participants log what they see, once per client id; who reads it back, and how
its personal content goes."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.background import purge_personal_content
from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.patrols.models import Patrol, PatrolObservation
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory
from tests.fixtures.patrols import NOW_END, PATROLS, PROBLEM, count, seen


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


def test_the_same_observation_in_another_zone_is_a_retry(
    client: TestClient, make: Factory, patrol: Patrol, walker: User
) -> None:
    first = seen(kind="broken_lighting")
    again = {**first, "observed_at": "2026-03-02T09:20:00Z"}  # 10:20+01:00, written in UTC
    url = f"{PATROLS}/{patrol.id}/observations"
    assert client.post(url, json=first, headers=make.auth(walker)).status_code == 201
    retried = client.post(url, json=again, headers=make.auth(walker))
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"


# Made into a social signal below, which only a Plus team reports.
WORRY = seen(
    kind="contact_with_resident", note="Mevrouw op nummer 3 zegt dat ze niemand meer spreekt."
)


@pytest.mark.parametrize("plus_mode", [True], ids=["plus-team"])
def test_an_observation_made_into_a_sensitive_signal_is_for_its_author_only(
    client: TestClient,
    make: Factory,
    patrol: Patrol,
    coordinator: User,
    walker: User,
    buddy: User,
) -> None:
    people = {
        "coordinator": coordinator,
        "walker": walker,
        "buddy": buddy,
        "admin": make.user(UserRole.admin),
    }
    logged = client.post(
        f"{PATROLS}/{patrol.id}/observations", json=WORRY, headers=make.auth(walker)
    ).json()
    promoted = client.post(
        f"{PATROLS}/{patrol.id}/observations/{logged['id']}/signal",
        json={"category": "loneliness"},
        headers=make.auth(walker),
    )
    assert promoted.status_code == 201

    def observation(who: str) -> dict[str, Any]:
        (item,) = client.get(
            f"{PATROLS}/{patrol.id}/observations", headers=make.auth(people[who])
        ).json()["items"]
        return item

    for who in ("coordinator", "buddy"):
        hidden = observation(who)
        assert hidden["withheld"] is True
        assert hidden["note"] is None and hidden["location"] is None
        assert hidden["signal_id"] == promoted.json()["id"]
    own = observation("walker")
    assert own["withheld"] is False and own["note"] == WORRY["note"]
    assert observation("admin")["note"] == WORRY["note"]
    audit = client.get(
        "/api/v1/audit-events",
        params={"object_id": logged["id"], "action": "observation.read"},
        headers=make.auth(people["admin"]),
    ).json()["items"]
    # Each sight of the sensitive note is recorded: its author's and the admin's.
    assert [a["actor_id"] for a in audit] == [str(walker.id), str(people["admin"].id)]


def test_retention_takes_note_and_place_from_old_observations(
    client: TestClient, make: Factory, clock: FrozenClock, patrol: Patrol, walker: User
) -> None:
    client.post(
        f"{PATROLS}/{patrol.id}/observations",
        json=seen(kind="broken_lighting"),
        headers=make.auth(walker),
    )
    clock.advance(days=400)
    purge_personal_content(client.app.state.engine, retention_days=365, clock=clock)  # type: ignore[attr-defined]
    (item,) = client.get(f"{PATROLS}/{patrol.id}/observations", headers=make.auth(walker)).json()[
        "items"
    ]
    assert item["note"] is None and item["location"] is None
    assert item["kind"] == "broken_lighting"
