"""Throughput and latency of the API over real HTTP: `make bench`.

Starts `buurtplus serve` on a fresh database (SQLite by default, or --database-url), signs in
as an admin and drives each scenario with concurrent clients on loopback. Bounded in requests
and time; prints one line per scenario.
"""

import argparse
import asyncio
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import httpx


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def cli(*args: str, env: dict[str, str], stdin: str | None = None) -> None:
    subprocess.run(
        [sys.executable, "-m", "buurtplus", *args],
        env=env,
        input=stdin,
        text=True,
        check=True,
        capture_output=True,
    )


async def drive(
    name: str, requests: int, concurrency: int, call: Callable[[int], Awaitable[httpx.Response]]
) -> None:
    latencies: list[float] = []
    failures = 0
    counter = iter(range(requests))

    async def worker() -> None:
        nonlocal failures
        for n in counter:
            started = time.perf_counter()
            try:
                response = await call(n)
            except httpx.TransportError:
                failures += 1
                continue
            latencies.append(time.perf_counter() - started)
            if response.status_code >= 400:
                failures += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    quantiles = statistics.quantiles(latencies, n=100)
    print(
        f"{name:<28} {len(latencies) / elapsed:8.0f} req/s   p50 {quantiles[49] * 1000:7.1f} ms"
        f"   p99 {quantiles[98] * 1000:7.1f} ms   errors {failures}"
    )


async def scenarios(base: str, requests: int, concurrency: int) -> None:
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def sign_in(email: str) -> dict[str, str]:
            response = await client.post(
                "/api/v1/auth/token", data={"username": email, "password": "demo"}
            )
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        auth = await sign_in("admin@demo.local")
        member = await sign_in("member@demo.local")
        await drive(
            "GET /healthz (no database)", requests, concurrency, lambda n: client.get("/healthz")
        )
        await drive(
            "GET /api/v1/me",
            requests,
            concurrency,
            lambda n: client.get("/api/v1/me", headers=auth),
        )
        await drive(
            "POST /api/v1/teams (write)",
            requests,
            concurrency,
            lambda n: client.post(
                "/api/v1/teams",
                headers=auth,
                json={
                    "name": f"Team {n}",
                    "municipality_code": "GM0363",
                    "buurt_codes": ["BU0363AA01"],
                },
            ),
        )
        await drive(
            "POST /api/v1/signals (intake)",
            requests,
            concurrency,
            lambda n: client.post(
                "/api/v1/signals",
                headers={**member, "Idempotency-Key": f"bench-{n}"},
                json={
                    "category": "loneliness" if n % 2 else "public_space",
                    "description": f"Benchmark signal {n}",
                    "location": {"latitude": 52.36, "longitude": 4.92},
                    "buurt_code": "BU0363MA01",
                },
            ),
        )
        await drive(
            "GET /api/v1/signals?limit=50",
            requests,
            concurrency,
            lambda n: client.get("/api/v1/signals", params={"limit": 50}, headers=auth),
        )
        await drive(
            "GET /api/v1/teams?limit=50",
            requests,
            concurrency,
            lambda n: client.get("/api/v1/teams", params={"limit": 50}, headers=auth),
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--skip-http", action="store_true", help="only the in-process benchmarks")
    args = parser.parse_args()
    from bench.aeds import run as run_aeds
    from bench.coverage import run as run_coverage
    from bench.delivery import run as run_delivery
    from bench.routing import run as run_routing

    run_routing()
    run_coverage()
    run_aeds(database_url=args.database_url)
    if args.skip_http:
        return
    run_delivery(database_url=args.database_url)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite:///{Path(tmp) / 'bench.db'}"
        port = free_port()
        clean = {k: v for k, v in os.environ.items() if not k.startswith("BUURTPLUS_")}
        env = {
            **clean,
            "BUURTPLUS_DATABASE_URL": url,
            "BUURTPLUS_LOG_LEVEL": "WARNING",
            "BUURTPLUS_JWT_SECRET": "bench-" + "x" * 40,
            "BUURTPLUS_DEMO": "true",
        }
        cli("db", "upgrade", env=env)
        cli("demo", "seed", env=env)
        server = subprocess.Popen(
            [sys.executable, "-m", "buurtplus", "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(Path(tmp) / "server.log", "w"),  # noqa: SIM115
        )
        try:
            base = f"http://127.0.0.1:{port}"
            for _ in range(150):
                try:
                    if httpx.get(f"{base}/readyz").status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            print(
                f"database: {url.split(':', 1)[0]}   requests per scenario: {args.requests}"
                f"   concurrent clients: {args.concurrency}   cores: {os.cpu_count()}"
            )
            asyncio.run(scenarios(base, args.requests, args.concurrency))
        finally:
            server.terminate()
            server.wait(timeout=10)
            errors = [
                line
                for line in (Path(tmp) / "server.log").read_text().splitlines()
                if '"level": "ERROR"' in line or "Traceback" in line
            ]
            if errors:
                print("server errors:", *errors[:5], sep="\n  ")


if __name__ == "__main__":
    main()
