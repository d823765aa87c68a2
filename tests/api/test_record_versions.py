"""Teams, memberships, accounts, categories, partners, webhook endpoints and routing rules are
changed with If-Match, like patrols and AEDs: each answers its version as an ETag, a PATCH
without one is 428, a stale one 412, `*` overwrites, and of two editors who read the same
version exactly one gets through."""

import asyncio
import itertools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from tests.fixtures.databases import fresh_postgres_database, postgres_base_url
from tests.fixtures.factories import Factory
from tests.fixtures.server import demo_server

API = "/api/v1"
PROBLEM = "urn:buurtplus:problem:"
_numbers = itertools.count(1)


def _created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _partner(client: httpx.Client, admin: dict[str, str], n: int) -> dict[str, Any]:
    return _created(
        client.post(
            f"{API}/partners", json={"name": f"Wijkteam {n}", "kind": "wijkteam"}, headers=admin
        )
    )


def _account(client: httpx.Client, admin: dict[str, str], n: int) -> httpx.Response:
    return client.post(
        f"{API}/users",
        json={
            "email": f"versie{n}@example.nl",
            "full_name": f"Vrijwilliger {n}",
            "password": "een lang wachtwoord",
        },
        headers=admin,
    )


def _team(client: httpx.Client, admin: dict[str, str], n: int) -> httpx.Response:
    return client.post(
        f"{API}/teams",
        json={"name": f"Versieteam {n}", "municipality_code": "GM0363"},
        headers=admin,
    )


def _membership(client: httpx.Client, admin: dict[str, str], n: int) -> httpx.Response:
    team = _created(_team(client, admin, n))
    account = _created(_account(client, admin, n))
    return client.post(
        f"{API}/teams/{team['id']}/members", json={"email": account["email"]}, headers=admin
    )


def _category(client: httpx.Client, admin: dict[str, str], n: int) -> httpx.Response:
    return client.post(
        f"{API}/categories",
        json={
            "code": f"versie_{n}",
            "label_nl": "Vuurwerkoverlast",
            "label_en": "Fireworks nuisance",
            "group": "safety",
            "sensitivity": "normal",
            "requires_plus": False,
            "advice_nl": "Gevaarlijk? Bel 112.",
            "advice_en": "Dangerous? Call 112.",
        },
        headers=admin,
    )


def _endpoint(client: httpx.Client, admin: dict[str, str], n: int) -> httpx.Response:
    partner = _partner(client, admin, n)
    return client.post(
        f"{API}/partners/{partner['id']}/endpoints",
        json={"url": "https://zaken.example.nl/hook"},
        headers=admin,
    )


def _rule(client: httpx.Client, admin: dict[str, str], n: int) -> httpx.Response:
    partner = _partner(client, admin, n)
    return client.post(
        f"{API}/routing/rules",
        json={"name": f"Regel {n}", "partner_id": partner["id"]},
        headers=admin,
    )


@dataclass(frozen=True)
class Versioned:
    """A record an admin creates and changes through the API."""

    stale_type: str
    create: Callable[[httpx.Client, dict[str, str], int], httpx.Response]
    url: Callable[[dict[str, Any]], str]
    # The change writer number i makes: one field, a value of its own.
    change: Callable[[int], dict[str, Any]]


RECORDS = {
    "team": Versioned(
        "stale-team",
        _team,
        lambda r: f"{API}/teams/{r['id']}",
        lambda i: {"contact_name": f"Schrijver {i}"},
    ),
    "membership": Versioned(
        "stale-member",
        _membership,
        lambda r: f"{API}/teams/{r['team_id']}/members/{r['user_id']}",
        lambda i: {"cpr_valid_until": f"2027-01-{i + 1:02d}"},
    ),
    "account": Versioned(
        "stale-user",
        _account,
        lambda r: f"{API}/users/{r['id']}",
        lambda i: {"full_name": f"Schrijver {i}"},
    ),
    "category": Versioned(
        "stale-category",
        _category,
        lambda r: f"{API}/categories/{r['code']}",
        lambda i: {"label_en": f"Writer {i}"},
    ),
    "partner": Versioned(
        "stale-partner",
        lambda client, admin, n: client.post(
            f"{API}/partners", json={"name": f"GGD {n}", "kind": "ggd"}, headers=admin
        ),
        lambda r: f"{API}/partners/{r['id']}",
        lambda i: {"contact_name": f"Schrijver {i}"},
    ),
    "webhook endpoint": Versioned(
        "stale-endpoint",
        _endpoint,
        lambda r: f"{API}/partners/{r['partner_id']}/endpoints/{r['id']}",
        lambda i: {"description": f"Schrijver {i}"},
    ),
    "routing rule": Versioned(
        "stale-rule",
        _rule,
        lambda r: f"{API}/routing/rules/{r['id']}",
        lambda i: {"priority": i + 1},
    ),
}


@pytest.fixture
def admin(make: Factory) -> dict[str, str]:
    return make.auth(make.user(UserRole.admin))


@pytest.mark.parametrize("kind", list(RECORDS))
def test_reading_and_creating_answer_the_version_as_etag(
    client: TestClient, admin: dict[str, str], kind: str
) -> None:
    record = RECORDS[kind]

    created = record.create(client, admin, next(_numbers))
    read = client.get(record.url(created.json()), headers=admin)

    assert created.status_code == 201, created.text
    assert created.headers["ETag"] == '"1"'
    assert created.json()["version"] == 1
    assert read.status_code == 200
    assert read.headers["ETag"] == '"1"'
    assert read.json()["version"] == 1


