"""The demo's first steps do not depend on the clock: at night, at the weekend and on a public
holiday the demo partner account has a signal to acknowledge, and a social signal reported
then reaches it."""

from datetime import UTC, datetime

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from buurtplus.core.clock import FrozenClock
from buurtplus.core.db import transaction
from buurtplus.demo import DEMO_PASSWORD, seed_demo

SIGNALS = "/api/v1/signals"
OFF_HOURS = {
    "saturday-night": datetime(2026, 3, 7, 2, 0, tzinfo=UTC),  # Saturday 03:00 in Amsterdam
    "weekday-night": datetime(2026, 3, 3, 22, 30, tzinfo=UTC),  # Tuesday 23:30
    "sunday-afternoon": datetime(2026, 3, 8, 13, 0, tzinfo=UTC),
    "koningsdag": datetime(2026, 4, 27, 10, 0, tzinfo=UTC),  # a Monday, a public holiday
}


@pytest.fixture(params=list(OFF_HOURS.values()), ids=list(OFF_HOURS))
def clock(request: pytest.FixtureRequest) -> FrozenClock:
    return FrozenClock(request.param)


@pytest.fixture
def demo(app: FastAPI, clock: FrozenClock) -> None:
    with transaction(app.state.engine) as session:
        assert seed_demo(session, clock=clock, receiver_url="http://127.0.0.1:9/webhooks")


def sign_in(client: TestClient, email: str) -> dict[str, str]:
    response = client.post(
        "/api/v1/auth/token",
        data={"grant_type": "password", "username": email, "password": DEMO_PASSWORD},
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.mark.usefixtures("demo")
def test_the_demo_partner_has_a_signal_to_acknowledge_out_of_office_hours(
    client: TestClient,
) -> None:
    partner = sign_in(client, "partner@demo.local")

    routed = client.get(SIGNALS, params={"status": "routed"}, headers=partner)
    waiting = [s for s in routed.json()["items"] if "acknowledge" in s["allowed_transitions"]]

    assert waiting, routed.json()
    url = f"{SIGNALS}/{waiting[0]['id']}"
    read = client.get(url, headers=partner)
    acknowledged = client.post(
        f"{url}/acknowledge", headers={**partner, "If-Match": read.headers["ETag"]}
    )
    assert acknowledged.status_code == 200, acknowledged.text
    assert acknowledged.json()["status"] == "acknowledged"


@pytest.mark.usefixtures("demo")
def test_a_social_signal_reported_out_of_office_hours_reaches_the_demo_partner(
    client: TestClient,
) -> None:
    member = sign_in(client, "member@demo.local")
    reported = client.post(
        SIGNALS,
        json={
            "category": "social_isolation",
            "description": "De post van de buurman stapelt zich op.",
            "buurt_code": "BU0363MA02",
        },
        headers=member,
    )
    assert reported.status_code == 201, reported.text

    seen = client.get(
        f"{SIGNALS}/{reported.json()['id']}", headers=sign_in(client, "partner@demo.local")
    )

    assert seen.status_code == 200
    assert seen.json()["status"] == "routed"
    assert "acknowledge" in seen.json()["allowed_transitions"]
    assert "binnen drie dagen" in seen.json()["routing_explanation"]
