from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from buurtplus.api.errors import problem_response
from buurtplus.migrate import is_at_head

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


PROBLEM_SCHEMA = {"schema": {"$ref": "#/components/schemas/Problem"}}
SERVICE_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "Not ready: database unreachable or migrations not at head",
        "content": {"application/problem+json": PROBLEM_SCHEMA},
    }
}


@router.get("/healthz", summary="The process is up", response_model=Health)
async def healthz() -> Health:
    """No sign-in: the process answers."""
    return Health()


@router.get(
    "/readyz",
    summary="Ready to serve: database reachable, migrations at head",
    response_model=Health,
    responses=SERVICE_UNAVAILABLE,
)
def readyz(request: Request) -> Health | JSONResponse:
    """No sign-in: the database answers and its migrations are at head; 503 otherwise."""
    engine = request.app.state.engine
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        at_head = is_at_head(engine)
    except SQLAlchemyError:
        return problem_response(503, "not-ready", "The database does not answer.")
    if not at_head:
        return problem_response(
            503,
            "not-ready",
            "The database schema is not at the latest migration; run `buurtplus db upgrade`.",
        )
    return Health()
