from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from buurtplus.config import Settings
from buurtplus.core.clock import FrozenClock
from buurtplus.delivery.sender import WebhookSender
from buurtplus.delivery.ssrf import AddressGuard, parse_allow_list
from buurtplus.delivery.worker import DeliveryWorker
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.teams.models import Team
from buurtplus.domain.users.models import User
from tests.conftest import make_settings
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Receiver, running_receiver

LOOPBACK = ["127.0.0.0/8"]


@pytest.fixture
def clock() -> FrozenClock:
    # Near the real time: receivers check webhook-timestamp against their own clock.
    return FrozenClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def settings(clean_database: str) -> Settings:
    return make_settings(
        clean_database,
        webhook_allow_networks=LOOPBACK,
        webhook_timeout_seconds=1,
        webhook_lease_seconds=3,
    )


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with running_receiver() as running:
        yield running


def no_jitter() -> float:
    return 0.0


@pytest.fixture
def worker(app: FastAPI, clock: FrozenClock) -> DeliveryWorker:
    """A delivery worker on the app's database, stepped by the test (deliver_due)."""
    settings: Settings = app.state.settings
    return DeliveryWorker(
        app.state.engine,
        sender=WebhookSender(
            AddressGuard(parse_allow_list(LOOPBACK)),
            clock=clock,
            timeout_seconds=settings.webhook_timeout_seconds,
        ),
        clock=clock,
        lease=timedelta(seconds=settings.webhook_lease_seconds),
        disable_after=timedelta(days=5),
        jitter=no_jitter,
    )


@pytest.fixture
def team(make: Factory) -> Team:
    return make.team(plus_mode=True, buurt_codes=["BU0363AA01"])


@pytest.fixture
def reporter(make: Factory, team: Team) -> User:
    return make.member(team)


@pytest.fixture
def partner(make: Factory) -> Partner:
    partner = make.partner("Sociaal wijkteam Oost")
    make.rule(partner, name="Alles naar het wijkteam")
    return partner


@pytest.fixture
def partner_person(make: Factory, partner: Partner) -> User:
    return make.partner_user(partner)


def report(**fields: Any) -> dict[str, Any]:
    return {
        "category": "suspicious_situation",
        "description": "Iemand probeert bij nummer 12 deuren open te maken.",
        "buurt_code": "BU0363AA01",
        **fields,
    }


def add_endpoint(
    client: TestClient, make: Factory, person: User, partner: Partner, url: str, **fields: Any
) -> dict[str, Any]:
    """A webhook endpoint made through the API, as the partner would; its secret included."""
    response = client.post(
        f"/api/v1/partners/{partner.id}/endpoints",
        json={"url": url, **fields},
        headers=make.auth(person),
    )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created
