"""The interactive docs in a real headless browser, on a machine with no internet."""

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.server import demo_server

BROWSER = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("BUURTPLUS_REQUIRE_BROWSER") == "1"

pytestmark = pytest.mark.skipif(
    BROWSER is None and not REQUIRED,
    reason="no chromium here; CI installs it and sets BUURTPLUS_REQUIRE_BROWSER=1",
)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with demo_server(f"sqlite:///{tmp_path_factory.mktemp('docs') / 'demo.db'}") as base:
        yield base


def render(url: str, profile: Path) -> str:
    assert BROWSER is not None, "chromium is required (BUURTPLUS_REQUIRE_BROWSER=1)"
    result = subprocess.run(
        [
            BROWSER,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            # Anything not on loopback fails at once, as it would on an offline machine.
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--virtual-time-budget=15000",
            "--dump-dom",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


def test_swagger_ui_renders_every_operation_offline(server: str, tmp_path: Path) -> None:
    dom = render(f"{server}/docs", tmp_path / "profile")

    assert "swagger-ui" in dom
    assert "Buurtpreventie Plus" in dom  # the title, read from /openapi.json
    for path in ("/api/v1/auth/token", "/api/v1/teams/{team_id}/members", "/api/v1/me"):
        assert path in dom, path
    assert "Failed to load API definition" not in dom


def test_redoc_renders_offline(server: str, tmp_path: Path) -> None:
    dom = render(f"{server}/redoc", tmp_path / "profile")

    assert "Buurtpreventie Plus" in dom
    assert "List the teams you may see" in dom
