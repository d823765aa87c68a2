"""The application: create_app() wires settings, database, routes, errors and docs."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from typing import Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from buurtplus import __version__
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
    webhooks,
)
from buurtplus.api.schemas.aed_files import AedImportFile
from buurtplus.background import BackgroundWork, address_guard
from buurtplus.config import Settings, check_servable, get_settings, metrics_access
from buurtplus.core.clock import Clock, SystemClock
from buurtplus.core.db import make_engine
from buurtplus.core.writer import Writer
from buurtplus.domain.users.throttle import LoginThrottle
from buurtplus.outbox import wakeup
from buurtplus.outbox.metrics import OutboxCollector
from buurtplus.routing.registry import load_router
from buurtplus.security import TokenIssuer, configure_password_hashing

API_PREFIX = "/api/v1"

DESCRIPTION = """\
Buurtpreventie Plus: the API behind volunteer neighbourhood-prevention teams.

Sign in with `POST /api/v1/auth/token` (OAuth2 password grant) and send the token as
`Authorization: Bearer <token>`. Errors are RFC 9457 `application/problem+json`. Lists are
paged with `limit` and `cursor`; a page has `items` and `next_cursor`.
"""


def operation_id(route: APIRoute) -> str:
    # Untagged routes are the docs pages, which are not in the schema.
    return f"{route.tags[0]}-{route.name}" if route.tags else route.name


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
        app.state.engine.dispose()

    app = FastAPI(
        title="Buurtpreventie Plus",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    configure_password_hashing(
        time_cost=settings.password_hash_time_cost, memory_kib=settings.password_hash_memory_kib
    )
    app.state.settings = settings
    app.state.clock = clock
    app.state.engine = make_engine(settings.database_url)
    app.state.sqlite_writer_lock = None
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

    api = APIRouter(prefix=API_PREFIX)
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
        api.include_router(module.router)
        route_templates.update(
            {id(route): API_PREFIX + route.path for route in module.router.routes}
        )
    app.include_router(api)
    app.include_router(health.router)
    app.include_router(metrics.router)
    install_error_handlers(app)
    install_docs(app)

    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RefuseNul)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "POST", "PATCH", "PUT", "DELETE"],
        allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "If-Match"],
        expose_headers=["ETag", "Location", "Retry-After", "X-Request-ID"],
    )
    app.add_middleware(RequestContext, route_templates=route_templates)
    app.openapi = lambda: _openapi_with_problems(app)  # type: ignore[method-assign]
    return app


def _openapi_with_problems(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document plus the problem+json schemas the routes refer to."""
    if app.openapi_schema:
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    schema = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    for model in (Problem, FieldError, AedImportFile):
        definition = model.model_json_schema(ref_template="#/components/schemas/{model}")
        definition.pop("$defs", None)
        components[model.__name__] = definition
    schema["components"]["schemas"] = dict(sorted(components.items()))
    app.openapi_schema = schema
    return schema
