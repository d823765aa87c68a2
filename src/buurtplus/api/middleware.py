"""ASGI middleware: request id, access log and request metrics, request body size limit."""

import logging
import re
import time
import uuid
from collections.abc import Mapping

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from buurtplus.api.errors import problem_response
from buurtplus.core.metrics import UNMATCHED_ROUTE, observe_request
from buurtplus.observability import request_id_var

access_log = logging.getLogger("buurtplus.access")

_SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class RequestContext:
    """Gives each request an id (the client's X-Request-ID if sane), logs one line per request
    and counts it in the metrics."""

    def __init__(self, app: ASGIApp, route_templates: Mapping[int, str] | None = None) -> None:
        self.app = app
        # The full template of each route included under a prefix, by id(route): a route
        # knows only its own router's part of the path.
        self.route_templates = route_templates or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if _SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500
        # API answers are made for one reader and may hold personal content: no shared or
        # browser cache keeps them (a route that sets its own Cache-Control keeps it).
        private = scope["path"].startswith("/api/")

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
                if private and not any(name.lower() == b"cache-control" for name, _ in headers):
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            # The route's template (/api/v1/signals/{signal_id}), never the path itself: ids
            # would make a series per object.
            matched = scope.get("route")
            route = (
                self.route_templates.get(id(matched)) or getattr(matched, "path", None)
                if matched is not None
                else None
            ) or UNMATCHED_ROUTE
            observe_request(scope["method"], route, status, elapsed)
            access_log.info(
                "request",
                extra={
                    "method": scope["method"],
                    "path": scope["path"],
                    "status": status,
                    "duration_ms": round(elapsed * 1000, 1),
                },
            )
            request_id_var.reset(token)


class RefuseNul:
    """A NUL character in the path or query cannot be stored or matched: refuse it early."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and (
            b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]
        ):
            response = problem_response(
                422,
                "validation-error",
                "The URL holds a NUL character.",
                errors=[{"field": "query", "message": "NUL character", "type": "nul"}],
            )
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


class _TooLarge(Exception):
    pass


class BodySizeLimit:
    """Refuses request bodies over `max_bytes` with 413, declared or streamed."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, receive, send)
            return
        received = 0
        too_large = False
        refused = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    raise _TooLarge()
            return message

        async def guarded_send(message: Message) -> None:
            # The framework may turn the aborted read into its own error response: replace it.
            nonlocal refused
            if not too_large:
                await send(message)
            elif not refused:
                refused = True
                await self._refuse(scope, receive, send)

        try:
            await self.app(scope, limited_receive, guarded_send)
        except _TooLarge:
            if not refused:
                await self._refuse(scope, receive, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413, "body-too-large", f"The request body is larger than {self.max_bytes} bytes."
        )
        await response(scope, receive, send)
