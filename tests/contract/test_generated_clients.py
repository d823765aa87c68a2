"""The committed contract in the tools integrators use: a Python client generated with
openapi-python-client runs a whole flow against a live server, and TypeScript types generated
with openapi-typescript carry a typed flow through `tsc --strict`."""

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BACKENDS
from tests.fixtures.databases import fresh_postgres_database, postgres_base_url
from tests.fixtures.server import cli_env, demo_server

HERE = Path(__file__).resolve().parent
PACKAGE = "buurtplus_client"


@pytest.fixture(scope="module")
def contract(repo_root: Path) -> Path:
    return repo_root / "openapi" / "openapi.json"


@pytest.fixture(scope="module")
def python_client(contract: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """The generated package's folder, and what the generator printed."""
    out = tmp_path_factory.mktemp("python-client")
    # The generator formats its output with ruff; ours, from this environment.
    path = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    generated = subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(contract),
            "--config",
            str(HERE / "openapi-python-client.yaml"),
            "--meta",
            "none",
            "--output-path",
            str(out / PACKAGE),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, "PATH": path},
        timeout=120,
        check=False,
    )
    printed = generated.stdout + generated.stderr
    assert generated.returncode == 0, printed
    return out, printed


def test_the_python_client_generates_without_a_warning(python_client: tuple[Path, str]) -> None:
    _, printed = python_client
    assert "warning" not in printed.lower(), printed
    assert "unable to" not in printed.lower(), printed


@pytest.fixture(params=BACKENDS)
def live_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'clients.db'}"
    else:
        base = postgres_base_url()
        assert base is not None
        url = fresh_postgres_database(base, "clients")
    with demo_server(url) as base_url:
        yield base_url


def test_a_whole_flow_runs_on_the_generated_python_client(
    python_client: tuple[Path, str], contract: Path, live_server: str
) -> None:
    generated_dir, _ = python_client
    flow = subprocess.run(
        [
            sys.executable,
            str(HERE / "python_client_flow.py"),
            str(generated_dir),
            PACKAGE,
            str(contract),
            live_server,
        ],
        capture_output=True,
        text=True,
        env=cli_env({}),
        timeout=120,
        check=False,
    )
    assert flow.returncode == 0, flow.stderr
    assert '"events": ["signal.routed", "signal.updated", "signal.updated"]' in flow.stdout


# TypeScript: openapi-typescript with its default settings, tsc --strict, exact versions from
# tests/contract/ts/package.json, installed by npm into a temporary folder (no lock file).
REQUIRE_NODE = os.environ.get("BUURTPLUS_REQUIRE_NODE") == "1"


def _node_tools() -> tuple[str, str]:
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        if REQUIRE_NODE:
            pytest.fail("BUURTPLUS_REQUIRE_NODE=1 but node or npm is not installed")
        pytest.skip("Node.js and npm are not installed (CI sets BUURTPLUS_REQUIRE_NODE=1)")
    return node, npm


@pytest.fixture(scope="module")
def typescript_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _, npm = _node_tools()
    project = tmp_path_factory.mktemp("ts")
    for name in ("package.json", "tsconfig.json", "flow.ts"):
        shutil.copy(HERE / "ts" / name, project / name)
    installed = subprocess.run(
        [npm, "install", "--no-package-lock", "--no-audit", "--no-fund", "--ignore-scripts"],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    return project


def test_typescript_types_from_the_contract_carry_a_flow_through_strict_tsc(
    typescript_project: Path, contract: Path
) -> None:
    bin_dir = typescript_project / "node_modules" / ".bin"
    generated = subprocess.run(
        [str(bin_dir / "openapi-typescript"), str(contract), "--output", "schema.d.ts"],
        cwd=typescript_project,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert generated.returncode == 0, generated.stdout + generated.stderr
    compiled = subprocess.run(
        [str(bin_dir / "tsc"), "--project", "tsconfig.json", "--strict"],
        cwd=typescript_project,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert compiled.returncode == 0, compiled.stdout + compiled.stderr
