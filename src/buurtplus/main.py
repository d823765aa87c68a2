"""The application: create_app() wires settings, database, routes, errors and docs."""

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware

from buurtplus.api.contract import CONTRACT_VERSION, DESCRIPTION, build_document, operation_id
from buurtplus.api.deps import refuse_null_body
from buurtplus.api.docs import install_docs
from buurtplus.api.errors import FieldError, Problem, install_error_handlers
from buurtplus.api.middleware import BodySizeLimit, RefuseNul, RequestContext
from buurtplus.api.routes import (
    aed_files,
    aeds,
    audit,
    auth,
    categories,
    health,
    heart_safety,
    me,
    metrics,
    observations,
    partners,
    patrols,
    routing,
    signal_handling,
    signals,
    team_patrols,
    teams,
    users,
    webhook_events,
    webhooks,
)
from buurtplus.api.schemas.aed_files import AedImportFile
from buurtplus.background import BackgroundWork, address_guard
from buurtplus.config import Settings, check_servable, get_settings, metrics_access
from buurtplus.core.clock import Clock, SystemClock
from buurtplus.core.db import KeptConnection, PooledReads, make_engine, make_event_loop_engine
from buurtplus.core.writer import Writer
from buurtplus.domain.users.throttle import LoginThrottle
from buurtplus.observability import configure_logging
from buurtplus.outbox import wakeup
from buurtplus.outbox.metrics import OutboxCollector
from buurtplus.routing.registry import load_router
from buurtplus.security import TokenIssuer, configure_password_hashing

API_PREFIX = "/api/v1"


def create_served_app() -> FastAPI:
    """The app of one of several `buurtplus serve --workers N` processes: settings from the
    environment, logs configured as `buurtplus serve` configures them."""
    settings = get_settings()
    configure_logging(level=settings.log_level, as_json=settings.log_json)
    app = create_app(settings)
    settle_long_lived_objects()
    return app


# New container objects (net of those freed) between the collector's passes over the young
# ones; Python's default is 700. With 32 requests in flight their live objects passed 700 every
# few requests, and each pass walked them all (and every tenth pass the older ones): 80-110 µs
# of every report under intake load, finding nothing, as a report leaves nothing in reference
# cycles (docs/performance.md). The handler of a refused request's error lets go of the frames
# it came up through (api/errors.py): refused megabyte bodies stayed in cycles with them.
YOUNG_OBJECTS_PER_PASS = 10_000


def settle_long_lived_objects() -> None:
    """Keep what a server process built at start (modules, models, routes, the app) out of
    the garbage collector's full passes. Each full pass walked those 240 000 objects and held
    every request for up to 100 ms (GET /me under load: p99 200 → 110 ms). And pass over the
    young objects less often (YOUNG_OBJECTS_PER_PASS). For server processes only: objects
    frozen here are never collected, so a process that builds many apps (the test suite) must
    not call it."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_OBJECTS_PER_PASS, *gc.get_threshold()[1:])


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> FastAPI:
    settings = settings or get_settings()
    clock = clock or SystemClock()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        check_servable(settings)
        if app.state.engine.dialect.name == "sqlite":
            app.state.sqlite_writer_lock = anyio.Lock()
        work = None
        if settings.worker == "inline":
            # The in-process worker writes through the same group-committing writer.
            work = BackgroundWork(
                app.state.engine,
                settings=settings,
                clock=clock,
                router=app.state.router,
                writer=app.state.writer,
            )
        # None when a separate `buurtplus worker` does this work.
        app.state.background_work = work
        app.state.writer.start()
        if work is not None:
            work.start()
        yield
        if work is not None:
            # Deliveries in flight get BUURTPLUS_SHUTDOWN_SECONDS, off the event loop; what
            # they record (or give back) still goes through the writer.
            await anyio.to_thread.run_sync(work.stop)
        app.state.writer.stop()
        app.state.loop_reads.close()
        app.state.engine.dispose()
        if app.state.loop_engine is not None:
            app.state.loop_engine.dispose()

    app = FastAPI(
        title="Buurtpreventie Plus",
        version=CONTRACT_VERSION,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        webhooks=APIRouter(generate_unique_id_function=operation_id),
    )
    configure_password_hashing(
        time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.engine = make_engine(settings.database_url)
    app.state.sqlite_writer_lock = None
    # SQLite: short reads run on the event loop, on a connection of their own kept open
    # (api/deps.py); other reads take one from the pool in a thread.
    app.state.loop_engine = make_event_loop_engine(settings.database_url)
    app.state.reads_on_event_loop = app.state.engine.dialect.name == "sqlite"
    app.state.loop_reads = (
        KeptConnection(app.state.loop_engine)
        if app.state.loop_engine is not None
        else PooledReads(app.state.engine)
    )
    app.state.thread_reads = PooledReads(app.state.engine)
    app.state.writer = Writer(app.state.engine, after_commit=wakeup.wake_workers)
    app.state.router = load_router(settings.router, settings)
    app.state.address_guard = address_guard(settings)
    app.state.token_issuer = TokenIssuer(
        secret=settings.jwt_secret.get_secret_value(),
        issuer=settings.jwt_issuer,
        audience=settings.jwt_audience,
        lifetime=timedelta(minutes=settings.access_token_minutes),
    )
    app.state.login_throttle = LoginThrottle(
        clock=clock,
        secret=settings.jwt_secret.get_secret_value().encode(),
        max_failures=settings.login_max_failures,
        account_max_failures=settings.login_account_max_failures,
        address_max_failures=settings.login_address_max_failures,
        window_seconds=settings.login_window_seconds,
        lockout_seconds=settings.login_lockout_seconds,
    )

    app.state.metrics_access = metrics_access(settings)
    app.state.outbox_metrics = OutboxCollector(app.state.engine, clock=clock)

    # Each module's router is included in the app itself, under the API prefix: a router
    # nested in another is matched once per level on every request (FastAPI walks the levels
    # again to find the route it matched). Each turns away a path outside its routes' literal
    # beginnings without trying their patterns (`api/module_router.py`).
    route_templates: dict[int, str] = {}  # by id(route)
    for module in (
        auth,
        me,
        users,
        teams,
        categories,
        signals,
        signal_handling,
        partners,
        webhooks,
        routing,
        audit,
        patrols,
        observations,
        team_patrols,
        aeds,
        aed_files,
        heart_safety,
    ):
        module.router.include_in(app, prefix=API_PREFIX, dependencies=[Depends(refuse_null_body)])
        route_templates.update(
            {id(route): API_PREFIX + route.path for route in module.router.routes}
        )
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.webhooks.include_router(webhook_events.router)
    install_error_handlers(app)
    install_docs(app)

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RefuseNul)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID", "Idempotent-Replayed"],
    )
    app.add_middleware(RequestContext, route_templates=route_templates)
    app.openapi = lambda: _contract(app)  # type: ignore[method-assign]
    return app


def _contract(app: FastAPI) -> dict[str, Any]:
    if not app.openapi_schema:
        app.openapi_schema = build_document(app, extra_models=(Problem, FieldError, AedImportFile))
    return app.openapi_schema
