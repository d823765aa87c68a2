"""`buurtplus serve --workers N`: several server processes on one port, on PostgreSQL."""

import asyncio
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from buurtplus.core.db import make_engine
from tests.fixtures.databases import fresh_postgres_database, postgres_base_url
from tests.fixtures.server import demo_server, run_cli


def test_several_server_processes_need_postgresql(tmp_path: Path) -> None:
    env = {"BUURTPLUS_DATABASE_URL": f"sqlite:///{tmp_path / 'one.db'}", "BUURTPLUS_DEMO": "true"}
    result = run_cli("serve", "--workers", "2", env=env)
    assert result.returncode == 2
    assert "need PostgreSQL" in result.stderr


async def _reports(base: str, count: int) -> list[int]:
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        token = (
            await client.post(
                "/api/v1/auth/token", data={"username": "member@demo.local", "password": "demo"}
            )
        ).json()["access_token"]

        async def report(n: int) -> int:
            response = await client.post(
                "/api/v1/signals",
                headers={"Authorization": f"Bearer {token}"},
                json={
                    "category": "public_space",
                    "description": f"Lamp {n} kapot",
                    "postcode": "1091AB",
                },
            )
            return response.status_code

        return list(await asyncio.gather(*[report(n) for n in range(count)]))


@pytest.mark.skipif(not postgres_base_url(), reason="several server processes need PostgreSQL")
def test_two_server_processes_share_the_port_and_each_runs_its_delivery_worker() -> None:
    base_url = postgres_base_url()
    assert base_url is not None
    url = fresh_postgres_database(base_url, "workers")
    with demo_server(url, "--workers", "2", BUURTPLUS_LOG_LEVEL="WARNING") as base:
        assert asyncio.run(_reports(base, 20)) == [201] * 20
        engine = make_engine(url)
        try:
            deadline = time.monotonic() + 30
            while True:
                with engine.connect() as connection:
                    listening = connection.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity"
                            " WHERE datname = current_database() AND query LIKE 'LISTEN %'"
                        )
                    ).scalar()
                if listening == 2 or time.monotonic() > deadline:
                    break
                time.sleep(0.2)
        finally:
            engine.dispose()
    assert listening == 2
