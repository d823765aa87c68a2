"""`buurtplus db backup` and `db restore` as an operator uses them, against a real server."""

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest

from buurtplus.demo import DEMO_PASSWORD
from tests.fixtures.server import demo_server, run_cli, serving


def sign_in(base: str, email: str) -> dict[str, str]:
    response = httpx.post(
        f"{base}/api/v1/auth/token",
        data={"username": email, "password": DEMO_PASSWORD},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


class Reporter(threading.Thread):
    """Reports signals one after another until stopped; remembers each one stored, with when
    its request was sent and when the answer came."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.base, self.headers = base, headers
        self.stored: list[tuple[str, float, float]] = []
        self.error: str | None = None
        self.stop = threading.Event()
        self.more = threading.Condition()

    def run(self) -> None:
        try:
            with httpx.Client(base_url=self.base, headers=self.headers, timeout=30) as client:
                while not self.stop.is_set():
                    sent = time.monotonic()
                    response = client.post(
                        "/api/v1/signals",
                        json={
                            "category": "suspicious_situation",
                            "description": f"Melding {len(self.stored)} tijdens de back-up.",
                            "address": "Dapperstraat 1",
                        },
                    )
                    if response.status_code != 201:
                        self.error = response.text
                        return
                    with self.more:
                        self.stored.append((response.json()["id"], sent, time.monotonic()))
                        self.more.notify_all()
        finally:
            with self.more:
                self.more.notify_all()

    def wait_for(self, count: int) -> None:
        with self.more:
            self.more.wait_for(lambda: len(self.stored) >= count or not self.is_alive(), timeout=60)
            assert len(self.stored) >= count, self.error


def test_a_backup_taken_while_serving_writes_restores_into_a_stopped_service(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'live.db'}"
    env = {"BUURTPLUS_DATABASE_URL": url}
    copy = tmp_path / "backups" / "buurtplus-2026-11-30.db"
    copy.parent.mkdir()

    with demo_server(url) as base:
        reporter = Reporter(base, sign_in(base, "member@demo.local"))
        reporter.start()
        reporter.wait_for(5)
        started = time.monotonic()
        backed_up = run_cli("db", "backup", str(copy), env=env)  # writes go on meanwhile
        ended = time.monotonic()
        reporter.wait_for(len(reporter.stored) + 3)
        reporter.stop.set()
        reporter.join(timeout=60)
        refused = run_cli("db", "restore", str(copy), env=env)

    assert backed_up.returncode == 0, backed_up.stderr
    assert f"Backed up to {copy}" in backed_up.stdout
    assert refused.returncode == 2
    assert "in use" in refused.stderr
    assert "stop every `buurtplus serve`" in refused.stderr
    assert list(copy.parent.iterdir()) == [copy]  # one self-contained file

    restored = run_cli("db", "restore", str(copy), env=env)
    assert restored.returncode == 0, restored.stderr
    assert "Restored" in restored.stdout

    with serving(url) as base:
        headers = sign_in(base, "member@demo.local")
        page = httpx.get(f"{base}/api/v1/signals?limit=200", headers=headers, timeout=30)
        ids = {item["id"] for item in page.json()["items"]}
        # Every signal stored before the backup began is back; none sent after it ended.
        stored_before = [id_ for id_, _, answered in reporter.stored if answered < started]
        sent_after = [id_ for id_, sent, _ in reporter.stored if sent > ended]
        during = [id_ for id_, sent, _ in reporter.stored if started < sent < ended]
        assert during, "no signal was reported while the backup ran"
        assert len(sent_after) >= 3
        assert set(stored_before) <= ids
        assert not ids & set(sent_after)
        first = httpx.get(f"{base}/api/v1/signals/{stored_before[0]}", headers=headers, timeout=30)
        assert first.status_code == 200
        assert first.json()["description"] == "Melding 0 tijdens de back-up."


@pytest.fixture
def migrated(tmp_path: Path) -> dict[str, str]:
    env = {"BUURTPLUS_DATABASE_URL": f"sqlite:///{tmp_path / 'buurtplus.db'}"}
    assert run_cli("db", "upgrade", env=env).returncode == 0
    return env


def test_restore_refuses_a_file_that_is_no_buurtplus_database(
    tmp_path: Path, migrated: dict[str, str]
) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("not a database at all, just some notes " * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("CREATE TABLE recipes (name TEXT)")
    newer = tmp_path / "newer.db"
    assert run_cli("db", "backup", str(newer), env=migrated).returncode == 0
    with sqlite3.connect(newer) as connection:
        connection.execute("UPDATE alembic_version SET version_num = '9999'")

    for path, reason in (
        (text, "is not a buurtplus database"),
        (other, "is not a buurtplus database"),
        (newer, "does not know"),
        (tmp_path / "missing.db", "There is no backup"),
    ):
        result = run_cli("db", "restore", str(path), env=migrated)
        assert result.returncode == 2, path
        assert reason in result.stderr, result.stderr


def test_a_backup_never_overwrites_a_file(tmp_path: Path, migrated: dict[str, str]) -> None:
    existing = tmp_path / "existing.db"
    existing.write_bytes(b"yesterday's backup")

    result = run_cli("db", "backup", str(existing), env=migrated)

    assert result.returncode == 2
    assert "exists already" in result.stderr
    assert existing.read_bytes() == b"yesterday's backup"


@pytest.mark.parametrize("command", ["backup", "restore"])
def test_postgresql_is_pointed_to_its_own_tools(tmp_path: Path, command: str) -> None:
    env = {"BUURTPLUS_DATABASE_URL": "postgresql+psycopg://buurtplus:geheim@db.internal/bp"}

    result = run_cli("db", command, str(tmp_path / "x.dump"), env=env)

    assert result.returncode == 2
    assert "pg_dump" in result.stderr
    assert "pg_restore" in result.stderr
    assert "geheim" not in result.stderr
