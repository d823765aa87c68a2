from typing import Annotated

from fastapi import Path, Query, Response, status

from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    IfMatch,
    Limit,
    SessionDep,
    send_etag,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.categories import (
    CategoryCreate,
    CategoryPage,
    CategoryRead,
    CategoryUpdate,
)
from buurtplus.core.pagination import MAX_LIMIT
from buurtplus.domain.categories import service
from buurtplus.domain.categories.errors import StaleCategory
from buurtplus.domain.categories.models import Category

router = ModuleRouter(prefix="/categories", tags=["categories"])

CodePath = Annotated[str, Path(pattern=r"^[a-z][a-z0-9_]{1,39}$", description="Category code")]


def _category(response: Response, category: Category) -> CategoryRead:
    send_etag(response, category.version)
    return CategoryRead.model_validate(category)


@router.get(
    "",
    summary="The signal categories, with labels and advice",
    response_model=CategoryPage,
    responses=problems(401, 422),
)
def list_categories(
    _: CurrentActor,
    session: SessionDep,
    include_inactive: Annotated[bool, Query(description="Also retired categories")] = False,
    limit: Limit = MAX_LIMIT,
    cursor: Cursor = None,
) -> CategoryPage:
    """Anyone signed in: the taxonomy with Dutch and English labels, group, sensitivity, whether it
    needs Plus mode, and the advice shown to a reporter. Retired categories only with
    `include_inactive`."""
    page = service.list_categories(
        session, include_inactive=include_inactive, limit=limit, cursor=cursor
    )
    return CategoryPage(
        items=[CategoryRead.model_validate(c) for c in page.items], next_cursor=page.next_cursor
    )


@router.get(
    "/{code}",
    summary="One category",
    response_model=CategoryRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
def get_category(
    code: CodePath, response: Response, _: CurrentActor, session: SessionDep
) -> CategoryRead:
    """Anyone signed in: one category, also a retired one."""
    return _category(response, service.get_category(session, code=code))


@router.post(
    "",
    summary="Add a category (admin)",
    response_model=CategoryRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 409, 413, 422), **sends(201, "ETag")},
)
def create_category(
    body: CategoryCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> CategoryRead:
    """Admin only: a category with its labels, group, sensitivity and advice."""
    category = service.create_category(session, actor=actor, fields=body.model_dump(), clock=clock)
    return _category(response, category)


@router.patch(
    "/{code}",
    summary="Change or retire a category (admin)",
    response_model=CategoryRead,
    responses={**problems(401, 403, 404, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_category(
    code: CodePath,
    body: CategoryUpdate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> CategoryRead:
    """Admin only. `active: false` retires a category: no new signals of it; old ones keep it.
    Requires `If-Match` with the category's ETag (428 without, 412 when someone changed it
    since)."""
    category = service.update_category(
        session,
        actor=actor,
        code=code,
        changes=body.changes(),
        expected_version=version_from_if_match(if_match, StaleCategory, required=True),
        clock=clock,
    )
    return _category(response, category)
