"""Routers are plugins: built-ins by slug, third-party ones through the entry point group."""

import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.core.clock import FrozenClock
from buurtplus.main import create_app
from buurtplus.routing.registry import RouterPluginError, load_router
from tests.conftest import make_settings
from tests.fixtures.factories import Factory

REPORT = {"category": "loneliness", "description": "Niemand gezien.", "postcode": "1091AB"}


def install_plugin(tmp_path: Path, name: str, target: str, module_source: str) -> None:
    """Install a distribution the way pip would: a module and a dist-info with entry points."""
    (tmp_path / "bp_plugin.py").write_text(textwrap.dedent(module_source), encoding="utf-8")
    dist = tmp_path / "bp_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: bp-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[buurtplus.routers]\n{name} = {target}\n")


@pytest.fixture
def plugin_path(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))
    sys.modules.pop("bp_plugin", None)


PLUGIN = """
    from sqlmodel import select

    from buurtplus.domain.partners.models import Partner
    from buurtplus.domain.routing.router import Decision


    class EverythingToOne:
        '''Routes every signal to the partner named "Centraal meldpunt".'''

        @classmethod
        def from_settings(cls, settings):
            return cls()

        def decide(self, session, facts, *, exclude):
            partner = session.exec(select(Partner).where(Partner.name == "Centraal meldpunt")).one()
            return Decision(partner_id=partner.id, ack_minutes=30,
                            explanation=f"Central desk takes {facts.category}.")

        def explain(self, session, facts):
            return []
"""


def test_a_third_party_router_is_found_and_routes(
    plugin_path: Path, clean_database: str, clock: FrozenClock
) -> None:
    install_plugin(plugin_path, "central", "bp_plugin:EverythingToOne", PLUGIN)
    app = create_app(make_settings(clean_database, router="central"), clock=clock)
    make = Factory(app)
    desk = make.partner("Centraal meldpunt")
    reporter = make.member(make.team(plus_mode=True))

    with TestClient(app) as client:
        body = client.post("/api/v1/signals", json=REPORT, headers=make.auth(reporter)).json()
    app.state.engine.dispose()

    assert body["status"] == "routed"
    assert body["partner_id"] == str(desk.id)
    assert body["routing_explanation"] == "Central desk takes loneliness."


def test_a_plugin_that_takes_a_builtin_slug_stops_the_start(plugin_path: Path) -> None:
    install_plugin(plugin_path, "rules", "bp_plugin:EverythingToOne", PLUGIN)
    with pytest.raises(RouterPluginError, match="clashes"):
        load_router("rules", make_settings("sqlite://"))


def test_a_broken_plugin_stops_the_start(plugin_path: Path) -> None:
    install_plugin(plugin_path, "broken", "bp_plugin:Missing", PLUGIN)
    with pytest.raises(RouterPluginError, match="failed to load"):
        load_router("rules", make_settings("sqlite://"))


def test_an_unknown_router_slug_stops_the_start() -> None:
    with pytest.raises(RouterPluginError, match="not a known router"):
        create_app(make_settings("sqlite://", router="astrology"))


def test_the_static_router_maps_categories_to_partners(
    tmp_path: Path, clean_database: str, clock: FrozenClock
) -> None:
    mapping = tmp_path / "routing.toml"
    mapping.write_text(
        'default = "Gemeente"\nack_minutes = 120\n\n[categories]\nloneliness = "Wijkteam"\n',
        encoding="utf-8",
    )
    app = create_app(
        make_settings(clean_database, router="static", routing_static_file=str(mapping)),
        clock=clock,
    )
    make = Factory(app)
    wijkteam, gemeente = make.partner("Wijkteam"), make.partner("Gemeente")
    reporter = make.member(make.team(plus_mode=True))

    with TestClient(app) as client:
        lonely = client.post("/api/v1/signals", json=REPORT, headers=make.auth(reporter)).json()
        other = client.post(
            "/api/v1/signals",
            json={**REPORT, "category": "public_space"},
            headers=make.auth(reporter),
        ).json()
    app.state.engine.dispose()

    assert lonely["partner_id"] == str(wijkteam.id)
    assert lonely["ack_deadline"] == "2026-03-02T11:30:00Z"
    assert other["partner_id"] == str(gemeente.id)
    assert "default" in other["routing_explanation"]


