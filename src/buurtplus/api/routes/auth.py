from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.security import OAuth2PasswordRequestForm

from buurtplus.api.deps import ClockDep, ReadSessionDep, TokenIssuerDep
from buurtplus.api.errors import problems
from buurtplus.api.schemas.auth import Token
from buurtplus.domain.errors import InvalidCredentials
from buurtplus.domain.users.service import authenticate, normalise_email
from buurtplus.domain.users.throttle import LoginThrottle

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/token",
    summary="Sign in and get a bearer token (OAuth2 password grant)",
    response_model=Token,
    responses=problems(400, 422, 429),
)
def issue_token(
    request: Request,
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: ReadSessionDep,
    clock: ClockDep,
    issuer: TokenIssuerDep,
) -> Token:
    throttle: LoginThrottle = request.app.state.login_throttle
    account_key = "account:" + normalise_email(form.username)
    address_key = "address:" + (request.client.host if request.client else "unknown")
    throttle.begin(account_key, address_key)
    try:
        if "\x00" in form.username or "\x00" in form.password:
            raise InvalidCredentials("Unknown e-mail address or wrong password.")
        user = authenticate(session, email=form.username, password=form.password)
    except BaseException:
        throttle.failed(account_key, address_key)
        raise
    throttle.succeeded(account_key, address_key)
    token = issuer.issue(subject=user.id, token_version=user.token_version, now=clock.now())
    return Token(access_token=token, expires_in=int(issuer.lifetime.total_seconds()))
