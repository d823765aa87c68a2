"""Request bodies are read strictly: the contract says boolean or number, so a string or 0/1
is refused with a 422 problem, never taken as a guess."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from buurtplus.api.schemas.common import InputModel
from buurtplus.core.actor import UserRole
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory


def test_a_boolean_or_number_in_another_type_is_refused(client: TestClient, make: Factory) -> None:
    partner = make.partner()
    person = make.auth(make.partner_user(partner))
    endpoints = f"/api/v1/partners/{partner.id}/endpoints"
    hook = {"url": "https://zaken.example.nl/hook"}

    as_number = client.post(endpoints, json={**hook, "enabled": 0}, headers=person)
    as_string = client.post(endpoints, json={**hook, "enabled": "false"}, headers=person)
    created = client.post(endpoints, json={**hook, "enabled": False}, headers=person)
    rotate = f"{endpoints}/{created.json()['id']}/rotate-secret"
    hours_as_string = client.post(rotate, json={"grace_hours": "2"}, headers=person)
    hours_as_boolean = client.post(rotate, json={"grace_hours": True}, headers=person)
    hours = client.post(rotate, json={"grace_hours": 2}, headers=person)

    for refused, field in (
        (as_number, "body.enabled"),
        (as_string, "body.enabled"),
        (hours_as_string, "body.grace_hours"),
        (hours_as_boolean, "body.grace_hours"),
    ):
        assert refused.status_code == 422
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:buurtplus:problem:validation-error"
        assert [e["field"] for e in refused.json()["errors"]] == [field]
    assert created.status_code == 201
    assert created.json()["enabled"] is False
    assert hours.status_code == 200
    listed = client.get(endpoints, headers=person).json()["items"]
    assert [e["id"] for e in listed] == [created.json()["id"]]


@pytest.mark.parametrize(
    ("field", "value"),
    [("priority", "1"), ("priority", 1.5), ("ack_minutes", "60"), ("ack_minutes", True)],
)
def test_integers_are_json_integers(
    client: TestClient, make: Factory, field: str, value: Any
) -> None:
    partner = make.partner()
    admin = make.auth(make.user(UserRole.admin))
    rule = {"name": "Alles", "partner_id": str(partner.id), field: value}

    response = client.post("/api/v1/routing/rules", json=rule, headers=admin)

    assert response.status_code == 422
    assert [e["field"] for e in response.json()["errors"]] == [f"body.{field}"]


def _loose_scalars(node: Any, path: tuple[str, ...] = ()) -> list[str]:
    """Where a request model's validation would coerce a bool, int or float."""
    found: list[str] = []
    if isinstance(node, dict):
        if node.get("type") in ("bool", "int", "float") and not node.get("strict"):
            found.append(".".join(path))
        for key, value in node.items():
            found.extend(_loose_scalars(value, (*path, str(key))))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found.extend(_loose_scalars(value, (*path, str(index))))
    return found


def test_every_boolean_and_number_of_a_request_body_is_strict(client: TestClient) -> None:
    models: list[type[InputModel]] = []
    todo: list[type[InputModel]] = [InputModel]
    while todo:
        for sub in todo.pop().__subclasses__():
            models.append(sub)
            todo.append(sub)
    assert len(models) > 30
    loose = {
        model.__name__: where
        for model in models
        if (where := _loose_scalars(model.__pydantic_core_schema__))
    }
    assert loose == {}


def test_a_body_that_may_be_left_out_is_an_object_when_sent(
    client: TestClient, make: Factory, team: Team, coordinator: User, walker: User
) -> None:
    plan = {
        "team_id": str(team.id),
        "planned_start": "2026-03-06T19:30:00+01:00",
        "planned_end": "2026-03-06T21:30:00+01:00",
    }
    patrol = client.post("/api/v1/patrols", json=plan, headers=make.auth(coordinator)).json()
    url = f"/api/v1/patrols/{patrol['id']}/participants"
    json_null = {**make.auth(walker), "Content-Type": "application/json"}

    as_null = client.post(url, content=b"null", headers=json_null)
    left_out = client.post(url, headers=make.auth(walker))

    assert as_null.status_code == 422
    assert as_null.json()["errors"] == [
        {"field": "body", "message": "Send an object, or no body at all", "type": "null_body"}
    ]
    assert left_out.status_code == 201
    assert [p["user_id"] for p in left_out.json()["participants"]] == [str(walker.id)]
