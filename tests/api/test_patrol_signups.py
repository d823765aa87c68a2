"""Members sign up for rounds in pairs and off again; a coordinator signs up team members."""

import uuid
from datetime import timedelta

from fastapi.testclient import TestClient

from buurtplus.domain.patrols.models import PatrolParticipant
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory
from tests.fixtures.patrols import NOW_END, NOW_START, PATROLS, PROBLEM, count, plan


def test_members_sign_themselves_up_and_off_and_the_flag_follows(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    walker: User,
    buddy: User,
) -> None:
    patrol_id = client.post(PATROLS, json=plan(team), headers=make.auth(coordinator)).json()["id"]
    url = f"{PATROLS}/{patrol_id}/participants"

    first = client.post(url, headers=make.auth(walker))
    second = client.post(url, json={}, headers=make.auth(buddy))

    assert first.status_code == 201
    assert first.json()["understaffed"] is True
    assert [p["user_id"] for p in first.json()["participants"]] == [str(walker.id)]
    assert first.json()["participants"][0]["full_name"] == walker.full_name
    assert first.json()["allowed_transitions"] == ["start", "cancel"]
    assert second.status_code == 201
    assert second.json()["understaffed"] is False
    listed = client.get(PATROLS, headers=make.auth(walker)).json()["items"]
    assert [(p["id"], p["understaffed"]) for p in listed] == [(patrol_id, False)]

    again = client.post(url, headers=make.auth(walker))
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM + "already-signed-up"

    off = client.delete(f"{url}/{walker.id}", headers=make.auth(walker))
    assert off.status_code == 204
    after = client.get(f"{PATROLS}/{patrol_id}", headers=make.auth(walker)).json()
    assert after["understaffed"] is True
    assert [p["user_id"] for p in after["participants"]] == [str(buddy.id)]
    assert after["allowed_transitions"] == []


def test_a_coordinator_signs_up_a_member_but_a_member_signs_up_only_themselves(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    walker: User,
    buddy: User,
    outsider: User,
) -> None:
    patrol_id = client.post(PATROLS, json=plan(team), headers=make.auth(coordinator)).json()["id"]
    url = f"{PATROLS}/{patrol_id}/participants"

    by_coordinator = client.post(
        url, json={"user_id": str(walker.id)}, headers=make.auth(coordinator)
    )
    by_member = client.post(url, json={"user_id": str(buddy.id)}, headers=make.auth(walker))
    not_in_team = client.post(
        url, json={"user_id": str(outsider.id)}, headers=make.auth(coordinator)
    )

    assert by_coordinator.status_code == 201
    assert by_member.status_code == 403
    assert not_in_team.status_code == 422
    assert not_in_team.json()["errors"][0]["field"] == "body.user_id"
    assert count(client, PatrolParticipant) == 1


def test_signing_up_for_another_teams_patrol_answers_as_for_no_patrol_and_stores_nothing(
    client: TestClient, make: Factory, team: Team, coordinator: User, outsider: User
) -> None:
    patrol_id = client.post(PATROLS, json=plan(team), headers=make.auth(coordinator)).json()["id"]

    response = client.post(f"{PATROLS}/{patrol_id}/participants", headers=make.auth(outsider))
    unknown = client.post(f"{PATROLS}/{uuid.uuid4()}/participants", headers=make.auth(outsider))

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == PROBLEM + "patrol-not-found"
    assert {k: v for k, v in response.json().items() if k != "instance"} == {
        k: v for k, v in unknown.json().items() if k != "instance"
    }
    assert count(client, PatrolParticipant) == 0


def test_leaving_the_team_ends_ones_sign_ups(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User, buddy: User
) -> None:
    patrol = make.patrol(
        team,
        coordinator,
        planned_start=NOW_START + timedelta(days=4),
        planned_end=NOW_END + timedelta(days=4),
        participants=(walker, buddy),
    )
    path = f"{PATROLS}/{patrol.id}"
    assert client.get(path, headers=make.auth(walker)).json()["understaffed"] is False
    left = client.delete(
        f"/api/v1/teams/{team.id}/members/{buddy.id}",
        headers=make.auth(buddy),
    )
    assert left.status_code == 204
    after = client.get(path, headers=make.auth(walker)).json()
    assert after["understaffed"] is True
    assert [p["user_id"] for p in after["participants"]] == [str(walker.id)]
