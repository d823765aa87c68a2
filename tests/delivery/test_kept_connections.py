"""The sender keeps a connection for the next request to the same receiver: never for another
host name or another checked address, never past what the receiver allows, and a request the
receiver drops on a kept connection goes out again on a new one."""

import asyncio
import os
import re
import resource
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from buurtplus.core.clock import FrozenClock
from buurtplus.delivery import sender as sender_module
from buurtplus.delivery.sender import WebhookSender, open_connection
from buurtplus.delivery.ssrf import AddressGuard, parse_allow_list
from buurtplus.delivery.worker import DeliveryWorker
from buurtplus.domain.partners.models import Partner
from buurtplus.domain.users.models import User
from tests.delivery.conftest import add_endpoint
from tests.delivery.test_webhooks import submit
from tests.fixtures.factories import Factory

KEEP = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n"
CLOSE = b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"


@dataclass
class Arrived:
    connection: int
    host: str
    webhook_id: str | None
    body: bytes


@dataclass(frozen=True)
class ThenClose:
    """Answer with these bytes, then close the connection (though the answer says it is kept)."""

    answer: bytes


# What a receiver does with a request: (connection number, request number on it, request) ->
# the bytes to answer, ThenClose, or None to close the connection without answering.
Script = Callable[[int, int, bytes], bytes | ThenClose | None]


@dataclass
class Scripted:
    url: str
    port: int
    arrived: list[Arrived] = field(default_factory=list)
    connections: int = 0
    open_now: int = 0


def _read_request(conn: socket.socket, buffered: bytes) -> tuple[bytes, bytes] | None:
    """One request (head and body) and what came after it; None when the sender closed."""
    data = buffered
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    length = int(re.search(rb"(?i)\r\ncontent-length: *([0-9]+)", head).group(1))  # type: ignore[union-attr]
    while len(rest) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


@contextmanager
def scripted_receiver(script: Script) -> Iterator[Scripted]:
    """A loopback HTTP/1.1 server that answers as `script` says, request by request, on
    connections it keeps open until the script or the sender closes them."""
    lock = threading.Lock()
    state = Scripted(url="", port=0)

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            with lock:
                state.connections += 1
                state.open_now += 1
                number = state.connections
            try:
                buffered, asked = b"", 0
                while True:
                    read = _read_request(self.request, buffered)
                    if read is None:
                        return
                    request, buffered = read
                    asked += 1
                    head = request.split(b"\r\n\r\n")[0].decode("latin-1")
                    headers = dict(line.lower().split(": ", 1) for line in head.split("\r\n")[1:])
                    with lock:
                        state.arrived.append(
                            Arrived(
                                number,
                                headers["host"],
                                headers.get("webhook-id"),
                                request.split(b"\r\n\r\n", 1)[1],
                            )
                        )
                    answer = script(number, asked, request)
                    if answer is None:
                        return
                    if isinstance(answer, ThenClose):
                        self.request.sendall(answer.answer)
                        return
                    # Open after "connection: close" too: the sender must close it itself.
                    self.request.sendall(answer)
            except OSError:
                return
            finally:
                with lock:
                    state.open_now -= 1

    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler) as server:
        server.daemon_threads = True
        state.port = server.server_address[1]
        state.url = f"http://127.0.0.1:{state.port}/hook"
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            yield state
        finally:
            server.shutdown()


def always(answer: bytes | ThenClose) -> Script:
    return lambda connection, asked, request: answer


def loopback_sender() -> WebhookSender:
    return WebhookSender(
        AddressGuard(parse_allow_list(["127.0.0.0/8"])), clock=FrozenClock(), timeout_seconds=5
    )


# (address dialled, TLS asked, the name the certificate is checked against)
Dials = list[tuple[str, bool, str | None]]


