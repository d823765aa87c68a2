"""A team's schedule as a calendar feed behind a revocable token, and the team's figures."""

from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar

from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.patrols.models import Patrol
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory
from tests.fixtures.patrols import PATROLS

FEED_TOKEN = "/api/v1/me/feed-token"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=UTC)


@pytest.fixture
def plus_mode() -> bool:
    """The figures count social signals, which only a Plus team reports."""
    return True


def feed_path(team: Team) -> str:
    return f"/api/v1/teams/{team.id}/patrols.ics"


def events(response: Any) -> dict[str, Any]:
    calendar = Calendar.from_ical(response.content)
    return {str(e["uid"]).split("@")[0]: e for e in calendar.walk("VEVENT")}


def test_a_member_subscribes_to_the_teams_schedule_with_a_feed_token(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User
) -> None:
    planned = make.patrol(team, coordinator, planned_start=at(6, 18), planned_end=at(6, 20))
    paired = make.patrol(
        team,
        coordinator,
        planned_start=at(7, 18),
        planned_end=at(7, 20),
        participants=(walker, coordinator),
        note="Verzamelen bij het buurthuis",
    )
    cancelled = make.patrol(team, coordinator, planned_start=at(8, 18), planned_end=at(8, 20))
    client.post(f"{PATROLS}/{cancelled.id}/cancel", headers=make.auth(coordinator))
    elsewhere = make.team()
    make.patrol(
        elsewhere, make.coordinator(elsewhere), planned_start=at(6, 18), planned_end=at(6, 20)
    )

    made = client.post(FEED_TOKEN, headers=make.auth(walker))
    assert made.status_code == 201
    token = made.json()["token"]
    [feed] = made.json()["feeds"]
    assert feed["team_id"] == str(team.id)
    assert feed["url"] == f"http://testserver{feed_path(team)}?token={token}"

    response = client.get(feed_path(team), params={"token": token})  # no bearer header

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    calendar = Calendar.from_ical(response.content)
    assert str(calendar["x-wr-calname"]) == "Rondes Oosterpark"
    found = events(response)
    assert set(found) == {str(planned.id), str(paired.id), str(cancelled.id)}
    assert found[str(planned.id)].decoded("dtstart") == at(6, 18)
    assert found[str(planned.id)].decoded("dtend") == at(6, 20)
    assert str(found[str(planned.id)]["status"]) == "TENTATIVE"
    assert "nog een loper nodig" in str(found[str(planned.id)]["summary"])
    assert str(found[str(paired.id)]["status"]) == "CONFIRMED"
    assert "Verzamelen bij het buurthuis" in str(found[str(paired.id)]["description"])
    assert str(found[str(cancelled.id)]["status"]) == "CANCELLED"
    # The token is shown once; afterwards only whether there is one.
    status = client.get(FEED_TOKEN, headers=make.auth(walker)).json()
    assert status == {"active": True, "created_at": "2026-03-02T09:30:00Z"}


def test_a_revoked_or_renewed_token_stops_the_old_feed_url(
    client: TestClient, make: Factory, team: Team, walker: User
) -> None:
    old = client.post(FEED_TOKEN, headers=make.auth(walker)).json()["token"]
    new = client.post(FEED_TOKEN, headers=make.auth(walker)).json()["token"]

    renewed_old = client.get(feed_path(team), params={"token": old})
    renewed_new = client.get(feed_path(team), params={"token": new})
    revoked = client.delete(FEED_TOKEN, headers=make.auth(walker))
    after = client.get(feed_path(team), params={"token": new})

    assert renewed_old.status_code == 401
    assert renewed_old.headers["content-type"] == "application/problem+json"
    assert renewed_new.status_code == 200
    assert revoked.status_code == 204
    assert after.status_code == 401
    assert client.get(FEED_TOKEN, headers=make.auth(walker)).json() == {
        "active": False,
        "created_at": None,
    }


def test_a_feed_shows_only_what_its_owner_may_see(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User
) -> None:
    make.patrol(team, coordinator, planned_start=at(6, 18), planned_end=at(6, 20))
    outsider = make.member(make.team())
    token = client.post(FEED_TOKEN, headers=make.auth(outsider)).json()["token"]

    foreign = client.get(feed_path(team), params={"token": token})
    made_up = client.get(feed_path(team), params={"token": "bpf_guessed"})
    nothing = client.get(feed_path(team))
    with_bearer = client.get(feed_path(team), headers=make.auth(walker))
    partner = client.post(FEED_TOKEN, headers=make.auth(make.user(UserRole.partner)))

    assert foreign.status_code == 404
    assert made_up.status_code == 401
    assert nothing.status_code == 401
    assert with_bearer.status_code == 200
    assert len(events(with_bearer)) == 1
    assert partner.status_code == 403


def test_a_feed_stops_when_its_owner_leaves_the_team(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User
) -> None:
    token = client.post(FEED_TOKEN, headers=make.auth(walker)).json()["token"]

    removed = client.delete(
        f"/api/v1/teams/{team.id}/members/{walker.id}", headers=make.auth(coordinator)
    )

    assert removed.status_code == 204
    assert client.get(feed_path(team), params={"token": token}).status_code == 404


