"""Retention of personal content in the AED registry."""

from datetime import datetime

from sqlalchemy import or_
from sqlmodel import Session, col, select

from buurtplus.domain.aeds.models import Aed, AedCheck


def purge_aed_personal_content(session: Session, *, before: datetime) -> int:
    """Retention: the notes of checks older than `before`, and the contact person of AEDs
    retired before then."""
    notes = list(
        session.exec(
            select(AedCheck).where(
                col(AedCheck.checked_at) < before, col(AedCheck.note).is_not(None)
            )
        )
    )
    for check in notes:
        check.note = None
        session.add(check)
    retired = list(
        session.exec(
            select(Aed).where(
                col(Aed.retired_at) < before,
                or_(col(Aed.contact_name).is_not(None), col(Aed.contact_phone).is_not(None)),
            )
        )
    )
    for aed in retired:
        aed.contact_name = aed.contact_phone = None
        session.add(aed)
    session.flush()
    return len(notes) + len(retired)
