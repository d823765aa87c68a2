"""Routers by slug: the built-ins, plus third-party ones from the `buurtplus.routers` entry
point group. A broken or duplicate plugin stops the start with a clear message."""

from importlib.metadata import entry_points
from typing import Any

from buurtplus.domain.routing.router import Router
from buurtplus.routing.strategies.rules import RulesRouter
from buurtplus.routing.strategies.static import StaticRouter

ENTRY_POINT_GROUP = "buurtplus.routers"

BUILTIN: dict[str, Any] = {"rules": RulesRouter, "static": StaticRouter}


class RouterPluginError(RuntimeError):
    pass


def available_routers() -> dict[str, Any]:
    routers = dict(BUILTIN)
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in routers:
            raise RouterPluginError(
                f"router plugin {entry.name!r} ({entry.value}) clashes with a router of the "
                "same slug; rename one"
            )
        try:
            routers[entry.name] = entry.load()
        except Exception as exc:
            raise RouterPluginError(
                f"router plugin {entry.name!r} ({entry.value}) failed to load: {exc}"
            ) from exc
    return routers


def load_router(slug: str, settings: Any) -> Router:
    routers = available_routers()
    if slug not in routers:
        raise RouterPluginError(
            f"BUURTPLUS_ROUTER={slug!r} is not a known router; known: {sorted(routers)}"
        )
    factory = routers[slug]
    try:
        router: Router = factory.from_settings(settings)
    except Exception as exc:
        raise RouterPluginError(f"router {slug!r} could not start: {exc}") from exc
    for method in ("decide", "explain"):
        if not callable(getattr(router, method, None)):
            raise RouterPluginError(f"router {slug!r} has no {method}() method")
    return router
