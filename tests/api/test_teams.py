from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import TeamRole, UserRole
from buurtplus.core.db import transaction
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory

TEAMS = "/api/v1/teams"

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[4.90, 52.36], [4.93, 52.36], [4.93, 52.38], [4.90, 52.38], [4.90, 52.36]]],
}


def new_team(**fields: Any) -> dict[str, Any]:
    return {
        "name": "Oosterpark",
        "municipality_code": "GM0363",
        "buurt_codes": ["BU0363MA01"],
        **fields,
    }


@pytest.fixture
def admin(make: Factory) -> dict[str, str]:
    return make.auth(make.user(UserRole.admin))


def test_admin_creates_a_team_and_reads_it_back(client: TestClient, admin: dict[str, str]) -> None:
    body = new_team(
        buurt_codes=["BU0363MA01", "BU0363MA02", "BU0363MA01"],
        area=SQUARE,
        contact_name="Fatima el Amrani",
        contact_email="oosterpark@example.nl",
        contact_phone="+31 20 123 4567",
        plus_mode=True,
    )

    created = client.post(TEAMS, json=body, headers=admin)

    assert created.status_code == 201
    team = created.json()
    assert team["name"] == "Oosterpark"
    assert team["buurt_codes"] == ["BU0363MA01", "BU0363MA02"]  # duplicates dropped
    assert team["area"] == SQUARE
    assert team["plus_mode"] is True
    assert team["created_at"].endswith("Z") or team["created_at"].endswith("+00:00")
    fetched = client.get(f"{TEAMS}/{team['id']}", headers=admin)
    assert fetched.status_code == 200
    assert fetched.json() == team


def test_team_names_are_unique_within_a_municipality(
    client: TestClient, admin: dict[str, str]
) -> None:
    assert client.post(TEAMS, json=new_team(), headers=admin).status_code == 201

    again = client.post(TEAMS, json=new_team(), headers=admin)
    elsewhere = client.post(
        TEAMS,
        json=new_team(municipality_code="GM0599", buurt_codes=["BU05990101"]),
        headers=admin,
    )

    assert again.status_code == 409
    assert again.json()["type"] == "urn:buurtplus:problem:team-name-taken"
    assert elsewhere.status_code == 201


@pytest.mark.parametrize(
    ("fields", "bad_field"),
    [
        ({"municipality_code": "GM363"}, "body.municipality_code"),
        ({"municipality_code": "gm0363"}, "body.municipality_code"),
        ({"buurt_codes": ["BU0363MA1"]}, "body.buurt_codes.0"),
        ({"buurt_codes": ["XX0363MA01"]}, "body.buurt_codes.0"),
        ({"buurt_codes": ["BU0599MA01"]}, "body.buurt_codes"),
        ({"name": ""}, "body.name"),
        ({"name": "   "}, "body.name"),
        ({"contact_email": "not-an-address"}, "body.contact_email"),
        ({"area": {"type": "Point", "coordinates": [4.9, 52.3]}}, "body.area.type"),
        ({"area": {"type": "Polygon", "coordinates": [[[4.9, 52.3], [4.91, 52.3]]]}}, "body.area"),
        ({"area": {"type": "Polygon", "coordinates": "nonsense"}}, "body.area.coordinates"),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[0, 0], [2, 2], [2, 0], [0, 2], [0, 0]]],
                }
            },
            "body.area",
        ),
        (
            {
                "area": {
                    "type": "Polygon",
                    "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 1], [200, 0]]],
                }
            },
            "body.area",
        ),
        ({"plus_mode": "sometimes"}, "body.plus_mode"),
        ({"colour": "blue"}, "body.colour"),
    ],
)
def test_invalid_team_is_refused_with_the_field_named_and_nothing_stored(
    client: TestClient, admin: dict[str, str], fields: dict[str, Any], bad_field: str
) -> None:
    response = client.post(TEAMS, json=new_team(**fields), headers=admin)

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert any(error["field"].startswith(bad_field) for error in problem["errors"]), problem
    assert client.get(TEAMS, headers=admin).json()["items"] == []


