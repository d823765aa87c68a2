"""Every operation of the contract is reached by its path, whichever module's router serves
it: each router turns away paths outside its routes' literal beginnings before trying their
patterns (`api/module_router.py`), and that must never turn away a path that is its own."""

import re
import uuid

import pytest
from fastapi.testclient import TestClient

OPERATIONS = ("get", "post", "put", "patch", "delete")


def _concrete(template: str) -> str:
    return re.sub(r"\{[^}]+\}", str(uuid.uuid4()), template)


def _route_not_found(response: object) -> bool:
    """FastAPI's own 404 for a path no route has (the domain's 404s name what is missing)."""
    assert hasattr(response, "status_code") and hasattr(response, "json")
    return response.status_code == 404 and "detail" not in response.json()


def test_every_operation_is_reached_by_its_path(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    tried = 0
    for template, item in paths.items():
        for method in OPERATIONS:
            if method not in item:
                continue
            response = client.request(method.upper(), _concrete(template))
            tried += 1
            assert response.status_code != 405, (method, template, response.text)
            assert not _route_not_found(response), (method, template, response.text)
    assert tried > 80


def test_another_method_on_every_path_is_a_405_naming_the_allowed_ones(
    client: TestClient,
) -> None:
    for template, item in client.get("/openapi.json").json()["paths"].items():
        response = client.request("TRACE", _concrete(template))
        assert response.status_code == 405, (template, response.text)
        allowed = set(response.headers["allow"].split(", "))
        assert {m.upper() for m in OPERATIONS if m in item} <= allowed, template


@pytest.mark.parametrize(
    ("asked", "answered"),
    [
        ("/api/v1/signals/", "/api/v1/signals"),
        ("/api/v1/aeds/nearby/", "/api/v1/aeds/nearby"),
        ("/api/v1/me/", "/api/v1/me"),
    ],
)
def test_an_extra_slash_is_redirected_to_the_path_without_it(
    client: TestClient, asked: str, answered: str
) -> None:
    response = client.get(asked, follow_redirects=False)
    assert response.status_code == 307
    assert response.headers["location"].endswith(answered)


def test_a_path_of_no_module_is_a_404(client: TestClient) -> None:
    for path in ("/api/v1/aedsnearby", "/api/v1/signal", "/api/v2/signals", "/aeds/nearby"):
        response = client.get(path)
        assert response.status_code == 404 and _route_not_found(response), path
