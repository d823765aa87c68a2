"""Patrols: a coordinator plans rounds, and participants walk them at the actual times."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.patrols.models import Patrol
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory
from tests.fixtures.patrols import NOW_END, NOW_START, PATROLS, PROBLEM, ROUTE, count, plan

# --- planning -----------------------------------------------------------------------------


def test_a_coordinator_plans_a_patrol_that_is_flagged_until_two_sign_up(
    client: TestClient, make: Factory, team: Team, coordinator: User
) -> None:
    response = client.post(PATROLS, json=plan(team), headers=make.auth(coordinator))

    assert response.status_code == 201
    body = response.json()
    assert response.headers["location"] == f"{PATROLS}/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert body["team_id"] == str(team.id)
    assert body["status"] == "planned"
    assert body["planned_start"] == "2026-03-06T18:30:00Z"
    assert body["planned_end"] == "2026-03-06T20:30:00Z"
    assert body["route"] == ROUTE
    assert body["note"] == "Verzamelen bij het buurthuis."
    assert body["participants"] == []
    assert body["understaffed"] is True
    assert body["allowed_transitions"] == ["start", "cancel"]
    assert body["created_by"] == str(coordinator.id)
    assert client.get(f"{PATROLS}/{body['id']}", headers=make.auth(coordinator)).json() == body


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"planned_end": "2026-03-06T19:00:00+01:00"}, "body.planned_end"),
        ({"planned_end": "2026-03-06T19:30:00+01:00"}, "body.planned_end"),
        ({"planned_end": "2026-03-08T19:30:00+01:00"}, "body.planned_end"),
        ({"planned_start": "2026-03-06 19:30"}, "body.planned_start"),
        ({"route": {"type": "Point", "coordinates": [4.9, 52.3]}}, "body.route.type"),
        ({"route": {"type": "LineString", "coordinates": [[4.9, 52.3]]}}, "body.route"),
        (
            {"route": {"type": "LineString", "coordinates": [[4.9, 52.3], [4.9, 52.3]]}},
            "body.route",
        ),
        (
            {"route": {"type": "LineString", "coordinates": [[4.9, 52.3], [4.9, 95.0]]}},
            "body.route",
        ),
        ({"route": {"type": "LineString", "coordinates": [[4.9], [4.8, 52.3]]}}, "body.route"),
        ({"route": {"type": "LineString", "coordinates": "4.9,52.3"}}, "body.route.coordinates"),
    ],
)
def test_a_bad_plan_is_422_naming_the_field_and_stores_nothing(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    fields: dict[str, Any],
    field: str,
) -> None:
    response = client.post(PATROLS, json=plan(team, **fields), headers=make.auth(coordinator))

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert field in [e["field"] for e in response.json()["errors"]]
    assert count(client, Patrol) == 0


def test_a_route_with_extra_members_is_refused(
    client: TestClient, make: Factory, team: Team, coordinator: User
) -> None:
    response = client.post(
        PATROLS,
        json={
            "team_id": str(team.id),
            "planned_start": "2026-03-06T18:00:00Z",
            "planned_end": "2026-03-06T20:00:00Z",
            "route": {
                "type": "LineString",
                "coordinates": [[4.91, 52.36], [4.92, 52.36]],
                "bbox": [4.91, 52.36, 4.92, 52.36],
            },
        },
        headers=make.auth(coordinator),
    )
    assert response.status_code == 422


def test_who_may_plan_a_patrol(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    walker: User,
    outsider: User,
) -> None:
    admin = make.user(UserRole.admin)
    partner = make.user(UserRole.partner)
    other_coordinator = make.coordinator(make.team())

    statuses = {
        who: client.post(PATROLS, json=plan(team), headers=make.auth(user)).status_code
        for who, user in [
            ("admin", admin),
            ("coordinator", coordinator),
            ("member", walker),
            ("other team's coordinator", other_coordinator),
            ("other team's member", outsider),
            ("partner", partner),
        ]
    }

    assert statuses == {
        "admin": 201,
        "coordinator": 201,
        "member": 403,
        "other team's coordinator": 422,
        "other team's member": 422,
        "partner": 422,
    }
    assert count(client, Patrol) == 2


def test_who_sees_a_patrol(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    walker: User,
    outsider: User,
    underway: Patrol,
) -> None:
    admin = make.user(UserRole.admin)
    partner = make.user(UserRole.partner)
    elsewhere = make.team()
    other = make.patrol(
        elsewhere,
        make.coordinator(elsewhere),
        planned_start=NOW_END,
        planned_end=NOW_END.replace(hour=13),
    )

    def seen(user: User) -> tuple[int, list[str] | int]:
        one = client.get(f"{PATROLS}/{underway.id}", headers=make.auth(user)).status_code
        listed = client.get(PATROLS, headers=make.auth(user))
        if listed.status_code != 200:
            return one, listed.status_code
        return one, [p["id"] for p in listed.json()["items"]]

    assert seen(admin) == (200, [str(underway.id), str(other.id)])
    assert seen(coordinator) == (200, [str(underway.id)])
    assert seen(walker) == (200, [str(underway.id)])
    assert seen(outsider) == (404, [])
    assert seen(partner) == (404, 403)


def test_a_coordinator_changes_a_planned_patrol_but_not_into_nonsense(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User
) -> None:
    created = client.post(PATROLS, json=plan(team), headers=make.auth(coordinator)).json()
    url = f"{PATROLS}/{created['id']}"

    changed = client.patch(
        url,
        json={"planned_end": "2026-03-06T22:00:00+01:00", "route": None},
        headers={**make.auth(coordinator), "If-Match": '"1"'},
    )
    backwards = client.patch(
        url,
        json={"planned_start": "2026-03-06T23:00:00+01:00"},
        headers={**make.auth(coordinator), "If-Match": '"2"'},
    )
    stale = client.patch(
        url, json={"note": "Later"}, headers={**make.auth(coordinator), "If-Match": '"1"'}
    )
    unversioned = client.patch(url, json={"note": "Later"}, headers=make.auth(coordinator))
    by_member = client.patch(
        url, json={"note": "Mijn ronde"}, headers={**make.auth(walker), "If-Match": '"2"'}
    )

    assert changed.status_code == 200
    assert changed.json()["planned_end"] == "2026-03-06T21:00:00Z"
    assert changed.json()["route"] is None
    assert changed.json()["version"] == 2
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "body.planned_end"
    assert stale.status_code == 412
    assert unversioned.status_code == 428
    assert unversioned.headers["content-type"] == "application/problem+json"
    assert unversioned.json()["type"] == "urn:buurtplus:problem:precondition-required"
    assert by_member.status_code == 403
    assert client.get(url, headers=make.auth(coordinator)).json() == changed.json()


# --- walking ------------------------------------------------------------------------------


def test_a_participant_starts_and_finishes_the_round_with_the_actual_times(
    client: TestClient, make: Factory, clock: FrozenClock, underway: Patrol, walker: User
) -> None:
    url = f"{PATROLS}/{underway.id}"

    started = client.post(
        f"{url}/start", json={"at": "2026-03-02T10:25:00+01:00"}, headers=make.auth(walker)
    )
    clock.advance(hours=2)
    finished = client.post(f"{url}/finish", headers=make.auth(walker))

    assert started.status_code == 200
    assert started.json()["status"] == "active"
    assert started.json()["started_at"] == "2026-03-02T09:25:00Z"
    assert started.json()["allowed_transitions"] == ["finish", "cancel"]
    assert finished.status_code == 200
    assert finished.json()["status"] == "completed"
    assert finished.json()["finished_at"] == "2026-03-02T11:30:00Z"
    assert finished.json()["allowed_transitions"] == []
    again = client.post(f"{url}/start", headers=make.auth(walker))
    assert again.status_code == 409
    assert again.json()["type"] == PROBLEM + "patrol-transition-not-allowed"
    assert again.json()["detail"] == (
        "The step 'start' does not exist for a patrol that is completed: see allowed_transitions."
    )


def test_only_participants_or_the_coordinator_start_finish_or_cancel(
    client: TestClient,
    make: Factory,
    underway: Patrol,
    coordinator: User,
    buddy: User,
    outsider: User,
) -> None:
    url = f"{PATROLS}/{underway.id}"

    by_bystander = client.post(f"{url}/start", headers=make.auth(buddy))
    by_outsider = client.post(f"{url}/cancel", headers=make.auth(outsider))
    by_partner = client.post(f"{url}/start", headers=make.auth(make.user(UserRole.partner)))
    cancelled = client.post(
        f"{url}/cancel", json={"reason": "Storm"}, headers=make.auth(coordinator)
    )

    assert by_bystander.status_code == 403
    assert by_outsider.status_code == 404
    assert by_partner.status_code == 404
    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    assert cancelled.json()["cancel_reason"] == "Storm"
    assert cancelled.json()["cancelled_at"] == "2026-03-02T09:30:00Z"
    late = client.post(f"{url}/participants", headers=make.auth(buddy))
    assert late.status_code == 409
    assert late.json()["type"] == PROBLEM + "patrol-closed"


def test_impossible_actual_times_are_422_and_change_nothing(
    client: TestClient, make: Factory, clock: FrozenClock, underway: Patrol, walker: User
) -> None:
    url = f"{PATROLS}/{underway.id}"

    future = client.post(
        f"{url}/start", json={"at": "2026-03-02T12:00:00+01:00"}, headers=make.auth(walker)
    )
    client.post(f"{url}/start", headers=make.auth(walker))
    before_start = client.post(
        f"{url}/finish", json={"at": "2026-03-02T09:00:00Z"}, headers=make.auth(walker)
    )

    assert future.status_code == 422
    assert future.json()["errors"][0]["field"] == "body.at"
    assert before_start.status_code == 422
    assert before_start.json()["errors"][0]["field"] == "body.at"
    assert client.get(url, headers=make.auth(walker)).json()["status"] == "active"


def test_actual_times_stay_near_the_planned_round(
    client: TestClient, make: Factory, underway: Patrol, walker: User
) -> None:
    auth = make.auth(walker)
    too_early = client.post(
        f"{PATROLS}/{underway.id}/start", json={"at": "2000-01-01T00:00:00Z"}, headers=auth
    )
    assert too_early.status_code == 422
    assert client.get(f"{PATROLS}/{underway.id}", headers=auth).json()["status"] == "planned"
    started = client.post(
        f"{PATROLS}/{underway.id}/start", json={"at": "2026-03-01T22:00:00Z"}, headers=auth
    )
    assert started.status_code == 200
    finished = client.post(f"{PATROLS}/{underway.id}/finish", headers=auth)  # 11.5 h: fine
    assert finished.status_code == 200


def test_a_stale_if_match_is_412(
    client: TestClient, make: Factory, underway: Patrol, walker: User
) -> None:
    response = client.post(
        f"{PATROLS}/{underway.id}/start", headers={**make.auth(walker), "If-Match": '"0"'}
    )

    assert response.status_code == 412
    assert (
        client.get(f"{PATROLS}/{underway.id}", headers=make.auth(walker)).json()["status"]
        == "planned"
    )


@pytest.mark.parametrize("if_match", ['"²"', '"' + "9" * 5000 + '"', '"-1"', '"1.0"'])
def test_an_odd_if_match_is_a_412_not_a_crash(
    client: TestClient,
    make: Factory,
    team: Team,
    coordinator: User,
    walker: User,
    if_match: str,
) -> None:
    patrol = make.patrol(team, coordinator, planned_start=NOW_START, planned_end=NOW_END)
    response = client.post(
        f"{PATROLS}/{patrol.id}/cancel",
        headers={**make.auth(coordinator), "If-Match": if_match.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 412
    signal = make.signal(walker)
    response = client.post(
        f"/api/v1/signals/{signal.id}/withdraw",
        headers={**make.auth(walker), "If-Match": if_match.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 412


def test_the_list_filters_by_team_status_and_start_and_pages_by_planned_start(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User
) -> None:
    second_team = make.team()
    make.member(second_team, walker)
    starts = [datetime(2026, 3, day, 18, tzinfo=UTC) for day in (9, 3, 6)]
    ids = [
        str(make.patrol(team, coordinator, planned_start=s, planned_end=s.replace(hour=20)).id)
        for s in starts
    ]
    other = make.patrol(
        second_team,
        make.coordinator(second_team),
        planned_start=starts[0].replace(day=10),
        planned_end=starts[0].replace(day=10, hour=20),
    )
    client.post(f"{PATROLS}/{ids[2]}/cancel", headers=make.auth(coordinator))
    auth = make.auth(walker)

    def listed(**params: Any) -> list[str]:
        response = client.get(PATROLS, params=params, headers=auth)
        assert response.status_code == 200
        return [p["id"] for p in response.json()["items"]]

    assert listed() == [ids[1], ids[2], ids[0], str(other.id)]
    assert listed(team_id=str(team.id)) == [ids[1], ids[2], ids[0]]
    assert listed(status="cancelled") == [ids[2]]
    assert listed(status=["planned"], team_id=str(team.id)) == [ids[1], ids[0]]
    assert listed(starts_from="2026-03-05T00:00:00Z", starts_before="2026-03-08T00:00:00Z") == [
        ids[2]
    ]
    first = client.get(PATROLS, params={"limit": 2}, headers=auth).json()
    rest = client.get(
        PATROLS, params={"limit": 2, "cursor": first["next_cursor"]}, headers=auth
    ).json()
    assert [p["id"] for p in first["items"] + rest["items"]] == listed()
    assert rest["next_cursor"] is None
