"""Soak: a long mixed load on the embedded default (SQLite file, in-process worker, demo data).

wrk (in its own process) sends a mix of reports, signal reads, patrol reads and AED lookups for
BUURTPLUS_SOAK_SECONDS (default 600); every report is delivered to a partner receiver in this
process that fails one request in ten. It reports the server's resident memory (RSS) and open
file descriptors before the load, after a warm-up and at the end (both must stay flat), and
checks that no delivery was lost: every routed signal has its event, every event its delivery,
and every delivery has succeeded (the receiver answered 2xx to that webhook-id) or is still
retrying on schedule.

    make soak                                  # the full 10 minutes
    BUURTPLUS_SOAK_SECONDS=20 python -m bench.soak   # a smoke run
"""

import os
import random
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from bench.__main__ import cli, demo_env, free_port
from bench.http import wait_ready, wrk_missing

DEFAULT_SECONDS = 600
CONNECTIONS = 8
FAILURE_RATE = 0.1
# Growth allowed between the warmed-up sample and the end before the soak says "not flat".
RSS_SLACK_MB = 25
FD_SLACK = 8

# Two in ten requests report a signal (a new Idempotency-Key each), three read the
# coordinator's signals, two the member's patrols, three look for the nearest AEDs.
MIX_LUA = """
counter = 0
local member = "Bearer MEMBER"
local coordinator = "Bearer COORDINATOR"
request = function()
  counter = counter + 1
  local n = counter % 10
  if n < 2 then
    local category = (counter % 4 == 0) and "loneliness" or "public_space"
    local body = '{"category":"' .. category .. '","description":"soak ' .. counter ..
      '","location":{"latitude":52.36,"longitude":4.92},"buurt_code":"BU0363MA01"}'
    return wrk.format("POST", "/api/v1/signals", {["Content-Type"] = "application/json",
      ["Authorization"] = member,
      ["Idempotency-Key"] = "soak-" .. math.random(1, 1000000000) .. "-" .. counter}, body)
  elseif n < 5 then
    return wrk.format("GET", "/api/v1/signals?limit=50", {["Authorization"] = coordinator})
  elseif n < 7 then
    return wrk.format("GET", "/api/v1/patrols?limit=20", {["Authorization"] = member})
  else
    return wrk.format("GET", "/api/v1/aeds/nearby?lat=52.3601&lon=4.9215&limit=5",
      {["Authorization"] = member})
  end
end
"""


@dataclass
class Receiver:
    """A partner that fails at random; remembers the webhook-ids it answered 2xx to."""

    failure_rate: float
    accepted: set[str] = field(default_factory=set)
    requests: int = 0
    failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> ThreadingHTTPServer:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                fail = random.random() < receiver.failure_rate
                with receiver.lock:
                    receiver.requests += 1
                    if fail:
                        receiver.failures += 1
                    else:
                        receiver.accepted.add(self.headers["webhook-id"])
                self.send_response(503 if fail else 204)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server


@dataclass(frozen=True)
class Sample:
    at_s: float
    rss_mb: float
    open_fds: int

    def __str__(self) -> str:
        return f"t={self.at_s:6.0f} s  RSS {self.rss_mb:6.1f} MB  open fds {self.open_fds:4d}"


def sample(pid: int, started: float) -> Sample:
    status = Path(f"/proc/{pid}/status").read_text()
    rss_kb = int(status.split("VmRSS:")[1].split()[0])
    return Sample(time.monotonic() - started, rss_kb / 1024, len(os.listdir(f"/proc/{pid}/fd")))


