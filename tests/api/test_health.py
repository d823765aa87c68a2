from pathlib import Path

from fastapi.testclient import TestClient

from buurtplus.main import create_app
from tests.conftest import make_settings


def test_healthz_and_readyz_answer_ok(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok"}


def test_readyz_is_503_when_migrations_are_not_applied(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'empty.db'}"))
    with TestClient(app) as client:
        response = client.get("/readyz")
        assert client.get("/healthz").status_code == 200
    app.state.engine.dispose()

    assert response.status_code == 503
    assert response.headers["content-type"] == "application/problem+json"
    assert "buurtplus db upgrade" in response.json()["detail"]


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    app = create_app(make_settings(f"sqlite:///{tmp_path / 'missing-dir' / 'x.db'}"))
    with TestClient(app) as client:
        response = client.get("/readyz")
    app.state.engine.dispose()

    assert response.status_code == 503
