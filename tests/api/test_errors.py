"""Every error is problem+json; size limits, CORS and request ids hold for every route."""

from collections.abc import Iterator

from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from tests.conftest import CORS_ORIGIN
from tests.fixtures.factories import Factory


def test_unknown_path_is_a_404_problem(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")

    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json() == {
        "type": "urn:buurtplus:problem:not-found",
        "title": "Not Found",
        "status": 404,
        "instance": "/api/v1/nothing-here",
    }


def test_wrong_method_is_a_405_problem(client: TestClient) -> None:
    response = client.put("/api/v1/teams")

    assert response.status_code == 405
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:buurtplus:problem:method-not-allowed"
    assert "GET" in response.headers["allow"]


def test_malformed_json_is_a_422_problem(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    response = client.post(
        "/api/v1/teams", content=b'{"name": ', headers={**admin, "Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["type"] == "urn:buurtplus:problem:validation-error"
    assert response.json()["errors"]


def test_bad_path_id_is_a_422_naming_the_parameter(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    response = client.get("/api/v1/teams/not-a-uuid", headers=admin)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "path.team_id"


def test_declared_oversized_body_is_a_413_problem(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    big = b'{"name": "' + b"x" * 1_100_000 + b'"}'

    response = client.post(
        "/api/v1/teams", content=big, headers={**admin, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:buurtplus:problem:body-too-large"
    assert client.get("/api/v1/teams", headers=admin).json()["items"] == []


def test_streamed_oversized_body_is_a_413_problem(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))

    def chunks() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(20):
            yield b"x" * 100_000
        yield b'", "municipality_code": "GM0363"}'

    response = client.post(
        "/api/v1/teams", content=chunks(), headers={**admin, "Content-Type": "application/json"}
    )

    assert response.status_code == 413
    assert client.get("/api/v1/teams", headers=admin).json()["items"] == []


def test_cors_preflight_allows_configured_origin_only(client: TestClient) -> None:
    def preflight(origin: str):  # type: ignore[no-untyped-def]
        return client.options(
            "/api/v1/teams",
            headers={
                "Origin": origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "authorization,content-type",
            },
        )

    allowed = preflight(CORS_ORIGIN)
    refused = preflight("https://evil.example")

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == CORS_ORIGIN
    assert "access-control-allow-origin" not in refused.headers


def test_cors_headers_on_errors_too(client: TestClient) -> None:
    response = client.get("/api/v1/me", headers={"Origin": CORS_ORIGIN})
    assert response.status_code == 401
    assert response.headers["access-control-allow-origin"] == CORS_ORIGIN
    # A browser client reads every header the contract declares on a response.
    exposed = {h.strip() for h in response.headers["access-control-expose-headers"].split(",")}
    assert {"ETag", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed"} <= exposed


def test_request_id_is_echoed_or_made(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    made = client.get("/healthz")
    hostile = client.get("/healthz", headers={"X-Request-ID": "a" * 100})

    assert given.headers["x-request-id"] == "abc-123"
    assert len(made.headers["x-request-id"]) == 32
    assert hostile.headers["x-request-id"] != "a" * 100


def test_nul_characters_are_refused_not_a_server_error(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))

    in_body = client.post(
        "/api/v1/teams", json={"name": "a\x00b", "municipality_code": "GM0363"}, headers=admin
    )
    in_query = client.get("/api/v1/audit-events?action=a%00b", headers=admin)

    assert in_body.status_code == 422
    assert in_query.status_code == 422
    assert client.get("/api/v1/teams", headers=admin).json()["items"] == []
