"""A report's fingerprint is stored with it (to tell a retry from another report): the same
report gives the same fingerprint in every release. These were taken from an earlier release."""

import uuid
from datetime import datetime, timedelta, timezone

import pytest

from buurtplus.domain.signals.intake import SignalDraft
from buurtplus.domain.signals.workflow import Urgency

DRAFTS = {
    "1c7c21b2f08f562de94a0bb7649b98575feb432943299e7e7257752d926c80c8": SignalDraft(
        category="loneliness",
        description="Oudere buurman zit alleen; ë",
        urgency=Urgency.acute,
        emergency_called=True,
        observed_at=datetime(2026, 3, 2, 8, 45, tzinfo=timezone(timedelta(hours=1))),
        latitude=52.3601,
        longitude=4.9215,
        address="Dorpsstraat 1",
        postcode="1091AB",
        buurt_code="BU0363MA01",
        team_id=uuid.UUID(int=7),
        id=uuid.UUID(int=9),
    ),
    "a363bde1116ea3caeeea555b7a78ddcfd8ce97cd21281c8b2a32c202f3c6a306": SignalDraft(
        category="public_space", description="Losse stoeptegel"
    ),
    # Made from an observation: the links count; without them they are left out.
    "7469eb997ef70438d285a883f1b0de91f2198ab546be65afb0a38c360a06fcab": SignalDraft(
        category="suspicious_situation",
        description="x",
        patrol_id=uuid.UUID(int=1),
        observation_id=uuid.UUID(int=2),
    ),
}


@pytest.mark.parametrize(("expected", "draft"), DRAFTS.items())
def test_a_report_keeps_its_fingerprint(expected: str, draft: SignalDraft) -> None:
    assert draft.fingerprint() == expected


def test_a_different_report_has_another_fingerprint() -> None:
    fingerprints = {draft.fingerprint() for draft in DRAFTS.values()}
    changed = SignalDraft(
        category="public_space", description="Losse stoeptegel", postcode="1091AB"
    )
    assert len(fingerprints) == len(DRAFTS)
    assert changed.fingerprint() not in fingerprints
