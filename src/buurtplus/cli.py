"""The `buurtplus` command: serve, worker, db, users, demo, retention, aeds, openapi."""

import argparse
import getpass
import json
import sys
from pathlib import Path
from typing import Any, TextIO

from buurtplus.config import (
    InsecureConfiguration,
    Settings,
    check_servable,
    get_settings,
    metrics_access,
)

DEFAULT_OPENAPI_PATH = Path("openapi/openapi.json")


def openapi_document() -> str:
    from buurtplus.main import create_app

    # The document does not depend on configuration; a fixed secret keeps it reproducible.
    app = create_app(Settings(jwt_secret="openapi-export-only", database_url="sqlite://"))  # noqa: S106
    return json.dumps(app.openapi(), indent=2, ensure_ascii=False) + "\n"


# uvicorn's event loop: asyncio's own, not uvloop. Under load, with uvloop some answers waited
# several hundred milliseconds while the rest took tens (a page of signals at 550 requests per
# second: p99 340-400 ms with uvloop, 62-91 ms without, at the same throughput; why was not
# traced; docs/performance.md). The benchmark's floor runs on the same loop.
EVENT_LOOP = "asyncio"


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from buurtplus.main import create_app, settle_long_lived_objects
    from buurtplus.observability import configure_logging

    try:
        check_servable(settings)
    except InsecureConfiguration as exc:
        print(f"buurtplus: {exc}", file=sys.stderr)
        return 2
    workers = args.workers or 1
    if workers > 1 and settings.database_url.startswith("sqlite"):
        print("buurtplus: several server processes need PostgreSQL (--workers)", file=sys.stderr)
        return 2
    configure_logging(level=settings.log_level, as_json=settings.log_json)
    host, port = args.host or settings.host, args.port or settings.port
    print(f"Buurtpreventie Plus on http://{host}:{port}  (API docs: http://{host}:{port}/docs)")
    if settings.demo:
        from buurtplus.demo import DEMO_ACCOUNTS, DEMO_PASSWORD

        print("Demo mode. Sign in at /docs (Authorize) or POST /api/v1/auth/token with:")
        for account in DEMO_ACCOUNTS:
            print(f"  {account.email:<24} password: {DEMO_PASSWORD}")
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_config": None,
        # The application logs each request itself, without the query string: a calendar
        # feed URL carries its token there.
        "access_log": False,
        "proxy_headers": True,
        "forwarded_allow_ips": settings.forwarded_allow_ips,
        # On SIGTERM: no new connections, the requests in flight finish (for up to this long),
        # then the in-process worker and jobs stop (see BackgroundWork.stop).
        "timeout_graceful_shutdown": settings.shutdown_seconds,
        "loop": EVENT_LOOP,
    }
    if workers > 1:
        # Each process builds its own app from the same environment (and its own in-process
        # delivery worker, unless BUURTPLUS_WORKER=off); they share the listening socket.
        uvicorn.run("buurtplus.main:create_served_app", factory=True, workers=workers, **options)
    else:
        app = create_app(settings)
        settle_long_lived_objects()
        uvicorn.run(app, **options)
    return 0


def cmd_worker(args: argparse.Namespace, settings: Settings) -> int:
    import signal

    from buurtplus.background import BackgroundWork
    from buurtplus.core.clock import SystemClock
    from buurtplus.core.db import make_engine
    from buurtplus.observability import configure_logging

    configure_logging(level=settings.log_level, as_json=settings.log_json)
    access = metrics_access(settings)
    if args.metrics_port is not None and not access.enabled:
        print(
            "buurtplus: --metrics-port needs BUURTPLUS_METRICS_TOKEN or BUURTPLUS_METRICS_NETWORKS "
            "(who may read the metrics).",
            file=sys.stderr,
        )
        return 2
    engine = make_engine(settings.database_url)
    clock = SystemClock()
    work = BackgroundWork(engine, settings=settings, clock=clock)
    if args.once:
        sent = work.delivery.deliver_due()
        print(f"Sent {sent} due deliveries.")
        engine.dispose()
        return 0

    def stop(signum: int, frame: object) -> None:
        # The first signal stops cleanly (see BackgroundWork.stop); a second one at once.
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        work.delivery.request_stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    listener = None
    if args.metrics_port is not None:
        from buurtplus.core.metrics import serve_metrics
        from buurtplus.outbox.metrics import OutboxCollector

        host = args.metrics_host or settings.host
        listener, _ = serve_metrics(
            host, args.metrics_port, access, OutboxCollector(engine, clock=clock)
        )
        print(f"Metrics on http://{host}:{args.metrics_port}/metrics", flush=True)
    print(f"Delivery worker {work.delivery.worker_id} running; Ctrl-C stops it.", flush=True)
    work.start()
    work.delivery.wait()
    print("Stopping: deliveries in flight finish or are given back.", flush=True)
    work.stop()
    if listener is not None:
        listener.shutdown()
    engine.dispose()
    print("Delivery worker stopped.", flush=True)
    return 0


