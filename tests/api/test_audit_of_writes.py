"""Admins' and coordinators' changes to accounts, teams and memberships are in the audit log:
who did what to which object, never a password."""

import uuid
from typing import Any

from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.core.db import transaction
from buurtplus.domain.teams.models import Team
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory
from tests.fixtures.patrols import NOW_END, NOW_START, seen

PASSWORD = "a new password nobody may read"


def audit(client: TestClient, admin: dict[str, str], object_id: str) -> list[dict[str, Any]]:
    response = client.get(
        "/api/v1/audit-events", params={"object_id": object_id, "limit": 200}, headers=admin
    )
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_account_writes_are_audited_without_the_password(client: TestClient, make: Factory) -> None:
    admin_user = make.user(UserRole.admin)
    admin = make.auth(admin_user)
    created = client.post(
        "/api/v1/users",
        json={"email": "nieuw@example.nl", "full_name": "Nieuw", "password": PASSWORD},
        headers=admin,
    ).json()
    url = f"/api/v1/users/{created['id']}"
    for change in ({"password": PASSWORD + "!"}, {"role": "admin"}, {"is_active": False}):
        changed = client.patch(url, json=change, headers=if_match(client, url, admin))
        assert changed.status_code == 200

    records = audit(client, admin, created["id"])

    assert [(r["action"], r["actor_id"]) for r in records] == [
        ("user.create", str(admin_user.id)),
        ("user.update", str(admin_user.id)),
        ("user.update", str(admin_user.id)),
        ("user.update", str(admin_user.id)),
    ]
    assert records[0]["details"]["role"] == "volunteer"
    assert [r["details"]["changed"] for r in records[1:]] == [
        ["password"],
        ["role"],
        ["is_active"],
    ]
    assert records[2]["details"]["role"] == "admin"
    assert records[3]["details"]["is_active"] is False
    everything = client.get("/api/v1/audit-events", params={"limit": 200}, headers=admin).text
    assert PASSWORD not in everything
    assert "argon2" not in everything


def test_team_and_membership_writes_are_audited(client: TestClient, make: Factory) -> None:
    admin_user = make.user(UserRole.admin)
    admin = make.auth(admin_user)
    team = client.post(
        "/api/v1/teams",
        json={"name": "Transvaalbuurt", "municipality_code": "GM0363"},
        headers=admin,
    ).json()
    url = f"/api/v1/teams/{team['id']}"
    coordinator_user = make.user()
    client.post(
        f"{url}/members",
        json={"email": coordinator_user.email, "team_role": "coordinator"},
        headers=admin,
    )
    coordinator = make.auth(coordinator_user)
    changed = client.patch(
        url, json={"contact_name": "Els"}, headers=if_match(client, url, coordinator)
    )
    assert changed.status_code == 200
    volunteer = make.user()
    client.post(f"{url}/members", json={"email": volunteer.email}, headers=coordinator)
    member_url = f"{url}/members/{volunteer.id}"
    promoted = client.patch(
        member_url,
        json={"team_role": "coordinator"},
        headers=if_match(client, member_url, coordinator),
    )
    assert promoted.status_code == 200
    assert client.delete(member_url, headers=coordinator).status_code == 204
    # A walked round with an observation goes with the team when it is deleted.
    walker = make.user()
    client.post(f"{url}/members", json={"email": walker.email}, headers=admin)
    with transaction(make.app.state.engine) as session:
        stored = session.get(Team, uuid.UUID(team["id"]))
    assert stored is not None
    patrol = make.patrol(
        stored,
        coordinator_user,
        planned_start=NOW_START,
        planned_end=NOW_END,
        participants=(walker,),
    )
    client.post(f"/api/v1/patrols/{patrol.id}/start", headers=make.auth(walker))
    logged = client.post(
        f"/api/v1/patrols/{patrol.id}/observations",
        json=seen(observed_at=None),
        headers=make.auth(walker),
    )
    assert logged.status_code == 201
    assert client.delete(url, headers=admin).status_code == 204

    records = audit(client, admin, team["id"])

    assert [(r["action"], r["actor_id"]) for r in records] == [
        ("team.create", str(admin_user.id)),
        ("member.add", str(admin_user.id)),
        ("team.update", str(coordinator_user.id)),
        ("member.add", str(coordinator_user.id)),
        ("member.update", str(coordinator_user.id)),
        ("member.remove", str(coordinator_user.id)),
        ("member.add", str(admin_user.id)),
        ("team.delete", str(admin_user.id)),
    ]
    assert records[2]["details"]["changed"] == ["contact_name"]
    assert records[3]["details"]["user_id"] == str(volunteer.id)
    assert records[4]["details"]["team_role"] == "coordinator"
    assert records[5]["details"]["user_id"] == str(volunteer.id)
    assert records[-1]["details"] | {"name": None} == {
        "name": None,
        "members": 2,
        "patrols": 1,
        "observations": 1,
    }
