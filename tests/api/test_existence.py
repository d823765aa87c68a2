"""What is not yours answers as if it did not exist: for every operation of the contract, an
outsider gets the same answer for a real object of someone else as for a random id."""

import json
import re
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

# Published to every signed-in user on purpose: the taxonomy and the partner directory.
PUBLIC = {"code"}


def operations(app: FastAPI) -> list[tuple[str, str, dict[str, Any]]]:
    found = []
    for path, item in app.openapi()["paths"].items():
        for method, operation in item.items():
            if re.search(r"{(\w+)}", path):
                found.append((method, path, operation))
    return found


def example_body(operation: dict[str, Any], app: FastAPI) -> Any:
    content = operation.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    schema = content.get("schema", {})
    ref = schema.get("$ref") or next(
        (s.get("$ref") for s in schema.get("anyOf", []) if "$ref" in s), None
    )
    if ref:
        component = app.openapi()["components"]["schemas"][ref.rsplit("/", 1)[1]]
        examples = component.get("examples") or []
        if examples:
            return examples[0]
    return {}


@pytest.fixture
def outsiders(make: Factory) -> dict[str, User]:
    other_team = make.team(name="Dapperbuurt", plus_mode=True)
    return {
        "volunteer": make.member(other_team),
        "coordinator": make.coordinator(other_team),
        "partner": make.partner_user(make.partner("GGD", kind="ggd")),
    }


def answer(client: TestClient, method: str, path: str, body: Any, headers: dict[str, str]) -> Any:
    response = client.request(
        method.upper(),
        path,
        content=None if body is None else json.dumps(body),
        headers={**headers, "content-type": "application/json"},
    )
    problem = response.json() if response.headers.get("content-type", "").endswith("json") else {}
    return response.status_code, problem.get("type") if isinstance(problem, dict) else None


def test_an_outsider_cannot_tell_someone_elses_object_from_none(
    app: FastAPI,
    client: TestClient,
    make: Factory,
    world: dict[str, Any],
    outsiders: dict[str, User],
) -> None:
    leaks = []
    for method, template, operation in operations(app):
        names = re.findall(r"{(\w+)}", template)
        if PUBLIC & set(names):
            continue
        real = template.format(**{name: world["ids"][name] for name in names})
        random = template.format(**{name: str(uuid.uuid4()) for name in names})
        body = example_body(operation, app)
        for role, outsider in outsiders.items():
            headers = make.auth(outsider)
            seen_real = answer(client, method, real, body, headers)
            seen_random = answer(client, method, random, body, headers)
            if seen_real != seen_random:
                leaks.append(f"{role} {method.upper()} {template}: {seen_real} vs {seen_random}")
    assert leaks == []
