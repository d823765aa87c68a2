"""The patrol workflow (DESIGN.md section 3) and the kinds of things seen on a round."""

from enum import StrEnum


class PatrolStatus(StrEnum):
    planned = "planned"
    active = "active"
    completed = "completed"
    cancelled = "cancelled"


class PatrolAction(StrEnum):
    start = "start"
    finish = "finish"
    cancel = "cancel"


P = PatrolStatus
A = PatrolAction

# (from status, action) -> to status. Nothing else is a legal step.
TRANSITIONS: dict[tuple[PatrolStatus, PatrolAction], PatrolStatus] = {
    (P.planned, A.start): P.active,
    (P.active, A.finish): P.completed,
    (P.planned, A.cancel): P.cancelled,
    # Called off half-way (weather, an incident): the round does not count as walked.
    (P.active, A.cancel): P.cancelled,
}

FINAL_STATUSES = frozenset({P.completed, P.cancelled})
# People sign up and off while a round can still be walked.
OPEN_STATUSES = frozenset({P.planned, P.active})

# Rounds are walked in pairs: fewer participants than this is flagged.
PAIR = 2


def next_status(status: PatrolStatus, action: PatrolAction) -> PatrolStatus | None:
    return TRANSITIONS.get((status, action))


class ObservationKind(StrEnum):
    open_window_or_door = "open_window_or_door"
    broken_lighting = "broken_lighting"
    suspicious_situation = "suspicious_situation"
    wrongly_parked_trailer = "wrongly_parked_trailer"
    youth_gathering = "youth_gathering"
    litter_or_damage = "litter_or_damage"
    contact_with_resident = "contact_with_resident"
    aed_seen = "aed_seen"
    other = "other"


K = ObservationKind

# The signal category an observation of each kind becomes unless the volunteer says otherwise.
# A talk with a resident, an AED seen and "other" have no safe default: the volunteer chooses
# (a social category for a worrying talk, aed_defective or aed_missing for an AED).
DEFAULT_CATEGORY: dict[ObservationKind, str | None] = {
    K.open_window_or_door: "burglary_risk",
    K.broken_lighting: "public_space",
    K.suspicious_situation: "suspicious_situation",
    K.wrongly_parked_trailer: "trailer_parking",
    K.youth_gathering: "youth_nuisance",
    K.litter_or_damage: "public_space",
    K.contact_with_resident: None,
    K.aed_seen: None,
    K.other: None,
}

# Dutch labels, for the prefilled signal description and the calendar.
KIND_LABEL_NL: dict[ObservationKind, str] = {
    K.open_window_or_door: "Open raam of deur",
    K.broken_lighting: "Kapotte verlichting",
    K.suspicious_situation: "Verdachte situatie",
    K.wrongly_parked_trailer: "Verkeerd geparkeerde aanhanger",
    K.youth_gathering: "Groep jongeren",
    K.litter_or_damage: "Zwerfvuil of schade",
    K.contact_with_resident: "Contact met een bewoner",
    K.aed_seen: "AED gezien",
    K.other: "Overig",
}
