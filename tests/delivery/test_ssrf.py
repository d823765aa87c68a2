"""Webhooks go to public addresses only, checked on the address a name resolves to when sent."""

import asyncio
import ipaddress
import os
import re
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import trustme
from fastapi.testclient import TestClient

from buurtplus.config import Settings
from buurtplus.core.clock import FrozenClock
from buurtplus.delivery.sender import WebhookSender, open_connection, trusted_roots
from buurtplus.delivery.ssrf import AddressGuard, AddressRefused, parse_allow_list
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from tests.fixtures.factories import Factory
from tests.fixtures.receiver import Receiver, Reply, running_receiver

REFUSED = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.1",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",  # noqa: S104 - an address to refuse, not to bind
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.10",  # documentation
    "198.51.100.7",
    "203.0.113.9",
    "198.18.0.1",  # benchmarking
    "240.0.0.1",
    "::1",
    "::",
    "fe80::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "2001:db8::1",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:10.0.0.1",
    "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
    "64:ff9b::5db8:d70e",  # NAT64 at all: a translator we cannot see behind
    "2002:a00:1::1",  # 6to4 of 10.0.0.1
]
ALLOWED = ["93.184.215.14", "145.97.39.155", "2a00:1450:400e:80f::200e"]


@pytest.mark.parametrize("address", REFUSED)
def test_special_addresses_are_refused(address: str) -> None:
    assert AddressGuard().refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address: str) -> None:
    assert AddressGuard().refusal(ipaddress.ip_address(address)) is None


def test_an_allow_listed_network_is_allowed_and_nothing_else() -> None:
    guard = AddressGuard(parse_allow_list(["127.0.0.0/8"]))
    assert guard.pick_address("localhost", 80, ["127.0.0.1"]).allow_listed
    with pytest.raises(AddressRefused):
        guard.pick_address("intranet", 80, ["10.0.0.1"])


@pytest.mark.parametrize(
    ("entry", "address", "port", "allowed"),
    [
        ("127.0.0.1:8001", "127.0.0.1", 8001, True),
        ("127.0.0.1:8001", "127.0.0.1", 8002, False),
        ("127.0.0.1:8001", "127.0.0.2", 8001, False),
        ("127.0.0.0/8:8001", "127.9.9.9", 8001, True),
        ("[::1]:8001", "::1", 8001, True),
        ("[::1]:8001", "::1", 22, False),
        ("::1", "::1", 22, True),
        ("[fd00::/8]", "fd12::1", 443, True),
    ],
)
def test_an_allow_list_entry_may_hold_a_port(
    entry: str, address: str, port: int, allowed: bool
) -> None:
    guard = AddressGuard(parse_allow_list([entry]))
    assert guard.allow_listed(ipaddress.ip_address(address), port) is allowed


@pytest.mark.parametrize("entry", ["127.0.0.1:", "127.0.0.1:http", "127.0.0.1:70000", "[::1]x"])
def test_a_broken_allow_list_entry_stops_the_start(entry: str) -> None:
    with pytest.raises(ValueError, match="network"):
        Settings(_env_file=None, webhook_allow_networks=entry)  # type: ignore[call-arg]


def test_make_run_allows_only_the_example_receiver(repo_root: Path) -> None:
    makefile = (repo_root / "Makefile").read_text()
    (line,) = [row for row in makefile.splitlines() if "WEBHOOK_ALLOW_NETWORKS" in row]
    guard = AddressGuard(parse_allow_list([line.split("?=")[1].strip()]))
    loopback = ipaddress.ip_address("127.0.0.1")
    assert guard.allow_listed(loopback, 8001)
    assert not guard.allow_listed(loopback, 8000)  # the API itself, or any other local port
    assert not guard.allow_listed(loopback, 5432)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://partner.example.nl/hook",
        "file:///etc/passwd",
        "http://user:pw@partner.example.nl/hook",
        "http:///hook",
        "http://10.0.0.1/hook",
        "http://[::1]:8080/hook",
        "http://[::ffff:7f00:1]/hook",
        "http://partner.example.nl:99999/hook",
    ],
)
def test_urls_refused_on_their_face(url: str) -> None:
    with pytest.raises(AddressRefused):
        AddressGuard().check_url(url)


