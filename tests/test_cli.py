"""The `buurtplus` command as an operator uses it, in real subprocesses."""

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import TEST_SECRET
from tests.fixtures.server import demo_server, run_cli


@pytest.fixture
def db_env(tmp_path: Path) -> dict[str, str]:
    return {"BUURTPLUS_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}


def test_help_lists_the_commands(db_env: dict[str, str]) -> None:
    result = run_cli("--help", env=db_env)
    assert result.returncode == 0
    for command in ("serve", "db", "users", "demo", "openapi"):
        assert command in result.stdout


def test_first_admin_is_created_from_the_command_line(db_env: dict[str, str]) -> None:
    assert run_cli("db", "upgrade", env=db_env).returncode == 0

    created = run_cli(
        "users",
        "create",
        "--email",
        "Beheer@Gemeente.nl",
        "--full-name",
        "Beheer",
        "--password-stdin",
        env=db_env,
        stdin="een sterk wachtwoord\n",
    )
    again = run_cli(
        "users",
        "create",
        "--email",
        "beheer@gemeente.nl",
        "--full-name",
        "Beheer",
        "--password-stdin",
        env=db_env,
        stdin="een sterk wachtwoord\n",
    )
    short = run_cli(
        "users",
        "create",
        "--email",
        "x@gemeente.nl",
        "--full-name",
        "X",
        "--password-stdin",
        env=db_env,
        stdin="kort\n",
    )

    assert created.returncode == 0, created.stderr
    assert "admin beheer@gemeente.nl" in created.stdout
    assert "een sterk wachtwoord" not in created.stdout + created.stderr
    assert again.returncode == 1
    assert "exists already" in again.stderr
    assert short.returncode == 2


def test_demo_seed_only_in_demo_mode_and_only_once(db_env: dict[str, str]) -> None:
    run_cli("db", "upgrade", env=db_env)

    refused = run_cli("demo", "seed", env=db_env)
    seeded = run_cli("demo", "seed", env={**db_env, "BUURTPLUS_DEMO": "true"})
    skipped = run_cli("demo", "seed", env={**db_env, "BUURTPLUS_DEMO": "true"})

    assert refused.returncode == 2
    assert seeded.returncode == 0
    assert "seeded" in seeded.stdout
    assert skipped.returncode == 0
    assert "skipped" in skipped.stdout


def test_serve_refuses_the_default_jwt_secret_outside_demo_mode(db_env: dict[str, str]) -> None:
    result = run_cli("serve", env=db_env)

    assert result.returncode == 2
    assert "BUURTPLUS_JWT_SECRET" in result.stderr


def test_openapi_export_to_stdout_is_the_committed_contract(
    db_env: dict[str, str], repo_root: Path
) -> None:
    result = run_cli("openapi", "export", "--output", "-", env=db_env)
    committed = (repo_root / "openapi" / "openapi.json").read_text(encoding="utf-8")
    assert result.stdout == committed


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    with demo_server(f"sqlite:///{tmp_path / 'demo.db'}") as base:
        yield base


def test_demo_server_serves_real_http_and_accepts_the_demo_logins(server: str) -> None:
    demo_server = server
    for email, role, teams in [
        ("admin@demo.local", "admin", 0),
        ("coordinator@demo.local", "volunteer", 1),
        ("member@demo.local", "volunteer", 1),
        ("partner@demo.local", "partner", 0),
    ]:
        token = httpx.post(
            f"{demo_server}/api/v1/auth/token", data={"username": email, "password": "demo"}
        ).json()["access_token"]
        me = httpx.get(
            f"{demo_server}/api/v1/me", headers={"Authorization": f"Bearer {token}"}
        ).json()
        assert me["role"] == role
        assert len(me["teams"]) == teams

    admin = httpx.post(
        f"{demo_server}/api/v1/auth/token",
        data={"username": "admin@demo.local", "password": "demo"},
    ).json()
    teams = httpx.get(
        f"{demo_server}/api/v1/teams", headers={"Authorization": f"Bearer {admin['access_token']}"}
    ).json()
    assert sorted(t["plus_mode"] for t in teams["items"]) == [False, True]
    assert httpx.get(f"{demo_server}/docs").status_code == 200


def test_settings_file_and_environment_configure_the_service(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        f"BUURTPLUS_DATABASE_URL=sqlite:///{tmp_path / 'from-env-file.db'}\n"
        f"BUURTPLUS_JWT_SECRET={TEST_SECRET}\n"
    )
    result = run_cli("db", "upgrade", env={}, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "from-env-file.db").exists()


def test_serve_refuses_a_short_jwt_secret(db_env: dict[str, str]) -> None:
    result = run_cli("serve", env={**db_env, "BUURTPLUS_JWT_SECRET": "too-short"})
    assert result.returncode == 2
    assert "shorter than 32 bytes" in result.stderr