def run_wrk(base: str, lua: str, seconds: int) -> str:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        return subprocess.run(
            ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{seconds}s", "-s", script.name, base],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)


@dataclass(frozen=True)
class DeliveryCheck:
    signals: int
    events: int
    succeeded: int
    retrying: int
    dead: int
    lost: int
    false_success: int

    def __str__(self) -> str:
        return (
            f"{self.signals} signals reported, {self.events} events: {self.succeeded} delivered, "
            f"{self.retrying} still retrying, {self.dead} dead, {self.lost} lost "
            f"({self.false_success} marked delivered without a 2xx at the receiver)"
        )


def check_deliveries(
    database_url: str, *, signals_before: set[uuid.UUID], seq_before: int, accepted: set[str]
) -> DeliveryCheck:
    """Nothing vanished: every signal routed during the soak has its event, every event a
    delivery to the partner's endpoint, and every delivery has succeeded or is retrying."""
    from sqlmodel import col, select

    from buurtplus.core.db import make_engine, transaction
    from buurtplus.domain.signals.models import Signal
    from buurtplus.outbox.models import Delivery, WebhookEvent

    engine = make_engine(database_url)
    try:
        with transaction(engine, write=False) as session:
            routed = {
                signal_id
                for signal_id, partner_id in session.exec(select(Signal.id, Signal.partner_id))
                if partner_id is not None and signal_id not in signals_before
            }
            events = {
                event.id: event
                for event in session.exec(
                    select(WebhookEvent).where(col(WebhookEvent.seq) > seq_before)
                )
            }
            deliveries = list(
                session.exec(select(Delivery).where(col(Delivery.event_seq) > seq_before))
            )
    finally:
        engine.dispose()
    with_event = {e.signal_id for e in events.values() if e.type == "signal.routed"}
    by_seq = {e.seq: e for e in events.values()}
    delivered_events = {d.event_seq for d in deliveries}
    succeeded = [d for d in deliveries if d.status == "succeeded"]
    retrying = [d for d in deliveries if d.status == "pending" and d.next_attempt_at is not None]
    dead = [d for d in deliveries if d.status == "dead"]
    vanished = len(deliveries) - len(succeeded) - len(retrying) - len(dead)
    lost = len(routed - with_event) + len(set(by_seq) - delivered_events) + vanished
    false_success = sum(str(by_seq[d.event_seq].id) not in accepted for d in succeeded)
    return DeliveryCheck(
        signals=len(routed),
        events=len(events),
        succeeded=len(succeeded),
        retrying=len(retrying),
        dead=len(dead),
        lost=lost,
        false_success=false_success,
    )


def wait_for_due_deliveries(database_url: str, timeout: float) -> None:
    """Let the worker send what is due now (retries further out stay pending)."""
    from datetime import UTC, datetime

    from sqlmodel import col, func, select

    from buurtplus.core.db import make_engine, transaction
    from buurtplus.outbox.models import Delivery

    engine = make_engine(database_url)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            with transaction(engine, write=False) as session:
                due = session.exec(
                    select(func.count())
                    .select_from(Delivery)
                    .where(
                        Delivery.status == "pending",
                        col(Delivery.next_attempt_at) <= datetime.now(UTC),
                    )
                ).one()
            if due == 0:
                return
            time.sleep(0.5)
    finally:
        engine.dispose()


def snapshot(database_url: str) -> tuple[set[uuid.UUID], int]:
    from sqlmodel import func, select

    from buurtplus.core.db import make_engine, transaction
    from buurtplus.domain.signals.models import Signal
    from buurtplus.outbox.models import WebhookEvent

    engine = make_engine(database_url)
    try:
        with transaction(engine, write=False) as session:
            signals = set(session.exec(select(Signal.id)))
            seq = session.exec(select(func.max(WebhookEvent.seq))).one() or 0
    finally:
        engine.dispose()
    return signals, int(seq)


def soak_seconds() -> int:
    return int(os.environ.get("BUURTPLUS_SOAK_SECONDS") or DEFAULT_SECONDS)


def run(seconds: int | None = None) -> bool:
    """The soak; True when memory and descriptors stayed flat and no delivery was lost."""
    seconds = seconds or soak_seconds()
    missing = wrk_missing()
    if missing:
        print(f"Soak skipped: {missing}")
        return True
    receiver = Receiver(FAILURE_RATE)
    http_receiver = receiver.start()
    with tempfile.TemporaryDirectory() as tmp:
        url = f"sqlite:///{Path(tmp) / 'soak.db'}"
        env = demo_env(
            url,
            BUURTPLUS_DEMO_RECEIVER_URL=f"http://127.0.0.1:{http_receiver.server_address[1]}/hooks",
            BUURTPLUS_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8",
        )
        cli("db", "upgrade", env=env)
        cli("demo", "seed", env=env)
        port = free_port()
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            [sys.executable, "-m", "buurtplus", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/readyz", server)
            started = time.monotonic()

            def token(email: str) -> str:
                answer = httpx.post(
                    f"{base}/api/v1/auth/token", data={"username": email, "password": "demo"}
                )
                return str(answer.json()["access_token"])

            lua = MIX_LUA.replace("MEMBER", token("member@demo.local")).replace(
                "COORDINATOR", token("coordinator@demo.local")
            )
            signals_before, seq_before = snapshot(url)
            idle = sample(server.pid, started)
            samples: list[Sample] = []
            stop = threading.Event()
            # Warmed up: pools, caches and the worker's threads have reached their size.
            warm_up = min(60.0, seconds / 5)

            def watch() -> None:
                stop.wait(warm_up)
                while not stop.is_set():
                    samples.append(sample(server.pid, started))
                    stop.wait(max(5.0, seconds / 10))

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            out = run_wrk(base, lua, seconds)
            stop.set()
            watcher.join()
            end = sample(server.pid, started)
            wait_for_due_deliveries(url, timeout=60)
            settled = sample(server.pid, started)
            check = check_deliveries(
                url,
                signals_before=signals_before,
                seq_before=seq_before,
                accepted=set(receiver.accepted),
            )
        finally:
            server.terminate()
            server.wait(timeout=30)
            log.close()
            http_receiver.shutdown()
    warm = samples[0] if samples else idle
    rss_growth = end.rss_mb - warm.rss_mb
    fd_growth = end.open_fds - warm.open_fds
    flat = rss_growth <= RSS_SLACK_MB and fd_growth <= FD_SLACK
    requests = out.split("requests in")[0].strip().splitlines()[-1].strip()
    rate = next((line for line in out.splitlines() if "Requests/sec" in line), "").strip()
    errors = next((line for line in out.splitlines() if "Non-2xx" in line), "").strip()
    lines = [
        f"Soak on sqlite (in-process worker): wrk, {CONNECTIONS} connections, {seconds} s, "
        f"mix of reports, signal reads, patrols and AED lookups; {os.cpu_count()} cores",
        f"  load: {requests} requests, {rate}{'; ' + errors if errors else ''}",
        f"  receiver: {receiver.requests} requests, {receiver.failures} answered 503",
        f"  before load     {idle}",
        *(f"  {'warmed up' if n == 0 else 'during':<15} {s}" for n, s in enumerate(samples)),
        f"  end of load     {end}",
        f"  settled         {settled}",
        f"  RSS {rss_growth:+.1f} MB, open fds {fd_growth:+d} from warm-up to end: "
        f"{'flat' if flat else 'GROWING'} (allowed +{RSS_SLACK_MB} MB, +{FD_SLACK} fds)",
        f"  deliveries: {check}",
    ]
    ok = flat and check.lost == 0 and check.false_success == 0
    lines.append(f"  soak {'passed' if ok else 'FAILED'}")
    print("\n".join(lines))
    return ok


if __name__ == "__main__":
    sys.exit(0 if run() else 1)
