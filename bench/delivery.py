"""Webhook delivery: deliveries per second to a local receiver, and end-to-end latency from a
reported signal to the partner's receiver (median and p99). Part of `make bench`."""

import json
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.__main__ import cli, demo_env, free_port
from bench.report import Budget, Row


class Arrivals:
    def __init__(self) -> None:
        self.by_signal: dict[str, float] = {}
        self.times: list[float] = []
        self.lock = threading.Lock()


def start_receiver(arrivals: Arrivals) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            now = time.perf_counter()
            data = json.loads(body).get("data", {})
            with arrivals.lock:
                arrivals.times.append(now)
                if "signal_id" in data:
                    arrivals.by_signal.setdefault(data["signal_id"], now)
            self.send_response(204)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        # socketserver's default listen backlog is 5: a worker sending several deliveries at
        # once would see connections dropped and retried a second later, as no real receiver
        # behind a web server does.
        request_queue_size = 128
        daemon_threads = True

    server = Server(("127.0.0.1", free_port()), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def wait_for(condition: Any, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


RATE = 50  # reports per second while end-to-end latency is measured


def run(signals: int = 300, backlog: int = 2000, database_url: str | None = None) -> list[Row]:
    arrivals = Arrivals()
    rows: list[Row] = []
    receiver = start_receiver(arrivals)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'delivery.db'}"
        port = free_port()
        env = demo_env(
            url,
            BUURTPLUS_DEMO_RECEIVER_URL=f"http://127.0.0.1:{receiver.server_address[1]}/hooks",
            BUURTPLUS_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8",
        )
        cli("db", "upgrade", env=env)
        cli("demo", "seed", env=env)
        server = subprocess.Popen(
            [sys.executable, "-m", "buurtplus", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            wait_for(lambda: len(arrivals.by_signal) >= 2, 30)  # the demo's own signals
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "member@demo.local", "password": "demo"},
            ).json()["access_token"]
            headers = {"Authorization": f"Bearer {token}"}
            started: dict[str, float] = {}

            first = time.perf_counter() + 0.5
            answered: list[float] = []

            # One client for all reporters, its connections kept: a client made per report
            # (httpx.post) costs milliseconds of this process's CPU, which showed up as the
            # server's latency at 50 reports per second.
            client = httpx.Client(limits=httpx.Limits(max_connections=16))

            def report(n: int) -> None:
                # A steady RATE reports per second, each at its own moment.
                time.sleep(max(0.0, first + n / RATE - time.perf_counter()))
                begin = time.perf_counter()
                response = client.post(
                    f"{base}/api/v1/signals",
                    headers=headers,
                    json={
                        "category": "public_space",
                        "description": f"Benchmark signal {n}",
                        "buurt_code": "BU0363MA01",
                    },
                    timeout=30,
                )
                started[response.json()["id"]] = begin
                answered.append(time.perf_counter() - begin)

            # Reporters at a steady rate, as on a busy evening.
            with client, ThreadPoolExecutor(16) as pool:
                list(pool.map(report, range(signals)))
            wait_for(lambda: all(s in arrivals.by_signal for s in started), 120)
            latencies = sorted(
                arrivals.by_signal[s] - t for s, t in started.items() if s in arrivals.by_signal
            )
            quantiles = statistics.quantiles(latencies, n=100)
            answers = statistics.quantiles(answered, n=100)
            print(
                f"{'report answered (201)':<28} p50 {answers[49] * 1000:7.1f} ms   "
                f"p99 {answers[98] * 1000:7.1f} ms   at {RATE} signals/s"
            )
            print(
                f"{'signal -> partner receiver':<28} {len(latencies)} of {signals} arrived "
                f"({RATE} signals/s)   "
                f"p50 {statistics.median(latencies) * 1000:7.1f} ms   "
                f"p99 {quantiles[98] * 1000:7.1f} ms"
            )
            database = url.split(":", 1)[0].split("+", 1)[0]
            rows += [
                Row(
                    f"report answered (201) at a steady {RATE}/s",
                    database,
                    len(answered),
                    "reports",
                    p50_ms=answers[49] * 1000,
                    p99_ms=answers[98] * 1000,
                    budget=Budget(p99_ms=100),
                ),
                Row(
                    f"report → partner's receiver at a steady {RATE}/s",
                    database,
                    len(latencies),
                    f"of {signals} arrived",
                    p50_ms=statistics.median(latencies) * 1000,
                    p99_ms=quantiles[98] * 1000,
                    budget=Budget(p99_ms=1000, at_least=signals),
                ),
            ]
        finally:
            server.terminate()
            server.wait(timeout=30)

        # Throughput: a backlog queued while no worker ran, then one worker process drains it.
        subprocess.run([sys.executable, "-c", QUEUE_BACKLOG, str(backlog)], env=env, check=True)
        before = len(arrivals.times)
        worker = subprocess.Popen(
            [sys.executable, "-m", "buurtplus", "worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for(lambda: len(arrivals.times) >= before + backlog, 600)
        finally:
            worker.terminate()
            worker.wait(timeout=60)
        times = arrivals.times[before:]
        elapsed = times[-1] - times[0] if len(times) > 1 else float("nan")
        print(
            f"{'deliveries (1 worker, 4 thr)':<28} {len(times) / elapsed:8.0f} deliveries/s   "
            f"{len(times)} of {backlog} delivered in {elapsed:.1f} s"
        )
        rows.append(
            Row(
                "webhook deliveries, one `buurtplus worker`",
                url.split(":", 1)[0].split("+", 1)[0],
                len(times) / elapsed,
                "deliveries/s",
                budget=Budget(at_least=300),
                note=f"backlog of {backlog}",
            )
        )
    receiver.shutdown()
    return rows


QUEUE_BACKLOG = """
import sys
from sqlmodel import select
from buurtplus.core.clock import SystemClock
from buurtplus.config import get_settings
from buurtplus.core.db import make_engine, transaction
from buurtplus.outbox.events import enqueue_event
from buurtplus.outbox.models import EventType
from buurtplus.domain.partners.models import Partner

engine = make_engine(get_settings().database_url)
with transaction(engine) as session:
    partner = session.exec(select(Partner).where(Partner.kind == "gemeente")).one()
    for n in range(int(sys.argv[1])):
        enqueue_event(
            session,
            partner_id=partner.id,
            type_=EventType.signal_updated,
            data={"bench": n},
            clock=SystemClock(),
        )
"""


if __name__ == "__main__":
    run()
