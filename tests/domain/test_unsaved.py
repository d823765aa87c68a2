"""`unsaved(Model, ...)` builds the same object as `Model(...)`, quicker, and the ORM treats it
as any new object (intake builds its signal this way)."""

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import inspect

from buurtplus.core.db import transaction, unsaved
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.signals.models import Signal
from buurtplus.domain.signals.workflow import SignalStatus
from tests.fixtures.factories import Factory


def _values(stored: Signal, **changes: Any) -> dict[str, Any]:
    """A new signal's values, as intake gives them (the rest left to their defaults)."""
    return {
        "id": uuid.uuid4(),
        "team_id": stored.team_id,
        "reporter_id": stored.reporter_id,
        "category_id": stored.category_id,
        "description": "Voordeur staat al twee dagen open",
        "latitude": 52.3601,
        "longitude": 4.9215,
        "buurt_code": "BU0363AA01",
        "observed_at": stored.created_at - timedelta(minutes=5),
        "urgency": stored.urgency,
        "status": SignalStatus.submitted,
        "request_hash": "f" * 64,
        "created_at": stored.created_at,
        "updated_at": stored.created_at,
        **changes,
    }


@pytest.fixture
def stored(make: Factory) -> Signal:
    return make.signal(make.member(make.team()))


def test_it_is_the_object_the_constructor_makes(stored: Signal) -> None:
    values = _values(stored)
    made, expected = unsaved(Signal, **values), Signal(**values)

    assert {name: getattr(made, name) for name in Signal.model_fields} == {
        name: getattr(expected, name) for name in Signal.model_fields
    }
    assert made.version == 1 and made.declined_partner_ids == [] and made.outcome is None
    assert made.model_fields_set == expected.model_fields_set == set(values)
    assert inspect(made).transient


def test_each_object_has_its_own_default_list(stored: Signal) -> None:
    first, second = unsaved(Signal, **_values(stored)), unsaved(Signal, **_values(stored))
    first.declined_partner_ids.append("a partner")
    assert second.declined_partner_ids == []


def test_a_name_that_is_no_field_is_refused(stored: Signal) -> None:
    with pytest.raises(TypeError, match="Signal has no field colour"):
        unsaved(Signal, **_values(stored), colour="red")


def test_changed_added_and_stored_as_any_new_object(app: FastAPI, stored: Signal) -> None:
    made = unsaved(Signal, **_values(stored))
    made.status = SignalStatus.unroutable
    made.routing_explanation = "Geen regel voor deze buurt"
    engine = app.state.engine
    with transaction(engine) as session:
        session.add(made)
    with transaction(engine, write=False) as session:
        read = session.get(Signal, made.id)
        assert read is not None
        assert {name: getattr(read, name) for name in Signal.model_fields} == {
            name: getattr(made, name) for name in Signal.model_fields
        }
        assert read.status == SignalStatus.unroutable and read.version == 1


def test_a_field_may_be_called_model() -> None:
    # An AED's `model` (the device's type) is one of its fields.
    aed = unsaved(Aed, latitude=52.36, longitude=4.92, access="yes", model="Philips HS1")
    assert aed.model == "Philips HS1"
    assert aed.ready is True
