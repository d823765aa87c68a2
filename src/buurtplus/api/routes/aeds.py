import uuid
from typing import Annotated, Any

from fastapi import Query, Request, Response, status

from buurtplus.api.answers import json_answer
from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    ClockDep,
    CurrentActor,
    Cursor,
    IfMatch,
    Limit,
    RouterDep,
    SessionDep,
    SettingsDep,
    clock_of,
    read_now,
    send_etag,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.aeds import (
    AedCheckCreate,
    AedCheckPage,
    AedCheckResult,
    AedCreate,
    AedMaintenanceItem,
    AedMaintenancePage,
    AedNearby,
    AedPage,
    AedRead,
    AedUpdate,
    aed_read,
    check_read,
    nearby_content,
)
from buurtplus.api.schemas.common import Moment
from buurtplus.api.schemas.teams import BuurtCode
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.aeds import checks, maintenance, nearby, service
from buurtplus.domain.aeds.areas import reach_of
from buurtplus.domain.aeds.errors import StaleAed
from buurtplus.domain.aeds.service import AedFilter, AedView
from buurtplus.domain.aeds.vocabulary import AedStatus

router = ModuleRouter(prefix="/aeds", tags=["aeds"])

# The default search radius: at most a few latitude bands of the index, so a short read.
WALKING_DISTANCE_M = 2000


def _fields(values: dict[str, Any]) -> dict[str, Any]:
    """API names to the registry's: `source` is stored as the source id (None: manual)."""
    fields = dict(values)
    if "source" in fields:
        source = fields.pop("source")
        fields["source_id"] = None if source in (None, "manual") else source
    if fields.get("addr_postcode"):
        fields["addr_postcode"] = fields["addr_postcode"].replace(" ", "").upper()
    return fields


def _etag(response: Response, view: AedView) -> None:
    send_etag(response, view.aed.version)


@router.get(
    "",
    summary="List the AEDs you may see",
    response_model=AedPage,
    responses=problems(401, 422),
)
def list_aeds(
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    bbox: Annotated[
        str | None,
        Query(
            pattern=r"^-?\d{1,3}(\.\d+)?(,-?\d{1,3}(\.\d+)?){3}$",
            description="min_lon,min_lat,max_lon,max_lat (WGS84)",
            examples=["4.90,52.35,4.94,52.37"],
        ),
    ] = None,
    buurt_code: Annotated[BuurtCode | None, Query()] = None,
    status_: Annotated[list[AedStatus] | None, Query(alias="status")] = None,
    available_now: Annotated[
        bool, Query(description="Only active, ready AEDs that are open now")
    ] = False,
    include_retired: Annotated[bool, Query(description="Also retired AEDs")] = False,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AedPage:
    """Anyone signed in, scoped by visibility: `public` AEDs for everyone, `responders` AEDs for
    team members and admins; contact persons only where you look after the AED; cabinet codes
    never."""
    box = None
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in bbox.split(","))
        box = (min_lon, min_lat, max_lon, max_lat)
    page = service.list_aeds(
        session,
        actor=actor,
        filters=AedFilter(
            bbox=box,
            buurt_code=buurt_code,
            statuses=status_ or [],
            available_now=available_now,
            include_retired=include_retired,
        ),
        limit=limit,
        cursor=cursor,
        clock=clock,
    )
    return AedPage(items=[aed_read(v) for v in page.items], next_cursor=page.next_cursor)


