"""GET /teams/{id}/heart-safety and its picture: who may, which AEDs count, the problems."""

import xml.etree.ElementTree as ET
from datetime import date
from typing import Any

from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from buurtplus.domain.teams.models import Team
from tests.fixtures.factories import Factory

PROBLEM = "urn:buurtplus:problem:"
SVG = "{http://www.w3.org/2000/svg}"


def square(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict[str, Any]:
    ring = [
        [min_lon, min_lat],
        [max_lon, min_lat],
        [max_lon, max_lat],
        [min_lon, max_lat],
        [min_lon, min_lat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


# About 1.2 km by 0.9 km in Amsterdam Oost, and a neighbour east of it.
OOSTERPARK = square(4.912, 52.356, 4.929, 52.364)
DAPPERBUURT = square(4.930, 52.360, 4.945, 52.368)


def url(team: Team, suffix: str = "") -> str:
    return f"/api/v1/teams/{team.id}/heart-safety{suffix}"


def test_members_see_their_team_s_coverage_hour_by_hour(client: TestClient, make: Factory) -> None:
    team = make.team(area=OOSTERPARK, buurt_codes=["BU0363MA01"])
    member = make.member(team)
    make.aed(latitude=52.3600, longitude=4.9205, opening_hours="24/7")
    make.aed(latitude=52.3600, longitude=4.9235, opening_hours="Mo-Fr 08:00-18:00; PH off")

    response = client.get(url(team), params={"week": "2026-W24"}, headers=make.auth(member))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["week"] == "2026-W24"
    assert body["week_start"] == "2026-06-08"
    assert body["scope"] == {"kind": "team_area", "buurt_code": None, "bbox": None}
    assert len(body["hours"]) == 168
    night, day = body["hours"][3], body["hours"][12]
    assert night["label"] == "Mo 03:00"
    assert night["start"] == "2026-06-08T03:00:00+02:00"
    assert night["available_aeds"] == 1
    assert day["available_aeds"] == 2
    assert 0 < night["covered_share"] < day["covered_share"] <= 1
    assert body["aeds"] == {"considered": 2, "counted": 2, "uncertain_hours": 0}
    assert body["least_covered"][0]["covered_share"] == night["covered_share"]
    assert body["uncovered"]["geometry"]["type"] == "MultiPolygon"
    assert body["uncovered"]["area_m2"] > 0
    site = body["suggested_site"]
    assert 52.356 <= site["latitude"] <= 52.364 and 4.912 <= site["longitude"] <= 4.929
    assert site["added_mean_m2"] > 0


def test_the_uncovered_places_are_of_the_hour_asked_for(client: TestClient, make: Factory) -> None:
    team = make.team(area=OOSTERPARK)
    member = make.member(team)
    make.aed(latitude=52.3600, longitude=4.9205, opening_hours="Mo-Fr 08:00-18:00")

    night = client.get(url(team), params={"hour": 3}, headers=make.auth(member)).json()
    day = client.get(url(team), params={"hour": 12}, headers=make.auth(member)).json()

    assert night["uncovered"]["hour_index"] == 3
    assert day["uncovered"]["label"] == "Mo 12:00"
    assert night["uncovered"]["area_m2"] > day["uncovered"]["area_m2"]
    assert night["uncovered"]["area_m2"] == night["area_m2"]


def test_who_may_see_a_team_s_coverage(client: TestClient, make: Factory) -> None:
    team = make.team(area=OOSTERPARK)
    other = make.team(area=DAPPERBUURT)
    partner = make.partner_user(make.partner())
    allowed = [make.member(team), make.coordinator(team), make.user(UserRole.admin)]
    refused = [make.member(other), make.coordinator(other), partner, make.user()]

    for user in allowed:
        assert client.get(url(team), headers=make.auth(user)).status_code == 200
    for user in refused:
        response = client.get(url(team), headers=make.auth(user))
        assert response.status_code == 404
        assert response.json()["type"] == PROBLEM + "team-not-found"
        assert client.get(url(team, ".svg"), headers=make.auth(user)).status_code == 404
    assert client.get(url(team)).status_code == 401


def test_a_team_without_an_area_is_told_how_to_add_one(client: TestClient, make: Factory) -> None:
    team = make.team()
    coordinator = make.coordinator(team)

    for suffix in ("", ".svg"):
        response = client.get(url(team, suffix), headers=make.auth(coordinator))
        assert response.status_code == 409
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"] == PROBLEM + "team-has-no-area"
        assert "PATCH /api/v1/teams/{team_id}" in problem["detail"]
        assert "`area`" in problem["detail"]


def test_responders_aeds_of_another_team_s_area_are_not_used(
    client: TestClient, make: Factory
) -> None:
    team = make.team(area=OOSTERPARK)
    make.team(area=DAPPERBUURT)
    member, admin = make.member(team), make.user(UserRole.admin)
    # In the Dapperbuurt, 150 m from the Oosterpark's edge: it reaches into the Oosterpark.
    make.aed(latitude=52.3620, longitude=4.9312, visibility="responders")
    make.aed(latitude=52.3610, longitude=4.9230, visibility="responders")

    mine = client.get(url(team), headers=make.auth(member)).json()
    everything = client.get(url(team), headers=make.auth(admin)).json()

    assert mine["aeds"]["counted"] == 1
    assert everything["aeds"]["counted"] == 2


def test_aeds_out_of_service_or_with_uncertain_hours_cover_nothing(
    client: TestClient, make: Factory
) -> None:
    team = make.team(area=OOSTERPARK)
    member = make.member(team)
    make.aed(latitude=52.3600, longitude=4.9205, status="defective")
    make.aed(latitude=52.3600, longitude=4.9205, access="private")
    make.aed(latitude=52.3600, longitude=4.9235, opening_hours='Mo-Su 00:00-24:00 "ask staff"')

    body = client.get(url(team), headers=make.auth(member)).json()

    assert body["aeds"] == {"considered": 3, "counted": 1, "uncertain_hours": 1}
    assert all(hour["covered_share"] == 0 for hour in body["hours"])
    assert body["mean_covered_share"] == 0


def test_citizen_responders_with_a_valid_certificate_count(
    client: TestClient, make: Factory
) -> None:
    team = make.team(area=OOSTERPARK)
    # The clock says 2 March 2026.
    member = make.member(team, cpr_valid_until=date(2027, 1, 1), citizen_responder=True)
    make.member(team, cpr_valid_until=date(2026, 3, 2), citizen_responder=True)
    make.member(team, cpr_valid_until=date(2026, 3, 1), citizen_responder=True)
    make.member(team, cpr_valid_until=date(2027, 1, 1), citizen_responder=False)

    responders = client.get(url(team), headers=make.auth(member)).json()["responders"]

    assert responders["responders"] == 2
    assert responders["needed_low"] >= 12
    assert responders["needed_high"] > responders["needed_low"]
    assert responders["level"] == "below"


def test_a_box_or_a_buurt_narrows_the_area(client: TestClient, make: Factory) -> None:
    team = make.team(area=OOSTERPARK, buurt_codes=["BU0363MA01"])
    member = make.member(team)
    whole = client.get(url(team), headers=make.auth(member)).json()

    part = client.get(
        url(team), params={"bbox": "4.912,52.356,4.920,52.364"}, headers=make.auth(member)
    )
    buurt = client.get(url(team), params={"buurt_code": "BU0363MA01"}, headers=make.auth(member))
    outside = client.get(url(team), params={"bbox": "5.0,52.0,5.1,52.1"}, headers=make.auth(member))
    foreign = client.get(url(team), params={"buurt_code": "BU0363ZZ99"}, headers=make.auth(member))

    assert part.status_code == 200
    assert part.json()["scope"]["kind"] == "bbox"
    assert part.json()["area_m2"] < whole["area_m2"]
    assert buurt.json()["scope"] == {"kind": "buurt", "buurt_code": "BU0363MA01", "bbox": None}
    assert outside.status_code == 422
    assert outside.json()["type"] == PROBLEM + "outside-team-area"
    assert foreign.status_code == 422
    assert foreign.json()["type"] == PROBLEM + "buurt-not-of-team"


def test_a_week_that_is_not_one_is_refused(client: TestClient, make: Factory) -> None:
    team = make.team(area=OOSTERPARK)
    member = make.member(team)

    response = client.get(url(team), params={"week": "2026-W60"}, headers=make.auth(member))

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "query.week"


def test_the_picture_is_svg_with_a_legend_and_aeds_by_availability(
    client: TestClient, make: Factory
) -> None:
    team = make.team(name="Oost & <Park>", area=OOSTERPARK)
    member = make.member(team)
    make.aed(latitude=52.3600, longitude=4.9205, opening_hours="24/7")
    make.aed(latitude=52.3600, longitude=4.9235, opening_hours="Mo-Fr 08:00-18:00")

    night = client.get(
        url(team, ".svg"), params={"at": "2026-06-08T23:30:00+02:00"}, headers=make.auth(member)
    )
    day = client.get(url(team, ".svg"), params={"hour": 12}, headers=make.auth(member))

    assert night.status_code == 200
    assert night.headers["content-type"] == "image/svg+xml"
    root = ET.fromstring(night.content)  # noqa: S314 - our own output
    assert root.tag == SVG + "svg"
    assert "Oost & <Park>" in root.findtext(SVG + "title", "")
    assert "Mo 23:00 in week 2026-W24" in root.findtext(SVG + "title", "")
    states = sorted(c.get("data-state", "") for c in root.iter(SVG + "circle") if c.get("class"))
    assert states == ["closed", "open"]
    day_states = {c.get("data-state") for c in ET.fromstring(day.content).iter(SVG + "circle")}  # noqa: S314
    assert "closed" not in day_states
    legend = " ".join(t.text or "" for t in root.iter(SVG + "text"))
    assert "AED available" in legend
    assert "Best place for a new 24/7 AED" in legend
    assert root.find(f".//{SVG}g[@id='scale-bar']") is not None
    assert root.find(f".//{SVG}g[@id='suggested-site']") is not None
