import pytest
from fastapi.testclient import TestClient

from buurtplus.core.actor import UserRole
from tests.fixtures.etags import if_match
from tests.fixtures.factories import Factory

CATEGORIES = "/api/v1/categories"

DEFAULTS = {
    "burglary_risk": ("safety", "normal", False),
    "vehicle_crime": ("safety", "normal", False),
    "trailer_parking": ("safety", "normal", False),
    "youth_nuisance": ("safety", "normal", False),
    "public_space": ("safety", "normal", False),
    "suspicious_situation": ("safety", "normal", False),
    "loneliness": ("social", "sensitive", True),
    "social_isolation": ("social", "sensitive", True),
    "domestic_violence": ("social", "sensitive", True),
    "neglect": ("social", "sensitive", True),
    "worrying_behaviour": ("social", "sensitive", True),
    "other_concern": ("social", "sensitive", True),
    "aed_missing": ("heart_safety", "normal", False),
    "aed_defective": ("heart_safety", "normal", False),
}

NEW = {
    "code": "fireworks",
    "label_nl": "Vuurwerkoverlast",
    "label_en": "Fireworks nuisance",
    "group": "safety",
    "sensitivity": "normal",
    "requires_plus": False,
    "advice_nl": "Gevaarlijk? Bel 112.",
    "advice_en": "Dangerous? Call 112.",
}


def test_the_default_taxonomy_is_there_after_migration(client: TestClient, make: Factory) -> None:
    response = client.get(CATEGORIES, headers=make.auth(make.user()))

    assert response.status_code == 200
    items = {c["code"]: c for c in response.json()["items"]}
    assert {
        code: (c["group"], c["sensitivity"], c["requires_plus"]) for code, c in items.items()
    } == DEFAULTS
    for category in items.values():
        assert category["label_nl"] and category["label_en"]
        assert category["advice_nl"] and category["advice_en"]
    violence = items["domestic_violence"]
    assert "112" in violence["advice_nl"] and "0800-2000" in violence["advice_nl"]
    assert "112" in violence["advice_en"] and "0800-2000" in violence["advice_en"]
    assert "0900-8844" in items["suspicious_situation"]["advice_nl"]


def test_everyone_signed_in_reads_categories_but_nobody_else(
    client: TestClient, make: Factory
) -> None:
    for role in UserRole:
        assert client.get(CATEGORIES, headers=make.auth(make.user(role))).status_code == 200
    assert client.get(CATEGORIES).status_code == 401
    one = client.get(f"{CATEGORIES}/loneliness", headers=make.auth(make.user(UserRole.partner)))
    assert one.json()["label_nl"] == "Eenzaamheid"


def test_admin_adds_changes_and_retires_a_category(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))

    url = f"{CATEGORIES}/fireworks"
    created = client.post(CATEGORIES, json=NEW, headers=admin)
    changed = client.patch(
        url, json={"label_en": "Fireworks"}, headers={**admin, "If-Match": created.headers["ETag"]}
    )
    retired = client.patch(url, json={"active": False}, headers=if_match(client, url, admin))

    assert created.status_code == 201
    assert (created.json()["version"], changed.json()["version"]) == (1, 2)
    assert changed.json()["label_en"] == "Fireworks"
    assert retired.json()["active"] is False
    listed = client.get(CATEGORIES, headers=admin).json()["items"]
    assert "fireworks" not in {c["code"] for c in listed}
    everything = client.get(CATEGORIES, params={"include_inactive": True}, headers=admin)
    assert "fireworks" in {c["code"] for c in everything.json()["items"]}


def test_reports_and_pages_see_a_category_as_it_is_now(client: TestClient, make: Factory) -> None:
    """A change to a category shows in the next answer, and one switched off takes no more
    reports, though every report and page reads categories through a kept copy."""
    admin = make.auth(make.user(UserRole.admin))
    reporter = make.auth(make.member(make.team()))
    url = f"{CATEGORIES}/fireworks"
    client.post(CATEGORIES, json=NEW, headers=admin)
    report = {"category": "fireworks", "description": "Knallen", "buurt_code": "BU0363AA01"}

    first = client.post("/api/v1/signals", json=report, headers=reporter)
    client.patch(url, json={"label_en": "Fireworks"}, headers=if_match(client, url, admin))
    second = client.post("/api/v1/signals", json=report, headers=reporter)
    page = client.get("/api/v1/signals", headers=reporter).json()["items"]
    client.patch(url, json={"active": False}, headers=if_match(client, url, admin))
    third = client.post("/api/v1/signals", json=report, headers=reporter)

    assert first.json()["category"]["label_en"] == "Fireworks nuisance"
    assert second.json()["category"]["label_en"] == "Fireworks"
    assert {s["category"]["label_en"] for s in page} == {"Fireworks"}
    assert third.status_code == 422
    assert third.json()["type"].endswith(":unknown-category")


def test_duplicate_code_conflicts(client: TestClient, make: Factory) -> None:
    admin = make.auth(make.user(UserRole.admin))
    response = client.post(CATEGORIES, json={**NEW, "code": "loneliness"}, headers=admin)
    assert response.status_code == 409


@pytest.mark.parametrize("role", [UserRole.volunteer, UserRole.partner])
def test_only_admins_change_categories(client: TestClient, make: Factory, role: UserRole) -> None:
    headers = make.auth(make.user(role))

    assert client.post(CATEGORIES, json=NEW, headers=headers).status_code == 403
    assert (
        client.patch(
            f"{CATEGORIES}/loneliness",
            json={"active": False},
            headers=if_match(client, f"{CATEGORIES}/loneliness", headers),
        ).status_code
        == 403
    )
    admin = make.auth(make.user(UserRole.admin))
    assert client.get(f"{CATEGORIES}/loneliness", headers=admin).json()["active"] is True


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"code": "Bad Code"}, "body.code"),
        ({"group": "weather"}, "body.group"),
        ({"sensitivity": "secret"}, "body.sensitivity"),
        ({"requires_plus": "yes"}, "body.requires_plus"),
        ({"advice_nl": ""}, "body.advice_nl"),
    ],
)
def test_invalid_category_is_422(
    client: TestClient, make: Factory, change: dict[str, object], field: str
) -> None:
    admin = make.auth(make.user(UserRole.admin))
    response = client.post(CATEGORIES, json={**NEW, **change}, headers=admin)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
