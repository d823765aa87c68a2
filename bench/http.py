"""HTTP throughput and latency under load from wrk, each path as a share of the floor
(bench/floor.py) measured in the same run (before and after the paths, the mean of both).
Load comes from wrk in its own process: Python clients would share the server's cores and
measure themselves."""

import functools
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from bench.__main__ import cli, demo_env, free_port
from bench.delivery import Arrivals, start_receiver
from bench.report import Budget, Row, table
from buurtplus.cli import EVENT_LOOP

DURATION_S = 8
CONNECTIONS = 32

# A report with a fresh Idempotency-Key per request, so every one is a new signal.
INTAKE_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local category = (counter % 2 == 0) and "public_space" or "loneliness"
  local body = '{"category":"' .. category .. '","description":"wrk ' .. counter ..
    '","location":{"latitude":52.36,"longitude":4.92},"buurt_code":"BU0363MA01"}'
  local headers = {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer TOKEN",
    ["Idempotency-Key"] = "wrk-" .. math.random(1, 1000000000) .. "-" .. counter}
  return wrk.format("POST", "/api/v1/signals", headers, body)
end
"""

REPORT = (
    '{"category":"loneliness","description":"wrk",'
    '"location":{"latitude":52.36,"longitude":4.92},"buurt_code":"BU0363MA01"}'
)
ECHO_LUA = f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{REPORT}'
"""

GET_LUA = """
wrk.headers["Authorization"] = "Bearer TOKEN"
"""

# Nearby AEDs from a random point in the Netherlands (the bounding box of bench/aeds.py).
NEARBY_LUA = """
wrk.headers["Authorization"] = "Bearer TOKEN"
request = function()
  local lat = 50.8 + math.random() * 2.65
  local lon = 3.45 + math.random() * 3.7
  return wrk.format("GET", string.format(
    "/api/v1/aeds/nearby?lat=%.5f&lon=%.5f&limit=5&radius_m=2000", lat, lon))
end
"""
NEARBY_AEDS = 100_000
# Stored before the server starts: a region's year or two of reports, for the memory budget.
STORED_SIGNALS = 100_000

# The budgets of the issue (fast under load), by path.
BUDGETS = {
    "GET /healthz": Budget(share=0.70),
    "GET /api/v1/me": Budget(share=0.40),
    "POST /api/v1/signals (intake)": Budget(share=0.20, p99_ms=100),
    "GET /api/v1/signals?limit=50 (coordinator)": Budget(share=0.15, p99_ms=100),
    f"GET /api/v1/aeds/nearby ({NEARBY_AEDS} AEDs)": Budget(share=0.30),
}
RSS_BUDGET_MB = 200


@dataclass(frozen=True)
class Result:
    path: str
    requests_per_s: float
    p50_ms: float
    p99_ms: float
    errors: int


@dataclass(frozen=True)
class Cores:
    """The CPUs the server runs on and those of the load (wrk and the partner's receiver)."""

    server: frozenset[int]
    load: frozenset[int]

    def usable(self) -> int:
        return len(self.server | self.load)


def _listed(cpus: frozenset[int]) -> str:
    return ",".join(map(str, sorted(cpus)))


@functools.cache
def split_cores() -> Cores | None:
    """With two usable CPUs or more (Linux, taskset allowed to pin), the load on the last and
    the server on the others, as clients and partners are on machines of their own: the load
    does not take the server's CPU time, and the floor and the paths are measured alike. These
    are logical CPUs: on a machine with hyper-threads the last may share a core with the
    server's."""
    if not hasattr(os, "sched_getaffinity") or shutil.which("taskset") is None:
        return None
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return None
    cores = Cores(server=frozenset(cpus[:-1]), load=frozenset(cpus[-1:]))
    # A container may refuse to pin: then nothing is.
    if subprocess.run(on_cores(["true"], cores.load), capture_output=True).returncode != 0:
        return None
    return cores


def server_cores() -> frozenset[int] | None:
    cores = split_cores()
    return cores.server if cores else None


def load_cores() -> frozenset[int] | None:
    cores = split_cores()
    return cores.load if cores else None


