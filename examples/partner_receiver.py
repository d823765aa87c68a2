"""A partner's webhook receiver: verifies Buurtpreventie Plus deliveries and prints them.

Partners can start from this file (docs/partners.md explains the events and guarantees). It
checks every request with the off-the-shelf Standard Webhooks library (`pip install
standardwebhooks`), answers 204 when it accepts a delivery and 400 when the signature is wrong
or too old, and remembers webhook-ids it has seen, because delivery is at-least-once: the same
event can arrive more than once. Webhooks may arrive out of order; each signal event carries
the signal's version.

    python examples/partner_receiver.py --port 8001 --secret whsec_...

`make run` starts it with the demo secret; the demo partners' endpoints point at it.
"""

import argparse
import os
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from standardwebhooks import Webhook, WebhookVerificationError

# The demo endpoints' secret (demo data only): base64 of "buurtpreventie-plus-demo-webhook".
DEMO_SECRET = "whsec_YnV1cnRwcmV2ZW50aWUtcGx1cy1kZW1vLXdlYmhvb2s="  # noqa: S105 - demo only
MAX_BODY = 1_000_000


def describe(event: dict[str, Any]) -> str:
    data = event.get("data", {})
    if event.get("type") == "ping":
        return "ping: the endpoint works"
    if not data.get("assigned_to_you"):
        # It left you: that is all you are told (docs/partners.md, signal.rerouted).
        return f"{event.get('type')}: signal {data.get('signal_id')} is no longer yours"
    parts = [
        f"{event.get('type')} ({data.get('change')})",
        f"signal {data.get('signal_id')}",
        f"category {data.get('category')}",
        f"urgency {data.get('urgency')}",
        f"status {data.get('status')}",
    ]
    if data.get("description"):
        parts.append(f"description {data['description']!r}")
    elif data.get("sensitive"):
        parts.append(f"sensitive: fetch it with your token at {data['links']['signal']}")
    return ", ".join(parts)


def make_handler(verifier: Webhook, seen: set[str]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self._answer(413)
                return
            body = self.rfile.read(length)
            headers = {name.lower(): value for name, value in self.headers.items()}
            try:
                event = verifier.verify(body, headers)
            except WebhookVerificationError as exc:
                print(f"REFUSED {self.path}: {exc}", flush=True)
                self._answer(400)
                return
            message_id = headers["webhook-id"]
            again = " (again: already handled)" if message_id in seen else ""
            seen.add(message_id)
            print(f"{self.path} {message_id}{again}: {describe(event)}", flush=True)
            self._answer(204)

        def _answer(self, status: int) -> None:
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler


class Server(ThreadingHTTPServer):
    # The sender delivers several events at once: a listen backlog larger than the standard
    # library's 5 keeps their connections from being dropped and retried.
    request_queue_size = 128
    daemon_threads = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument(
        "--secret",
        default=os.environ.get("PARTNER_WEBHOOK_SECRET", DEMO_SECRET),
        help="the endpoint's signing secret (or PARTNER_WEBHOOK_SECRET)",
    )
    args = parser.parse_args()
    server = Server((args.host, args.port), make_handler(Webhook(args.secret), set()))
    print(f"Partner receiver on http://{args.host}:{args.port}, verifying signatures.", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