@router.post(
    "",
    summary="Register an AED (a coordinator in their team's area, or an admin)",
    response_model=AedRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 413, 422), **sends(201, "ETag", "Location")},
)
def create_aed(
    body: AedCreate, response: Response, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> AedRead:
    """A coordinator for a place in their team's area, or an admin. The position must lie in the
    Netherlands; `opening_hours` is checked with an OSM parser; a cabinet code is stored and
    never shown again. Audited."""
    view = service.create_aed(session, actor=actor, fields=_fields(body.model_dump()), clock=clock)
    _etag(response, view)
    response.headers["Location"] = f"/api/v1/aeds/{view.aed.id}"
    return aed_read(view)


@router.get(
    "/nearby",
    summary="The nearest AEDs to a point, with distance, walking time and availability",
    response_model=AedNearby,
    responses=problems(401, 422),
)
async def nearby_aeds(
    request: Request,
    actor: CurrentActor,
    lat: Annotated[float, Query(ge=-90, le=90, allow_inf_nan=False, description="WGS84 latitude")],
    lon: Annotated[
        float, Query(ge=-180, le=180, allow_inf_nan=False, description="WGS84 longitude")
    ],
    limit: Annotated[int, Query(ge=1, le=50, description="Most AEDs to return")] = 5,
    radius_m: Annotated[
        float, Query(gt=0, le=20_000, allow_inf_nan=False, description="Search radius, metres")
    ] = WALKING_DISTANCE_M,
    at: Annotated[Moment | None, Query(description="The moment to evaluate; default now")] = None,
    include_unavailable: Annotated[
        bool,
        Query(description="Also AEDs that are not active, not ready or closed at that moment"),
    ] = False,
) -> Response:
    """Anyone signed in: the nearest available AEDs to a point, nearest first, with the geodesic
    distance, a walking time (a lower bound) and the availability at `at`. In a cardiac arrest
    call 112 first."""
    moment = at or clock_of(request).now()
    # In a cardiac arrest every second counts: a search within walking distance reads on the
    # event loop (SQLite), no hand-offs; a wider one may read thousands of rows, in a thread.
    found = await read_now(
        request,
        lambda connection: nearby.aeds_near(
            connection,
            actor=actor,
            latitude=lat,
            longitude=lon,
            at=moment,
            limit=limit,
            radius_m=radius_m,
            include_unavailable=include_unavailable,
        ),
        short=radius_m <= WALKING_DISTANCE_M,
    )
    return json_answer(
        AedNearby,
        nearby_content(
            at=moment,
            latitude=lat,
            longitude=lon,
            walking_speed_kmh=nearby.WALKING_SPEED_M_PER_S * 3.6,
            found=found,
        ),
    )


@router.get(
    "/maintenance",
    summary="AEDs that need looking after: expiring, not ready, or not checked for long",
    response_model=AedMaintenancePage,
    responses=problems(401, 403, 404, 422),
)
def maintenance_list(
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    settings: SettingsDep,
    within_days: Annotated[int, Query(ge=0, le=366, description="Expiring within")] = 30,
    team_id: Annotated[uuid.UUID | None, Query(description="Only this team's area")] = None,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AedMaintenancePage:
    """A coordinator (the AEDs of their team's area, or of `team_id`) or an admin: AEDs whose pads
    or battery expire within `within_days` (or have), that are not ready, or that nobody checked
    for too long, each with its reasons."""
    page = maintenance.maintenance_list(
        session,
        actor=actor,
        within_days=within_days,
        team_id=team_id,
        check_interval_days=settings.aed_check_interval_days,
        limit=limit,
        cursor=cursor,
        clock=clock,
    )
    return AedMaintenancePage(
        items=[AedMaintenanceItem(aed=aed_read(i.view), reasons=i.reasons) for i in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(
    "/{aed_id:uuid}",
    summary="Get an AED",
    response_model=AedRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
def get_aed(
    aed_id: uuid.UUID, response: Response, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> AedRead:
    """As the list; the `ETag` is the AED's version."""
    view = service.get_aed(session, actor=actor, aed_id=aed_id, clock=clock)
    _etag(response, view)
    return aed_read(view)


@router.patch(
    "/{aed_id:uuid}",
    summary="Change an AED (If-Match with its ETag)",
    response_model=AedRead,
    responses={**problems(401, 403, 404, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_aed(
    aed_id: uuid.UUID,
    body: AedUpdate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> AedRead:
    """A coordinator of a team whose area holds the AED, or an admin. Requires `If-Match` with the
    AED's ETag (428 without, 412 when someone changed it since). Only the fields sent change; a
    retired AED takes no changes. Audited, a status change with its old and new status."""
    view = service.update_aed(
        session,
        actor=actor,
        aed_id=aed_id,
        changes=_fields(body.changes()),
        expected_version=version_from_if_match(if_match, StaleAed, required=True),
        clock=clock,
    )
    _etag(response, view)
    return aed_read(view)


@router.delete(
    "/{aed_id:uuid}",
    summary="Retire an AED: kept with its checks, no longer listed, searched or exported",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 412, 422),
)
def retire_aed(
    aed_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> None:
    """As a change: the AED leaves lists, searches and exports but keeps its checks and signals.
    `If-Match` optional: with it, only the version you read is retired."""
    service.retire_aed(
        session,
        actor=actor,
        aed_id=aed_id,
        expected_version=version_from_if_match(if_match, StaleAed),
        clock=clock,
    )


@router.post(
    "/{aed_id:uuid}/checks",
    summary="Record a check of an AED; a failed one raises one AED signal",
    response_model=AedCheckResult,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 409, 413, 422),
)
def check_aed(
    aed_id: uuid.UUID,
    body: AedCheckCreate,
    active: RouterDep,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> AedCheckResult:
    """A member of a team whose area holds the AED, or a participant (or the coordinator) of the
    round given in `patrol_id`. A failed check or an expired date makes the AED not ready and
    reports one AED signal through the ordinary intake (routed to the partner that maintains the
    AED); a check that passes makes it ready again."""
    result = checks.check_aed(
        session,
        actor=actor,
        aed_id=aed_id,
        draft=checks.CheckDraft(**body.model_dump()),
        clock=clock,
        router=active,
    )
    view = service.view_of(reach_of(session, actor), result.aed, clock.now())
    return AedCheckResult(
        check=check_read(result.check, actor=actor, manages=view.manages),
        aed=aed_read(view),
        signal_raised=result.signal_raised,
    )


@router.get(
    "/{aed_id:uuid}/checks",
    summary="List the checks of an AED",
    response_model=AedCheckPage,
    responses=problems(401, 404, 422),
)
def list_checks(
    aed_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> AedCheckPage:
    """Who may see the AED; the note of a check goes after the retention period."""
    view = service.get_aed(session, actor=actor, aed_id=aed_id, clock=clock)
    page = checks.list_checks(
        session, actor=actor, aed_id=aed_id, limit=limit, cursor=cursor, clock=clock
    )
    return AedCheckPage(
        items=[check_read(c, actor=actor, manages=view.manages) for c in page.items],
        next_cursor=page.next_cursor,
    )