def test_coordinator_updates_own_team(client: TestClient, make: Factory) -> None:
    team = make.team(buurt_codes=["BU0363AA01"])
    coordinator = make.coordinator(team)

    url = f"{TEAMS}/{team.id}"
    response = client.patch(
        url,
        json={"buurt_codes": ["BU0363AA01", "BU0363AA02"], "contact_name": "Nieuw", "area": SQUARE},
        headers=if_match(client, url, make.auth(coordinator)),
    )

    assert response.status_code == 200
    assert response.json()["version"] == 2
    assert response.headers["ETag"] == '"2"'
    assert response.json()["buurt_codes"] == ["BU0363AA01", "BU0363AA02"]
    assert response.json()["contact_name"] == "Nieuw"
    assert response.json()["name"] == team.name


def test_update_can_clear_optional_fields_but_not_required_ones(
    client: TestClient, make: Factory, admin: dict[str, str]
) -> None:
    team = make.team(contact_name="Iemand", area=SQUARE)

    url = f"{TEAMS}/{team.id}"
    cleared = client.patch(
        url, json={"contact_name": None, "area": None}, headers=if_match(client, url, admin)
    )
    nulled_name = client.patch(url, json={"name": None}, headers=if_match(client, url, admin))

    assert cleared.status_code == 200
    assert cleared.json()["contact_name"] is None
    assert cleared.json()["area"] is None
    assert nulled_name.status_code == 422
    assert client.get(f"{TEAMS}/{team.id}", headers=admin).json()["name"] == team.name


def test_buurt_codes_must_fit_a_changed_municipality(
    client: TestClient, make: Factory, admin: dict[str, str]
) -> None:
    team = make.team(municipality_code="GM0363", buurt_codes=["BU0363AA01"])

    url = f"{TEAMS}/{team.id}"
    response = client.patch(
        url, json={"municipality_code": "GM0599"}, headers=if_match(client, url, admin)
    )

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.buurt_codes"
    assert client.get(f"{TEAMS}/{team.id}", headers=admin).json()["municipality_code"] == "GM0363"


def test_coordinator_cannot_move_team_to_another_municipality(
    client: TestClient, make: Factory
) -> None:
    team = make.team(buurt_codes=[])
    coordinator = make.coordinator(team)

    url = f"{TEAMS}/{team.id}"
    response = client.patch(
        url,
        json={"municipality_code": "GM0599"},
        headers=if_match(client, url, make.auth(coordinator)),
    )

    assert response.status_code == 403


def test_renaming_onto_an_existing_name_conflicts(
    client: TestClient, make: Factory, admin: dict[str, str]
) -> None:
    make.team(name="Noord")
    south = make.team(name="Zuid")

    url = f"{TEAMS}/{south.id}"
    response = client.patch(url, json={"name": "Noord"}, headers=if_match(client, url, admin))

    assert response.status_code == 409


def test_deleting_a_team_removes_its_memberships(
    client: TestClient, make: Factory, admin: dict[str, str]
) -> None:
    team = make.team()
    member = make.member(team)

    assert client.delete(f"{TEAMS}/{team.id}", headers=admin).status_code == 204

    assert client.get(f"{TEAMS}/{team.id}", headers=admin).status_code == 404
    me = client.get("/api/v1/me", headers=make.auth(member)).json()
    assert me["teams"] == []


