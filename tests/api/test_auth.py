import base64
import uuid
from typing import Any
from urllib.parse import quote_plus

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from jose import jwt

from buurtplus.config import Settings
from buurtplus.core.actor import TeamRole, UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.main import create_app
from tests.conftest import TEST_SECRET
from tests.fixtures.etags import if_match
from tests.fixtures.factories import PASSWORD, Factory

TOKEN = "/api/v1/auth/token"


def login(client: TestClient, email: str, password: str = PASSWORD, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(TOKEN, data={"username": email, "password": password}, headers=headers)


def test_password_grant_returns_a_bearer_token_that_opens_me(
    client: TestClient, make: Factory
) -> None:
    team = make.team(name="Oosterpark", plus_mode=True)
    user = make.member(team, make.user(email="sanne@example.nl"), TeamRole.coordinator)

    response = login(client, "Sanne@Example.nl")

    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer"
    assert body["expires_in"] == 3600
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {body['access_token']}"})
    assert me.status_code == 200
    assert me.json()["id"] == str(user.id)
    assert me.json()["email"] == "sanne@example.nl"
    assert me.json()["role"] == "volunteer"
    assert me.json()["teams"] == [
        {
            "team_id": str(team.id),
            "name": "Oosterpark",
            "team_role": "coordinator",
            "plus_mode": True,
        }
    ]
    assert "password_hash" not in me.text


def test_wrong_password_and_unknown_account_get_the_same_problem(
    client: TestClient, make: Factory
) -> None:
    make.user(email="known@example.nl")

    wrong = login(client, "known@example.nl", "not the password")
    unknown = login(client, "nobody@example.nl")

    for response in (wrong, unknown):
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["type"] == "urn:buurtplus:problem:invalid-credentials"
        assert response.json()["error"] == "invalid_grant"
    assert wrong.json()["detail"] == unknown.json()["detail"]


def test_deactivated_account_cannot_sign_in(client: TestClient, make: Factory) -> None:
    admin = make.user(UserRole.admin)
    user = make.user()
    url = f"/api/v1/users/{user.id}"
    client.patch(url, json={"is_active": False}, headers=if_match(client, url, make.auth(admin)))

    assert login(client, user.email).status_code == 400


def test_repeated_failures_lock_the_account_for_a_while(
    client: TestClient, make: Factory, clock: FrozenClock
) -> None:
    user = make.user()
    for _ in range(5):
        assert login(client, user.email, "wrong").status_code == 400

    locked = login(client, user.email)  # even the right password is refused now

    assert locked.status_code == 429
    assert locked.headers["content-type"] == "application/problem+json"
    assert locked.json()["type"] == "urn:buurtplus:problem:too-many-attempts"
    assert int(locked.headers["Retry-After"]) == 300

    clock.advance(seconds=299)
    assert login(client, user.email).status_code == 429
    clock.advance(seconds=2)
    assert login(client, user.email).status_code == 200


def test_bad_logins_from_one_address_do_not_lock_out_another_account_there(
    settings: Settings, clock: FrozenClock
) -> None:
    # A community centre's shared connection: one person mistypes (and gets locked), others
    # sign in from the same address; only a run past the per-address limit stops everyone.
    app = create_app(settings.model_copy(update={"login_address_max_failures": 12}), clock=clock)
    make = Factory(app)
    with TestClient(app) as client:
        unlucky, neighbour = make.user(), make.user()
        for _ in range(5):
            assert login(client, unlucky.email, "typo").status_code == 400
        assert login(client, unlucky.email).status_code == 429
        assert login(client, neighbour.email).status_code == 200

        for victim in [make.user() for _ in range(7)]:  # 12 failures from this address now
            assert login(client, victim.email, "guess").status_code == 400
        locked = login(client, neighbour.email)
        assert locked.status_code == 429
        assert int(locked.headers["Retry-After"]) == 300
        with TestClient(app, client=("192.0.2.7", 50000)) as elsewhere:
            assert login(elsewhere, neighbour.email).status_code == 200
    app.state.engine.dispose()


def test_guesses_at_one_account_from_many_addresses_lock_it(
    app: FastAPI, make: Factory, settings: Settings
) -> None:
    user = make.user()
    for n in range(settings.login_account_max_failures):
        # Each address stays under its own limits; together they reach the account's.
        with TestClient(app, client=(f"198.51.100.{n + 1}", 50000)) as client:
            assert login(client, user.email, "guess").status_code == 400

    with TestClient(app, client=("203.0.113.5", 50000)) as client:
        assert login(client, user.email).status_code == 429


def test_failures_outside_the_window_do_not_add_up(
    client: TestClient, make: Factory, clock: FrozenClock
) -> None:
    user = make.user()
    for _ in range(4):
        login(client, user.email, "wrong")
    clock.advance(minutes=16)
    login(client, user.email, "wrong")

    assert login(client, user.email).status_code == 200


def test_expired_token_is_refused(client: TestClient, make: Factory, clock: FrozenClock) -> None:
    user = make.user()
    headers = make.auth(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    clock.advance(minutes=61)
    response = client.get("/api/v1/me", headers=headers)

    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert response.json()["type"] == "urn:buurtplus:problem:unauthenticated"


def test_tampered_and_foreign_tokens_are_refused(client: TestClient, make: Factory) -> None:
    user = make.user()
    admin = make.user(UserRole.admin)
    token = make.token(user)
    header, _payload, signature = token.split(".")
    claims = jwt.get_unverified_claims(token)
    claims["sub"] = str(admin.id)
    forged_payload = jwt.encode(claims, TEST_SECRET, algorithm="HS256").split(".")[1]
    tampered = f"{header}.{forged_payload}.{signature}"
    other_key = jwt.encode(claims, "some-other-secret-of-enough-length", algorithm="HS256")
    unsigned = jwt.encode(claims, "", algorithm="HS256").rsplit(".", 1)[0] + "."

    for bad in (tampered, other_key, unsigned, "not-a-jwt", ""):
        response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {bad}"})
        assert response.status_code == 401, bad
        assert response.json()["type"] == "urn:buurtplus:problem:unauthenticated"


def test_token_for_another_audience_is_refused(client: TestClient, make: Factory) -> None:
    user = make.user()
    claims = jwt.get_unverified_claims(make.token(user))
    claims["aud"] = "some-other-api"
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")

    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401


def test_deactivating_a_user_stops_their_tokens_at_once(client: TestClient, make: Factory) -> None:
    admin = make.user(UserRole.admin)
    user = make.user()
    headers = make.auth(user)
    assert client.get("/api/v1/me", headers=headers).status_code == 200

    url = f"/api/v1/users/{user.id}"
    client.patch(url, json={"is_active": False}, headers=if_match(client, url, make.auth(admin)))

    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_changing_the_password_revokes_earlier_tokens(client: TestClient, make: Factory) -> None:
    admin = make.user(UserRole.admin)
    user = make.user()
    old = make.auth(user)

    url = f"/api/v1/users/{user.id}"
    client.patch(
        url,
        json={"password": "a brand new passphrase"},
        headers=if_match(client, url, make.auth(admin)),
    )

    assert client.get("/api/v1/me", headers=old).status_code == 401
    assert login(client, user.email, "a brand new passphrase").status_code == 200


def test_missing_token_gets_401_problem(client: TestClient) -> None:
    response = client.get("/api/v1/teams")

    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_only_the_password_grant_is_accepted(client: TestClient, make: Factory) -> None:
    user = make.user()
    response = client.post(
        TOKEN, data={"username": user.email, "password": PASSWORD, "grant_type": "implicit"}
    )
    assert response.status_code == 422


def test_an_unsigned_alg_none_token_is_refused(client: TestClient, make: Factory) -> None:
    import base64
    import json

    user = make.user()
    claims = jwt.get_unverified_claims(make.token(user))

    def part(data: dict[str, object]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")

    token = f"{part({'alg': 'none', 'typ': 'JWT'})}.{part(claims)}."
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_reactivating_an_account_does_not_revive_old_tokens(
    client: TestClient, make: Factory
) -> None:
    admin = make.auth(make.user(UserRole.admin))
    user = make.user()
    old = make.auth(user)

    url = f"/api/v1/users/{user.id}"
    client.patch(url, json={"is_active": False}, headers=if_match(client, url, admin))
    client.patch(url, json={"is_active": True}, headers=if_match(client, url, admin))

    assert client.get("/api/v1/me", headers=old).status_code == 401
    assert login(client, user.email).status_code == 200


def test_a_volunteer_made_partner_loses_team_access(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    team = make.team()
    coordinator = make.member(team, team_role=TeamRole.coordinator)

    partner = make.partner()
    url = f"/api/v1/users/{coordinator.id}"
    changed = client.patch(
        url,
        json={"role": "partner", "partner_id": str(partner.id)},
        headers=if_match(client, url, admin),
    )
    token = login(client, coordinator.email).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}

    assert changed.status_code == 200
    assert client.get("/api/v1/me", headers=headers).json()["teams"] == []
    assert client.get("/api/v1/teams", headers=headers).json()["items"] == []
    assert client.get(f"/api/v1/teams/{team.id}", headers=headers).status_code == 404
    assert (
        client.patch(
            f"/api/v1/teams/{team.id}",
            json={"contact_name": "X"},
            headers={**headers, "If-Match": "*"},
        ).status_code
        == 404
    )


def test_parallel_guesses_do_not_slip_past_the_limit(client: TestClient, make: Factory) -> None:
    from concurrent.futures import ThreadPoolExecutor

    user = make.user()
    with ThreadPoolExecutor(max_workers=20) as pool:
        codes = list(pool.map(lambda _: login(client, user.email, "guess").status_code, range(20)))

    assert codes.count(400) <= 5
    assert codes.count(429) >= 15
    assert login(client, user.email).status_code == 429


def test_a_nul_character_in_the_login_is_refused_as_bad_credentials(client: TestClient) -> None:
    response = login(client, "a\x00b@example.nl", "x")
    assert response.status_code == 400


@pytest.mark.parametrize("expiry", [1e20, -1e20, 1e308, 2**63, "soon", True, None])
def test_a_signed_token_whose_expiry_cannot_be_read_is_a_401(
    client: TestClient, make: Factory, expiry: object
) -> None:
    user = make.user()
    claims = jwt.get_unverified_claims(make.token(user))
    claims["exp"] = expiry
    token = jwt.encode(claims, TEST_SECRET, algorithm="HS256")

    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert response.json()["type"] == "urn:buurtplus:problem:unauthenticated"
    # The connection stays usable: the next request on it is answered.
    assert client.get("/api/v1/me", headers=make.auth(user)).status_code == 200


def test_client_credentials_failures_count_per_client_however_its_id_is_written(
    settings: Settings, clock: FrozenClock
) -> None:
    app = create_app(settings.model_copy(update={"login_account_max_failures": 5}), clock=clock)
    make = Factory(app)
    _, issued = issue_client(app, make)
    client_id = uuid.UUID(issued["id"])
    spellings = [
        "{" + str(client_id) + "}",
        f"urn:uuid:{client_id}",
        client_id.hex,
        str(client_id).upper(),
        "-".join(client_id.hex[i : i + 4] for i in range(0, 32, 4)),
    ]

    def attempt(spelling: str, secret: str, address: str) -> int:
        # Each guess from another address, so only the per-client count can stop them.
        with TestClient(app, client=(address, 50000)) as client:
            response = client.post(
                "/api/v1/auth/token",
                data={
                    "grant_type": "client_credentials",
                    "client_id": spelling,
                    "client_secret": secret,
                },
            )
            return response.status_code

    for n, spelling in enumerate(spellings):
        assert attempt(spelling, "wrong", f"192.0.2.{n + 1}") == 400
    assert attempt(str(client_id), issued["client_secret"], "192.0.2.99") == 429
    app.state.engine.dispose()


def issue_client(app: FastAPI, make: Factory) -> tuple[Any, dict[str, Any]]:
    partner = make.partner()
    admin = make.auth(make.user(UserRole.admin))
    with TestClient(app) as client:
        issued = client.post(
            f"/api/v1/partners/{partner.id}/clients", json={"name": "Zaaksysteem"}, headers=admin
        ).json()
    return partner, issued


def basic(client_id: str, secret: str) -> dict[str, str]:
    pair = f"{quote_plus(client_id)}:{quote_plus(secret)}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def test_a_system_client_may_authenticate_with_http_basic(app: FastAPI, make: Factory) -> None:
    partner, issued = issue_client(app, make)
    with TestClient(app) as client:
        response = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(issued["id"], issued["client_secret"]),
        )
        assert response.status_code == 200, response.text
        token = response.json()["access_token"]
        endpoints = client.get(
            f"/api/v1/partners/{partner.id}/endpoints",
            headers={"Authorization": f"Bearer {token}"},
        )
    assert endpoints.status_code == 200


def test_http_basic_with_a_wrong_or_unreadable_secret_is_refused(
    app: FastAPI, make: Factory
) -> None:
    _, issued = issue_client(app, make)
    with TestClient(app) as client:
        wrong = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers=basic(issued["id"], "bpcs_wrong"),
        )
        unreadable = client.post(
            "/api/v1/auth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": "Basic not-base64!"},
        )
        twice = client.post(
            "/api/v1/auth/token",
            data={
                "grant_type": "client_credentials",
                "client_id": issued["id"],
                "client_secret": issued["client_secret"],
            },
            headers=basic(issued["id"], issued["client_secret"]),
        )
    for response in (wrong, unreadable, twice):
        assert response.status_code == 400
        assert response.headers["content-type"] == "application/problem+json"
        assert "access_token" not in response.text
    assert "once" in twice.json()["detail"]


def test_the_contract_names_both_token_flows(client: TestClient) -> None:
    schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    flows = schemes["OAuth2PasswordBearer"]["flows"]
    assert flows["password"]["tokenUrl"] == "/api/v1/auth/token"
    assert flows["clientCredentials"]["tokenUrl"] == "/api/v1/auth/token"