def test_a_password_change_stops_the_feed_url(
    client: TestClient, make: Factory, team: Team, walker: User
) -> None:
    admin = make.user(UserRole.admin)
    token = client.post(FEED_TOKEN, headers=make.auth(walker)).json()["token"]
    feed = f"/api/v1/teams/{team.id}/patrols.ics"
    assert client.get(feed, params={"token": token}).status_code == 200
    url = f"/api/v1/users/{walker.id}"
    changed = client.patch(
        url,
        json={"password": "een ander lang wachtwoord"},
        headers=if_match(client, url, make.auth(admin)),
    )
    assert changed.status_code == 200, changed.text
    assert client.get(feed, params={"token": token}).status_code == 401


# --- team figures -------------------------------------------------------------------------


def walk(
    client: TestClient,
    make: Factory,
    clock: FrozenClock,
    patrol: Patrol,
    walker: User,
    *,
    hours: float,
    kinds: tuple[str, ...] = (),
) -> list[str]:
    """Start the round now, log `kinds`, finish it `hours` later; the observations' ids."""
    url = f"{PATROLS}/{patrol.id}"
    assert client.post(f"{url}/start", headers=make.auth(walker)).status_code == 200
    logged = []
    for kind in kinds:
        response = client.post(
            f"{url}/observations",
            json={"location": {"latitude": 52.36, "longitude": 4.92}, "kind": kind},
            headers=make.auth(walker),
        )
        assert response.status_code == 201
        logged.append(response.json()["id"])
    clock.advance(hours=hours)
    assert client.post(f"{url}/finish", headers=make.auth(walker)).status_code == 200
    return logged


def test_a_coordinator_reads_the_teams_figures(
    client: TestClient,
    make: Factory,
    clock: FrozenClock,
    team: Team,
    coordinator: User,
    walker: User,
) -> None:
    buddy = make.member(team)
    pair = make.patrol(
        team,
        coordinator,
        planned_start=at(2, 9),
        planned_end=at(2, 11),
        participants=(walker, buddy),
    )
    observed = walk(
        client, make, clock, pair, walker, hours=2, kinds=("broken_lighting", "broken_lighting")
    )
    client.post(f"{PATROLS}/{pair.id}/observations/{observed[0]}/signal", headers=make.auth(walker))
    alone = make.patrol(
        team, coordinator, planned_start=at(2, 12), planned_end=at(2, 13), participants=(walker,)
    )
    walk(client, make, clock, alone, walker, hours=0.5, kinds=("youth_gathering",))
    called_off = make.patrol(team, coordinator, planned_start=at(3, 18), planned_end=at(3, 20))
    client.post(f"{PATROLS}/{called_off.id}/cancel", headers=make.auth(coordinator))
    make.signal(walker, category="loneliness", team_id=team.id)
    withdrawn = make.signal(walker, category="public_space", team_id=team.id)
    client.post(f"/api/v1/signals/{withdrawn.id}/withdraw", headers=make.auth(walker))

    response = client.get(
        f"/api/v1/teams/{team.id}/stats",
        params={"from": "2026-03-01T00:00:00+01:00", "to": "2026-04-01T00:00:00+02:00"},
        headers=make.auth(coordinator),
    )

    assert response.status_code == 200
    figures = response.json()
    assert figures["period_from"] == "2026-02-28T23:00:00Z"
    assert figures["rounds_walked"] == 2
    assert figures["rounds_understaffed"] == 1
    assert figures["rounds_cancelled"] == 1
    assert figures["hours"] == 2.5
    assert figures["volunteer_hours"] == 4.5
    assert figures["participants"] == 2
    assert figures["observations_by_kind"]["broken_lighting"] == 2
    assert figures["observations_by_kind"]["youth_gathering"] == 1
    assert figures["observations_by_kind"]["aed_seen"] == 0
    assert figures["signals"] == 3
    assert figures["signals_from_patrols"] == 1
    by_code = {c["code"]: c for c in figures["signals_by_category"]}
    assert by_code["public_space"]["count"] == 2
    assert by_code["public_space"]["by_outcome"]["open"] == 1
    assert by_code["public_space"]["by_outcome"]["withdrawn"] == 1
    assert by_code["public_space"]["by_outcome"]["handled"] == 0
    # Sensitive categories only as a count.
    assert by_code["loneliness"]["count"] == 1
    assert by_code["loneliness"]["by_outcome"] is None
    assert "description" not in str(figures)


def test_figures_are_for_the_coordinator_and_admins_over_a_sane_period(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User
) -> None:
    url = f"/api/v1/teams/{team.id}/stats"

    def status(user: User, **params: str) -> int:
        return client.get(url, params=params, headers=make.auth(user)).status_code

    assert status(coordinator) == 200
    assert status(make.user(UserRole.admin)) == 200
    assert status(walker) == 403
    assert status(make.member(make.team())) == 404
    assert status(make.user(UserRole.partner)) == 404
    backwards = client.get(
        url,
        params={"from": "2026-03-02T00:00:00Z", "to": "2026-03-01T00:00:00Z"},
        headers=make.auth(coordinator),
    )
    assert backwards.status_code == 422
    assert backwards.json()["errors"][0]["field"] == "query.to"
    empty = client.get(url, headers=make.auth(coordinator)).json()
    assert empty["period_to"] == "2026-03-02T09:30:00Z"
    assert empty["period_from"] == "2026-01-31T09:30:00Z"
    assert (empty["rounds_walked"], empty["signals"]) == (0, 0)
