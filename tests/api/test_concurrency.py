"""Many writers at once against a real server: queued fairly, never stuck."""

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from tests.fixtures.databases import fresh_postgres_database, postgres_base_url
from tests.fixtures.server import demo_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(f"sqlite:///{tmp_path_factory.mktemp('busy') / 'demo.db'}") as base:
        yield base


async def _burst(base: str, writers: int) -> tuple[list[int], int]:
    limits = httpx.Limits(max_connections=writers)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as client:
        token = (
            await client.post(
                "/api/v1/auth/token", data={"username": "admin@demo.local", "password": "demo"}
            )
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        async def create(n: int) -> int:
            response = await client.post(
                "/api/v1/teams",
                headers=auth,
                json={"name": f"Druk team {n}", "municipality_code": "GM0363"},
            )
            return response.status_code

        async def anonymous(n: int) -> int:
            response = await client.post("/api/v1/teams", json={"name": f"x{n}"})
            return response.status_code

        codes = await asyncio.gather(
            *[create(n) for n in range(writers)], *[anonymous(n) for n in range(writers)]
        )
        health = (await client.get("/healthz")).status_code
        return list(codes), health


def test_more_writers_than_threads_all_get_an_answer(server: str) -> None:
    codes, health = asyncio.run(_burst(server, writers=60))

    assert codes[:60] == [201] * 60
    assert codes[60:] == [401] * 60
    assert health == 200


async def _audited_reads_among_writes(base: str, readers: int) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:

        async def token(email: str) -> dict[str, str]:
            response = await client.post(
                "/api/v1/auth/token", data={"username": email, "password": "demo"}
            )
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        member, admin = await token("member@demo.local"), await token("admin@demo.local")
        signal = (
            await client.post(
                "/api/v1/signals",
                headers=member,
                json={
                    "category": "domestic_violence",
                    "description": "Geschreeuw",
                    "postcode": "1091AB",
                },
            )
        ).json()

        async def read(n: int) -> int:
            return (await client.get(f"/api/v1/signals/{signal['id']}", headers=admin)).status_code

        async def write(n: int) -> int:
            response = await client.post(
                "/api/v1/teams",
                headers=admin,
                json={"name": f"Lees-schrijf {n}", "municipality_code": "GM0363"},
            )
            return response.status_code

        return list(
            await asyncio.gather(
                *[read(n) for n in range(readers)], *[write(n) for n in range(readers)]
            )
        )


def test_audited_reads_and_writes_interleave_without_lock_errors(server: str) -> None:
    codes = asyncio.run(_audited_reads_among_writes(server, readers=30))
    assert codes == [200] * 30 + [201] * 30


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def any_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'demo.db'}"
    else:
        base = postgres_base_url()
        if base is None:
            pytest.skip("PostgreSQL: set BUURTPLUS_TEST_DATABASE_URL")
        url = fresh_postgres_database(base, "reports_burst")
    with demo_server(url) as served:
        yield served


async def _report_burst(base: str) -> tuple[list[httpx.Response], dict[str, str]]:
    """40 different reports at once, and 10 of them sent three times with one Idempotency-Key,
    the way a phone retries on a bad connection."""
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        token = (
            await client.post(
                "/api/v1/auth/token", data={"username": "member@demo.local", "password": "demo"}
            )
        ).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}

        async def report(n: int) -> httpx.Response:
            return await client.post(
                "/api/v1/signals",
                headers={**auth, "Idempotency-Key": f"burst-{n}"},
                json={
                    "category": "loneliness" if n % 2 else "public_space",
                    "description": f"Melding {n}",
                    "postcode": "1091AB",
                },
            )

        numbers = [*range(40), *range(10), *range(10)]
        return list(await asyncio.gather(*[report(n) for n in numbers])), auth


def test_a_burst_of_reports_and_their_racing_retries_stores_each_report_once(
    any_server: str,
) -> None:
    answers, auth = asyncio.run(_report_burst(any_server))

    assert [answer.status_code for answer in answers] == [201] * 60
    ids: dict[str, set[str]] = {}
    for answer in answers:
        body = answer.json()
        ids.setdefault(body["description"], set()).add(body["id"])
    # Every report is one signal, whichever of its copies came first.
    assert sorted(ids) == sorted(f"Melding {n}" for n in range(40))
    assert all(len(signal_ids) == 1 for signal_ids in ids.values())
    assert sum(answer.headers.get("Idempotent-Replayed") == "true" for answer in answers) == 20
    with httpx.Client(base_url=any_server, headers=auth) as client:
        for (signal_id,) in ids.values():
            stored = client.get(f"/api/v1/signals/{signal_id}")
            assert stored.status_code == 200
            assert stored.json()["status"] in ("routed", "unroutable")
            history = client.get(f"/api/v1/signals/{signal_id}/history").json()["items"]
            assert [step["action"] for step in history][:1] == ["submit"]
            assert len(history) == 2
