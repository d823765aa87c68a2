from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from buurtplus.api.answers import check_answers
from buurtplus.config import Settings
from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import make_engine
from buurtplus.main import create_app
from buurtplus.migrate import upgrade
from tests.fixtures.databases import (
    ReferenceData,
    fresh_postgres_database,
    postgres_base_url,
    reference_data,
    reset_tables,
)
from tests.fixtures.factories import Factory

# Every answer written straight to JSON is also built by its model, and must be the same bytes.
check_answers(True)

BACKENDS = ["sqlite"] + (["postgresql"] if postgres_base_url() else [])
TEST_SECRET = "test-secret-that-is-long-enough-0123456789"
CORS_ORIGIN = "https://app.buurtplus.test"


@pytest.fixture(scope="session", params=BACKENDS)
def migrated_database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> tuple[str, ReferenceData]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.db'}"
    else:
        base = postgres_base_url()
        assert base is not None
        url = fresh_postgres_database(base, "suite")
    upgrade(url)
    engine = make_engine(url)
    try:
        return url, reference_data(engine)
    finally:
        engine.dispose()


@pytest.fixture
def clean_database(migrated_database: tuple[str, ReferenceData]) -> str:
    url, reference = migrated_database
    engine = make_engine(url)
    try:
        reset_tables(engine, reference)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 3, 2, 9, 30, tzinfo=UTC))


def make_settings(database_url: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "database_url": database_url,
        "jwt_secret": TEST_SECRET,
        "cors_origins": [CORS_ORIGIN],
        "log_json": False,
        "worker": "off",
        # Cheap hashes: tests make many accounts; production keeps the Argon2 defaults.
        "password_hash_time_cost": 1,
        "password_hash_memory_kib": 1024,
        **overrides,
    }
    return Settings(_env_file=None, **values)  # type: ignore[arg-type]


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return make_settings(clean_database)


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> Iterator[FastAPI]:
    application = create_app(settings, clock=clock)
    yield application
    application.state.engine.dispose()


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def make(app: FastAPI) -> Factory:
    return Factory(app)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return Path(__file__).resolve().parents[1]