def sender_to(
    receiver: Scripted,
    resolve: Callable[[str, int], list[str]],
    guard: AddressGuard | None = None,
) -> tuple[WebhookSender, Dials]:
    """A sender for public names (`resolve` gives their addresses) whose every connection,
    whatever address it dials, reaches `receiver` on plain HTTP; its dials are recorded."""
    dials: Dials = []

    async def connect(
        protocol: Callable[[], asyncio.Protocol],
        address: str,
        port: int,
        tls: ssl.SSLContext | None,
        server_hostname: str | None,
    ) -> tuple[asyncio.BaseTransport, asyncio.Protocol]:
        dials.append((address, tls is not None, server_hostname))
        return await open_connection(protocol, "127.0.0.1", receiver.port, None, None)

    sender = WebhookSender(
        guard or AddressGuard(),
        clock=FrozenClock(),
        timeout_seconds=5,
        connect=connect,
        resolver=resolve,
    )
    return sender, dials


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)
    return condition()


def test_requests_to_one_receiver_share_a_kept_connection() -> None:
    sender = loopback_sender()
    with scripted_receiver(always(KEEP)) as receiver:
        for n in range(5):
            result = sender.send(receiver.url, headers={"webhook-id": f"msg_{n}"}, body=b"{}")
            assert result.status_code == 204
        assert receiver.connections == 1
        # Three at once: the kept connection and two more, all three kept afterwards.
        results = sender.send_many([(receiver.url, {}, b"{}")] * 3)
        assert [r.status_code for r in results] == [204] * 3
        assert receiver.connections == 3
        assert [r.status_code for r in sender.send_many([(receiver.url, {}, b"{}")] * 3)] == [
            204
        ] * 3
        assert receiver.connections == 3
        assert [a.webhook_id for a in receiver.arrived[:5]] == [f"msg_{n}" for n in range(5)]
        # Closing the sender's connections is seen by the receiver.
        sender.close()
        assert eventually(lambda: receiver.open_now == 0)


def test_a_kept_connection_carries_only_its_host_name_and_checked_address() -> None:
    """Two names on one address get a connection each; a name whose address changed (a new
    lookup says so) is dialled anew, never sent over the connection to the old address."""
    answers: dict[str, list[str]] = {
        "a.example.nl": ["93.184.215.14"],
        "b.example.nl": ["93.184.215.14"],
    }
    with scripted_receiver(always(KEEP)) as receiver:
        sender, dials = sender_to(receiver, lambda host, port: answers[host])
        for url in ["https://a.example.nl/hook", "https://b.example.nl/hook"] * 2:
            assert sender.send(url, headers={}, body=b"{}").status_code == 204
        assert dials == [
            ("93.184.215.14", True, "a.example.nl"),
            ("93.184.215.14", True, "b.example.nl"),
        ]
        answers["a.example.nl"] = ["145.97.39.155"]
        assert sender.send("https://a.example.nl/hook", headers={}, body=b"{}").succeeded
        assert dials[-1] == ("145.97.39.155", True, "a.example.nl")
        assert [(a.connection, a.host) for a in receiver.arrived] == [
            (1, "a.example.nl"),
            (2, "b.example.nl"),
            (1, "a.example.nl"),
            (2, "b.example.nl"),
            (3, "a.example.nl"),
        ]
        sender.close()


@pytest.mark.parametrize(
    "answer",
    [
        CLOSE,
        b"HTTP/1.0 204 No Content\r\ncontent-length: 0\r\n\r\n",
        # Read to the end of the connection: there is no end to wait for on a kept one.
        b"HTTP/1.1 200 OK\r\n\r\nuntil the end",
    ],
    ids=["connection-close", "http-1.0", "no-length"],
)
def test_an_answer_that_does_not_keep_the_connection_gets_a_new_one_next_time(
    answer: bytes,
) -> None:
    def then_close(connection: int, asked: int, request: bytes) -> ThenClose:
        # An answer framed by the end of the connection ends with its close.
        return ThenClose(answer)

    sender = loopback_sender()
    with scripted_receiver(then_close if b"until the end" in answer else always(answer)) as r:
        for _ in range(2):
            result = sender.send(r.url, headers={}, body=b"{}")
            assert result.status_code in (200, 204), result.error
        assert r.connections == 2
        sender.close()


