"""The scaling benchmark's reading of the machine: how busy it was, and what that leaves."""

import sys

import pytest

from bench.scaling import busy_share, ceiling_note, machine_ticks


def test_busy_share_is_the_busy_part_of_the_time_between_two_readings() -> None:
    assert busy_share((100, 1000), (400, 1400)) == pytest.approx(0.75)
    assert busy_share(None, (400, 1400)) is None
    assert busy_share((100, 1000), (100, 1000)) is None


def test_the_ceiling_is_what_the_idle_cpu_time_would_carry_at_the_same_cost() -> None:
    assert ceiling_note(0.8) == (
        "estimated ceiling 1.25 times, from the CPU time one process left idle"
    )
    assert ceiling_note(0.5) == (
        "estimated ceiling 2.00 times, from the CPU time one process left idle"
    )
    # Nothing to say of a machine that was idle throughout, or busy throughout, or unread.
    assert ceiling_note(0.0) == ""
    assert ceiling_note(1.0) == ""
    assert ceiling_note(None) == ""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/stat is Linux's")
def test_the_machine_ticks_grow_and_busy_is_part_of_all() -> None:
    before = machine_ticks()
    sum(n * n for n in range(300_000))  # some CPU time
    after = machine_ticks()
    assert before is not None and after is not None
    assert 0 <= before[0] <= before[1]
    assert after[1] >= before[1] and after[0] >= before[0]
