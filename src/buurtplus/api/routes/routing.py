import uuid
from typing import Annotated, Any

from fastapi import Query, Response, status

from buurtplus.api.contract import sends
from buurtplus.api.deps import (
    AdminActor,
    ClockDep,
    CurrentActor,
    Cursor,
    IfMatch,
    Limit,
    RouterDep,
    SessionDep,
    send_etag,
    version_from_if_match,
)
from buurtplus.api.errors import problems
from buurtplus.api.module_router import ModuleRouter
from buurtplus.api.schemas.routing import (
    DecisionRead,
    GapRead,
    GapReport,
    PreviewRequest,
    PreviewResult,
    RuleCheckRead,
    RuleCreate,
    RulePage,
    RuleRead,
    RuleUpdate,
)
from buurtplus.api.schemas.teams import MunicipalityCode
from buurtplus.core.pagination import DEFAULT_LIMIT
from buurtplus.domain.partners.service import partner_name
from buurtplus.domain.routing import gaps
from buurtplus.domain.routing import management as rules
from buurtplus.domain.routing.management import StaleRule
from buurtplus.domain.routing.models import RoutingRule
from buurtplus.domain.signals.dispatch import preview_facts

router = ModuleRouter(prefix="/routing", tags=["routing"])


def _rule(response: Response, rule: RoutingRule) -> RuleRead:
    send_etag(response, rule.version)
    return RuleRead.model_validate(rule)


def _rule_fields(data: dict[str, Any]) -> dict[str, Any]:
    # Team ids are stored as strings in the rule's JSON list.
    if data.get("team_ids") is not None:
        data["team_ids"] = [str(t) for t in data["team_ids"]]
    return data


@router.get(
    "/rules",
    summary="The routing rules (admin)",
    response_model=RulePage,
    responses=problems(401, 403, 422),
)
def list_rules(
    actor: AdminActor, session: SessionDep, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> RulePage:
    """Admin only: every routing rule, paged."""
    page = rules.list_rules(session, actor=actor, limit=limit, cursor=cursor)
    return RulePage(
        items=[RuleRead.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.post(
    "/rules",
    summary="Add a routing rule (admin)",
    response_model=RuleRead,
    status_code=status.HTTP_201_CREATED,
    responses={**problems(401, 403, 413, 422), **sends(201, "ETag")},
)
def create_rule(
    body: RuleCreate, response: Response, actor: AdminActor, session: SessionDep, clock: ClockDep
) -> RuleRead:
    """Admin only: a rule matches on category or category group, area (municipality, buurt codes,
    team), urgency and time window (`opening_hours`); the most specific match wins, ties by
    `priority`."""
    rule = rules.create_rule(
        session, actor=actor, fields=_rule_fields(body.model_dump()), clock=clock
    )
    return _rule(response, rule)


@router.get(
    "/rules/{rule_id}",
    summary="One routing rule (admin)",
    response_model=RuleRead,
    responses={**problems(401, 403, 404, 422), **sends(200, "ETag")},
)
def get_rule(
    rule_id: uuid.UUID, response: Response, actor: AdminActor, session: SessionDep
) -> RuleRead:
    """Admin only: one routing rule."""
    return _rule(response, rules.get_rule(session, actor=actor, rule_id=rule_id))


@router.patch(
    "/rules/{rule_id}",
    summary="Change a routing rule (admin)",
    response_model=RuleRead,
    responses={**problems(401, 403, 404, 412, 413, 422, 428), **sends(200, "ETag")},
)
def update_rule(
    rule_id: uuid.UUID,
    body: RuleUpdate,
    response: Response,
    actor: AdminActor,
    session: SessionDep,
    clock: ClockDep,
    if_match: IfMatch = None,
) -> RuleRead:
    """Admin only. Requires `If-Match` with the rule's ETag (428 without, 412 when someone
    changed it since). Only the fields sent change; signals routed before keep their
    decision."""
    rule = rules.update_rule(
        session,
        actor=actor,
        rule_id=rule_id,
        changes=_rule_fields(body.changes()),
        expected_version=version_from_if_match(if_match, StaleRule, required=True),
        clock=clock,
    )
    return _rule(response, rule)


@router.delete(
    "/rules/{rule_id}",
    summary="Delete a routing rule (admin)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=problems(401, 403, 404, 422),
)
def delete_rule(
    rule_id: uuid.UUID, actor: AdminActor, session: SessionDep, clock: ClockDep
) -> None:
    """Admin only; signals routed by it keep their decision."""
    rules.delete_rule(session, actor=actor, rule_id=rule_id, clock=clock)


@router.post(
    "/preview",
    summary="Dry run: which partner a signal would go to, and why",
    response_model=PreviewResult,
    responses=problems(401, 403, 404, 413, 422),
)
def preview_routing(
    body: PreviewRequest,
    active: RouterDep,
    actor: CurrentActor,
    session: SessionDep,
    clock: ClockDep,
) -> PreviewResult:
    """Admin, or a coordinator for their own team: which partner a signal with these facts would go
    to now (or at `at`), by the router in force, and why every other rule did not fire. Nothing
    is stored."""
    facts = preview_facts(
        session,
        actor=actor,
        category=body.category,
        team_id=body.team_id,
        buurt_code=body.buurt_code,
        urgency=body.urgency,
        at=body.at or clock.now(),
    )
    decision = active.decide(session, facts, exclude=frozenset())
    name = partner_name(session, decision.partner_id) if decision else None
    return PreviewResult(
        decision=DecisionRead(
            partner_id=decision.partner_id,
            partner_name=name or "?",
            rule_id=decision.rule_id,
            rule_name=decision.rule_name,
            ack_minutes=decision.ack_minutes,
            fallback_partner_id=decision.fallback_partner_id,
            explanation=decision.explanation,
        )
        if decision
        else None,
        rules=[
            RuleCheckRead(
                rule_id=c.rule_id, rule_name=c.rule_name, matched=c.matched, reasons=c.reasons
            )
            for c in active.explain(session, facts)
        ],
    )


@router.get(
    "/gaps",
    summary="Category x area combinations that no rule covers, now or in any hour of the week",
    response_model=GapReport,
    responses=problems(401, 403, 422, 501),
)
def routing_gaps(
    municipality: Annotated[MunicipalityCode, Query()],
    active: RouterDep,
    actor: AdminActor,
    session: SessionDep,
    clock: ClockDep,
) -> GapReport:
    """Admin only: the category x buurt combinations of a municipality that reach no partner, now
    or in some hour of the week. 501 when the router in force cannot report gaps."""
    now = clock.now()
    found = gaps.routing_gaps(session, router=active, municipality=municipality, now=now)
    return GapReport(
        municipality=municipality,
        evaluated_at=now,
        items=[
            GapRead(
                category=g.category,
                team_id=g.team_id,
                buurt_code=g.buurt_code,
                urgencies=g.urgencies,
                uncovered_now=g.uncovered_now,
                uncovered_hours=g.uncovered_hours,
            )
            for g in found
        ],
    )
