"""Paging through the signals list: every signal a reader may see, each once, in order, for
each way of seeing one (reporter, coordinator, partner, admin) and for several at once."""

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

SIGNALS = "/api/v1/signals"


def walk(client: TestClient, headers: dict[str, str], *, limit: int, query: str = "") -> list[dict]:
    items: list[dict] = []
    cursor = None
    for _ in range(100):
        url = f"{SIGNALS}?limit={limit}{query}" + (f"&cursor={cursor}" if cursor else "")
        page = client.get(url, headers=headers)
        assert page.status_code == 200, page.text
        body = page.json()
        assert len(body["items"]) <= limit
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the pages never ended")


@pytest.fixture
def reported(make: Factory, clock: FrozenClock) -> dict[str, object]:
    """Two teams; team A's coordinator reports too (seen two ways at once); some signals of
    both teams go to one partner. Many share a moment, so the id decides their order."""
    a, b = make.team(plus_mode=True), make.team(plus_mode=True)
    member_a, coordinator_a, member_b = make.member(a), make.coordinator(a), make.member(b)
    signals: list[tuple[User, Signal]] = []
    for n in range(14):
        reporter = (member_a, coordinator_a, member_b)[n % 3]
        signals.append((reporter, make.signal(reporter, category="youth_nuisance")))
        if n % 4 == 0:
            clock.advance(minutes=1)
    partner = make.partner()
    routed = [s for n, (_, s) in enumerate(signals) if n % 3 != 1 and n % 2 == 0]
    for signal in routed:
        make.route_to_partner(signal, partner)
    return {
        "signals": signals,
        "team_a": {s.id for r, s in signals if r is not member_b},
        "member_b": member_b,
        "coordinator_a": coordinator_a,
        "partner_user": make.partner_user(partner),
        "routed": {s.id for s in routed},
    }


def _ids(items: list[dict]) -> list[str]:
    return [item["id"] for item in items]


def _in_order(items: list[dict]) -> bool:
    keys = [(item["created_at"], item["id"]) for item in items]
    return keys == sorted(keys)


@pytest.mark.parametrize("limit", [1, 3, 50])
def test_every_reader_pages_through_what_they_may_see_each_once_in_order(
    client: TestClient, make: Factory, reported: dict, limit: int
) -> None:
    seen = {
        "coordinator_a": reported["team_a"],
        "member_b": {s.id for r, s in reported["signals"] if r is reported["member_b"]},
        "partner_user": reported["routed"],
    }
    for who, expected in seen.items():
        items = walk(client, make.auth(reported[who]), limit=limit)
        assert len(_ids(items)) == len(set(_ids(items))), who
        assert set(_ids(items)) == {str(i) for i in expected}, who
        assert _in_order(items), who
    admin = walk(client, make.auth(make.user(UserRole.admin)), limit=limit)
    assert {str(s.id) for _, s in reported["signals"]} <= set(_ids(admin))
    assert len(_ids(admin)) == len(set(_ids(admin))) and _in_order(admin)


def test_filters_apply_to_every_way_of_seeing(
    client: TestClient, make: Factory, reported: dict
) -> None:
    routed = walk(client, make.auth(reported["coordinator_a"]), limit=2, query="&status=routed")
    assert {i["status"] for i in routed} == {"routed"}
    assert set(_ids(routed)) == {str(i) for i in reported["team_a"] & reported["routed"]}
    assert _in_order(routed)


def test_a_status_asked_for_many_times_is_one_filter_and_one_kept_statement(
    client: TestClient, make: Factory, reported: dict
) -> None:
    """A statement is kept per shape of the list; repeating a status (as a client may, or to
    fill the server's memory) must neither change the page nor make a shape of its own."""
    from buurtplus.domain.signals import reading

    headers = make.auth(reported["coordinator_a"])
    once = walk(client, headers, limit=50, query="&status=routed")
    kept = reading._page_query.cache_info().currsize
    for copies in range(2, 40):
        again = walk(client, headers, limit=50, query="&status=routed" * copies)
        assert _ids(again) == _ids(once)
    assert reading._page_query.cache_info().currsize == kept