def test_a_connection_the_receiver_closed_while_idle_is_replaced_by_a_new_one() -> None:
    # One answer per connection, said to be kept, then closed: the sender sees the close.
    def once(connection: int, asked: int, request: bytes) -> ThenClose:
        return ThenClose(KEEP)

    sender = loopback_sender()
    with scripted_receiver(once) as receiver:
        assert sender.send(receiver.url, headers={}, body=b"{}").status_code == 204
        assert eventually(lambda: receiver.open_now == 0)
        time.sleep(0.05)  # the close has reached the sender's socket
        assert sender.send(receiver.url, headers={}, body=b"{}").status_code == 204
        assert receiver.connections == 2
        assert len(receiver.arrived) == 2  # nothing went to the closed connection
        sender.close()


def test_a_request_dropped_on_a_kept_connection_goes_out_again_on_a_new_one() -> None:
    """The receiver closes the kept connection as the next request arrives, unanswered (its
    idle timeout crossing the request): the sender sends it once more on a new connection, with
    the same webhook-id, and the attempt succeeds."""

    def drop_the_second(connection: int, asked: int, request: bytes) -> bytes | None:
        return KEEP if asked == 1 else None

    sender = loopback_sender()
    with scripted_receiver(drop_the_second) as receiver:
        first = sender.send(receiver.url, headers={"webhook-id": "msg_1"}, body=b"{}")
        assert first.status_code == 204
        second = sender.send(receiver.url, headers={"webhook-id": "msg_2"}, body=b"{}")
        assert second.status_code == 204, second.error
        assert [(a.connection, a.webhook_id) for a in receiver.arrived] == [
            (1, "msg_1"),
            (1, "msg_2"),
            (2, "msg_2"),
        ]
        sender.close()


def test_a_request_dropped_on_a_new_connection_is_a_failed_attempt_not_sent_again() -> None:
    sender = loopback_sender()
    with scripted_receiver(lambda connection, asked, request: None) as receiver:
        result = sender.send(receiver.url, headers={}, body=b"{}")
        assert result.status_code is None
        assert result.error == "The receiver closed the connection without an answer."
        assert len(receiver.arrived) == 1


def test_a_long_answer_is_not_waited_for_and_its_connection_is_closed() -> None:
    big = 10_000_000

    def long_answer(connection: int, asked: int, request: bytes) -> bytes | None:
        # The head and 100 KiB of a 10 MB body, and then nothing for a long while.
        return b"HTTP/1.1 500 Oops\r\ncontent-length: %d\r\n\r\n" % big + b"x" * 100 * 1024

    with scripted_receiver(long_answer) as receiver:
        sender, _ = sender_to(receiver, lambda host, port: ["93.184.215.14"])
        started = time.monotonic()
        result = sender.send("http://partner.example.nl/hook", headers={}, body=b"{}")
        assert time.monotonic() - started < 4
        assert result.status_code == 500 and not result.timed_out
        assert result.response_excerpt == "x" * 1024
        # Closed by the sender: the receiver's end sees it.
        assert eventually(lambda: receiver.open_now == 0)
        sender.close()


def test_a_connection_idle_past_its_time_is_not_used_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sender_module, "KEEP_IDLE_SECONDS", 0.05)
    sender = loopback_sender()
    with scripted_receiver(always(KEEP)) as receiver:
        assert sender.send(receiver.url, headers={}, body=b"{}").succeeded
        time.sleep(0.1)
        assert sender.send(receiver.url, headers={}, body=b"{}").succeeded
        assert receiver.connections == 2
        # The first was closed when the second request found it too old.
        assert eventually(lambda: receiver.open_now == 1)
        sender.close()


def test_a_header_that_could_split_the_request_is_refused_before_sending() -> None:
    sender = loopback_sender()
    with scripted_receiver(always(KEEP)) as receiver:
        result = sender.send(
            receiver.url, headers={"webhook-id": "msg_1\r\nx-injected: 1"}, body=b"{}"
        )
        assert result.status_code is None
        assert result.error == "ValueError: The header 'webhook-id' cannot be sent as it is."
        assert receiver.arrived == []


