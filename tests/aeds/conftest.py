"""Two neighbouring teams with areas, their people, partners, and AEDs, for the AED tests."""

from dataclasses import dataclass
from typing import Any

import pytest

from buurtplus.core.actor import UserRole
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory

AEDS = "/api/v1/aeds"
PROBLEM = "urn:buurtplus:problem:"


def square(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> dict[str, Any]:
    return {
        "type": "Polygon",
        "coordinates": [
            [
                [min_lon, min_lat],
                [max_lon, min_lat],
                [max_lon, max_lat],
                [min_lon, max_lat],
                [min_lon, min_lat],
            ]
        ],
    }


# Oosterpark and, east of it, the Dapperbuurt.
OOSTERPARK = square(4.912, 52.356, 4.929, 52.364)
DAPPERBUURT = square(4.930, 52.360, 4.945, 52.368)
IN_OOSTERPARK = {"latitude": 52.3601, "longitude": 4.9215}
IN_DAPPERBUURT = {"latitude": 52.3640, "longitude": 4.9380}


@dataclass
class World:
    team_a: Team
    team_b: Team
    admin: User
    coordinator_a: User
    member_a: User
    coordinator_b: User
    member_b: User
    loner: User
    maintainer: Partner
    maintainer_user: User
    other_partner_user: User
    public_aed: Aed
    responders_aed: Aed


@pytest.fixture
def world(make: Factory) -> World:
    team_a = make.team(name="Oosterpark", area=OOSTERPARK, buurt_codes=["BU0363MA01"])
    team_b = make.team(name="Dapperbuurt", area=DAPPERBUURT, buurt_codes=["BU0363MB01"])
    maintainer = make.partner("AED-eigenaar", kind="aed_owner")
    return World(
        team_a=team_a,
        team_b=team_b,
        admin=make.user(UserRole.admin),
        coordinator_a=make.coordinator(team_a),
        member_a=make.member(team_a),
        coordinator_b=make.coordinator(team_b),
        member_b=make.member(team_b),
        loner=make.user(),
        maintainer=maintainer,
        maintainer_user=make.partner_user(maintainer),
        other_partner_user=make.user(UserRole.partner),
        public_aed=make.aed(
            **IN_OOSTERPARK, contact_name="Jan Jansen", contact_phone="020 123 4567"
        ),
        responders_aed=make.aed(
            latitude=52.3610,
            longitude=4.9230,
            visibility="responders",
            maintainer_partner_id=maintainer.id,
            contact_name="Els de Vries",
        ),
    )
