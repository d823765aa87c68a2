"""Edges of patrols: sensitive observations, odd input, ended memberships, retention."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.background import purge_personal_content
from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.patrols.models import Patrol
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

PATROLS = "/api/v1/patrols"
NOW_START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # the frozen clock reads 09:30
NOW_END = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)


def seen(**fields: Any) -> dict[str, Any]:
    return {
        "client_id": str(uuid.uuid4()),
        "observed_at": "2026-03-02T10:20:00+01:00",
        "location": {"latitude": 52.3601, "longitude": 4.9215},
        "kind": "contact_with_resident",
        "note": "Mevrouw op nummer 3 zegt dat ze niemand meer spreekt.",
        **fields,
    }


@pytest.fixture
def team(make: Factory) -> Team:
    return make.team(name="Oosterpark", plus_mode=True)


@pytest.fixture
def people(make: Factory, team: Team) -> dict[str, User]:
    return {
        "coordinator": make.coordinator(team),
        "walker": make.member(team),
        "buddy": make.member(team),
        "admin": make.user(UserRole.admin),
    }


@pytest.fixture
def walked(client: TestClient, make: Factory, team: Team, people: dict[str, User]) -> Patrol:
    patrol = make.patrol(
        team,
        people["coordinator"],
        planned_start=NOW_START,
        planned_end=NOW_END,
        participants=(people["walker"], people["buddy"]),
    )
    response = client.post(
        f"{PATROLS}/{patrol.id}/start",
        json={"at": "2026-03-02T09:10:00Z"},
        headers=make.auth(people["walker"]),
    )
    assert response.status_code == 200
    return patrol


def test_an_observation_made_into_a_sensitive_signal_is_for_its_author_only(
    client: TestClient, make: Factory, walked: Patrol, people: dict[str, User]
) -> None:
    logged = client.post(
        f"{PATROLS}/{walked.id}/observations", json=seen(), headers=make.auth(people["walker"])
    ).json()
    promoted = client.post(
        f"{PATROLS}/{walked.id}/observations/{logged['id']}/signal",
        json={"category": "loneliness"},
        headers=make.auth(people["walker"]),
    )
    assert promoted.status_code == 201

    def observation(who: str) -> dict[str, Any]:
        (item,) = client.get(
            f"{PATROLS}/{walked.id}/observations", headers=make.auth(people[who])
        ).json()["items"]
        return item

    for who in ("coordinator", "buddy"):
        hidden = observation(who)
        assert hidden["withheld"] is True
        assert hidden["note"] is None and hidden["location"] is None
        assert hidden["signal_id"] == promoted.json()["id"]
    own = observation("walker")
    assert own["withheld"] is False and own["note"] == seen()["note"]
    assert observation("admin")["note"] == seen()["note"]
    audit = client.get(
        "/api/v1/audit-events",
        params={"object_id": logged["id"], "action": "observation.read"},
        headers=make.auth(people["admin"]),
    ).json()["items"]
    # Each sight of the sensitive note is recorded: its author's and the admin's.
    assert [a["actor_id"] for a in audit] == [str(people["walker"].id), str(people["admin"].id)]


def test_the_same_observation_in_another_zone_is_a_retry(
    client: TestClient, make: Factory, walked: Patrol, people: dict[str, User]
) -> None:
    first = seen(kind="broken_lighting")
    again = {**first, "observed_at": "2026-03-02T09:20:00Z"}  # 10:20+01:00, written in UTC
    url = f"{PATROLS}/{walked.id}/observations"
    assert client.post(url, json=first, headers=make.auth(people["walker"])).status_code == 201
    retried = client.post(url, json=again, headers=make.auth(people["walker"]))
    assert retried.status_code == 201
    assert retried.headers["idempotent-replayed"] == "true"


@pytest.mark.parametrize("if_match", ['"²"', '"' + "9" * 5000 + '"', '"-1"', '"1.0"'])
def test_an_odd_if_match_is_a_412_not_a_crash(
    client: TestClient, make: Factory, team: Team, people: dict[str, User], if_match: str
) -> None:
    patrol = make.patrol(team, people["coordinator"], planned_start=NOW_START, planned_end=NOW_END)
    response = client.post(
        f"{PATROLS}/{patrol.id}/cancel",
        headers={**make.auth(people["coordinator"]), "If-Match": if_match.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 412
    signal = make.signal(people["walker"])
    response = client.post(
        f"/api/v1/signals/{signal.id}/withdraw",
        headers={**make.auth(people["walker"]), "If-Match": if_match.encode("utf-8")},  # type: ignore[dict-item]
    )
    assert response.status_code == 412


def test_actual_times_stay_near_the_planned_round(
    client: TestClient, make: Factory, team: Team, people: dict[str, User]
) -> None:
    patrol = make.patrol(
        team,
        people["coordinator"],
        planned_start=NOW_START,
        planned_end=NOW_END,
        participants=(people["walker"],),
    )
    walker = make.auth(people["walker"])
    too_early = client.post(
        f"{PATROLS}/{patrol.id}/start", json={"at": "2000-01-01T00:00:00Z"}, headers=walker
    )
    assert too_early.status_code == 422
    assert client.get(f"{PATROLS}/{patrol.id}", headers=walker).json()["status"] == "planned"
    started = client.post(
        f"{PATROLS}/{patrol.id}/start", json={"at": "2026-03-01T22:00:00Z"}, headers=walker
    )
    assert started.status_code == 200
    finished = client.post(f"{PATROLS}/{patrol.id}/finish", headers=walker)  # 11.5 h: fine
    assert finished.status_code == 200


def test_a_route_with_extra_members_is_refused(
    client: TestClient, make: Factory, team: Team, people: dict[str, User]
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
        headers=make.auth(people["coordinator"]),
    )
    assert response.status_code == 422


def test_a_name_with_a_line_break_is_refused(
    client: TestClient, make: Factory, team: Team, people: dict[str, User]
) -> None:
    response = client.patch(
        f"/api/v1/teams/{team.id}",
        json={"name": "Oost\r\nEND:VCALENDAR"},
        headers=make.auth(people["coordinator"]),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.name"


def test_leaving_the_team_ends_ones_sign_ups(
    client: TestClient, make: Factory, team: Team, people: dict[str, User]
) -> None:
    patrol = make.patrol(
        team,
        people["coordinator"],
        planned_start=NOW_START + timedelta(days=4),
        planned_end=NOW_END + timedelta(days=4),
        participants=(people["walker"], people["buddy"]),
    )
    path = f"{PATROLS}/{patrol.id}"
    assert client.get(path, headers=make.auth(people["walker"])).json()["understaffed"] is False
    left = client.delete(
        f"/api/v1/teams/{team.id}/members/{people['buddy'].id}",
        headers=make.auth(people["buddy"]),
    )
    assert left.status_code == 204
    after = client.get(path, headers=make.auth(people["walker"])).json()
    assert after["understaffed"] is True
    assert [p["user_id"] for p in after["participants"]] == [str(people["walker"].id)]


def test_a_password_change_stops_the_feed_url(
    client: TestClient, make: Factory, team: Team, people: dict[str, User]
) -> None:
    walker = people["walker"]
    token = client.post("/api/v1/me/feed-token", headers=make.auth(walker)).json()["token"]
    feed = f"/api/v1/teams/{team.id}/patrols.ics"
    assert client.get(feed, params={"token": token}).status_code == 200
    changed = client.patch(
        f"/api/v1/users/{walker.id}",
        json={"password": "een ander lang wachtwoord"},
        headers=make.auth(people["admin"]),
    )
    assert changed.status_code == 200, changed.text
    assert client.get(feed, params={"token": token}).status_code == 401


def test_retention_takes_note_and_place_from_old_observations(
    client: TestClient,
    make: Factory,
    walked: Patrol,
    people: dict[str, User],
    clock: FrozenClock,
) -> None:
    client.post(
        f"{PATROLS}/{walked.id}/observations",
        json=seen(kind="broken_lighting"),
        headers=make.auth(people["walker"]),
    )
    clock.advance(days=400)
    purge_personal_content(client.app.state.engine, retention_days=365, clock=clock)  # type: ignore[attr-defined]
    (item,) = client.get(
        f"{PATROLS}/{walked.id}/observations", headers=make.auth(people["walker"])
    ).json()["items"]
    assert item["note"] is None and item["location"] is None
    assert item["kind"] == "broken_lighting"


def test_the_personal_export_holds_ones_rounds_observations_and_feed_token_date(
    client: TestClient, make: Factory, walked: Patrol, people: dict[str, User]
) -> None:
    walker = make.auth(people["walker"])
    client.post(f"{PATROLS}/{walked.id}/observations", json=seen(), headers=walker)
    client.post("/api/v1/me/feed-token", headers=walker)
    exported = client.get("/api/v1/me/export", headers=walker).json()
    assert [p["patrol_id"] for p in exported["patrols"]] == [str(walked.id)]
    assert exported["patrols"][0]["status"] == "active"
    (observation,) = exported["observations"]
    assert observation["note"] == seen()["note"]
    assert exported["feed_token_created_at"] is not None
    assert "token" not in exported and "token_hash" not in str(exported)
    others = client.get("/api/v1/me/export", headers=make.auth(people["buddy"])).json()
    assert others["observations"] == []
