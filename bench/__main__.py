"""`make bench`: every benchmark, never part of `make test`.

In process: the rules router, heart-safety coverage and the AED registry. Then webhook
delivery, and the HTTP paths under wrk load as a share of a bare FastAPI app (bench/http.py),
on SQLite by default or on --database-url. With --soak, last, the soak (bench/soak.py): a
mixed load for BUURTPLUS_SOAK_SECONDS (default 10 minutes) watching memory, descriptors and
deliveries; `make soak` runs it alone. With a PostgreSQL URL (--database-url, or
BUURTPLUS_TEST_DATABASE_URL) also intake with one and with two server processes (bench/scaling.py).
"""

import argparse
import os
import socket
import subprocess
import sys


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


def demo_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark server: demo data, quiet logs, nothing inherited."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("BUURTPLUS_")}
    return {
        **clean,
        "BUURTPLUS_DATABASE_URL": database_url,
        "BUURTPLUS_LOG_LEVEL": "WARNING",
        "BUURTPLUS_JWT_SECRET": "bench-" + "x" * 40,
        "BUURTPLUS_DEMO": "true",
        **extra,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    parser.add_argument("--skip-http", action="store_true", help="only the in-process benchmarks")
    parser.add_argument(
        "--write-docs", action="store_true", help="rewrite docs/performance.md with the HTTP table"
    )
    parser.add_argument(
        "--soak",
        action="store_true",
        help="also the soak (BUURTPLUS_SOAK_SECONDS, default 600): memory, descriptors, deliveries",
    )
    args = parser.parse_args()
    from bench.aeds import run as run_aeds
    from bench.coverage import run as run_coverage
    from bench.delivery import run as run_delivery
    from bench.http import run as run_http
    from bench.http import write_performance_doc
    from bench.report import table
    from bench.routing import run as run_routing
    from bench.scaling import postgres_url
    from bench.scaling import run as run_scaling

    # SQLite (or --database-url), and PostgreSQL too when its URL is known.
    databases: list[str | None] = [args.database_url]
    postgres = postgres_url(None)
    if postgres and not (args.database_url or "").startswith("postgresql"):
        databases.append(postgres)
    rows = [*run_routing(), *run_coverage()]
    for url in databases:
        rows += run_aeds(database_url=_fresh(url, "aeds"))
    if not args.skip_http:
        for url in databases:
            rows += run_delivery(database_url=_fresh(url, "delivery"))
            rows += run_http(database_url=_fresh(url, "http"))
        rows += run_scaling(database_url=postgres or args.database_url)
    names = [(url or "sqlite").split(":", 1)[0].split("+", 1)[0] for url in databases]
    report = (
        f"All of `make bench` on {' and '.join(names)}; HTTP load from wrk (1 thread, 32 "
        f"connections, 8 s per path), shares against the floor measured in the same run (the "
        f"mean of its measures before and after the paths).\n\n"
        f"{table(rows)}\n"
    )
    print("\n" + report)
    if args.write_docs and not args.skip_http:
        write_performance_doc(report, databases=names)
    if args.soak:
        from bench.soak import run as run_soak

        if not run_soak():
            sys.exit(1)


def _fresh(url: str | None, name: str) -> str | None:
    """A database of its own for one benchmark: SQLite makes a file itself (None); on
    PostgreSQL, a fresh database next to the given one."""
    if url is None or not url.startswith("postgresql"):
        return url
    from tests.fixtures.databases import fresh_postgres_database

    return fresh_postgres_database(url, f"bench_{name}")


if __name__ == "__main__":
    main()
