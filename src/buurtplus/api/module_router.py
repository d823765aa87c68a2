"""A module's router that tells at once when a request is not for it.

The app tries each module's router in turn; FastAPI asks a router to match by trying each of
its routes' patterns, so a request for the last module's path tried every route of every module
before it (nearby AEDs: 12 % of its server time under load). A `ModuleRouter` included with
`include_in` first compares the path with the literal beginnings of its routes (`/api/v1/aeds/`
of `/aeds/{aed_id}`) and answers "no match" without trying a pattern when none fits. A path
that fits is matched by FastAPI as before, so what matches, 405 for another method, and the
redirect of a missing or extra slash are unchanged.
"""

from typing import Any

from fastapi import APIRouter, FastAPI
from starlette._utils import get_route_path  # the path as Starlette's routes match it
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


class ModuleRouter(APIRouter):
    # The prefixes it was included under (a module's router is one object, in every app made).
    _prefixes: frozenset[str] | None = None
    _literals: tuple[str, ...] = ()
    _literals_of: int = -1  # the number of routes the literals were taken from

    def include_in(self, app: FastAPI, *, prefix: str, **options: Any) -> None:
        """`app.include_router(self, prefix=prefix, ...)`, matched by literal beginnings."""
        app.include_router(self, prefix=prefix, **options)
        self._prefixes = (self._prefixes or frozenset()) | {prefix}
        self._literals_of = -1

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if self._prefixes is not None and not get_route_path(scope).startswith(self._beginnings()):
            return Match.NONE, {}
        return super().matches(scope)

    def _beginnings(self) -> tuple[str, ...]:
        # Taken again if a route was added after the router was included.
        if self._literals_of != len(self.routes):
            self._literals = tuple(
                {f"{prefix}{_literal(r)}" for prefix in self._prefixes or () for r in self.routes}
            )
            self._literals_of = len(self.routes)
        return self._literals


def _literal(route: BaseRoute) -> str:
    """The path of a route up to its first parameter: `/aeds/` of `/aeds/{aed_id}`."""
    path = getattr(route, "path", None)
    return path.split("{", 1)[0] if isinstance(path, str) else ""