def test_the_static_router_refuses_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "routing.toml"
    bad.write_text("[categories]\nloneliness = 3\n", encoding="utf-8")
    with pytest.raises(RouterPluginError, match="maps category codes"):
        load_router("static", make_settings("sqlite://", routing_static_file=str(bad)))


FAILING = """
    class Failing:
        @classmethod
        def from_settings(cls, settings):
            return cls()

        def decide(self, session, facts, *, exclude):
            raise RuntimeError("the routing service is down")

        def explain(self, session, facts):
            return []
"""


# Its query fails in the database: on PostgreSQL that aborts the transaction it ran in.
FAILING_QUERY = """
    from sqlalchemy import text

    class FailingQuery:
        @classmethod
        def from_settings(cls, settings):
            return cls()

        def decide(self, session, facts, *, exclude):
            session.execute(text("SELECT routes FROM a_table_that_is_not_there"))

        def explain(self, session, facts):
            return []
"""


@pytest.mark.parametrize(
    ("name", "target", "source"),
    [
        ("failing", "bp_plugin:Failing", FAILING),
        ("failing_query", "bp_plugin:FailingQuery", FAILING_QUERY),
    ],
    ids=["raises", "query-fails"],
)
def test_a_failing_router_never_loses_a_report(
    plugin_path: Path,
    clean_database: str,
    clock: FrozenClock,
    name: str,
    target: str,
    source: str,
) -> None:
    install_plugin(plugin_path, name, target, source)
    app = create_app(make_settings(clean_database, router=name), clock=clock)
    make = Factory(app)
    reporter = make.member(make.team(plus_mode=True))

    with TestClient(app) as client:
        response = client.post("/api/v1/signals", json=REPORT, headers=make.auth(reporter))
    app.state.engine.dispose()

    assert response.status_code == 201
    assert response.json()["status"] == "unroutable"


def test_the_gap_report_asks_the_static_router_in_force(
    tmp_path: Path, clean_database: str, clock: FrozenClock
) -> None:
    """Under the static router the report names what the file leaves out, not what the
    (unused) rules table would miss; with a default nothing is left out."""
    mapping = tmp_path / "routing.toml"
    mapping.write_text('[categories]\nloneliness = "Wijkteam"\n', encoding="utf-8")
    app = create_app(
        make_settings(clean_database, router="static", routing_static_file=str(mapping)),
        clock=clock,
    )
    make = Factory(app)
    make.partner("Wijkteam")
    team = make.team(plus_mode=True)
    admin = make.user(UserRole.admin)

    with TestClient(app) as client:
        report = client.get(
            "/api/v1/routing/gaps", params={"municipality": "GM0363"}, headers=make.auth(admin)
        )
    app.state.engine.dispose()

    assert report.status_code == 200
    uncovered = {gap["category"] for gap in report.json()["items"]}
    assert "loneliness" not in uncovered
    assert {"public_space", "domestic_violence"} <= uncovered
    gap = next(g for g in report.json()["items"] if g["category"] == "public_space")
    assert gap["team_id"] == str(team.id)
    assert gap["uncovered_now"] is True
    assert len(gap["uncovered_hours"]) == 7 * 24

    mapping.write_text('default = "Wijkteam"\n', encoding="utf-8")
    app = create_app(
        make_settings(clean_database, router="static", routing_static_file=str(mapping)),
        clock=clock,
    )
    with TestClient(app) as client:
        report = client.get(
            "/api/v1/routing/gaps", params={"municipality": "GM0363"}, headers=make.auth(admin)
        )
    app.state.engine.dispose()
    assert report.status_code == 200
    assert report.json()["items"] == []


def test_a_router_that_cannot_answer_what_ifs_says_so_in_the_gap_report(
    plugin_path: Path, clean_database: str, clock: FrozenClock
) -> None:
    install_plugin(plugin_path, "central", "bp_plugin:EverythingToOne", PLUGIN)
    app = create_app(make_settings(clean_database, router="central"), clock=clock)
    make = Factory(app)
    make.team(plus_mode=True)
    admin = make.user(UserRole.admin)

    with TestClient(app) as client:
        report = client.get(
            "/api/v1/routing/gaps", params={"municipality": "GM0363"}, headers=make.auth(admin)
        )
    app.state.engine.dispose()

    assert report.status_code == 501
    assert report.headers["content-type"] == "application/problem+json"
    assert report.json()["type"] == "urn:buurtplus:problem:gap-report-not-supported"
    assert "preview" in report.json()["detail"]
