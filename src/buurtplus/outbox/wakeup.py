"""Wake the delivery workers of this process when a transaction that queued deliveries commits.

Workers in other processes hear it through PostgreSQL's NOTIFY (see outbox.announce)."""

import threading

_lock = threading.Lock()
_waiting: set[threading.Event] = set()


def subscribe(event: threading.Event) -> None:
    with _lock:
        _waiting.add(event)


def unsubscribe(event: threading.Event) -> None:
    with _lock:
        _waiting.discard(event)


def wake_workers() -> None:
    with _lock:
        for event in _waiting:
            event.set()