@pytest.mark.parametrize("kind", list(RECORDS))
def test_a_change_needs_the_etag_of_the_current_version(
    client: TestClient, admin: dict[str, str], kind: str
) -> None:
    record = RECORDS[kind]
    url = record.url(_created(record.create(client, admin, next(_numbers))))
    etag = client.get(url, headers=admin).headers["ETag"]
    (field,) = record.change(0)

    missing = client.patch(url, json=record.change(0), headers=admin)
    changed = client.patch(url, json=record.change(1), headers={**admin, "If-Match": etag})
    stale = client.patch(url, json=record.change(2), headers={**admin, "If-Match": etag})
    blind = client.patch(url, json=record.change(3), headers={**admin, "If-Match": "*"})
    now = client.get(url, headers=admin)

    assert missing.status_code == 428
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["type"] == PROBLEM + "precondition-required"
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'
    assert changed.json()["version"] == 2
    assert changed.json()[field] == record.change(1)[field]
    assert stale.status_code == 412
    assert stale.json()["type"] == PROBLEM + record.stale_type
    assert blind.status_code == 200
    assert blind.headers["ETag"] == '"3"'
    # Only the changes made with a current ETag (or `*`) were stored.
    assert now.headers["ETag"] == '"3"'
    assert now.json()[field] == record.change(3)[field]


def test_a_new_signing_secret_is_a_new_version_of_the_endpoint(
    client: TestClient, admin: dict[str, str]
) -> None:
    created = _created(_endpoint(client, admin, next(_numbers)))
    url = RECORDS["webhook endpoint"].url(created)

    rotated = client.post(f"{url}/rotate-secret", headers=admin)
    stale = client.patch(
        url, json={"description": "Zaaksysteem"}, headers={**admin, "If-Match": '"1"'}
    )

    assert rotated.status_code == 200
    assert rotated.headers["ETag"] == '"2"'
    assert rotated.json()["version"] == 2
    assert stale.status_code == 412


def test_lists_carry_each_record_s_version(client: TestClient, admin: dict[str, str]) -> None:
    created = _created(_team(client, admin, next(_numbers)))
    url = RECORDS["team"].url(created)
    client.patch(url, json={"plus_mode": True}, headers={**admin, "If-Match": '"1"'})

    listed = client.get(f"{API}/teams", headers=admin).json()["items"]

    assert [team["version"] for team in listed if team["id"] == created["id"]] == [2]


# --- two editors at once, against a real server -------------------------------------------


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('versions') / 'demo.db'}"
    else:
        base = postgres_base_url()
        if base is None:
            pytest.skip("PostgreSQL: set BUURTPLUS_TEST_DATABASE_URL")
        url = fresh_postgres_database(base, "versions_race")
    with demo_server(url) as base_url:
        yield base_url


EDITORS = 6


def _demo_admin(client: httpx.Client) -> dict[str, str]:
    token = client.post(
        f"{API}/auth/token", data={"username": "admin@demo.local", "password": "demo"}
    ).json()["access_token"]
    return {"Authorization": f"Bearer {token}"}


async def _edit_at_once(
    base: str, url: str, record: Versioned, etag: str, auth: dict[str, str]
) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def edit(i: int) -> int:
            response = await client.patch(
                url, json=record.change(i), headers={**auth, "If-Match": etag}
            )
            return response.status_code

        return list(await asyncio.gather(*[edit(i) for i in range(EDITORS)]))


@pytest.mark.parametrize("kind", list(RECORDS))
def test_of_editors_who_read_the_same_version_exactly_one_gets_through(
    served: str, kind: str
) -> None:
    record = RECORDS[kind]
    with httpx.Client(base_url=served, timeout=60) as client:
        admin = _demo_admin(client)
        created = record.create(client, admin, next(_numbers))
        url = record.url(_created(created))

        codes = asyncio.run(_edit_at_once(served, url, record, created.headers["ETag"], admin))

        assert sorted(codes) == [200] + [412] * (EDITORS - 1)
        now = client.get(url, headers=admin)
        assert now.headers["ETag"] == '"2"'
        (field,) = record.change(0)
        winner = codes.index(200)
        assert now.json()[field] == record.change(winner)[field]


DELETABLE = ["team", "membership", "partner", "webhook endpoint", "routing rule"]


async def _delete_while_editing(
    base: str, url: str, record: Versioned, auth: dict[str, str]
) -> tuple[list[int], list[int]]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def edit(i: int) -> int:
            response = await client.patch(
                url, json=record.change(i), headers={**auth, "If-Match": "*"}
            )
            return response.status_code

        async def delete() -> int:
            return (await client.delete(url, headers=auth)).status_code

        first, second, *edited = await asyncio.gather(
            delete(), delete(), *[edit(i) for i in range(EDITORS)]
        )
        return sorted([first, second]), edited


@pytest.mark.parametrize("kind", DELETABLE)
def test_deletes_racing_edits_delete_once_and_no_one_gets_a_server_error(
    served: str, kind: str
) -> None:
    record = RECORDS[kind]
    with httpx.Client(base_url=served, timeout=60) as client:
        admin = _demo_admin(client)
        url = record.url(_created(record.create(client, admin, next(_numbers))))

        deleted, edited = asyncio.run(_delete_while_editing(served, url, record, admin))

        # A DELETE takes no If-Match: it deletes whatever version is current by then; of two
        # deletes one deletes and the other finds it gone. An edit that comes after finds the
        # record gone (404) or changed under it (412).
        assert deleted == [204, 404]
        assert set(edited) <= {200, 404, 412}, edited
        assert client.get(url, headers=admin).status_code == 404
