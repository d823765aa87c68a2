"""Every teams endpoint x every role, cross-team attempts included (DESIGN.md section 2)."""

from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

ROLES = [
    "admin",
    "coordinator",
    "member",
    "other_coordinator",
    "other_member",
    "partner",
    "anonymous",
]


@dataclass
class World:
    team: Team
    other_team: Team
    target: User  # a member of `team` that requests act on
    newcomer: User  # a volunteer in no team yet
    people: dict[str, User | None]


@pytest.fixture
def world(make: Factory) -> World:
    team = make.team(name="Ons team")
    other = make.team(name="Ander team")
    people: dict[str, User | None] = {
        "admin": make.user(UserRole.admin),
        "coordinator": make.coordinator(team),
        "member": make.member(team),
        "other_coordinator": make.coordinator(other),
        "other_member": make.member(other),
        "partner": make.user(UserRole.partner),
        "anonymous": None,
    }
    return World(team, other, make.member(team), make.user(), people)


def headers_for(make: Factory, world: World, role: str) -> dict[str, str]:
    user = world.people[role]
    return make.auth(user) if user else {}


# (method, path template, body) -> expected status per role
CASES: dict[str, tuple[str, str, Any, dict[str, int]]] = {
    "create team": (
        "POST",
        "/api/v1/teams",
        {"name": "Nieuw", "municipality_code": "GM0363"},
        {
            "admin": 201,
            "coordinator": 403,
            "member": 403,
            "other_coordinator": 403,
            "other_member": 403,
            "partner": 403,
            "anonymous": 401,
        },
    ),
    "get team": (
        "GET",
        "/api/v1/teams/{team}",
        None,
        {
            "admin": 200,
            "coordinator": 200,
            "member": 200,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
    "update team": (
        "PATCH",
        "/api/v1/teams/{team}",
        {"contact_name": "X"},
        {
            "admin": 200,
            "coordinator": 200,
            "member": 403,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
    "delete team": (
        "DELETE",
        "/api/v1/teams/{team}",
        None,
        {
            "admin": 204,
            "coordinator": 403,
            "member": 403,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
    "list members": (
        "GET",
        "/api/v1/teams/{team}/members",
        None,
        {
            "admin": 200,
            "coordinator": 200,
            "member": 200,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
    "add member": (
        "POST",
        "/api/v1/teams/{team}/members",
        {"email": "{newcomer}"},
        {
            "admin": 201,
            "coordinator": 201,
            "member": 403,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
    "get member": (
        "GET",
        "/api/v1/teams/{team}/members/{target}",
        None,
        {
            "admin": 200,
            "coordinator": 200,
            "member": 200,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
    "update member": (
        "PATCH",
        "/api/v1/teams/{team}/members/{target}",
        {"team_role": "coordinator"},
        {
            "admin": 200,
            "coordinator": 200,
            "member": 403,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
    "remove member": (
        "DELETE",
        "/api/v1/teams/{team}/members/{target}",
        None,
        {
            "admin": 204,
            "coordinator": 204,
            "member": 403,
            "other_coordinator": 404,
            "other_member": 404,
            "partner": 404,
            "anonymous": 401,
        },
    ),
}


def _fill(value: Any, world: World) -> Any:
    if isinstance(value, str):
        return value.format(
            team=world.team.id, target=world.target.id, newcomer=world.newcomer.email
        )
    if isinstance(value, dict):
        return {k: _fill(v, world) for k, v in value.items()}
    return value


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_role_matrix(client: TestClient, make: Factory, world: World, case: str, role: str) -> None:
    method, path, body, expected = CASES[case]
    headers = headers_for(make, world, role)
    if method == "PATCH":
        headers["If-Match"] = '"1"'  # the records are as made: at their first version

    response = client.request(method, _fill(path, world), json=_fill(body, world), headers=headers)

    assert response.status_code == expected[role], response.text
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/problem+json"


def _unchanged_after_refusal(client: TestClient, make: Factory, world: World) -> None:
    admin = make.auth(world.people["admin"])  # type: ignore[arg-type]
    team = client.get(f"/api/v1/teams/{world.team.id}", headers=admin).json()
    assert team["contact_name"] is None
    member = client.get(
        f"/api/v1/teams/{world.team.id}/members/{world.target.id}", headers=admin
    ).json()
    assert member["team_role"] == "member"


@pytest.mark.parametrize("role", ["member", "other_coordinator", "other_member", "partner"])
def test_refused_writes_change_nothing(
    client: TestClient, make: Factory, world: World, role: str
) -> None:
    headers = {**headers_for(make, world, role), "If-Match": "*"}
    team = client.patch(
        f"/api/v1/teams/{world.team.id}", json={"contact_name": "X"}, headers=headers
    )
    member = client.patch(
        f"/api/v1/teams/{world.team.id}/members/{world.target.id}",
        json={"team_role": "coordinator"},
        headers=headers,
    )
    assert team.status_code in (403, 404)
    assert member.status_code in (403, 404)
    client.delete(f"/api/v1/teams/{world.team.id}", headers=headers)

    _unchanged_after_refusal(client, make, world)


@pytest.mark.parametrize(
    ("role", "visible"),
    [
        ("admin", {"Ons team", "Ander team"}),
        ("coordinator", {"Ons team"}),
        ("member", {"Ons team"}),
        ("other_member", {"Ander team"}),
        ("partner", set()),
    ],
)
def test_team_list_is_scoped_to_the_role(
    client: TestClient, make: Factory, world: World, role: str, visible: set[str]
) -> None:
    response = client.get("/api/v1/teams", headers=headers_for(make, world, role))

    assert response.status_code == 200
    assert {team["name"] for team in response.json()["items"]} == visible


def test_a_member_may_leave_their_team(client: TestClient, make: Factory, world: World) -> None:
    member = world.people["member"]
    assert member is not None
    response = client.delete(
        f"/api/v1/teams/{world.team.id}/members/{member.id}", headers=make.auth(member)
    )
    assert response.status_code == 204
