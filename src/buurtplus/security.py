"""The only module that touches JWTs and password hashes."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from jose import JWTError, jwt

ALGORITHM = "HS256"

_hasher = PasswordHasher()
# Verified against when the account does not exist, so both cases take the same time.
_UNKNOWN_USER_HASH = _hasher.hash("no such account, only here to spend time")


def configure_password_hashing(*, time_cost: int, memory_kib: int) -> None:
    """Set the cost of new hashes; existing hashes keep verifying with their own parameters."""
    global _hasher, _UNKNOWN_USER_HASH
    if (_hasher.time_cost, _hasher.memory_cost) == (time_cost, memory_kib):
        return
    _hasher = PasswordHasher(time_cost=time_cost, memory_cost=memory_kib)
    _UNKNOWN_USER_HASH = _hasher.hash("no such account, only here to spend time")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, password_hash: str | None) -> bool:
    try:
        return _hasher.verify(password_hash or _UNKNOWN_USER_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


# 9999-01-01T00:00:00Z: beyond it datetime.fromtimestamp overflows.
_LATEST_EXPIRY = 253370764800


def _integer_claim(claims: dict[str, object], name: str) -> int:
    """A numeric claim as a whole number; text, booleans and huge or non-finite numbers are
    refused (int(nan) raises ValueError too)."""
    value = claims[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"claim {name} is not a number")
    if abs(value) > 2**53:
        raise ValueError(f"claim {name} out of range")
    return int(value)


@dataclass(frozen=True)
class TokenClaims:
    subject: uuid.UUID
    token_version: int
    expires_at: datetime
    # "user" for a person, "client" for a partner's system client.
    kind: str = "user"


class InvalidToken(Exception):
    """Expired, tampered with, signed with another key, or not ours."""


@dataclass(frozen=True)
class TokenIssuer:
    secret: str
    issuer: str
    audience: str
    lifetime: timedelta

    def issue(
        self, *, subject: uuid.UUID, token_version: int, now: datetime, kind: str = "user"
    ) -> str:
        claims = {
            "sub": str(subject),
            "tv": token_version,
            "knd": kind,
            "iss": self.issuer,
            "aud": self.audience,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int((now + self.lifetime).timestamp()),
            "jti": uuid.uuid4().hex,
        }
        return str(jwt.encode(claims, self.secret, algorithm=ALGORITHM))

    def verify(self, token: str, *, now: datetime) -> TokenClaims:
        subject, token_version, kind, expires = _verified(
            token, self.secret, self.audience, self.issuer
        )
        if expires <= now.timestamp():
            raise InvalidToken("token expired")
        # A signed claim can still be any number: only a time a datetime can hold is read.
        if expires > _LATEST_EXPIRY:
            raise InvalidToken("token expiry out of range")
        expires_at = datetime.fromtimestamp(expires, tz=now.tzinfo)
        return TokenClaims(
            subject=subject, token_version=token_version, expires_at=expires_at, kind=kind
        )


# Every request shows its token again, and checking a signature and its claims cost more than
# the account's query: a token that checked out is remembered (its expiry is still compared
# with the clock on every request, and revocation is the account's token version, read every
# time). One that fails is checked in full each time it is shown: exceptions are not kept.
@lru_cache(maxsize=4096)
def _verified(
    token: str, secret: str, audience: str, issuer: str
) -> tuple[uuid.UUID, int, str, int]:
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=issuer,
            # Expiry is checked by the caller against the application clock.
            options={"verify_exp": False, "verify_nbf": False},
        )
        subject = uuid.UUID(str(claims["sub"]))
        token_version = _integer_claim(claims, "tv")
        kind = str(claims.get("knd", "user"))
        expires = _integer_claim(claims, "exp")
    except (JWTError, KeyError, ValueError, TypeError) as exc:
        raise InvalidToken(str(exc)) from exc
    return subject, token_version, kind, expires
