"""Two `buurtplus serve` processes behind one (imagined) load balancer share the sign-in
limits through their database."""

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from buurtplus.demo import DEMO_PASSWORD
from tests.fixtures.databases import fresh_postgres_database, postgres_base_url
from tests.fixtures.server import demo_server, serving

BACKENDS = ["sqlite"] + (["postgresql"] if postgres_base_url() else [])


@pytest.fixture(params=BACKENDS)
def two_servers(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'shared.db'}"
    else:
        base = postgres_base_url()
        assert base is not None
        url = fresh_postgres_database(base, "throttle")
    with ExitStack() as stack:
        first = stack.enter_context(demo_server(url, BUURTPLUS_WORKER="off"))
        second = stack.enter_context(serving(url, BUURTPLUS_WORKER="off"))
        yield first, second


def sign_in(base: str, email: str, password: str = DEMO_PASSWORD) -> httpx.Response:
    return httpx.post(
        f"{base}/api/v1/auth/token", data={"username": email, "password": password}, timeout=30
    )


def test_the_login_limit_holds_across_processes_and_spares_other_accounts_at_the_address(
    two_servers: tuple[str, str],
) -> None:
    first, second = two_servers
    # Five wrong guesses, spread over both processes: each saw fewer than the limit.
    for base in (first, second, first, second, first):
        assert sign_in(base, "member@demo.local", "guess").status_code == 400

    for base in (first, second):
        refused = sign_in(base, "member@demo.local")  # the right password, too late
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:buurtplus:problem:too-many-attempts"
        assert 0 < int(refused.headers["Retry-After"]) <= 300
    # Someone else at the same address signs in through either process.
    assert sign_in(second, "coordinator@demo.local").status_code == 200
    assert sign_in(first, "admin@demo.local").status_code == 200