def cmd_db_upgrade(args: argparse.Namespace, settings: Settings) -> int:
    from buurtplus.migrate import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"Database at {args.revision}.")
    return 0


def cmd_db_backup(args: argparse.Namespace, settings: Settings) -> int:
    from buurtplus.backup import BackupRefused, backup

    try:
        copy = backup(settings.database_url, Path(args.file))
    except BackupRefused as exc:
        print(f"buurtplus: {exc}", file=sys.stderr)
        return 2
    print(f"Backed up to {copy.path} ({copy.size} bytes, migration {copy.revision}).")
    return 0


def cmd_db_restore(args: argparse.Namespace, settings: Settings) -> int:
    from buurtplus.backup import BackupRefused, restore

    try:
        copy = restore(settings.database_url, Path(args.file))
    except BackupRefused as exc:
        print(f"buurtplus: {exc}", file=sys.stderr)
        return 2
    print(f"Restored {args.file} into {copy.path} (migration {copy.revision}).")
    if not copy.at_head:
        print("The backup is from an earlier version: run `buurtplus db upgrade` before serving.")
    return 0


def cmd_users_create(args: argparse.Namespace, settings: Settings) -> int:
    from buurtplus.core.actor import UserRole
    from buurtplus.core.clock import SystemClock
    from buurtplus.core.db import make_engine, transaction
    from buurtplus.core.errors import DomainError
    from buurtplus.domain.users.service import create_user

    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = getpass.getpass("Password: ")
        if password != getpass.getpass("Again: "):
            print("buurtplus: the passwords differ.", file=sys.stderr)
            return 2
    if len(password) < 8:
        print("buurtplus: a password has at least 8 characters.", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            user = create_user(
                session,
                email=args.email,
                full_name=args.full_name,
                password=password,
                role=UserRole(args.role),
                clock=SystemClock(),
            )
            print(f"Created {user.role} {user.email} ({user.id}).")
    except DomainError as exc:
        print(f"buurtplus: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    return 0


def cmd_demo_seed(args: argparse.Namespace, settings: Settings) -> int:
    from buurtplus.core.clock import SystemClock
    from buurtplus.core.db import make_engine, transaction
    from buurtplus.demo import seed_demo

    if not settings.demo:
        print("buurtplus: demo data is only seeded with BUURTPLUS_DEMO=true.", file=sys.stderr)
        return 2
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            seeded = seed_demo(
                session, clock=SystemClock(), receiver_url=settings.demo_receiver_url
            )
    finally:
        engine.dispose()
    print("Demo data seeded." if seeded else "Database holds accounts already; demo seed skipped.")
    return 0


def cmd_retention_purge(args: argparse.Namespace, settings: Settings) -> int:
    from buurtplus.background import purge_personal_content
    from buurtplus.core.clock import SystemClock
    from buurtplus.core.db import make_engine

    engine = make_engine(settings.database_url)
    try:
        report = purge_personal_content(
            engine, retention_days=settings.retention_days, clock=SystemClock()
        )
    finally:
        engine.dispose()
    print(
        f"Purged personal content of {report.signals} signal(s) closed more than "
        f"{settings.retention_days} days ago ({report.feedback_messages} feedback message(s), "
        f"{report.history_notes} history note(s))."
    )
    return 0


class ProgressBar:
    """A text progress bar on standard error, for imports of large files."""

    WIDTH = 30

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stderr
        self.shown = -1

    def __call__(self, done: int, total: int) -> None:
        percent = 100 * done // total if total else 100
        if percent == self.shown:
            return
        self.shown = percent
        filled = self.WIDTH * percent // 100
        bar = "#" * filled + "-" * (self.WIDTH - filled)
        print(f"\r[{bar}] {percent:3d}%  {done}/{total} rows", end="", file=self.stream)
        if done >= total:
            print(file=self.stream)


def cmd_aeds_import(args: argparse.Namespace, settings: Settings) -> int:
    import buurtplus.models  # noqa: F401 - every table, for the foreign keys between them
    from buurtplus.core.clock import SystemClock
    from buurtplus.core.db import make_engine, transaction
    from buurtplus.core.errors import DomainError
    from buurtplus.domain.aeds.formats import FileFormat, guess_format
    from buurtplus.domain.aeds.transfer import RowOutcome, import_aeds

    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        print(f"buurtplus: cannot read {path}: {exc.strerror}", file=sys.stderr)
        return 2
    fmt = FileFormat(args.format) if args.format else guess_format(path.name)
    engine = make_engine(settings.database_url)
    try:
        with transaction(engine) as session:
            report = import_aeds(
                session,
                actor=None,
                data=data,
                fmt=fmt,
                dry_run=args.dry_run,
                clock=SystemClock(),
                progress=None if args.quiet else ProgressBar(),
            )
    except DomainError as exc:
        print(f"buurtplus: {exc.detail}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    for row in report.rows:
        if row.outcome == RowOutcome.rejected:
            print(
                f"row {row.row} ({row.source or 'no source'}): rejected: {'; '.join(row.reasons)}"
            )
    counts = ", ".join(f"{report.count(o)} {o.value}" for o in RowOutcome)
    print(f"{'Dry run, nothing stored: ' if args.dry_run else ''}{counts}.")
    return 0


def cmd_openapi_export(args: argparse.Namespace, settings: Settings) -> int:
    from buurtplus.api.contract_check import version_problems

    document = openapi_document()
    if args.output == "-":
        sys.stdout.write(document)
        return 0
    path = Path(args.output)
    if path.exists() and not args.force:
        # The contract is what clients are built on: it only changes with a version that says so.
        problems = version_problems(
            json.loads(path.read_text(encoding="utf-8")), json.loads(document)
        )
        if problems:
            for problem in problems:
                print(f"buurtplus: {path} not written: {problem}", file=sys.stderr)
            print(
                "Raise CONTRACT_VERSION in src/buurtplus/api/contract.py (see docs/contract.md).",
                file=sys.stderr,
            )
            return 1
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(document, encoding="utf-8")
    print(f"Wrote {path}.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="buurtplus", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument(
        "--workers", type=int, help="server processes on the one port (PostgreSQL only)"
    )
    serve.set_defaults(handler=cmd_serve)

    worker = commands.add_parser(
        "worker", help="deliver webhooks and run the periodic jobs (with BUURTPLUS_WORKER=off)"
    )
    worker.add_argument("--once", action="store_true", help="send what is due now, then stop")
    worker.add_argument(
        "--metrics-port",
        type=int,
        help="serve this worker's metrics at GET /metrics on this port (with "
        "BUURTPLUS_METRICS_TOKEN or BUURTPLUS_METRICS_NETWORKS)",
    )
    worker.add_argument("--metrics-host", help="address to serve the metrics on (BUURTPLUS_HOST)")
    worker.set_defaults(handler=cmd_worker)

    db = commands.add_parser("db", help="database schema and backups").add_subparsers(
        dest="db_command", required=True
    )
    db_upgrade = db.add_parser("upgrade", help="migrate the database (Alembic)")
    db_upgrade.add_argument("revision", nargs="?", default="head")
    db_upgrade.set_defaults(handler=cmd_db_upgrade)
    db_backup = db.add_parser(
        "backup", help="copy the SQLite database to FILE while the service runs"
    )
    db_backup.add_argument("file")
    db_backup.set_defaults(handler=cmd_db_backup)
    db_restore = db.add_parser(
        "restore", help="replace the SQLite database by the backup FILE (service stopped)"
    )
    db_restore.add_argument("file")
    db_restore.set_defaults(handler=cmd_db_restore)

    users = commands.add_parser("users", help="user accounts").add_subparsers(
        dest="users_command", required=True
    )
    create = users.add_parser("create", help="create an account, e.g. the first admin")
    create.add_argument("--email", required=True)
    create.add_argument("--full-name", required=True)
    create.add_argument("--role", choices=["admin", "volunteer", "partner"], default="admin")
    create.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    create.set_defaults(handler=cmd_users_create)

    demo = commands.add_parser("demo", help="demo data").add_subparsers(
        dest="demo_command", required=True
    )
    demo.add_parser("seed", help="seed demo data into an empty database").set_defaults(
        handler=cmd_demo_seed
    )

    retention = commands.add_parser("retention", help="retention of personal content")
    retention.add_subparsers(dest="retention_command", required=True).add_parser(
        "purge", help="purge personal content of signals closed longer than the retention period"
    ).set_defaults(handler=cmd_retention_purge)

    aeds = commands.add_parser("aeds", help="the AED registry").add_subparsers(
        dest="aeds_command", required=True
    )
    aeds_import = aeds.add_parser(
        "import", help="import AEDs from GeoJSON, CSV or OSM JSON; idempotent by source id"
    )
    aeds_import.add_argument("file")
    aeds_import.add_argument(
        "--format",
        choices=["geojson", "csv", "osm"],
        help="default: from the file name (.csv, .osm.json, else GeoJSON)",
    )
    aeds_import.add_argument("--dry-run", action="store_true", help="report only; store nothing")
    aeds_import.add_argument("--quiet", action="store_true", help="no progress bar")
    aeds_import.set_defaults(handler=cmd_aeds_import)

    openapi = commands.add_parser("openapi", help="the OpenAPI contract").add_subparsers(
        dest="openapi_command", required=True
    )
    export = openapi.add_parser("export", help="write the OpenAPI document")
    export.add_argument("--output", "-o", default=str(DEFAULT_OPENAPI_PATH))
    export.add_argument(
        "--force",
        action="store_true",
        help="write even if the version does not fit the change (e.g. to restore a file)",
    )
    export.set_defaults(handler=cmd_openapi_export)
    return parser


def main(argv: list[str] | None = None) -> None:
    from buurtplus.security import configure_password_hashing

    args = build_parser().parse_args(argv)
    settings = get_settings()
    configure_password_hashing(
        time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib
    )
    sys.exit(args.handler(args, settings))
