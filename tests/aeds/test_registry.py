"""The AED registry: who may do what, ETags, validation of opening hours, retiring."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from buurtplus.core.audit.models import AuditEvent
from tests.aeds.conftest import AEDS, IN_DAPPERBUURT, IN_OOSTERPARK, PROBLEM, World
from tests.fixtures.factories import Factory

READERS_OF_PUBLIC = [
    "admin",
    "coordinator_a",
    "member_a",
    "coordinator_b",
    "member_b",
    "loner",
    "maintainer_user",
    "other_partner_user",
]
READERS_OF_RESPONDERS = {"admin", "coordinator_a", "member_a", "maintainer_user"}
MANAGERS_OF_A = {"admin", "coordinator_a"}


def as_(make: Factory, world: World, who: str) -> dict[str, str]:
    return make.auth(getattr(world, who))


@pytest.mark.parametrize("who", READERS_OF_PUBLIC)
def test_who_reads_which_aed(client: TestClient, make: Factory, world: World, who: str) -> None:
    headers = as_(make, world, who)
    public = client.get(f"{AEDS}/{world.public_aed.id}", headers=headers)
    assert public.status_code == 200
    assert public.headers["ETag"] == '"1"'
    responders = client.get(f"{AEDS}/{world.responders_aed.id}", headers=headers)
    assert responders.status_code == (200 if who in READERS_OF_RESPONDERS else 404)
    listed = {a["id"] for a in client.get(AEDS, headers=headers).json()["items"]}
    expected = {str(world.public_aed.id)}
    if who in READERS_OF_RESPONDERS:
        expected.add(str(world.responders_aed.id))
    assert listed == expected


@pytest.mark.parametrize("who", READERS_OF_PUBLIC)
def test_contact_person_only_for_those_who_look_after_it(
    client: TestClient, make: Factory, world: World, who: str
) -> None:
    body = client.get(f"{AEDS}/{world.public_aed.id}", headers=as_(make, world, who)).json()
    sees = who in MANAGERS_OF_A
    assert body["contact_name"] == ("Jan Jansen" if sees else None)
    assert body["may_manage"] is sees
    if who in READERS_OF_RESPONDERS:
        other = client.get(
            f"{AEDS}/{world.responders_aed.id}", headers=as_(make, world, who)
        ).json()
        assert other["contact_name"] == (
            "Els de Vries" if who in MANAGERS_OF_A | {"maintainer_user"} else None
        )


CREATE_OUTCOME = {
    "admin": 201,
    "coordinator_a": 201,
    "member_a": 403,
    "coordinator_b": 422,  # outside their area
    "member_b": 403,
    "loner": 403,
    "maintainer_user": 403,
    "other_partner_user": 403,
}


@pytest.mark.parametrize(("who", "status"), CREATE_OUTCOME.items())
def test_who_registers_an_aed_in_oosterpark(
    client: TestClient, make: Factory, world: World, who: str, status: int
) -> None:
    response = client.post(
        AEDS,
        headers=as_(make, world, who),
        json={**IN_OOSTERPARK, "opening_hours": "Mo-Fr 08:00-18:00", "buurt_code": "BU0363MA01"},
    )
    assert response.status_code == status, response.text
    if status == 201:
        assert response.headers["Location"].endswith(response.json()["id"])
        assert response.json()["source"] == "manual"
    if status == 422:
        assert response.json()["type"] == PROBLEM + "outside-your-area"


@pytest.mark.parametrize("who", READERS_OF_PUBLIC)
def test_who_changes_and_retires(client: TestClient, make: Factory, world: World, who: str) -> None:
    headers = as_(make, world, who)
    changed = client.patch(
        f"{AEDS}/{world.public_aed.id}",
        headers={**headers, "If-Match": '"1"'},
        json={"status": "defective"},
    )
    retired = client.delete(f"{AEDS}/{world.public_aed.id}", headers=headers)
    if who in MANAGERS_OF_A:
        assert changed.status_code == 200
        assert changed.json()["status"] == "defective"
        assert retired.status_code == 204
    else:
        assert changed.status_code == 403
        assert retired.status_code == 403
    on_responders = client.patch(
        f"{AEDS}/{world.responders_aed.id}",
        headers={**headers, "If-Match": '"1"'},
        json={"level": "1"},
    )
    expected = 200 if who in MANAGERS_OF_A else 403 if who in READERS_OF_RESPONDERS else 404
    assert on_responders.status_code == expected


def test_a_coordinator_cannot_move_an_aed_out_of_their_area(
    client: TestClient, make: Factory, world: World
) -> None:
    response = client.patch(
        f"{AEDS}/{world.public_aed.id}",
        headers={**make.auth(world.coordinator_a), "If-Match": '"1"'},
        json=IN_DAPPERBUURT,
    )
    assert response.status_code == 422
    assert response.json()["type"] == PROBLEM + "outside-your-area"


def test_if_match_guards_against_lost_updates(
    client: TestClient, make: Factory, world: World
) -> None:
    headers = make.auth(world.coordinator_a)
    url = f"{AEDS}/{world.public_aed.id}"
    etag = client.get(url, headers=headers).headers["ETag"]
    first = client.patch(url, headers={**headers, "If-Match": etag}, json={"level": "0"})
    assert first.status_code == 200
    assert first.headers["ETag"] == '"2"'
    stale = client.patch(url, headers={**headers, "If-Match": etag}, json={"level": "1"})
    assert stale.status_code == 412
    assert stale.json()["type"] == PROBLEM + "stale-aed"
    unversioned = client.patch(url, headers=headers, json={"level": "1"})
    assert unversioned.status_code == 428
    assert unversioned.json()["type"] == PROBLEM + "precondition-required"
    assert client.get(url, headers=headers).json()["level"] == "0"
    assert client.delete(url, headers={**headers, "If-Match": etag}).status_code == 412


@pytest.mark.parametrize("hours", ["Mo-Fr 25:00-26:00", "elke dag open", "Mo-Fr 08:00-"])
def test_invalid_opening_hours_are_refused_clearly(
    client: TestClient, make: Factory, world: World, hours: str
) -> None:
    response = client.post(
        AEDS, headers=make.auth(world.admin), json={**IN_OOSTERPARK, "opening_hours": hours}
    )
    assert response.status_code == 422
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["type"] == PROBLEM + "invalid-opening-hours"
    assert problem["errors"][0]["field"] == "body.opening_hours"
    assert "24/7" in problem["detail"]


def test_out_of_country_coordinates_and_unknown_fields_are_refused(
    client: TestClient, make: Factory, world: World
) -> None:
    headers = make.auth(world.admin)
    swapped = client.post(AEDS, headers=headers, json={"latitude": 4.92, "longitude": 52.36})
    assert swapped.status_code == 422
    extra = client.post(AEDS, headers=headers, json={**IN_OOSTERPARK, "colour": "green"})
    assert extra.status_code == 422


def test_retired_aeds_leave_lists_but_keep_their_record(
    client: TestClient, make: Factory, world: World
) -> None:
    headers = make.auth(world.admin)
    url = f"{AEDS}/{world.public_aed.id}"
    assert client.delete(url, headers=headers).status_code == 204
    assert client.delete(url, headers=headers).status_code == 204  # again: nothing changes
    ids = {a["id"] for a in client.get(AEDS, headers=headers).json()["items"]}
    assert str(world.public_aed.id) not in ids
    kept = client.get(url, headers=headers).json()
    assert kept["retired_at"] is not None
    assert kept["status"] == "inactive"
    everything = client.get(AEDS, headers=headers, params={"include_retired": "true"}).json()
    assert str(world.public_aed.id) in {a["id"] for a in everything["items"]}
    changed = client.patch(url, headers={**headers, "If-Match": "*"}, json={"level": "1"})
    assert changed.status_code == 422


def test_a_status_change_is_in_the_audit_log(
    client: TestClient, make: Factory, world: World
) -> None:
    client.patch(
        f"{AEDS}/{world.public_aed.id}",
        headers={**make.auth(world.coordinator_a), "If-Match": '"1"'},
        json={"status": "missing"},
    )
    app: Any = client.app
    with Session(app.state.engine) as session:
        events = session.exec(
            select(AuditEvent).where(AuditEvent.object_id == world.public_aed.id)
        ).all()
    update = next(e for e in events if e.action == "aed.update")
    assert update.actor_id == world.coordinator_a.id
    assert update.details["from_status"] == "active"
    assert update.details["to_status"] == "missing"


def test_list_filters(client: TestClient, make: Factory, world: World) -> None:
    make.aed(**IN_DAPPERBUURT, buurt_code="BU0363MB01", status="defective")
    make.aed(latitude=52.3605, longitude=4.9200, opening_hours="Mo-Fr 08:00-09:00")
    headers = make.auth(world.admin)

    def ids(**params: Any) -> int:
        response = client.get(AEDS, headers=headers, params=params)
        assert response.status_code == 200, response.text
        return len(response.json()["items"])

    assert ids() == 4
    assert ids(bbox="4.930,52.360,4.945,52.368") == 1
    assert ids(buurt_code="BU0363MB01") == 1
    assert ids(status="defective") == 1
    assert ids(status=["active", "defective"]) == 4
    # 09:30 UTC on a Monday: the 08:00-09:00 one is closed, the defective one is out.
    assert ids(available_now="true") == 2
    page = client.get(AEDS, headers=headers, params={"limit": 3}).json()
    rest = client.get(
        AEDS, headers=headers, params={"limit": 3, "cursor": page["next_cursor"]}
    ).json()
    assert len(page["items"]) + len(rest["items"]) == 4
    assert rest["next_cursor"] is None
