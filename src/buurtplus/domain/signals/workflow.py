"""The signal workflow (DESIGN.md section 3): states, actions and who may take them."""

from enum import StrEnum


class SignalStatus(StrEnum):
    submitted = "submitted"
    routed = "routed"
    acknowledged = "acknowledged"
    in_progress = "in_progress"
    closed = "closed"
    unroutable = "unroutable"
    withdrawn = "withdrawn"


class SignalAction(StrEnum):
    route = "route"
    mark_unroutable = "mark_unroutable"
    acknowledge = "acknowledge"
    start = "start"
    close = "close"
    withdraw = "withdraw"
    reject = "reject"
    escalate = "escalate"


class HistoryAction(StrEnum):
    """What a history entry records: the submission, or one of the workflow's actions."""

    submit = "submit"
    route = "route"
    mark_unroutable = "mark_unroutable"
    acknowledge = "acknowledge"
    start = "start"
    close = "close"
    withdraw = "withdraw"
    reject = "reject"
    escalate = "escalate"


class Outcome(StrEnum):
    handled = "handled"
    referred = "referred"
    no_action = "no_action"
    duplicate = "duplicate"


class Urgency(StrEnum):
    normal = "normal"
    high = "high"
    acute = "acute"


S = SignalStatus
A = SignalAction

# (from status, action) -> to status. Nothing else is a legal step.
TRANSITIONS: dict[tuple[SignalStatus, SignalAction], SignalStatus] = {
    (S.submitted, A.route): S.routed,
    (S.submitted, A.mark_unroutable): S.unroutable,
    (S.unroutable, A.route): S.routed,
    (S.routed, A.acknowledge): S.acknowledged,
    (S.acknowledged, A.start): S.in_progress,
    (S.submitted, A.close): S.closed,
    (S.unroutable, A.close): S.closed,
    (S.routed, A.close): S.closed,
    (S.acknowledged, A.close): S.closed,
    (S.in_progress, A.close): S.closed,
    # A partner says "not ours": the signal goes to the next candidate (or unroutable).
    (S.routed, A.reject): S.routed,
    (S.acknowledged, A.reject): S.routed,
    # The acknowledgement deadline passed: on to the fallback partner.
    (S.routed, A.escalate): S.routed,
    (S.routed, A.mark_unroutable): S.unroutable,
    (S.acknowledged, A.mark_unroutable): S.unroutable,
    # The reporter takes a signal back only before anyone has acknowledged it.
    (S.submitted, A.withdraw): S.withdrawn,
    (S.routed, A.withdraw): S.withdrawn,
    (S.unroutable, A.withdraw): S.withdrawn,
}

FINAL_STATUSES = frozenset({S.closed, S.withdrawn})


def next_status(status: SignalStatus, action: SignalAction) -> SignalStatus | None:
    return TRANSITIONS.get((status, action))