def test_teams_are_paged_with_a_cursor(
    client: TestClient, make: Factory, admin: dict[str, str], clock: Any
) -> None:
    created = []
    for _ in range(5):
        created.append(str(make.team().id))
        clock.advance(seconds=1)
    extra_same_time = [str(make.team().id), str(make.team().id)]  # ties on created_at

    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get(TEAMS, params=params, headers=admin).json()
        seen += [team["id"] for team in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break

    assert seen[:5] == created
    assert sorted(seen[5:]) == sorted(extra_same_time)
    assert pages == 4


@pytest.mark.parametrize("cursor", ["garbage", "eyJ4IjoxfQ", "W10", "!!"])
def test_a_cursor_that_was_not_handed_out_is_a_422(
    client: TestClient, admin: dict[str, str], cursor: str
) -> None:
    response = client.get(TEAMS, params={"cursor": cursor}, headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.cursor"


@pytest.mark.parametrize("limit", [0, -1, 201, "many"])
def test_limit_out_of_range_is_a_422(client: TestClient, admin: dict[str, str], limit: Any) -> None:
    assert client.get(TEAMS, params={"limit": limit}, headers=admin).status_code == 422


def test_text_is_stored_verbatim(client: TestClient, admin: dict[str, str]) -> None:
    name = "<script>alert('x')</script> '; DROP TABLE teams; -- Ünïcødé"

    created = client.post(TEAMS, json=new_team(name=name), headers=admin)

    assert created.status_code == 201
    assert client.get(f"{TEAMS}/{created.json()['id']}", headers=admin).json()["name"] == name


class TestMembers:
    def test_coordinator_adds_a_volunteer_with_cpr_and_responder_details(
        self, client: TestClient, make: Factory, clock: Any
    ) -> None:
        team = make.team()
        coordinator = make.coordinator(team)
        volunteer = make.user(email="piet@example.nl")

        response = client.post(
            f"{TEAMS}/{team.id}/members",
            json={
                "email": "Piet@example.nl",
                "team_role": "member",
                "cpr_valid_until": "2026-03-01",
                "citizen_responder": True,
            },
            headers=make.auth(coordinator),
        )

        assert response.status_code == 201
        member = response.json()
        assert member["user_id"] == str(volunteer.id)
        assert member["email"] == "piet@example.nl"
        assert member["cpr_valid_until"] == "2026-03-01"
        assert member["cpr_valid"] is False  # the clock stands at 2026-03-02
        assert member["citizen_responder"] is True
        me = client.get("/api/v1/me", headers=make.auth(volunteer)).json()
        assert me["teams"][0]["team_role"] == "member"

    def test_adding_twice_conflicts(
        self, client: TestClient, make: Factory, admin: dict[str, str]
    ) -> None:
        team = make.team()
        member = make.member(team)

        response = client.post(
            f"{TEAMS}/{team.id}/members", json={"email": member.email}, headers=admin
        )

        assert response.status_code == 409

    @pytest.mark.parametrize("role", [UserRole.admin, UserRole.partner])
    def test_an_account_that_is_no_volunteer_answers_as_an_unknown_address(
        self, client: TestClient, make: Factory, role: UserRole
    ) -> None:
        team = make.team()
        coordinator = make.auth(make.coordinator(team))
        account = make.user(role)
        switched_off = make.user()
        with transaction(make.app.state.engine) as session:
            stored = session.get(User, switched_off.id)
            assert stored is not None
            stored.is_active = False

        def add(email: str) -> dict[str, Any]:
            response = client.post(
                f"{TEAMS}/{team.id}/members", json={"email": email}, headers=coordinator
            )
            assert response.status_code == 422
            body: dict[str, Any] = response.json()
            return body

        unknown = add("nobody@example.nl")
        assert unknown["type"] == "urn:buurtplus:problem:unknown-account"
        assert unknown["errors"][0]["field"] == "body.email"
        assert add(account.email) == unknown
        assert add(switched_off.email) == unknown

    def test_a_coordinator_cannot_add_a_volunteer_of_another_team(
        self, client: TestClient, make: Factory, admin: dict[str, str]
    ) -> None:
        ours, theirs = make.team(), make.team()
        volunteer = make.member(theirs)

        response = client.post(
            f"{TEAMS}/{ours.id}/members",
            json={"email": volunteer.email},
            headers=make.auth(make.coordinator(ours)),
        )

        assert response.status_code == 409
        assert response.json()["type"] == "urn:buurtplus:problem:in-another-team"
        me = client.get("/api/v1/me", headers=make.auth(volunteer)).json()
        assert [t["team_id"] for t in me["teams"]] == [str(theirs.id)]
        # At the volunteer's request an admin adds them to the second team.
        joined = client.post(
            f"{TEAMS}/{ours.id}/members", json={"email": volunteer.email}, headers=admin
        )
        assert joined.status_code == 201

    def test_member_updates_own_cpr_date_but_not_own_role(
        self, client: TestClient, make: Factory
    ) -> None:
        team = make.team()
        member = make.member(team)
        url = f"{TEAMS}/{team.id}/members/{member.id}"

        own = client.patch(
            url,
            json={"cpr_valid_until": "2027-05-01", "citizen_responder": True},
            headers=if_match(client, url, make.auth(member)),
        )
        promote = client.patch(
            url, json={"team_role": "coordinator"}, headers=if_match(client, url, make.auth(member))
        )

        assert own.status_code == 200
        assert own.json()["cpr_valid"] is True
        assert promote.status_code == 403
        assert client.get(url, headers=make.auth(member)).json()["team_role"] == "member"

    def test_coordinator_promotes_and_removes_members(
        self, client: TestClient, make: Factory
    ) -> None:
        team = make.team()
        coordinator = make.coordinator(team)
        member = make.member(team)
        url = f"{TEAMS}/{team.id}/members/{member.id}"

        promoted = client.patch(
            url,
            json={"team_role": "coordinator"},
            headers=if_match(client, url, make.auth(coordinator)),
        )
        removed = client.delete(url, headers=make.auth(coordinator))

        assert promoted.json()["team_role"] == TeamRole.coordinator
        assert removed.status_code == 204
        assert client.get(url, headers=make.auth(coordinator)).status_code == 404

    def test_members_list_is_paged(
        self, client: TestClient, make: Factory, admin: dict[str, str]
    ) -> None:
        team = make.team()
        members = {str(make.member(team).id) for _ in range(3)}

        first = client.get(f"{TEAMS}/{team.id}/members", params={"limit": 2}, headers=admin)
        second = client.get(
            f"{TEAMS}/{team.id}/members",
            params={"limit": 2, "cursor": first.json()["next_cursor"]},
            headers=admin,
        )

        ids = [m["user_id"] for m in first.json()["items"] + second.json()["items"]]
        assert set(ids) == members
        assert len(ids) == 3
        assert second.json()["next_cursor"] is None


def test_a_name_with_a_line_break_is_refused(
    client: TestClient, make: Factory, team: Team, coordinator: User
) -> None:
    # A team's name heads its patrol calendar, where a line break would start a new line.
    url = f"/api/v1/teams/{team.id}"
    response = client.patch(
        url,
        json={"name": "Oost\r\nEND:VCALENDAR"},
        headers=if_match(client, url, make.auth(coordinator)),
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body.name"


def test_me_shows_every_team_of_a_volunteer_by_name_with_its_role(
    client: TestClient, make: Factory
) -> None:
    zuid = make.team(name="Zuid", plus_mode=True)
    noord = make.team(name="Avenhorn-Noord")
    volunteer = make.member(zuid, team_role=TeamRole.coordinator)
    make.member(noord, user=volunteer)

    me = client.get("/api/v1/me", headers=make.auth(volunteer)).json()

    assert me["id"] == str(volunteer.id) and me["email"] == volunteer.email
    assert me["role"] == "volunteer" and me["is_active"] is True
    assert me["teams"] == [
        {
            "team_id": str(noord.id),
            "name": "Avenhorn-Noord",
            "team_role": "member",
            "plus_mode": False,
        },
        {"team_id": str(zuid.id), "name": "Zuid", "team_role": "coordinator", "plus_mode": True},
    ]
    assert (
        client.get("/api/v1/me", headers=make.auth(make.user(UserRole.admin))).json()["teams"] == []
    )
