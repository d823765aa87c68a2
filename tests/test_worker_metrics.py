"""A `buurtplus worker` process serves its own metrics (it answers no API requests)."""

import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.api.test_metrics import BEARER, METRICS_TOKEN, samples, value
from tests.fixtures.server import cli_env, free_port, run_cli


def test_a_worker_serves_its_job_and_outbox_metrics_to_the_token_only(tmp_path: Path) -> None:
    env = {
        "BUURTPLUS_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}",
        "BUURTPLUS_METRICS_TOKEN": METRICS_TOKEN,
    }
    assert run_cli("db", "upgrade", env=env).returncode == 0
    port = free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "buurtplus", "worker", "--metrics-port", str(port)],
        env=cli_env(env),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}/metrics"
    try:
        deadline = time.monotonic() + 60
        while True:  # until the first round of jobs has run
            try:
                response = httpx.get(url, headers=BEARER, timeout=5)
                if value(samples(response.text), "buurtplus_job_runs_total", job="retention"):
                    break
            except httpx.TransportError:
                pass
            assert worker.poll() is None, worker.communicate()
            assert time.monotonic() < deadline, "the worker's metrics did not show its jobs"
            time.sleep(0.3)

        scraped = samples(response.text)
        assert response.headers["content-type"].startswith("text/plain")
        assert value(scraped, "buurtplus_job_runs_total", job="escalation") >= 1
        assert value(scraped, "buurtplus_job_failures_total", job="escalation") == 0
        assert value(scraped, "buurtplus_database_up") == 1
        assert value(scraped, "buurtplus_outbox_pending_deliveries", state="due") == 0
        refused = httpx.get(url, timeout=5)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.json()["type"] == "urn:buurtplus:problem:forbidden"
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def test_a_worker_will_not_serve_metrics_that_anyone_could_read(tmp_path: Path) -> None:
    env = {"BUURTPLUS_DATABASE_URL": f"sqlite:///{tmp_path / 'worker.db'}"}

    result = run_cli("worker", "--metrics-port", str(free_port()), env=env)

    assert result.returncode == 2
    assert "BUURTPLUS_METRICS_TOKEN" in result.stderr
