"""Need-to-know for signals, as a matrix of role x endpoint x sensitivity (DESIGN.md 2)."""

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

SIGNALS = "/api/v1/signals"
PERSONAL = (
    "description",
    "location",
    "address",
    "postcode",
    "urgency",
    "emergency_called",
    "reporter_id",
)
ROLES = ["reporter", "coordinator", "teammate", "other_coordinator", "admin", "partner"]

# role -> (what a normal signal shows, what a sensitive one shows); None: not visible at all
EXPECTED = {
    "reporter": ("full", "full"),
    "coordinator": ("full", "limited"),
    "teammate": (None, None),
    "other_coordinator": (None, None),
    "admin": ("full", "full"),
    "partner": (None, None),
}


@dataclass
class World:
    people: dict[str, User]
    normal: Signal
    sensitive: Signal


@pytest.fixture
def world(make: Factory) -> World:
    team = make.team(plus_mode=True)
    other = make.team(plus_mode=True)
    reporter = make.member(team)
    people = {
        "reporter": reporter,
        "coordinator": make.coordinator(team),
        "teammate": make.member(team),
        "other_coordinator": make.coordinator(other),
        "admin": make.user(UserRole.admin),
        "partner": make.user(UserRole.partner),
    }
    return World(
        people,
        normal=make.signal(reporter, category="youth_nuisance", latitude=52.36, longitude=4.92),
        sensitive=make.signal(
            reporter,
            category="domestic_violence",
            description="Geschreeuw en gehuil bij nummer 12.",
            latitude=52.36,
            longitude=4.92,
            buurt_code="BU0363AA01",
        ),
    )


def expected(role: str, sensitive: bool) -> str | None:
    return EXPECTED[role][1 if sensitive else 0]


@pytest.mark.parametrize("sensitive", [False, True], ids=["normal", "sensitive"])
@pytest.mark.parametrize("role", ROLES)
def test_get_one(
    client: TestClient, make: Factory, world: World, role: str, sensitive: bool
) -> None:
    signal = world.sensitive if sensitive else world.normal
    response = client.get(f"{SIGNALS}/{signal.id}", headers=make.auth(world.people[role]))

    level = expected(role, sensitive)
    if level is None:
        assert response.status_code == 404
        assert "Geschreeuw" not in response.text
        return
    body = response.json()
    assert body["detail_level"] == level
    assert body["category"]["code"] == ("domestic_violence" if sensitive else "youth_nuisance")
    assert body["status"] == "submitted"
    assert body["created_at"]
    if level == "full":
        assert body["description"]
        assert body["reporter_id"] == str(world.people["reporter"].id)
        assert body["location"] == {"latitude": 52.36, "longitude": 4.92}
    else:
        assert all(body[field] is None for field in PERSONAL), body
        assert body["buurt_code"] == "BU0363AA01"
        assert "Geschreeuw" not in response.text


@pytest.mark.parametrize("role", ROLES)
def test_list(client: TestClient, make: Factory, world: World, role: str) -> None:
    response = client.get(SIGNALS, headers=make.auth(world.people[role]))

    assert response.status_code == 200
    levels = {item["category"]["code"]: item["detail_level"] for item in response.json()["items"]}
    want = {
        code: level
        for code, level in (
            ("youth_nuisance", expected(role, False)),
            ("domestic_violence", expected(role, True)),
        )
        if level is not None
    }
    assert levels == want
    if expected(role, True) != "full":
        assert "Geschreeuw" not in response.text


@pytest.mark.parametrize("sensitive", [False, True], ids=["normal", "sensitive"])
@pytest.mark.parametrize("role", ROLES)
def test_history(
    client: TestClient, make: Factory, world: World, role: str, sensitive: bool
) -> None:
    signal = world.sensitive if sensitive else world.normal
    response = client.get(f"{SIGNALS}/{signal.id}/history", headers=make.auth(world.people[role]))

    level = expected(role, sensitive)
    if level is None:
        assert response.status_code == 404
        return
    event = response.json()["items"][0]
    assert event["to_status"] == "submitted"
    if level == "limited":
        assert event["actor_id"] is None
    else:
        assert event["actor_id"] == str(world.people["reporter"].id)


