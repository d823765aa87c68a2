import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory

USERS = "/api/v1/users"


def test_admin_creates_and_lists_accounts_without_ever_showing_a_hash(
    client: TestClient, make: Factory
) -> None:
    admin = make.auth(make.user(UserRole.admin))

    created = client.post(
        USERS,
        json={
            "email": "Nieuw@Example.nl",
            "full_name": "Nieuwe Vrijwilliger",
            "password": "een lang wachtwoord",
            "role": "volunteer",
        },
        headers=admin,
    )

    assert created.status_code == 201
    assert created.json()["email"] == "nieuw@example.nl"
    assert created.json()["is_active"] is True
    listing = client.get(USERS, headers=admin)
    assert "nieuw@example.nl" in {u["email"] for u in listing.json()["items"]}
    for text in (
        created.text,
        listing.text,
        client.get(f"{USERS}/{created.json()['id']}", headers=admin).text,
    ):
        assert "password" not in text
        assert "argon2" not in text


def test_email_addresses_are_unique_regardless_of_case(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    make.user(email="piet@example.nl")

    response = client.post(
        USERS,
        json={"email": "PIET@example.nl", "full_name": "Piet", "password": "een lang wachtwoord"},
        headers=admin,
    )

    assert response.status_code == 409
    assert response.json()["type"] == "urn:buurtplus:problem:email-taken"


@pytest.mark.parametrize("role", [UserRole.volunteer, UserRole.partner])
def test_only_admins_manage_accounts(client: TestClient, make: Factory, role: UserRole) -> None:
    someone = make.user(role)
    other = make.user()
    headers = make.auth(someone)

    assert client.get(USERS, headers=headers).status_code == 403
    assert client.get(f"{USERS}/{other.id}", headers=headers).status_code == 403
    assert (
        client.patch(f"{USERS}/{other.id}", json={"is_active": False}, headers=headers).status_code
        == 403
    )
    assert (
        client.post(
            USERS,
            json={"email": "x@example.nl", "full_name": "X", "password": "een lang wachtwoord"},
            headers=headers,
        ).status_code
        == 403
    )


def test_admin_cannot_lock_themselves_out(client: TestClient, make: Factory) -> None:
    admin_user = make.user(UserRole.admin)
    admin = make.auth(admin_user)

    url = f"{USERS}/{admin_user.id}"
    deactivate = client.patch(url, json={"is_active": False}, headers=if_match(client, url, admin))
    demote = client.patch(url, json={"role": "volunteer"}, headers=if_match(client, url, admin))

    assert deactivate.status_code == 409
    assert demote.status_code == 409
    assert client.get("/api/v1/me", headers=admin).json()["role"] == "admin"


@pytest.mark.parametrize(
    "body",
    [{"password": "short"}, {"full_name": None}, {"role": "superuser"}, {"is_admin": True}],
)
def test_invalid_account_changes_are_422(
    client: TestClient, make: Factory, body: dict[str, object]
) -> None:
    admin = make.auth(make.user(UserRole.admin))
    user = make.user()

    assert client.patch(f"{USERS}/{user.id}", json=body, headers=admin).status_code == 422


def test_unknown_user_is_404(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    response = client.get(f"{USERS}/00000000-0000-4000-8000-000000000000", headers=admin)
    assert response.status_code == 404
    assert response.json()["type"] == "urn:buurtplus:problem:user-not-found"


def test_concurrent_creation_of_one_address_makes_one_account(
    client: TestClient, make: Factory
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    admin = make.auth(make.user(UserRole.admin))
    body = {"email": "race@example.nl", "full_name": "Race", "password": "een lang wachtwoord"}
    with ThreadPoolExecutor(max_workers=10) as pool:
        codes = list(
            pool.map(lambda _: client.post(USERS, json=body, headers=admin).status_code, range(10))
        )

    assert codes.count(201) == 1
    assert codes.count(409) == 9