def test_a_running_worker_closes_idle_connections_in_time_and_all_when_it_stops(
    monkeypatch: pytest.MonkeyPatch,
    app: FastAPI,
    client: TestClient,
    make: Factory,
    reporter: User,
    partner: Partner,
    partner_person: User,
    clock: FrozenClock,
) -> None:
    """A sender thread with nothing to send closes the connections idle past their time (the
    receiver's end sees the close); a stopped worker leaves none open."""
    monkeypatch.setattr(sender_module, "KEEP_IDLE_SECONDS", 0.5)
    with scripted_receiver(always(KEEP)) as receiver:
        add_endpoint(client, make, partner_person, partner, receiver.url)
        worker = DeliveryWorker(
            app.state.engine,
            sender=loopback_sender(),
            clock=clock,
            lease=timedelta(seconds=30),
            disable_after=timedelta(days=5),
            concurrency=1,
            poll_seconds=0.1,
        )
        worker.start()
        try:
            assert worker.wait_ready(timeout=30)
            submit(client, make, reporter)
            assert eventually(lambda: len(receiver.arrived) == 1, seconds=10)
            assert eventually(lambda: receiver.open_now == 0, seconds=5)

            monkeypatch.setattr(sender_module, "KEEP_IDLE_SECONDS", 60)
            submit(client, make, reporter)
            assert eventually(lambda: len(receiver.arrived) == 2, seconds=10)
            assert receiver.connections == 2 and receiver.open_now == 1
        finally:
            worker.stop(grace=5)
        assert eventually(lambda: receiver.open_now == 0, seconds=5)


def test_a_connection_is_kept_for_https_or_plain_http_alone() -> None:
    with scripted_receiver(always(KEEP)) as receiver:
        sender, dials = sender_to(receiver, lambda host, port: ["93.184.215.14"])
        for url in ["http://a.example.nl:8443/hook", "https://a.example.nl:8443/hook"] * 2:
            assert sender.send(url, headers={}, body=b"{}").succeeded
        assert [tls for _, tls, _ in dials] == [False, True]
        sender.close()


def test_an_answer_excerpt_follows_the_address_checked_for_each_request() -> None:
    """A name that resolves to a public address, and next to an allow-listed one: the second
    answer is not shown (it could be any local service), and goes on a connection of its own."""
    addresses = ["93.184.215.14"]
    banner = b"HTTP/1.1 500 Oops\r\ncontent-length: 13\r\n\r\nsecret banner"
    with scripted_receiver(always(banner)) as receiver:
        sender, _ = sender_to(
            receiver,
            lambda host, port: list(addresses),
            AddressGuard(parse_allow_list(["127.0.0.0/8"])),
        )
        first = sender.send("http://partner.example.nl/hook", headers={}, body=b"{}")
        addresses[:] = ["127.0.0.1"]
        second = sender.send("http://partner.example.nl/hook", headers={}, body=b"{}")
        assert (first.status_code, first.response_excerpt) == (500, "secret banner")
        assert (second.status_code, second.response_excerpt) == (500, None)
        assert receiver.connections == 2
        sender.close()


def test_a_receiver_keeps_at_most_eight_idle_connections_per_sending_thread() -> None:
    sender = loopback_sender()
    with scripted_receiver(always(KEEP)) as receiver:
        results = sender.send_many([(receiver.url, {}, b"{}")] * 10)
        assert [r.status_code for r in results] == [204] * 10
        assert receiver.connections == 10
        assert eventually(lambda: receiver.open_now == sender_module.MAX_IDLE_PER_RECEIVER)
        sender.close()


def test_idle_connections_in_all_are_bounded_the_longest_idle_closed_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sender_module, "MAX_IDLE_PER_THREAD", 2)
    sender = loopback_sender()
    with (
        scripted_receiver(always(KEEP)) as first,
        scripted_receiver(always(KEEP)) as second,
        scripted_receiver(always(KEEP)) as third,
    ):
        for receiver in (first, second, third):
            assert sender.send(receiver.url, headers={}, body=b"{}").succeeded
        assert eventually(lambda: first.open_now == 0)
        assert (second.open_now, third.open_now) == (1, 1)
        sender.close()


