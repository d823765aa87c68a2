"""The `make run` demo: a reported signal arrives at the example partner receiver, verified."""

import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from tests.fixtures.server import cli_env, demo_server, free_port


def test_a_newcomer_sees_a_reported_signal_arrive(tmp_path: Path, repo_root: Path) -> None:
    port = free_port()
    receiver = subprocess.Popen(
        [sys.executable, str(repo_root / "examples" / "partner_receiver.py"), "--port", str(port)],
        env=cli_env({}),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines: queue.Queue[str] = queue.Queue()
    assert receiver.stdout is not None
    threading.Thread(
        target=lambda: [lines.put(line) for line in receiver.stdout],
        daemon=True,  # type: ignore[union-attr]
    ).start()

    def wait_for_line(text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=0.5)
            except queue.Empty:
                continue
            if text in line:
                return line
        raise AssertionError(f"the receiver never printed {text!r}")

    try:
        with demo_server(
            f"sqlite:///{tmp_path / 'demo.db'}",
            BUURTPLUS_DEMO_RECEIVER_URL=f"http://127.0.0.1:{port}/webhooks",
            BUURTPLUS_WEBHOOK_ALLOW_NETWORKS=f"127.0.0.1:{port}",
        ) as base:
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={
                    "grant_type": "password",
                    "username": "member@demo.local",
                    "password": "demo",
                },
            ).json()["access_token"]
            response = httpx.post(
                f"{base}/api/v1/signals",
                json={
                    "category": "burglary_risk",
                    "description": "Raam op de begane grond staat de hele nacht open.",
                    "buurt_code": "BU0363MA01",
                },
                headers={"Authorization": f"Bearer {token}"},
            )
            assert response.status_code == 201, response.text
            line = wait_for_line(response.json()["id"])
            assert "/webhooks/wijkagent" in line
            assert "signal.routed" in line
            assert "Raam op de begane grond" in line
    finally:
        receiver.terminate()
        receiver.wait(timeout=10)
