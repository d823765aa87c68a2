"""Ids of the rows written at volume (signals, their history, audit and outbox rows, AED
records): UUID version 7 (RFC 9562), which begin with the moment they were made.

A random id (version 4) puts every new row at a random place in its primary-key index and in
every index of a column that refers to it: each insert then dirties a page of its own that the
commit writes out (SQLite writes whole pages to its WAL; PostgreSQL's B-trees split all over).
Ids that grow with time land next to the last ones, so a group of reports shares a few pages:
storing reports in groups of 8 took a quarter less time, in groups of 16 a third less
(docs/performance.md).

The rest of an id is random (74 bits): as unguessable as a version 4 id for anyone who may not
see the row. It does tell when the row was made. Most of these rows say so themselves
(`created_at`) to whoever sees them, but an id can be seen where its row cannot: an AED shows
the id of the signal raised about it, so its readers can tell when that signal was reported
(an AED defect, never a social category). People's, teams' and partners' ids stay version 4,
whose age is nobody's business."""

import os
import time
import uuid

_RANDOM_A = (1 << 12) - 1
_RANDOM_B = (1 << 62) - 1


def time_ordered_id() -> uuid.UUID:
    """A new UUID version 7: 48 bits of Unix time in milliseconds, the version, 12 random bits,
    the variant, 62 random bits. Ids made within one millisecond sort in no particular order."""
    milliseconds = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(10), "big")
    return uuid.UUID(
        int=(milliseconds & ((1 << 48) - 1)) << 80
        | 0x7 << 76
        | (random >> 68 & _RANDOM_A) << 64
        | 0b10 << 62
        | random & _RANDOM_B
    )