def test_a_second_answer_nobody_asked_for_spoils_the_connection() -> None:
    """Two answers to one request: the next request goes on a new connection, and gets its
    own answer, not the stray one."""
    stray = b"HTTP/1.1 500 Stray\r\ncontent-length: 0\r\n\r\n"

    def twice(connection: int, asked: int, request: bytes) -> bytes:
        return KEEP + stray if connection == 1 else KEEP

    sender = loopback_sender()
    with scripted_receiver(twice) as receiver:
        assert sender.send(receiver.url, headers={}, body=b"{}").status_code == 204
        assert sender.send(receiver.url, headers={}, body=b"{}").status_code == 204
        assert receiver.connections == 2
        sender.close()


def test_a_kept_connection_that_breaks_off_an_answer_is_not_sent_again() -> None:
    """Part of an answer came: the receiver may have taken the request, so it is a failed
    attempt (retried later by the schedule), not sent again at once."""

    def break_off_the_second(connection: int, asked: int, request: bytes) -> bytes | ThenClose:
        return KEEP if asked == 1 else ThenClose(b"HTTP/1.1 20")

    sender = loopback_sender()
    with scripted_receiver(break_off_the_second) as receiver:
        assert sender.send(receiver.url, headers={}, body=b"{}").status_code == 204
        broken = sender.send(receiver.url, headers={}, body=b"{}")
        assert broken.status_code is None
        assert broken.error is not None and broken.error.startswith("RemoteProtocolError")
        assert len(receiver.arrived) == 2
        sender.close()


def test_an_endless_trailer_is_not_read_to_its_end() -> None:
    def endless_trailer(connection: int, asked: int, request: bytes) -> bytes:
        head = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n"
        return head + b"x-trailer: " + b"a" * 1_000_000

    sender = loopback_sender()
    with scripted_receiver(endless_trailer) as receiver:
        started = time.monotonic()
        result = sender.send(receiver.url, headers={}, body=b"{}")
        assert result.status_code == 200 and not result.timed_out
        assert time.monotonic() - started < 4
        assert eventually(lambda: receiver.open_now == 0)
        sender.close()


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        (b"HTTP/1.1 204 No Content\ncontent-length: 0\n\n", 204),
        (b"HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: h2c\r\n\r\n", None),
    ],
    ids=["bare-line-feeds", "switching-protocols"],
)
def test_odd_answers(answer: bytes, status: int | None, caplog: pytest.LogCaptureFixture) -> None:
    """Lines ending in a bare line feed are read (as before); a switch of protocols is a
    failed attempt, like any answer that is not HTTP, without an error logged by asyncio."""
    sender = loopback_sender()
    with scripted_receiver(always(answer)) as receiver:
        result = sender.send(receiver.url, headers={}, body=b"{}")
        assert result.status_code == status
        if status is None:
            assert result.error is not None and result.error.startswith("RemoteProtocolError")
        assert not [r for r in caplog.records if r.levelname == "ERROR"]
        sender.close()


def test_connections_numbered_past_select_s_limit_are_kept_and_used() -> None:
    """With more than 1 024 descriptors open (a busy server), a connection's number is past
    what select() can watch: keeping and reusing it must not turn answered deliveries into
    failed ones."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 1200:
        pytest.skip("this machine allows fewer than 1 200 open descriptors")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 1200), hard))
    held = [os.open(os.devnull, os.O_RDONLY) for _ in range(1100)]
    try:
        sender = loopback_sender()
        with scripted_receiver(always(KEEP)) as receiver:
            for _ in range(3):
                result = sender.send(receiver.url, headers={}, body=b"{}")
                assert result.status_code == 204, result.error
            assert receiver.connections == 1
            sender.close()
    finally:
        for descriptor in held:
            os.close(descriptor)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
