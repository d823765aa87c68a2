"""Every act the audit log knows, and the kind of object each one is about."""

from enum import StrEnum


class AuditAction(StrEnum):
    """`<subject>.<verb>`: the subject names the object type unless `_OBJECT_TYPES` says other."""

    user_create = "user.create"
    user_update = "user.update"
    user_export = "user.export"
    feed_token_issue = "feed_token.issue"  # noqa: S105 (an action name)
    feed_token_revoke = "feed_token.revoke"  # noqa: S105 (an action name)

    team_create = "team.create"
    team_update = "team.update"
    team_delete = "team.delete"
    member_add = "member.add"
    member_update = "member.update"
    member_remove = "member.remove"

    partner_create = "partner.create"
    partner_update = "partner.update"
    partner_delete = "partner.delete"
    partner_client_create = "partner_client.create"
    partner_client_revoke = "partner_client.revoke"

    category_create = "category.create"
    category_update = "category.update"
    routing_rule_create = "routing_rule.create"
    routing_rule_update = "routing_rule.update"
    routing_rule_delete = "routing_rule.delete"

    signal_create = "signal.create"
    signal_read = "signal.read"
    signal_purge = "signal.purge"
    signal_route = "signal.route"
    signal_mark_unroutable = "signal.mark_unroutable"
    signal_acknowledge = "signal.acknowledge"
    signal_start = "signal.start"
    signal_close = "signal.close"
    signal_withdraw = "signal.withdraw"
    signal_reject = "signal.reject"
    signal_escalate = "signal.escalate"
    signal_escalation_without_fallback = "signal.escalation_without_fallback"
    feedback_create = "feedback.create"
    feedback_read = "feedback.read"

    patrol_create = "patrol.create"
    patrol_update = "patrol.update"
    patrol_start = "patrol.start"
    patrol_finish = "patrol.finish"
    patrol_cancel = "patrol.cancel"
    patrol_sign_up = "patrol.sign_up"
    patrol_sign_off = "patrol.sign_off"
    observation_create = "observation.create"
    observation_read = "observation.read"
    observation_promote = "observation.promote"

    aed_create = "aed.create"
    aed_update = "aed.update"
    aed_retire = "aed.retire"
    aed_import = "aed.import"
    aed_export = "aed.export"
    aed_check = "aed.check"
    aed_ready = "aed.ready"
    aed_not_ready = "aed.not_ready"
    aed_signal = "aed.signal"

    webhook_endpoint_create = "webhook_endpoint.create"
    webhook_endpoint_update = "webhook_endpoint.update"
    webhook_endpoint_delete = "webhook_endpoint.delete"
    webhook_endpoint_rotate_secret = "webhook_endpoint.rotate_secret"  # noqa: S105 (an action name)
    webhook_endpoint_test = "webhook_endpoint.test"
    webhook_endpoint_recover = "webhook_endpoint.recover"
    webhook_endpoint_disabled = "webhook_endpoint.disabled"
    webhook_delivery_retry = "webhook_delivery.retry"

    @property
    def object_type(self) -> str:
        subject = self.value.split(".", 1)[0]
        return _OBJECT_TYPES.get(subject, subject)

    @classmethod
    def step(cls, subject: str, verb: str) -> "AuditAction":
        """The action for one workflow step, such as ("signal", SignalAction.route)."""
        return cls(f"{subject}.{verb}")


# Subjects recorded against another object: a membership against its team, and so on.
_OBJECT_TYPES = {
    "member": "team",
    "observation": "patrol_observation",
    "feedback": "signal",
    "feed_token": "user",
}
