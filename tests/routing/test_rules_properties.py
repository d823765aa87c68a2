"""Properties of the rules router, for any signal facts and any rule set (hypothesis)."""

import random
import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from buurtplus.domain.routing.models import RoutingRule
from buurtplus.domain.routing.router import SignalFacts
from buurtplus.routing.strategies.rules import CompiledRule, RulesRouter

CATEGORIES = {
    "loneliness": "social",
    "neglect": "social",
    "burglary_risk": "safety",
    "aed_missing": "heart_safety",
}
GROUPS = sorted(set(CATEGORIES.values()))
MUNICIPALITIES = ["GM0363", "GM0599"]
BUURTEN = ["BU0363AA01", "BU0363AA02", "BU05990101"]
TEAMS = [uuid.UUID(int=n) for n in range(1, 4)]
URGENCIES = ["normal", "high", "acute"]
WINDOWS = [None, "24/7", "Mo-Fr 08:30-17:00", "Sa,Su 10:00-16:00; PH off", "Mo-Su 20:00-06:00"]
PARTNERS = [uuid.UUID(int=100 + n) for n in range(5)]
MONDAY = datetime(2026, 3, 2, tzinfo=UTC)


def subset(values: list[str]) -> st.SearchStrategy[list[str]]:
    return st.lists(st.sampled_from(values), unique=True, max_size=2)


def make_rule(
    name: str,
    priority: int,
    categories: list[str],
    groups: list[str],
    municipalities: list[str],
    buurten: list[str],
    teams: list[uuid.UUID],
    urgencies: list[str],
    window: str | None,
    partner: uuid.UUID,
) -> RoutingRule:
    return RoutingRule(
        id=uuid.uuid4(),
        name=name,
        priority=priority,
        categories=categories,
        category_groups=groups,
        municipalities=municipalities,
        buurt_codes=buurten,
        team_ids=[str(t) for t in teams],
        urgencies=urgencies,
        time_window=window,
        partner_id=partner,
        ack_minutes=60,
        created_at=MONDAY,
        updated_at=MONDAY,
    )


rules_strategy = st.lists(
    st.builds(
        make_rule,
        name=st.text("abcdef", min_size=1, max_size=4),
        priority=st.integers(-3, 3),
        categories=subset(sorted(CATEGORIES)),
        groups=subset(GROUPS),
        municipalities=subset(MUNICIPALITIES),
        buurten=subset(BUURTEN),
        teams=st.lists(st.sampled_from(TEAMS), unique=True, max_size=2),
        urgencies=subset(URGENCIES),
        window=st.sampled_from(WINDOWS),
        partner=st.sampled_from(PARTNERS),
    ),
    max_size=25,
)

facts_strategy = st.builds(
    lambda category, municipality, buurt, team, urgency, minutes: SignalFacts(
        category=category,
        category_group=CATEGORIES[category],
        municipality=municipality,
        team_id=team,
        urgency=urgency,
        at=MONDAY + timedelta(minutes=minutes),
        buurt_code=buurt,
    ),
    category=st.sampled_from(sorted(CATEGORIES)),
    municipality=st.sampled_from(MUNICIPALITIES),
    buurt=st.sampled_from([*BUURTEN, None]),
    team=st.sampled_from(TEAMS),
    urgency=st.sampled_from(URGENCIES),
    minutes=st.integers(0, 7 * 24 * 60 - 1),
)


@settings(max_examples=300, deadline=None)
@given(rules=rules_strategy, facts=facts_strategy, seed=st.integers(0, 1000))
def test_the_decision_is_deterministic_and_the_most_specific_match(
    rules: list[RoutingRule], facts: SignalFacts, seed: int
) -> None:
    decision = RulesRouter.from_rules(rules).decide_compiled(facts)
    shuffled = rules[:]
    random.Random(seed).shuffle(shuffled)
    again = RulesRouter.from_rules(shuffled).decide_compiled(facts)

    compiled = [CompiledRule.compile(rule) for rule in rules]
    matching = [rule for rule in compiled if not rule.mismatches(facts)]
    assert decision == again
    if decision is None:
        assert matching == []
        return
    chosen = next(rule for rule in compiled if rule.id == decision.rule_id)
    assert chosen.mismatches(facts) == []
    assert decision.partner_id == chosen.partner_id
    by_id = {rule.id: rule for rule in rules}
    best = max(specificity(by_id[rule.id]) for rule in matching)
    assert specificity(by_id[chosen.id]) == best
    assert chosen.priority == max(
        rule.priority for rule in matching if specificity(by_id[rule.id]) == best
    )


def specificity(rule: RoutingRule) -> tuple[int, int, int, int]:
    """Written out again here, independently of the router: category code over group, then
    buurt over team over municipality, then urgency, then time window."""
    category = 2 if rule.categories else 1 if rule.category_groups else 0
    area = 3 if rule.buurt_codes else 2 if rule.team_ids else 1 if rule.municipalities else 0
    return (category, area, int(bool(rule.urgencies)), int(bool(rule.time_window)))


@settings(max_examples=150, deadline=None)
@given(
    rules=rules_strategy,
    facts=facts_strategy,
    declined=st.lists(st.sampled_from(PARTNERS), unique=True, max_size=3),
)
def test_a_partner_that_declined_is_never_chosen(
    rules: list[RoutingRule], facts: SignalFacts, declined: list[uuid.UUID]
) -> None:
    decision = RulesRouter.from_rules(rules).decide_compiled(facts, exclude=frozenset(declined))
    if decision is not None:
        assert decision.partner_id not in declined
        assert decision.fallback_partner_id not in declined


def test_a_window_open_around_the_clock_is_open_while_the_clocks_go_back() -> None:
    # opening-hours-py reads 02:59 before the clocks go back as closed, even for 24/7.
    rule = CompiledRule.compile(make_rule("always", 0, [], [], [], [], [], [], "24/7", PARTNERS[0]))
    start = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)
    for seconds in range(0, 2 * 3600, 15):
        assert rule.is_open(start + timedelta(seconds=seconds)), start + timedelta(seconds=seconds)
