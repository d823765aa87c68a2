"""Time-ordered ids (UUID version 7) for the rows written at volume."""

import time
import uuid
from datetime import UTC, datetime

from buurtplus.core.ids import time_ordered_id


def test_an_id_is_a_version_7_uuid_that_begins_with_the_moment_it_was_made() -> None:
    before = time.time_ns() // 1_000_000
    made = time_ordered_id()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after
    moment = datetime.fromtimestamp((made.int >> 80) / 1000, UTC)
    assert abs((datetime.now(UTC) - moment).total_seconds()) < 60


def test_ids_made_later_sort_after_earlier_ones_as_uuids_and_as_text() -> None:
    earlier = [time_ordered_id() for _ in range(50)]
    time.sleep(0.002)
    later = [time_ordered_id() for _ in range(50)]
    assert max(earlier) < min(later)
    assert max(e.hex for e in earlier) < min(x.hex for x in later)
    assert max(str(e) for e in earlier) < min(str(x) for x in later)


def test_ids_differ_in_every_one_of_their_random_bits() -> None:
    made = [time_ordered_id() for _ in range(10_000)]
    assert len(set(made)) == len(made)
    # 74 random bits: every one of them varies.
    random_bits = ((1 << 76) - 1) ^ (0b11 << 62)
    varied = 0
    for one in made:
        varied |= (one.int ^ made[0].int) & random_bits
    assert varied == random_bits
