import base64
import uuid
from typing import Annotated, Literal
from urllib.parse import unquote_plus

import anyio
from fastapi import Form, Request
from sqlmodel import Session

from buurtplus.api.deps import ClockDep, ReadSessionDep, TokenIssuerDep, in_write_turn
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.auth import Token
from buurtplus.core.errors import InvalidCredentials
from buurtplus.domain.partners.service import authenticate_client, client_key
from buurtplus.domain.users.service import authenticate, normalise_email
from buurtplus.domain.users.throttle import LoginThrottle

router = ModuleRouter(prefix="/auth", tags=["auth"])

FormText = Annotated[str | None, Form(max_length=500)]


def basic_client_credentials(request: Request) -> tuple[str, str] | None:
    """A client's id and secret sent as HTTP Basic (`client_secret_basic`, RFC 6749 2.3.1:
    both form-encoded, then base64), which most OAuth2 libraries send by default."""
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidCredentials("The Basic credentials are not readable.") from exc
    client_id, colon, secret = decoded.partition(":")
    if not colon:
        raise InvalidCredentials("The Basic credentials are not readable.")
    return unquote_plus(client_id), unquote_plus(secret)


def check_credentials(
    session: Session, *, grant_type: str, name: str | None, secret: str | None
) -> tuple[uuid.UUID, int, Literal["user", "client"]]:
    """Who the credentials belong to: subject, token version and kind; or InvalidCredentials."""
    if not name or not secret or "\x00" in name + secret:
        raise InvalidCredentials("Unknown account or wrong secret.")
    if grant_type == "password":
        user = authenticate(session, email=name, password=secret)
        return user.id, user.token_version, "user"
    client = authenticate_client(session, client_id=name, secret=secret)
    return client.id, 0, "client"


@router.post(
    "/token",
    summary="Get a bearer token: password grant for people, client credentials for systems",
    response_model=Token,
    responses=problems(400, 422, 429),
)
async def issue_token(
    request: Request,
    session: ReadSessionDep,
    clock: ClockDep,
    issuer: TokenIssuerDep,
    grant_type: Annotated[Literal["password", "client_credentials"], Form()] = "password",
    username: FormText = None,
    password: FormText = None,
    client_id: FormText = None,
    client_secret: FormText = None,
    scope: Annotated[str, Form(max_length=500)] = "",
) -> Token:
    """Anyone. `grant_type=password` with `username` (e-mail) and `password` signs a person in;
    `grant_type=client_credentials` with `client_id` and `client_secret` (in the form or as HTTP
    Basic, not both) signs a partner's system client in. The token speaks for that account until
    it expires, or until the account is switched off, its password or role changes, or the
    client is revoked. Repeated failures for an account or from an address are refused for a
    while (429 with `Retry-After`); a refused sign-in carries the OAuth2 `error` code."""
    throttle: LoginThrottle = request.app.state.login_throttle
    basic = basic_client_credentials(request) if grant_type == "client_credentials" else None
    if basic is not None:
        if client_id is not None or client_secret is not None:
            raise InvalidCredentials(
                "Send the client's credentials once: in the Authorization header or in the form."
            )
        client_id, client_secret = basic
    name = username if grant_type == "password" else client_id
    secret = password if grant_type == "password" else client_secret
    account = (
        "account:" + normalise_email(name or "")
        if grant_type == "password"
        else "client:" + client_key(name or "")
    )
    attempt = throttle.attempt(
        account=account, address=request.client.host if request.client else "unknown"
    )
    # The counts are shared by every process (the database), each step in its own short
    # transaction: the attempt is counted before the password is checked.
    await in_write_turn(request, lambda s: throttle.begin(s, attempt))
    try:
        subject, version, kind = await anyio.to_thread.run_sync(
            lambda: check_credentials(session, grant_type=grant_type, name=name, secret=secret)
        )
    except BaseException:
        with anyio.CancelScope(shield=True):  # a client that hung up still made its guess
            await in_write_turn(request, lambda s: throttle.failed(s, attempt))
        raise
    await in_write_turn(request, lambda s: throttle.succeeded(s, attempt))
    token = issuer.issue(subject=subject, token_version=version, now=clock.now(), kind=kind)
    return Token(access_token=token, expires_in=int(issuer.lifetime.total_seconds()))
