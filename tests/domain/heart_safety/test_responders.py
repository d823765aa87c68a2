import math

import pytest

from buurtplus.domain.heart_safety.responders import ResponderLevel, responder_readiness


def test_a_zone_sized_area_needs_twelve_to_twenty_responders() -> None:
    zone = math.pi * 500**2

    assert responder_readiness(11, zone).level == ResponderLevel.below
    assert responder_readiness(12, zone).level == ResponderLevel.within
    assert responder_readiness(20, zone).level == ResponderLevel.within
    assert responder_readiness(21, zone).level == ResponderLevel.above


def test_the_need_grows_with_the_area_in_500_m_zones() -> None:
    readiness = responder_readiness(30, 4_000_000)  # 2 km by 2 km: 5.09 zones

    assert readiness.zones == pytest.approx(4_000_000 / (math.pi * 500**2))
    assert readiness.needed_low == 62
    assert readiness.needed_high == 102
    assert readiness.per_zone == pytest.approx(30 / readiness.zones)
    assert readiness.level == ResponderLevel.below
