"""Standard Webhooks signatures: `v1,` + base64 HMAC-SHA256 over `id.timestamp.body`."""

import base64
import hashlib
import hmac

from buurtplus.outbox.secrets import secret_key


def sign(secret: str, *, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(
    secrets_in_force: list[str], *, message_id: str, timestamp: int, body: bytes
) -> str:
    """One signature per secret, space-separated: during a rotation both verify."""
    return " ".join(
        sign(secret, message_id=message_id, timestamp=timestamp, body=body)
        for secret in secrets_in_force
    )


def webhook_headers(
    secrets_in_force: list[str], *, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            secrets_in_force, message_id=message_id, timestamp=timestamp, body=body
        ),
    }
