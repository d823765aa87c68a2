"""Typed dependencies shared by the routes.

A dependency that neither blocks nor does I/O is `async def`: FastAPI runs a plain `def` in the
threadpool, and each such hop costs more than the work it does. The token's actor is `async`
too: it reads a few rows through `read_now` (on the event loop with SQLite, in the threadpool
with a database server)."""

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractContextManager
from typing import Annotated, Any, TypeVar

import anyio
from fastapi import Depends, Header, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlowPassword, OAuthFlows
from fastapi.security import OAuth2
from sqlalchemy import Connection
from sqlmodel import Session
from starlette.requests import HTTPConnection

from buurtplus.api.errors import PreconditionRequired, Unauthenticated
from buurtplus.config import Settings
from buurtplus.core.actor import Actor
from buurtplus.core.audit.service import AuditRows, take_pending_audit
from buurtplus.core.clock import Clock
from buurtplus.core.db import KeptConnection, PooledReads, transaction
from buurtplus.core.pagination import MAX_LIMIT
from buurtplus.core.writer import Writer
from buurtplus.domain.routing.router import Router
from buurtplus.domain.teams.service import signed_in_actor
from buurtplus.security import InvalidToken, TokenIssuer

TOKEN_URL = "/api/v1/auth/token"  # noqa: S105 - a path, not a secret
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_clock(request: Request) -> Clock:
    return clock_of(request)


async def get_token_issuer(request: Request) -> TokenIssuer:
    issuer: TokenIssuer = request.app.state.token_issuer
    return issuer


# Where a read gets its connection (core/db.py): the event loop keeps one open on SQLite.
Reads = KeptConnection | PooledReads

F = TypeVar("F", bound=Callable[..., Any])
T = TypeVar("T")


def audited_read(endpoint: F) -> F:
    """Mark a GET that may write audit events (reads of sensitive content). It reads in a read
    transaction (its `SessionDep`, or `audited_read_now`); the audit events it adds are handed
    to the group-committing writer, which has stored them before the answer goes out."""
    endpoint.buurtplus_writes = True  # type: ignore[attr-defined]
    return endpoint


def _audited(request: Request) -> bool:
    endpoint = request.scope.get("endpoint")
    return getattr(endpoint, "buurtplus_writes", False) and request.method in SAFE_METHODS


def _writes(request: Request) -> bool:
    return request.method not in SAFE_METHODS


async def writer_turn(request: Request) -> AsyncIterator[None]:
    """On SQLite, one writing request at a time, queued on the event loop.

    Waiting here holds no thread; SQLite's own busy handler would sleep and retry, which gave
    multi-second tails, and waiting in a worker thread can tie up the whole threadpool.
    """
    lock: anyio.Lock | None = request.app.state.sqlite_writer_lock
    if lock is None or not _writes(request):
        yield
        return
    async with lock:
        yield


async def in_write_turn(request: Request, work: Callable[[Session], T]) -> T:
    """Run `work` in a write transaction of its own, in the threadpool, after taking the
    writer's turn (on SQLite): for a route that writes beside its own transaction."""

    def run() -> T:
        with transaction(request.app.state.engine) as session:
            return work(session)

    lock: anyio.Lock | None = request.app.state.sqlite_writer_lock
    if lock is None:
        return await anyio.to_thread.run_sync(run)
    async with lock:
        return await anyio.to_thread.run_sync(run)


def get_session(
    request: Request, _: Annotated[None, Depends(writer_turn, scope="function")]
) -> Iterator[Session]:
    """One transaction per request: committed when the route returns, rolled back on error. A
    GET reads as the read paths do (`PooledReads.session`: on a database server without a
    transaction round it, and it may store nothing but its audit events)."""
    audited = _audited(request)
    state = request.app.state
    reading: AbstractContextManager[Session] = (
        transaction(state.engine) if _writes(request) else state.thread_reads.session()
    )
    with reading as session:
        if audited:
            # Audit events wait in the session for the writer; a query must not flush them.
            session.autoflush = False
        yield session
        if audited and (rows := take_pending_audit(session)) is not None:
            request.app.state.writer.run(rows)


async def read_now(request: Request, work: Callable[[Connection], T], *, short: bool = True) -> T:
    """Run a short read (`work`: a few rows by index) on a connection of its own, outside any
    request transaction.

    On SQLite it runs on the event loop: a read in WAL mode never waits for a writer, and a
    few indexed rows take less time than a hand-off to the threadpool and back. On a database
    server, where a query waits for the network, it runs in the threadpool. Whatever may read
    many rows (a wide search, a filter no index serves) says `short=False` to the functions
    below: it runs in the threadpool everywhere, so it never holds up every other request."""

    def run(reads: Reads) -> T:
        with reads.connection() as connection:
            return work(connection)

    return await _read_path(request, run, short=short)


async def read_session_now(
    request: Request, work: Callable[[Session], T], *, short: bool = True
) -> T:
    """`read_now` with an ORM session in a read-only transaction, for reads that use models."""

    def run(reads: Reads) -> T:
        with reads.session() as session:
            return work(session)

    return await _read_path(request, run, short=short)


async def audited_read_now(
    request: Request, work: Callable[[Session], T], *, short: bool = True
) -> T:
    """`read_session_now` for a read of sensitive content: the audit events `work` adds are
    handed to the group-committing writer, which has stored them before this returns."""

    def run(reads: Reads) -> tuple[T, AuditRows | None]:
        with reads.session() as session:
            # Audit events wait in the session for the writer; a query must not flush them.
            session.autoflush = False
            return work(session), take_pending_audit(session)

    result, rows = await _read_path(request, run, short=short)
    if rows is not None:
        writer: Writer = request.app.state.writer
        await writer.submit(rows)
    return result