def test_a_name_is_refused_when_any_address_it_resolves_to_is_private() -> None:
    guard = AddressGuard()
    with pytest.raises(AddressRefused, match="not allowed") as refused:
        guard.resolve(
            "https://partner.example.nl/hook",
            lambda host, port: ["93.184.215.14", "10.0.0.5"],
        )
    # What the name resolves to is the operator's business, not the partner's.
    assert "10.0.0.5" not in str(refused.value)
    parts, address = guard.resolve(
        "https://partner.example.nl/hook", lambda host, port: ["93.184.215.14"]
    )
    assert address == "93.184.215.14" and parts.hostname == "partner.example.nl"


class Dialled:
    """A connector for the sender that notes which address it was asked to dial, and how,
    then connects to a loopback receiver instead: the request is real HTTP, the public
    address is not."""

    def __init__(self, receiver: Receiver) -> None:
        self.port = urlsplit(receiver.url).port
        self.calls: list[tuple[str, int, bool, str | None]] = []

    async def __call__(
        self,
        protocol: Callable[[], asyncio.Protocol],
        address: str,
        port: int,
        tls: ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
        self.calls.append((address, port, tls is not None, server_hostname))
        return await open_connection(protocol, "127.0.0.1", self.port or 80, None, None)


def public_sender(
    receiver: Receiver,
    *,
    clock: FrozenClock | None = None,
    timeout_seconds: float = 5,
    resolver: Any = None,
) -> tuple[WebhookSender, Dialled]:
    """A sender for partner.example.nl at 93.184.215.14, answered by `receiver`."""
    dialled = Dialled(receiver)
    sender = WebhookSender(
        AddressGuard(),
        clock=clock or FrozenClock(),
        timeout_seconds=timeout_seconds,
        connect=dialled,
        resolver=resolver or (lambda host, port: ["93.184.215.14"]),
    )
    return sender, dialled


def test_the_request_goes_to_the_checked_address_with_the_original_host(
    receiver: Receiver,
) -> None:
    sender, dialled = public_sender(receiver)
    result = sender.send(
        "https://partner.example.nl/hook?x=1",
        headers={"content-type": "application/json", "webhook-id": "msg_1"},
        body=b'{"a": 1}',
    )
    assert result.succeeded and result.response_excerpt == "ok"
    # The checked address is dialled, asked for TLS with the partner's name to check the
    # certificate against (the TLS itself: the tests at the end of this file).
    assert dialled.calls == [("93.184.215.14", 443, True, "partner.example.nl")]
    (request,) = receiver.received
    assert request.path == "/hook?x=1"
    assert request.headers["host"] == "partner.example.nl"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["webhook-id"] == "msg_1"
    assert request.headers["user-agent"] == "Buurtpreventie-Plus-Webhooks/1"
    assert request.body == b'{"a": 1}'


def test_a_path_is_sent_percent_encoded_and_a_port_stays_in_the_host(receiver: Receiver) -> None:
    sender, dialled = public_sender(receiver)
    result = sender.send(
        "http://partner.example.nl:8443/hooks/wijk oost/ü?naam=a b&x=%2F", headers={}, body=b"{}"
    )
    assert result.succeeded
    assert dialled.calls == [("93.184.215.14", 8443, False, None)]
    (request,) = receiver.received
    assert request.path == "/hooks/wijk%20oost/%C3%BC?naam=a%20b&x=%2F"
    assert request.headers["host"] == "partner.example.nl:8443"


def test_an_address_in_the_url_is_checked_and_sent_to_without_a_lookup(
    receiver: Receiver,
) -> None:
    lookups: list[str] = []

    def resolver(host: str, port: int) -> list[str]:
        lookups.append(host)
        return ["93.184.215.14"]

    sender, dialled = public_sender(receiver, resolver=resolver)
    assert sender.send("https://93.184.215.15/hook", headers={}, body=b"{}").succeeded
    assert sender.send("https://[2606:2800:21f:cb07::1]/hook", headers={}, body=b"{}").succeeded
    refused = sender.send("http://10.0.0.7/hook", headers={}, body=b"{}")
    assert refused.status_code is None
    assert refused.error == "Refused address: 10.0.0.7 is not a public address."
    assert [call[0] for call in dialled.calls] == ["93.184.215.15", "2606:2800:21f:cb07::1"]
    assert [r.headers["host"] for r in receiver.received] == [
        "93.184.215.15",
        "[2606:2800:21f:cb07::1]",
    ]
    assert lookups == []


def test_a_name_that_resolves_to_loopback_is_not_sent_to(receiver: Receiver) -> None:
    port = urlsplit(receiver.url).port
    result = WebhookSender(AddressGuard(), clock=FrozenClock(), timeout_seconds=5).send(
        f"http://localhost:{port}/hooks", headers={}, body=b"{}"
    )
    assert result.status_code is None
    assert result.error == "Refused address for localhost: the address is not allowed."
    assert receiver.received == []


def test_an_allow_listed_address_answers_with_its_status_code_only(receiver: Receiver) -> None:
    receiver.responder = lambda _: Reply(500, body=b"internal service banner")
    result = WebhookSender(
        AddressGuard(parse_allow_list(["127.0.0.0/8"])), clock=FrozenClock(), timeout_seconds=5
    ).send(receiver.url, headers={}, body=b"{}")
    assert result.status_code == 500
    assert result.response_excerpt is None


def test_a_public_address_answer_is_kept_in_the_excerpt(receiver: Receiver) -> None:
    receiver.responder = lambda _: Reply(500, body=b"database down " + b"x" * 2000)
    sender, _ = public_sender(receiver)
    result = sender.send("https://partner.example.nl/hook", headers={}, body=b"{}")
    assert result.status_code == 500
    assert result.response_excerpt is not None
    assert result.response_excerpt.startswith("database down xxx")
    assert len(result.response_excerpt) == 1024


def test_an_endpoint_on_a_private_address_is_refused_when_saved(
    client: TestClient, make: Factory, partner: Partner, partner_person: User
) -> None:
    for url, field in [
        ("http://192.168.1.10/hook", "url"),
        ("ftp://partner.example.nl/hook", "url"),
        ("http://169.254.169.254/latest/meta-data", "url"),
    ]:
        response = client.post(
            f"/api/v1/partners/{partner.id}/endpoints",
            json={"url": url},
            headers=make.auth(partner_person),
        )
        assert response.status_code == 422, url
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"].endswith(field)
    listed = client.get(
        f"/api/v1/partners/{partner.id}/endpoints", headers=make.auth(partner_person)
    )
    assert listed.json()["items"] == []


@pytest.mark.parametrize(
    ("retry_after", "seconds"),
    [("120", 120.0), ("\u00b2", None), ("100000000000000", 7 * 24 * 3600.0), ("soon", None)],
)
def test_odd_retry_after_values_never_break_a_delivery(
    receiver: Receiver, retry_after: str, seconds: float | None
) -> None:
    receiver.responder = lambda _: Reply(503, headers={"retry-after": retry_after})
    sender, _ = public_sender(receiver)
    result = sender.send("https://partner.example.nl/hook", headers={}, body=b"{}")
    assert result.status_code == 503
    assert result.retry_after == seconds


def test_a_retry_after_date_is_measured_on_the_injected_clock(receiver: Receiver) -> None:
    clock = FrozenClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    receiver.responder = lambda _: Reply(
        503, headers={"retry-after": "Mon, 02 Mar 2026 09:02:30 GMT"}
    )
    sender, _ = public_sender(receiver, clock=clock)
    assert sender.send("https://partner.example.nl/hook", headers={}, body=b"{}").retry_after == 150
    clock.advance(minutes=2)
    assert sender.send("https://partner.example.nl/hook", headers={}, body=b"{}").retry_after == 30
    clock.advance(minutes=5)
    assert sender.send("https://partner.example.nl/hook", headers={}, body=b"{}").retry_after == 0


def test_whatever_goes_wrong_in_sending_is_a_failed_attempt_not_a_crash() -> None:
    async def broken(*_: Any) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
        raise RuntimeError("something unforeseen")

    sender = WebhookSender(
        AddressGuard(),
        clock=FrozenClock(),
        timeout_seconds=5,
        connect=broken,
        resolver=lambda host, port: ["93.184.215.14"],
    )
    result = sender.send("https://bücher.example/hook", headers={}, body=b"{}")
    assert result.status_code is None
    assert result.error is not None and "something unforeseen" in result.error


@contextmanager
def raw_receiver(
    answer: Callable[[bytes], Iterable[bytes]],
) -> Iterator[tuple[str, list[bytes]]]:
    """A loopback server that reads one request and writes `answer(request)` piece by piece,
    byte for byte as given: for answers the receiver fixture cannot give. Yields the URL
    and the requests received."""
    received: list[bytes] = []

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = self.request.recv(65536)
                if not chunk:
                    return
                data += chunk
            head, _, body = data.partition(b"\r\n\r\n")
            length = re.search(rb"(?i)\r\ncontent-length: *([0-9]+)", head)
            while length and len(body) < int(length.group(1)):
                body += self.request.recv(65536)
            received.append(head + b"\r\n\r\n" + body)
            for piece in answer(received[-1]):
                self.request.sendall(piece)
                time.sleep(0.005)

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
        finally:
            server.shutdown()


def loopback_sender(timeout_seconds: float = 5) -> WebhookSender:
    return WebhookSender(
        AddressGuard(parse_allow_list(["127.0.0.0/8"])),
        clock=FrozenClock(),
        timeout_seconds=timeout_seconds,
    )


def pieces(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def test_an_answer_that_is_not_http_is_a_failed_attempt() -> None:
    with raw_receiver(lambda _: [b"SSH-2.0-OpenSSH_9.6\r\n\r\n"]) as (url, _):
        result = loopback_sender().send(url, headers={}, body=b"{}")
    assert result.status_code is None
    assert result.error is not None and result.error.startswith("RemoteProtocolError")


def test_a_receiver_that_closes_without_answering_is_a_failed_attempt() -> None:
    with raw_receiver(lambda _: []) as (url, received):
        result = loopback_sender().send(url, headers={}, body=b"{}")
    assert len(received) == 1
    assert result.status_code is None
    assert result.error == "The receiver closed the connection without an answer."


def test_a_refused_connection_does_not_say_which_address_was_dialled() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    # Nothing listens on the port now.
    result = loopback_sender().send(f"http://127.0.0.1:{port}/hook", headers={}, body=b"{}")
    assert result.status_code is None
    assert result.error == "Could not connect: Connection refused."


def test_an_http_1_1_answer_after_100_continue_in_chunks_is_read() -> None:
    answer = (
        b"HTTP/1.1 100 Continue\r\n\r\n"
        b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\nretry-after: 5\r\n\r\n"
        b"5\r\nthank\r\n4\r\n you\r\n0\r\n\r\n"
    )
    with raw_receiver(lambda _: pieces(answer, 7)) as (url, _):
        result = loopback_sender().send(url, headers={}, body=b"{}")
    assert result.status_code == 202
    assert result.retry_after == 5
    # The loopback network is allow-listed: its answer's body is not kept.
    assert result.response_excerpt is None


def test_a_large_answer_head_in_pieces_is_read_and_an_endless_one_refused() -> None:
    def head(size: int) -> bytes:
        cookie = b"x" * 4000
        lines = b"".join(b"set-cookie: c%d=%s\r\n" % (i, cookie) for i in range(size // 4000))
        return b"HTTP/1.1 204 No Content\r\n" + lines + b"content-length: 0\r\n\r\n"

    with raw_receiver(lambda _: pieces(head(60_000), 8_000)) as (url, _):
        assert loopback_sender().send(url, headers={}, body=b"{}").status_code == 204
    with raw_receiver(lambda _: pieces(head(200_000), 8_000)) as (url, _):
        refused = loopback_sender().send(url, headers={}, body=b"{}")
    assert refused.status_code is None
    assert refused.error is not None and refused.error.startswith("RemoteProtocolError")


def test_headers_about_the_connection_are_the_senders_own() -> None:
    answer = [b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"]
    with raw_receiver(lambda _: answer) as (url, received):
        result = loopback_sender().send(
            url,
            headers={
                "Host": "elsewhere.example",
                "Transfer-Encoding": "chunked",
                "Connection": "keep-alive",
                "Content-Length": "999",
                "Expect": "100-continue",
                "webhook-id": "msg_1",
            },
            body=b'{"a": 1}',
        )
    assert result.succeeded
    (request,) = received
    head = request.split(b"\r\n\r\n")[0].decode().lower().split("\r\n")
    assert head[0] == "post /hook http/1.1"
    assert sorted(head[1:]) == sorted(
        [
            f"host: {urlsplit(url).netloc}",
            "webhook-id: msg_1",
            "user-agent: buurtpreventie-plus-webhooks/1",
            "content-length: 8",
        ]
    )
    assert request.endswith(b'\r\n\r\n{"a": 1}')


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="counts /proc/self/fd")
def test_attempts_leave_no_connection_open(partner_ca: trustme.CA) -> None:
    def open_descriptors() -> int:
        return len(os.listdir("/proc/self/fd"))

    released = threading.Event()

    def stalled(_: bytes) -> Iterator[bytes]:
        """An answer that starts and then keeps the connection waiting past the deadline."""
        yield b"HTTP/1.1 200 OK\r\n"
        released.wait(10)

    sender = loopback_sender(timeout_seconds=1)
    with (
        raw_receiver(lambda _: [b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"]) as (url, _),
        raw_receiver(stalled) as (stuck_url, _),
        tls_receiver(partner_ca, "partner.example.nl") as tls,
    ):
        tls_to = tls_sender(partner_ca, tls)
        sender.send(url, headers={}, body=b"{}")
        tls_to.send("https://partner.example.nl/hook", headers={}, body=b"{}")
        before = open_descriptors()
        for _ in range(20):
            assert sender.send(url, headers={}, body=b"{}").succeeded
            assert tls_to.send("https://partner.example.nl/hook", headers={}, body=b"{}").succeeded
        # An answer that never finishes its head ends at the deadline, its socket closed.
        assert sender.send(stuck_url, headers={}, body=b"{}").timed_out
        # The receivers run in this process: the stalled one's end closes once it is let go.
        released.set()
        deadline = time.monotonic() + 5
        while open_descriptors() > before and time.monotonic() < deadline:
            time.sleep(0.05)
        # (At most as many: a socket of an earlier test may close meanwhile.)
        assert open_descriptors() <= before


def test_a_private_ca_named_in_ssl_cert_file_is_trusted(
    partner_ca: trustme.CA, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "private-ca.pem"
    partner_ca.cert_pem.write_to_path(str(bundle))
    with tls_receiver(partner_ca, "partner.example.nl") as receiver:
        assert "CERTIFICATE_VERIFY_FAILED" in str(
            tls_sender(partner_ca, receiver, tls=trusted_roots())
            .send("https://partner.example.nl/hook", headers={}, body=b"{}")
            .error
        )
        monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
        result = tls_sender(partner_ca, receiver, tls=trusted_roots()).send(
            "https://partner.example.nl/hook", headers={}, body=b"{}"
        )
    assert result.status_code == 200


def test_a_name_lookup_that_hangs_ends_at_the_deadline() -> None:
    hang = threading.Event()

    def slow_resolver(host: str, port: int) -> list[str]:
        hang.wait(10)
        return ["93.184.215.14"]

    sender = WebhookSender(
        AddressGuard(), clock=FrozenClock(), timeout_seconds=1, resolver=slow_resolver
    )
    result = sender.send("https://partner.example.nl/hook", headers={}, body=b"{}")
    hang.set()
    assert result.timed_out and result.status_code is None


def test_an_answer_trickling_in_ends_at_the_deadline(receiver: Receiver) -> None:
    # Each byte comes well within any per-read timeout; the whole answer does not.
    receiver.responder = lambda _: Reply(200, body=b"x" * 40, trickle=0.1)
    sender, _ = public_sender(receiver, timeout_seconds=1)
    result = sender.send("https://partner.example.nl/hook", headers={}, body=b"{}")
    assert result.timed_out
    assert result.status_code is None


@pytest.fixture(scope="module")
def partner_ca() -> trustme.CA:
    return trustme.CA()


def tls_receiver(ca: trustme.CA, name: str) -> Any:
    """A loopback HTTPS receiver whose certificate, from `ca`, is valid for `name` only."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(name).configure_cert(context)
    return running_receiver(tls=context)


def tls_sender(
    ca: trustme.CA, receiver: Receiver, *, tls: ssl.SSLContext | None = None
) -> WebhookSender:
    """Sends partner.example.nl's webhooks to `receiver`, trusting only `ca`: the real
    connector, TLS and certificate check, dialling the receiver where the name's public
    address would be."""
    port = urlsplit(receiver.url).port

    async def to_loopback(
        protocol: Callable[[], asyncio.Protocol],
        address: str,
        _: int,
        tls: ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
        assert address == "93.184.215.14"
        return await open_connection(protocol, "127.0.0.1", port or 443, tls, server_hostname)

    context = tls
    if context is None:
        context = ssl.create_default_context()
        ca.configure_trust(context)
    return WebhookSender(
        AddressGuard(),
        clock=FrozenClock(),
        timeout_seconds=5,
        connect=to_loopback,
        resolver=lambda host, port: ["93.184.215.14"],
        tls=context,
    )


def test_https_checks_the_certificate_for_the_partners_name(partner_ca: trustme.CA) -> None:
    with tls_receiver(partner_ca, "partner.example.nl") as receiver:
        receiver.responder = lambda _: Reply(202, body=b"accepted")
        result = tls_sender(partner_ca, receiver).send(
            "https://partner.example.nl/hook", headers={}, body=b"{}"
        )
        assert (result.status_code, result.response_excerpt) == (202, "accepted")
        (request,) = receiver.received
        assert request.headers["host"] == "partner.example.nl"


def test_https_to_a_certificate_for_another_name_is_refused(partner_ca: trustme.CA) -> None:
    with tls_receiver(partner_ca, "elsewhere.example.nl") as receiver:
        result = tls_sender(partner_ca, receiver).send(
            "https://partner.example.nl/hook", headers={}, body=b"{}"
        )
        assert result.status_code is None
        assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
        assert receiver.received == []


def test_https_to_a_certificate_nobody_vouches_for_is_refused(partner_ca: trustme.CA) -> None:
    with tls_receiver(trustme.CA(), "partner.example.nl") as receiver:
        result = tls_sender(partner_ca, receiver).send(
            "https://partner.example.nl/hook", headers={}, body=b"{}"
        )
        assert result.status_code is None
        assert result.error is not None and "CERTIFICATE_VERIFY_FAILED" in result.error
        assert receiver.received == []
