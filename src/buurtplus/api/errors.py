"""The one error mapper: every error leaves as RFC 9457 application/problem+json."""

import logging
import re
import traceback
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from buurtplus.core.errors import (
    Conflict,
    DomainError,
    InvalidCredentials,
    InvalidInput,
    NotFound,
    NotSupported,
    PermissionDenied,
    PreconditionFailed,
    TooManyAttempts,
)

log = logging.getLogger("buurtplus.errors")

PROBLEM_MEDIA_TYPE = "application/problem+json"
TYPE_PREFIX = "urn:buurtplus:problem:"


class FieldError(BaseModel):
    field: str = Field(description="Where the bad value is, e.g. body.buurt_codes.0")
    message: str
    type: str = Field(description="Machine-readable kind of error")


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = Field(examples=["urn:buurtplus:problem:team-not-found"])
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="Each invalid field, for validation problems"
    )
    error: str | None = Field(
        default=None,
        description="The OAuth2 error code (RFC 6749 5.2) when the token endpoint refuses a "
        "sign-in, for OAuth2 libraries: `invalid_grant`",
        examples=["invalid_grant"],
    )


class Unauthenticated(Exception):
    """No valid bearer token: missing, expired, tampered with, or for an inactive user."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class PreconditionRequired(Exception):
    """A change of a shared record sent without If-Match (RFC 6585: 428)."""


# Domain error base class -> HTTP status; the problem type is the error's own name.
STATUS_OF: dict[type[DomainError], HTTPStatus] = {
    NotFound: HTTPStatus.NOT_FOUND,
    PermissionDenied: HTTPStatus.FORBIDDEN,
    Conflict: HTTPStatus.CONFLICT,
    InvalidInput: HTTPStatus.UNPROCESSABLE_ENTITY,
    InvalidCredentials: HTTPStatus.BAD_REQUEST,
    TooManyAttempts: HTTPStatus.TOO_MANY_REQUESTS,
    PreconditionFailed: HTTPStatus.PRECONDITION_FAILED,
    NotSupported: HTTPStatus.NOT_IMPLEMENTED,
}


def problem_type(name: str) -> str:
    return TYPE_PREFIX + name


def _kebab(class_name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", class_name).lower()


def problem_response(
    status: int,
    type_name: str,
    detail: str | None = None,
    *,
    request: Request | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": problem_type(type_name),
        "title": HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
    body.update(extra)
    return JSONResponse(
        jsonable_encoder(body), status_code=status, headers=headers, media_type=PROBLEM_MEDIA_TYPE
    )


def _status_for(error: DomainError) -> HTTPStatus:
    for cls in type(error).__mro__:
        if cls in STATUS_OF:
            return STATUS_OF[cls]
    return HTTPStatus.BAD_REQUEST


def _field_location(field: str) -> str:
    if field == "cursor":
        return "query.cursor"
    if field.startswith("query."):
        return field
    if field[:1].isupper():  # a header name, e.g. Idempotency-Key
        return f"header.{field}"
    return f"body.{field}"


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status = _status_for(exc)
    headers: dict[str, str] = {}
    extra: dict[str, Any] = {}
    if isinstance(exc, TooManyAttempts):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, InvalidInput):
        extra["errors"] = [
            {
                "field": _field_location(exc.field),
                "message": exc.detail,
                "type": _kebab(type(exc).__name__),
            }
        ]
    if isinstance(exc, InvalidCredentials):
        extra["error"] = "invalid_grant"  # what OAuth2 clients look for (RFC 6749 5.2)
    return problem_response(
        status, _kebab(type(exc).__name__), exc.detail, request=request, headers=headers, **extra
    )


def _field_path(loc: tuple[int | str, ...]) -> str:
    """`body.name`, not `body.name.constrained-str`: pydantic puts the union member that
    failed in the location; our field names never hold "-" or "[", its member names do."""
    return ".".join(
        str(part) for part in loc if not (isinstance(part, str) and ("-" in part or "[" in part))
    )


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "field": _field_path(error.get("loc", ())),
            "message": error.get("msg", "invalid value"),
            "type": error.get("type", "value_error"),
        }
        for error in exc.errors()
    ]
    return problem_response(
        422,
        "validation-error",
        "The request has invalid fields; nothing was stored.",
        request=request,
        errors=errors,
    )


# What FastAPI says when a JSON body cannot even be decoded (bad bytes, not UTF-8).
_UNPARSEABLE_BODY = "There was an error parsing the body"


def _allowed_methods(request: Request) -> str:
    """Every method the contract documents for the path; Starlette names only one route's."""
    methods: set[str] = set()
    paths = request.app.openapi()["paths"]
    # A literal path (/aeds/nearby) is its own resource, not an id of the template beside it.
    literal = paths.get(request.url.path)
    for template, item in [(request.url.path, literal)] if literal else paths.items():
        pattern = re.sub(r"\\{[^/]+?\\}", "[^/]+", re.escape(template))
        if re.fullmatch(pattern, request.url.path):
            methods |= {method.upper() for method in item if method != "parameters"}
    return ", ".join(sorted(methods))


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == _UNPARSEABLE_BODY:
        return problem_response(
            422,
            "validation-error",
            "The request body is not valid JSON; nothing was stored.",
            request=request,
            errors=[{"field": "body", "message": "not valid JSON", "type": "json_invalid"}],
        )
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    status = HTTPStatus(exc.status_code)
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != status.phrase else None
    return problem_response(
        status,
        _kebab(status.name.title().replace("_", "")),
        detail,
        request=request,
        headers=headers,
    )


