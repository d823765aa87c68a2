"""An AED's availability kept from one moment until its next change gives, at every later
moment before that change, what working it out afresh gives."""

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from buurtplus.domain.aeds import availability
from buurtplus.domain.aeds.availability import Availability, availability_at

EXPRESSIONS = [
    "24/7",
    "Mo-Su 00:00-24:00",
    'Mo-Su 00:00-24:00 "bel aan"',
    "Mo-Fr 08:00-18:00",
    'Mo-Fr 08:00-18:00 "bel aan"; Sa 10:00-12:00',
    "Mo-Su 08:00-20:00; PH off",
    'Mo-Su 07:00-23:00; Su 10:00-12:00 "op afspraak"',
    '"op afspraak"',
    "off",
    "Dec 24-Dec 26 off; 24/7",
    # Limits in the hour the clocks repeat, and fallback rules: opening-hours-py's next change
    # is not to be trusted there.
    "Mo-Su 20:00-02:00",
    "Su 02:00-03:00",
    'Mo-Fr 08:00-17:00; Sa 08:00-12:00 || "anders op afspraak"',
    'Mo-Fr 08:00-17:00 || "op afspraak"',
]
# Around the end of summer time (25 October 2026) and over Christmas and New Year.
STRETCHES = [
    (datetime(2026, 10, 22, tzinfo=UTC), datetime(2026, 10, 28, tzinfo=UTC)),
    (datetime(2026, 12, 22, tzinfo=UTC), datetime(2027, 1, 3, tzinfo=UTC)),
]


@pytest.fixture(autouse=True)
def nothing_kept() -> Iterator[None]:
    availability._STEADY.clear()
    yield
    availability._STEADY.clear()


def afresh(expression: str, at: datetime) -> availability.AvailabilityAt:
    return availability._evaluated.__wrapped__(expression, at)  # type: ignore[attr-defined]


@pytest.mark.parametrize("expression", EXPRESSIONS)
def test_kept_answers_are_the_answers_of_the_moment(expression: str) -> None:
    rng = random.Random(expression)
    for start, end in STRETCHES:
        moment = start
        while moment < end:
            assert availability_at(expression, moment) == afresh(expression, moment), moment
            moment += timedelta(minutes=rng.randint(1, 97), seconds=rng.random())
        # Searches at moments in the past (an `at` asked for) are worked out, not taken.
        for _ in range(50):
            back = start + (end - start) * rng.random()
            assert availability_at(expression, back) == afresh(expression, back), back


def test_the_answer_changes_at_its_next_change() -> None:
    before = datetime(2026, 12, 7, 16, 59, 59, tzinfo=UTC)  # 17:59:59 in Amsterdam, a Monday
    kept = availability_at("Mo-Fr 08:00-18:00", before)
    assert kept.state == Availability.open
    assert kept.next_change == datetime(2026, 12, 7, 17, 0, tzinfo=UTC)
    assert availability_at("Mo-Fr 08:00-18:00", before + timedelta(milliseconds=999)) == kept
    after = availability_at("Mo-Fr 08:00-18:00", kept.next_change)
    assert after.state == Availability.closed
    assert after.next_change == datetime(2026, 12, 8, 7, 0, tzinfo=UTC)


def test_an_answer_that_never_changes_is_worked_out_again_after_an_hour(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    worked_out: list[datetime] = []
    evaluated = availability._evaluated

    def counting(expression: str, at: datetime) -> availability.AvailabilityAt:
        worked_out.append(at)
        return evaluated(expression, at)

    monkeypatch.setattr(availability, "_evaluated", counting)
    start = datetime(2026, 12, 7, 12, tzinfo=UTC)
    for minutes in range(0, 121, 5):
        assert availability_at("24/7", start + timedelta(minutes=minutes)).state == "open"
    assert worked_out == [start, start + timedelta(hours=1), start + timedelta(hours=2)]


def test_open_around_the_clock_is_open_while_the_clocks_change() -> None:
    for start in (datetime(2026, 3, 29, 0, tzinfo=UTC), datetime(2026, 10, 25, 0, tzinfo=UTC)):
        for seconds in range(0, 3 * 3600, 15):
            moment = start + timedelta(seconds=seconds)
            assert afresh("24/7", moment).state == Availability.open, moment
            assert afresh("Mo-Su 00:00-24:00", moment).state == Availability.open, moment


def test_hours_that_never_change_again_answer_as_they_are() -> None:
    # Unbounded, opening-hours-py searched every day up to the year 9999 for their next change:
    # a second of the event loop for each answer.
    at = datetime(2026, 12, 7, 12, tzinfo=UTC)
    assert availability_at("Mo-Su 00:00-24:00", at) == afresh("24/7", at)
    assert afresh("Mo-Su 00:00-24:00", at).state == Availability.open
    past = afresh("2025 Jun-Aug Mo-Fr 08:00-18:00", at)
    assert (past.state, past.next_change) == (Availability.closed, None)
    # Read as written, not rewritten: opening-hours-py's normal form of this one is open on
    # Sunday ("bel aan") where the hours say closed.
    sunday_noon = datetime(2026, 12, 6, 11, tzinfo=UTC)
    assert afresh('Su off; Mo-Sa 20:00-03:00 || "bel aan"', sunday_noon).state == "closed"
