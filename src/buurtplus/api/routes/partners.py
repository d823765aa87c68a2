import uuid

from fastapi import Response, status

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
from buurtplus.api.schemas.partners import (
    PartnerClientCreate,
    PartnerClientIssued,
    PartnerClientPage,
    PartnerClientRead,
    PartnerCreate,
    PartnerPage,
    PartnerRead,
    PartnerUpdate,
)
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.partners import service
from buurtplus.domain.partners.errors import StalePartner
from buurtplus.domain.partners.models import Partner

router = ModuleRouter(prefix="/partners", tags=["partners"])


def _partner(response: Response, partner: Partner) -> PartnerRead:
    send_etag(response, partner.version)
    return PartnerRead.model_validate(partner)


@router.get(
    "",
    summary="List partner organisations (a partner sees its own)",
    response_model=PartnerPage,
    responses=problems(401, 422),
)
def list_partners(
    actor: CurrentActor, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> PartnerPage:
    """An admin sees every partner organisation; a partner's account or client only its own."""
    page = service.list_partners(session, actor=actor, limit=limit, cursor=cursor)
    return PartnerPage(
        items=[PartnerRead.model_validate(p) for p in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "",
    summary="Add a partner organisation (admin)",
    response_model=PartnerRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 409, 413, 422), **sends(201, "ETag")},
)
def create_partner(
    body: PartnerCreate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> PartnerRead:
    """Admin only: a partner organisation with its kind, contact and service area."""
    partner = service.create_partner(session, actor=actor, fields=body.model_dump(), clock=clock)
    return _partner(response, partner)


@router.get(
    "/{partner_id}",
    summary="One partner organisation",
    response_model=PartnerRead,
    responses={**problems(401, 404, 422), **sends(200, "ETag")},
)
def get_partner(
    partner_id: uuid.UUID, response: Response, actor: CurrentActor, session: SessionDep
) -> PartnerRead:
    """An admin, or the partner's own accounts and clients."""
    return _partner(response, service.get_partner(session, actor=actor, partner_id=partner_id))


@router.patch(
    "/{partner_id}",
    summary="Change a partner organisation (admin)",
    response_model=PartnerRead,
    responses={**problems(401, 403, 404, 409, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_partner(
    partner_id: uuid.UUID,
    body: PartnerUpdate,
    response: Response,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> PartnerRead:
    """Admin only. Requires `If-Match` with the partner's ETag (428 without, 412 when someone
    changed it since). Only the fields sent change."""
    partner = service.update_partner(
        session,
        actor=actor,
        partner_id=partner_id,
        changes=body.changes(),
        expected_version=version_from_if_match(if_match, StalePartner, required=True),
        clock=clock,
    )
    return _partner(response, partner)


@router.delete(
    "/{partner_id}",
    summary="Delete a partner organisation no rule or signal uses",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 409, 422),
)
def delete_partner(
    partner_id: uuid.UUID, actor: CurrentActor, session: SessionDep, clock: ClockDep
) -> None:
    """Admin only, while no routing rule or signal refers to it (409 otherwise)."""
    service.delete_partner(session, actor=actor, partner_id=partner_id, clock=clock)


@router.post(
    "/{partner_id}/clients",
    summary="Register a system client (client credentials); its secret is shown once",
    response_model=PartnerClientIssued,
    status_code=status.HTTP_201_CREATED,
    responses=problems(401, 403, 404, 413, 422),
)
def create_partner_client(
    partner_id: uuid.UUID,
    body: PartnerClientCreate,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> PartnerClientIssued:
    """Admin, or the partner's own people (accounts, not its system clients): a system client for
    the client-credentials grant. Its secret is in this answer only; it is stored hashed."""
    issued = service.create_client(
        session, actor=actor, partner_id=partner_id, name=body.name, clock=clock
    )
    return PartnerClientIssued(
        **PartnerClientRead.model_validate(issued.client).model_dump(), client_secret=issued.secret
    )


@router.get(
    "/{partner_id}/clients",
    summary="The partner's system clients",
    response_model=PartnerClientPage,
    responses=problems(401, 403, 404, 422),
)
def list_partner_clients(
    partner_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    limit: Limit = DEFAULT_LIMIT,
    cursor: Cursor = None,
) -> PartnerClientPage:
    """Admin, or the partner's own people (accounts, not its system clients). Secrets are never
    listed."""
    page = service.list_clients(
        session, actor=actor, partner_id=partner_id, limit=limit, cursor=cursor
    )
    return PartnerClientPage(
        items=[PartnerClientRead.model_validate(c) for c in page.items],
        next_cursor=page.next_cursor,
    )


@router.post(
    "/{partner_id}/clients/{client_id}/revoke",
    summary="Revoke a system client",
    response_model=PartnerClientRead,
    responses=problems(401, 403, 404, 422),
)
def revoke_partner_client(
    partner_id: uuid.UUID,
    client_id: uuid.UUID,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> PartnerClientRead:
    """Admin, or the partner's own people (accounts, not its system clients): the client's tokens
    stop working at once."""
    client = service.revoke_client(
        session, actor=actor, partner_id=partner_id, client_id=client_id, clock=clock
    )
    return PartnerClientRead.model_validate(client)