def on_cores(command: list[str], cpus: frozenset[int] | None) -> list[str]:
    """`command` run on `cpus`, or as it is when there is no split."""
    return ["taskset", "-c", _listed(cpus), *command] if cpus else command


@contextmanager
def threads_on_load_cores() -> Iterator[None]:
    """Threads that the calling thread starts inside run on the load's CPUs (on Linux a new
    thread takes its creator's CPUs), and the threads those start too: the partner's receiver
    and its request threads. The calling thread runs there until the block ends."""
    cpus = load_cores()
    if cpus is None:
        yield
        return
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, cpus)
    try:
        yield
    finally:
        os.sched_setaffinity(0, before)


def wrk_missing() -> str | None:
    if shutil.which("wrk"):
        return None
    return "wrk is not installed: `apt-get install wrk` (Debian/Ubuntu) or `brew install wrk`"


def _ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(
    name: str,
    url: str,
    lua: str,
    token: str = "",
    seconds: int = DURATION_S,
    cores: frozenset[int] | None = None,
) -> Result:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua.replace("TOKEN", token))
    try:
        out = subprocess.run(
            on_cores(
                [
                    "wrk",
                    "-t1",
                    f"-c{CONNECTIONS}",
                    f"-d{seconds}s",
                    "--latency",
                    "-s",
                    script.name,
                    url,
                ],
                cores,
            ),
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    latency = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", out, re.M))
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", out))
    errors += sum(int(n) for n in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    return Result(
        path=name,
        requests_per_s=float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
        p50_ms=_ms(latency["50"]),
        p99_ms=_ms(latency["99"]),
        errors=errors,
    )


def wait_ready(url: str, server: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        if server.poll() is not None:
            raise RuntimeError(f"the server at {url} stopped at start")
        try:
            if httpx.get(url).status_code < 500:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


def measure_floor() -> Result:
    port = free_port()
    server = subprocess.Popen(
        on_cores(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "bench.floor:app",
                # The service's event loop (buurtplus serve).
                "--loop",
                EVENT_LOOP,
                "--port",
                str(port),
                "--log-level",
                "warning",
                "--no-access-log",
            ],
            server_cores(),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_ready(f"http://127.0.0.1:{port}/docs", server)
        return run_wrk(
            "floor: bare FastAPI echo (POST)",
            f"http://127.0.0.1:{port}/echo",
            ECHO_LUA,
            cores=load_cores(),
        )
    finally:
        server.terminate()
        server.wait(timeout=10)


def mean_floor(before: Result, after: Result) -> Result:
    """One floor of two measures: the mean of each figure, both named in the row."""
    return Result(
        path=f"{before.path}: mean of {before.requests_per_s:,.0f} req/s before the paths and "
        f"{after.requests_per_s:,.0f} after",
        requests_per_s=(before.requests_per_s + after.requests_per_s) / 2,
        p50_ms=(before.p50_ms + after.p50_ms) / 2,
        p99_ms=(before.p99_ms + after.p99_ms) / 2,
        errors=before.errors + after.errors,
    )


def measure_service(database_url: str | None) -> tuple[list[Result], int]:
    """The service as `make run` starts it: demo data, the in-process worker delivering to a
    partner's receiver that answers; RSS at the end. (Without a receiver every report's
    deliveries fail and are retried, and the retries take the interpreter from the paths
    measured.)"""
    arrivals = Arrivals()
    load = load_cores()
    with threads_on_load_cores():
        receiver = start_receiver(arrivals)
    with tempfile.TemporaryDirectory() as tmp:
        url = database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = free_port()
        env = demo_env(
            url,
            BUURTPLUS_DEMO_RECEIVER_URL=f"http://127.0.0.1:{receiver.server_address[1]}/hooks",
            BUURTPLUS_WEBHOOK_ALLOW_NETWORKS="127.0.0.0/8",
            # As `make run` logs: a JSON line per request (to the server log file here).
            BUURTPLUS_LOG_LEVEL="INFO",
        )
        cli("db", "upgrade", env=env)
        cli("demo", "seed", env=env)
        load_signals(url, STORED_SIGNALS)
        log = open(Path(tmp) / "server.log", "w")  # noqa: SIM115
        server = subprocess.Popen(
            on_cores(
                [sys.executable, "-m", "buurtplus", "serve", "--port", str(port)],
                server_cores(),
            ),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/healthz", server)

            def token(email: str) -> str:
                answer = httpx.post(
                    f"{base}/api/v1/auth/token", data={"username": email, "password": "demo"}
                )
                return str(answer.json()["access_token"])

            member, coordinator = token("member@demo.local"), token("coordinator@demo.local")
            results = [
                run_wrk("GET /healthz", f"{base}/healthz", "", cores=load),
                run_wrk("GET /api/v1/me", f"{base}/api/v1/me", GET_LUA, member, cores=load),
                run_wrk("POST /api/v1/signals (intake)", base, INTAKE_LUA, member, cores=load),
            ]
            # The reports' deliveries go out before the next path is measured, so each path
            # is measured on its own (the worker idle, as between incidents).
            settle(arrivals)
            results.append(
                run_wrk(
                    "GET /api/v1/signals?limit=50 (coordinator)",
                    f"{base}/api/v1/signals?limit=50",
                    GET_LUA,
                    coordinator,
                    cores=load,
                )
            )
            load_aeds(url, NEARBY_AEDS)
            results.append(
                run_wrk(
                    f"GET /api/v1/aeds/nearby ({NEARBY_AEDS} AEDs)",
                    base,
                    NEARBY_LUA,
                    member,
                    cores=load,
                )
            )
            rss_kb = int(
                Path(f"/proc/{server.pid}/status").read_text().split("VmRSS:")[1].split()[0]
            )
        finally:
            server.terminate()
            server.wait(timeout=15)
            log.close()
            receiver.shutdown()
        return results, rss_kb // 1024


def settle(arrivals: "Arrivals", quiet_s: float = 1.0, at_most_s: float = 120.0) -> None:
    """Wait until the partner's receiver has had nothing new for `quiet_s`."""
    deadline = time.monotonic() + at_most_s
    seen = -1
    while time.monotonic() < deadline and len(arrivals.times) != seen:
        seen = len(arrivals.times)
        time.sleep(quiet_s)


def load_signals(database_url: str, count: int) -> None:
    """`count` signals stored over the past year, copies of the demo's first report with ids,
    times and descriptions of their own (inserted directly: intake at this volume would take
    longer than the whole benchmark may). Like a real year's reports they were handled and
    closed half a day later, within the retention period: left open past their acknowledgement
    deadline, all of them would be escalated by the worker while the paths are measured."""
    from datetime import UTC, datetime, timedelta

    from sqlalchemy import insert, select

    import buurtplus.models  # noqa: F401 - every table, for the foreign keys between them
    from buurtplus.core.db import make_engine
    from buurtplus.domain.signals.models import Signal

    signals = Signal.__table__  # type: ignore[attr-defined]
    engine = make_engine(database_url)
    try:
        with engine.begin() as connection:
            template = dict(
                connection.execute(select(signals).order_by(signals.c.created_at).limit(1))
                .mappings()
                .one()
            )
            start = datetime.now(UTC) - timedelta(days=364)
            step = timedelta(days=363) / count
            for first in range(0, count, 5_000):
                connection.execute(
                    insert(signals),
                    [
                        {
                            **template,
                            "id": uuid.uuid4(),
                            "description": f"Stored report {n}",
                            "patrol_id": None,
                            "observation_id": None,
                            "request_hash": f"{n:064x}",
                            "observed_at": start + n * step,
                            "created_at": start + n * step,
                            "updated_at": start + n * step + timedelta(hours=12),
                            "status": "closed",
                            "outcome": "handled",
                            "closed_at": start + n * step + timedelta(hours=12),
                            "ack_deadline": None,
                            "escalated_at": None,
                        }
                        for n in range(first, min(first + 5_000, count))
                    ],
                )
    finally:
        engine.dispose()


def load_aeds(database_url: str, count: int) -> None:
    """The registry of a large region, imported into the served database."""
    import buurtplus.models  # noqa: F401 - every table, for the foreign keys between them
    from bench.aeds import MOMENT, geojson
    from buurtplus.core.clock import FrozenClock
    from buurtplus.core.db import make_engine, transaction
    from buurtplus.domain.aeds.formats import FileFormat
    from buurtplus.domain.aeds.transfer import import_aeds

    engine = make_engine(database_url)
    try:
        with transaction(engine) as session:
            import_aeds(
                session,
                actor=None,
                data=geojson(count, random.Random(42)),
                fmt=FileFormat.geojson,
                dry_run=False,
                clock=FrozenClock(MOMENT),
            )
    finally:
        engine.dispose()


def rows(floor: Result, results: list[Result], *, database: str, rss_mb: int) -> list[Row]:
    """The floor, each path as a share of it, and the server's memory after the run."""
    return [
        *(
            Row(
                r.path,
                database,
                r.requests_per_s,
                "req/s",
                share=r.requests_per_s / floor.requests_per_s,
                p50_ms=r.p50_ms,
                p99_ms=r.p99_ms,
                budget=BUDGETS.get(r.path),
                errors=r.errors,
            )
            for r in [floor, *results]
        ),
        Row(
            f"server RSS after the HTTP run, {STORED_SIGNALS} signals and {NEARBY_AEDS} AEDs "
            "stored",
            database,
            rss_mb,
            "MB",
            budget=Budget(at_most=RSS_BUDGET_MB),
        ),
    ]


def run(database_url: str | None = None) -> list[Row]:
    missing = wrk_missing()
    if missing:
        print(f"HTTP benchmarks skipped: {missing}")
        return []
    # The floor before and after the service's paths, and their mean: on a shared machine the
    # speed drifts by a tenth or more within minutes, and one measure of the floor put every
    # share of the run off by as much.
    before = measure_floor()
    results, rss_mb = measure_service(database_url)
    floor = mean_floor(before, measure_floor())
    database = (database_url or "sqlite").split(":", 1)[0].split("+", 1)[0]
    measured = rows(floor, results, database=database, rss_mb=rss_mb)
    print(f"HTTP on {database}: {load_description()}\n\n{table(measured)}\n")
    return measured


def load_description() -> str:
    """How the HTTP paths and their floor were loaded. The database server, the delivery
    benchmark and the PostgreSQL scaling run are not pinned (two server processes need every
    CPU)."""
    cores = split_cores()
    where = (
        f"of {cores.usable()} usable CPUs the server on {_listed(cores.server)}, wrk and the "
        f"partner's receiver on {_listed(cores.load)} (the database server, the delivery "
        "benchmark and the scaling run not pinned)"
        if cores
        else "server and load sharing the CPUs"
    )
    return f"wrk, 1 thread, {CONNECTIONS} connections, {DURATION_S} s per path; {where}"


def write_performance_doc(report: str, *, databases: list[str]) -> None:
    """docs/performance.md: the machine, the command and the table of this run; the notes
    below the marker (profiles, what was changed and why) are kept as they are."""
    path = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
    marker = "<!-- notes: kept across runs -->"
    notes = (
        path.read_text().split(marker, 1)[1]
        if path.exists() and marker in path.read_text()
        else "\n"
    )
    machine = subprocess.run(["uname", "-srm"], capture_output=True, text=True).stdout.strip()
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            "unknown CPU",
        )
        if Path("/proc/cpuinfo").exists()
        else "unknown CPU"
    )
    path.parent.mkdir(exist_ok=True)
    path.write_text(
        "# Performance\n\n"
        "Written by `make bench` (`python -m bench --write-docs`); the table is this machine's "
        "last run.\n\n"
        f"- machine: {machine}, {os.cpu_count()} cores, {cpu}; Python {sys.version.split()[0]}\n"
        f"- databases: {', '.join(databases)}\n"
        f"- HTTP load: {load_description()}\n\n"
        f"{report}\n{marker}{notes}"
    )


if __name__ == "__main__":
    # The HTTP part alone: python -m bench.http [DATABASE_URL]
    run(sys.argv[1] if len(sys.argv) > 1 else None)