def test_sensitive_reads_are_audited_and_limited_views_are_not(
    client: TestClient, make: Factory, world: World
) -> None:
    admin = make.auth(world.people["admin"])
    client.get(f"{SIGNALS}/{world.sensitive.id}", headers=make.auth(world.people["reporter"]))
    client.get(f"{SIGNALS}/{world.sensitive.id}", headers=admin)
    client.get(f"{SIGNALS}/{world.sensitive.id}", headers=make.auth(world.people["coordinator"]))
    client.get(f"{SIGNALS}/{world.normal.id}", headers=admin)
    client.get(SIGNALS, headers=admin)

    reads = client.get(
        "/api/v1/audit-events", params={"action": "signal.read"}, headers=admin
    ).json()["items"]

    assert {(r["actor_id"], r["object_id"]) for r in reads} == {
        (str(world.people["reporter"].id), str(world.sensitive.id)),
        (str(world.people["admin"].id), str(world.sensitive.id)),
    }
    assert len(reads) == 3  # reporter once, admin once by id and once in the list
    assert all(r["details"] == {"category": "domestic_violence"} for r in reads)


def test_writes_are_audited(client: TestClient, make: Factory, world: World) -> None:
    admin = make.auth(world.people["admin"])
    client.post(
        f"{SIGNALS}/{world.normal.id}/withdraw", headers=make.auth(world.people["reporter"])
    )

    actions = [
        e["action"]
        for e in client.get(
            "/api/v1/audit-events", params={"object_id": str(world.normal.id)}, headers=admin
        ).json()["items"]
    ]

    assert actions == ["signal.create", "signal.withdraw"]


@pytest.mark.parametrize("role", ["reporter", "coordinator", "partner"])
def test_only_admins_read_the_audit_log(
    client: TestClient, make: Factory, world: World, role: str
) -> None:
    response = client.get("/api/v1/audit-events", headers=make.auth(world.people[role]))
    assert response.status_code == 403


class TestFeedback:
    def test_admin_writes_and_reporter_and_coordinator_read(
        self, client: TestClient, make: Factory, world: World
    ) -> None:
        url = f"{SIGNALS}/{world.sensitive.id}/feedback"
        written = client.post(
            url,
            json={"message": "Er is contact gelegd met de bewoners."},
            headers=make.auth(world.people["admin"]),
        )

        assert written.status_code == 201
        for role in ("reporter", "coordinator", "admin"):
            page = client.get(url, headers=make.auth(world.people[role])).json()
            assert [f["message"] for f in page["items"]] == [
                "Er is contact gelegd met de bewoners."
            ]
        for role in ("teammate", "other_coordinator", "partner"):
            assert client.get(url, headers=make.auth(world.people[role])).status_code == 404

    @pytest.mark.parametrize("role", ["reporter", "coordinator"])
    def test_the_reporting_side_does_not_write_feedback(
        self, client: TestClient, make: Factory, world: World, role: str
    ) -> None:
        response = client.post(
            f"{SIGNALS}/{world.normal.id}/feedback",
            json={"message": "Hoi"},
            headers=make.auth(world.people[role]),
        )
        assert response.status_code == 403


@pytest.mark.parametrize("role", ["teammate", "other_coordinator", "partner"])
def test_filters_cannot_widen_what_you_see(
    client: TestClient, make: Factory, world: World, role: str
) -> None:
    response = client.get(
        SIGNALS,
        params={"team_id": str(world.normal.team_id)},
        headers=make.auth(world.people[role]),
    )
    assert response.json()["items"] == []


def test_list_filters(client: TestClient, make: Factory, world: World) -> None:
    admin = make.auth(world.people["admin"])
    client.post(
        f"{SIGNALS}/{world.normal.id}/withdraw", headers=make.auth(world.people["reporter"])
    )

    def codes(**params: object) -> list[str]:
        items = client.get(SIGNALS, params=params, headers=admin).json()["items"]
        return sorted(item["category"]["code"] for item in items)

    assert codes(status="withdrawn") == ["youth_nuisance"]
    assert codes(status=["submitted", "withdrawn"]) == ["domestic_violence", "youth_nuisance"]
    assert codes(category="domestic_violence") == ["domestic_violence"]
    assert codes(category="loneliness") == []
    assert codes(created_from="2026-03-02T09:30:00Z") == ["domestic_violence", "youth_nuisance"]
    assert codes(created_to="2026-03-02T09:30:00Z") == []
    assert client.get(SIGNALS, params={"status": "lost"}, headers=admin).status_code == 422
    assert (
        client.get(SIGNALS, params={"created_from": "yesterday"}, headers=admin).status_code == 422
    )
