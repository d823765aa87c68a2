"""Scaling out on PostgreSQL: signal intake with one uvicorn worker process and with two, under
the same wrk load, and the ratio (the budget: two workers carry at least 1.5 times as much).

Event-writing transactions run side by side on PostgreSQL (no lock orders them; the pull feed
orders events by transaction instead), so a second process can add throughput. Runs when a
PostgreSQL URL is given (`--database-url`) or BUURTPLUS_TEST_DATABASE_URL is set; each
measurement uses a fresh database next to it (`<name>_bench`), dropped and made again.
"""

import argparse
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import httpx

from bench.__main__ import cli, demo_env, free_port
from bench.http import DURATION_S, INTAKE_LUA, Result, run_wrk, wait_ready, wrk_missing
from bench.report import Budget, Row, table
from tests.fixtures.databases import fresh_postgres_database

BUDGET = 1.5
PG_ENV = "BUURTPLUS_TEST_DATABASE_URL"


def postgres_url(database_url: str | None) -> str | None:
    """The PostgreSQL server to measure on: the benchmark's own URL, else the tests' one."""
    for url in (database_url, os.environ.get(PG_ENV)):
        if url and url.startswith("postgresql"):
            return url
    return None


def machine_ticks() -> tuple[int, int] | None:
    """The CPU time so far of the CPUs this process may run on (the servers, PostgreSQL and wrk
    share them), (busy, all) in clock ticks, from /proc/stat; None where there is none. Time
    the hypervisor gave to others (steal) counts as busy: it was not there to use."""
    try:
        lines = Path("/proc/stat").read_text().splitlines()
    except OSError:
        return None
    usable = {f"cpu{n}" for n in os.sched_getaffinity(0)}
    busy = every = 0
    for line in lines:
        name, *fields = line.split()
        if name in usable:
            # user nice system idle iowait irq softirq steal (guest is within user)
            ticks = [int(field) for field in fields[:8]]
            busy += sum(ticks) - ticks[3] - ticks[4]
            every += sum(ticks)
    return (busy, every) if every else None


def busy_share(before: tuple[int, int] | None, after: tuple[int, int] | None) -> float | None:
    """How much of the machine's CPU time between two `machine_ticks` was busy."""
    if before is None or after is None or after[1] == before[1]:
        return None
    return (after[0] - before[0]) / (after[1] - before[1])


def measure_intake(base_url: str, workers: int, seconds: int) -> tuple[Result, float | None]:
    """Intake as a member reports, against `buurtplus serve --workers N`: N uvicorn processes
    on one port, each with its in-process delivery worker (as `make run` has one); with how
    busy the whole machine was meanwhile (the servers, PostgreSQL, wrk: a second process adds
    throughput only with CPU time to spare)."""
    url = fresh_postgres_database(base_url, "bench")
    env = demo_env(url)
    cli("db", "upgrade", env=env)
    cli("demo", "seed", env=env)
    port = free_port()
    with tempfile.TemporaryFile("w+") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "buurtplus", "serve", "--port", str(port)]
            + (["--workers", str(workers)] if workers > 1 else []),
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_ready(f"{base}/healthz", server)
            token = httpx.post(
                f"{base}/api/v1/auth/token",
                data={"username": "member@demo.local", "password": "demo"},
            ).json()["access_token"]
            name = f"POST /api/v1/signals (intake), PostgreSQL, {workers} worker process"
            before = machine_ticks()
            result = run_wrk(
                name + ("es" if workers > 1 else ""), base, INTAKE_LUA, token, seconds=seconds
            )
            busy = busy_share(before, machine_ticks())
        finally:
            server.terminate()
            server.wait(timeout=30)
        log.seek(0)
        problems = [line for line in log if "ERROR" in line or "Traceback" in line]
        if problems:
            print(f"{workers} worker process(es): the server logged errors:", *problems[:20])
        return result, busy


def run(database_url: str | None = None, seconds: int = DURATION_S) -> list[Row]:
    base = postgres_url(database_url)
    if base is None:
        print(f"PostgreSQL scaling skipped: give --database-url or set {PG_ENV}")
        return []
    missing = wrk_missing()
    if missing:
        print(f"PostgreSQL scaling skipped: {missing}")
        return []
    (one, one_busy), (two, two_busy) = (
        measure_intake(base, 1, seconds),
        measure_intake(base, 2, seconds),
    )
    ratio = two.requests_per_s / one.requests_per_s if one.requests_per_s else 0.0
    rows = [
        Row(
            r.path,
            "postgresql",
            r.requests_per_s,
            "req/s",
            p50_ms=r.p50_ms,
            p99_ms=r.p99_ms,
            errors=r.errors,
            note="" if busy is None else f"machine {busy:.0%} busy",
        )
        for r, busy in ((one, one_busy), (two, two_busy))
    ]
    rows.append(
        Row(
            "intake, two server processes against one",
            "postgresql",
            ratio,
            "times",
            budget=Budget(at_least=BUDGET),
            note=ceiling_note(one_busy),
        )
    )
    print(table(rows))
    return rows


def ceiling_note(busy: float | None) -> str:
    """An estimate of the most two processes could carry against one, from how busy one kept
    the machine: one over that share, which holds if each report costs the machine as much CPU
    time with two processes as with one (work that does not grow with the reports, such as
    another program's, makes the true ceiling higher)."""
    if busy is None or not 0 < busy < 1:
        return ""
    return f"estimated ceiling {1 / busy:.2f} times, from the CPU time one process left idle"


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("database_url", nargs="?", help=f"PostgreSQL; default ${PG_ENV}")
    parser.add_argument("--seconds", type=int, default=DURATION_S, help="of load per setting")
    args = parser.parse_args()
    run(args.database_url, seconds=args.seconds)