async def _read_path(request: Request, run: Callable[[Reads], T], *, short: bool) -> T:
    state = request.app.state
    if short and state.reads_on_event_loop:
        return run(state.loop_reads)
    reads: PooledReads = state.thread_reads
    return await anyio.to_thread.run_sync(reads.again_if_lost, run)


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only transaction for a POST that stores nothing (signing in)."""
    with transaction(request.app.state.engine, write=False) as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_settings)]


async def get_router(request: Request) -> Router:
    return router_of(request)


async def get_writer(request: Request) -> Writer:
    return writer_of(request)


# The same, called in the route: for the routes asked most (intake, a page of signals, nearby
# AEDs), where each dependency FastAPI solves (even one that only hands over an app attribute)
# costs every request more than reading it.
def clock_of(request: Request) -> Clock:
    """The app's clock."""
    clock: Clock = request.app.state.clock
    return clock


def router_of(request: Request) -> Router:
    """The router in force (BUURTPLUS_ROUTER), loaded once at start."""
    router: Router = request.app.state.router
    return router


def writer_of(request: Request) -> Writer:
    """The group-committing writer (core/writer.py) of this process."""
    writer: Writer = request.app.state.writer
    return writer


ClockDep = Annotated[Clock, Depends(get_clock)]
WriterDep = Annotated[Writer, Depends(get_writer)]
RouterDep = Annotated[Router, Depends(get_router)]
TokenIssuerDep = Annotated[TokenIssuer, Depends(get_token_issuer)]
# scope="function": commit before the response is sent, so a 2xx means it is stored.
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]


class BearerToken(OAuth2):
    """The bearer token of either flow the token endpoint serves: the password grant for
    people, client credentials (form or HTTP Basic) for partners' systems."""

    def __init__(self) -> None:
        super().__init__(
            flows=OAuthFlows(
                password=OAuthFlowPassword(tokenUrl=TOKEN_URL),
                clientCredentials=OAuthFlowClientCredentials(tokenUrl=TOKEN_URL),
            ),
            scheme_name="OAuth2PasswordBearer",
            auto_error=False,
        )

    async def __call__(self, request: HTTPConnection) -> str | None:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return token if scheme.lower() == "bearer" and token else None


bearer = BearerToken()


async def get_current_actor(
    request: Request, token: Annotated[str | None, Depends(bearer)]
) -> Actor:
    """The actor a bearer token speaks for, read on a connection of its own (`read_now`):
    before the request's transaction begins, so a writer does not hold SQLite's write turn for
    it. Every request asks this, so it is read again each time: a revoked token stops at once.
    The clock and the token issuer are taken from the app here, not as dependencies of their
    own: each dependency FastAPI solves costs every request."""
    if not token:
        raise Unauthenticated("Sign in first: send an 'Authorization: Bearer <token>' header.")
    clock: Clock = request.app.state.clock
    issuer: TokenIssuer = request.app.state.token_issuer
    try:
        claims = issuer.verify(token, now=clock.now())
    except InvalidToken as exc:
        raise Unauthenticated("The token is expired or invalid; sign in again.") from exc
    is_client = claims.kind == "client"
    actor = await read_now(
        request,
        lambda connection: signed_in_actor(
            connection,
            subject=claims.subject,
            is_client=is_client,
            token_version=claims.token_version,
        ),
    )
    if actor is None and is_client:
        raise Unauthenticated("The client has been revoked.")
    if actor is None:
        raise Unauthenticated("The token has been revoked; sign in again.")
    return actor


CurrentActor = Annotated[Actor, Depends(get_current_actor)]


async def require_admin(actor: CurrentActor) -> Actor:
    """Refuse a non-admin before the request body is read; the service checks again."""
    actor.require_admin("may do this")
    return actor


AdminActor = Annotated[Actor, Depends(require_admin)]

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Most items to return in one page")]
Cursor = Annotated[
    str | None,
    Query(max_length=512, description="next_cursor of the previous page; omit for the first"),
]


async def refuse_null_body(request: Request) -> None:
    """A body that may be left out is an object when sent: JSON `null` is not one. (FastAPI
    would take it as left out; the contract says it is not a body at all.)"""
    if request.method in SAFE_METHODS or "json" not in request.headers.get("content-type", ""):
        return
    if (await request.body()).strip() == b"null":
        raise RequestValidationError(
            [{"loc": ("body",), "msg": "Send an object, or no body at all", "type": "null_body"}]
        )


def version_from_if_match(
    if_match: str | None, stale: Callable[[], Exception], *, required: bool = False
) -> int | None:
    """The version an If-Match names (None for `*`: whatever is current); `stale()` is raised
    for one that names none we handed out (an ETag is a quoted, plain number). A change of a
    record others edit too is `required` to say which version it changes (428 without)."""
    if if_match is None and required:
        raise PreconditionRequired()
    if if_match is None or if_match.strip() == "*":
        return None
    value = if_match.strip().removeprefix("W/").strip('"')
    if not (value.isascii() and value.isdigit() and len(value) <= 9):
        raise stale()
    return int(value)


# If-Match on a change of a versioned record: optional for the route, so that a missing one
# answers 428 (not 422); `version_from_if_match(..., required=True)` asks for it.
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description='The record\'s ETag as you read it, e.g. "3" (with the quotes); a stale one '
        "gets 412; `*` applies to whatever version is current",
    ),
]


def send_etag(response: Response, version: int) -> None:
    """The record's version as a strong entity tag: what a client sends back as If-Match."""
    response.headers["ETag"] = f'"{version}"'