async def handle_unauthenticated(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, Unauthenticated)
    return problem_response(
        401,
        "unauthenticated",
        exc.detail,
        request=request,
        headers={"WWW-Authenticate": "Bearer"},
    )


async def handle_precondition_required(request: Request, exc: Exception) -> JSONResponse:
    return problem_response(
        428,
        "precondition-required",
        "Send If-Match with the ETag of the version you read, so no one else's change is "
        "overwritten unseen; `If-Match: *` overwrites whatever is current.",
        request=request,
    )


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem_response(
        500, "internal-error", "Something went wrong on our side; nothing was changed."
    )


Handler = Callable[[Request, Exception], Awaitable[JSONResponse]]


def _forgetting_frames(handler: Handler) -> Handler:
    """`handler`, after which the frames the error came up through let go of their variables.
    FastAPI keeps a body it could not parse in a frame's variable beside the error it raises,
    a reference cycle freed only by a pass of the garbage collector, which a server makes
    seldom (main.settle_long_lived_objects): a flood of refused megabyte bodies would be kept
    meanwhile. Only for the errors FastAPI and Starlette raise afresh while reading one request:
    their frames have finished, or are running (the middleware calling `handler`, left as they
    are). An error raised in several requests (a writer group's failure) could hold another
    request's suspended frames, which Python 3.11's `frame.clear()` would close."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        try:
            return await handler(request, exc)
        finally:
            traceback.clear_frames(exc.__traceback__)

    return handle


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, handle_domain_error)
    app.add_exception_handler(RequestValidationError, _forgetting_frames(handle_validation_error))
    app.add_exception_handler(StarletteHTTPException, _forgetting_frames(handle_http_error))
    app.add_exception_handler(Unauthenticated, handle_unauthenticated)
    app.add_exception_handler(PreconditionRequired, handle_precondition_required)
    app.add_exception_handler(Exception, handle_unexpected)


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Not signed in, or the token is expired, invalid or revoked",
    403: "Signed in, but not allowed to do this",
    404: "Not found, or not yours to see",
    409: "Conflicts with the current state",
    412: "If-Match does not match the current version; read again and retry",
    413: "Request body too large",
    422: "Invalid input; nothing was stored",
    428: "If-Match is missing: send the ETag of the version you read",
    429: "Too many attempts; see Retry-After",
    501: "The configuration in force cannot do this",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` for the errors a route can return, all problem+json."""
    return {
        status: {
            "description": _DESCRIPTIONS[status],
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
