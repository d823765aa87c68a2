"""CPR-trained citizen responders against the rule of thumb: 12 to 20 within 500 m of any place.

Members have no home positions, so the count is held against what the area needs if the
responders were spread evenly over it: 12 within 500 m of every place takes a density of 12
per 500 m zone (π·500² m², about 0.785 km²), so the area needs 12 · area / (π·500²) of them,
and 20 · area / (π·500²) for the upper end. HartslagNu responders outside the team are not
counted.
"""

import math
from dataclasses import dataclass
from enum import StrEnum

from buurtplus.domain.heart_safety.geometry import REACH_M

RULE_OF_THUMB_LOW = 12
RULE_OF_THUMB_HIGH = 20
ZONE_M2 = math.pi * REACH_M**2


class ResponderLevel(StrEnum):
    below = "below"  # fewer than 12 per zone
    within = "within"  # 12 to 20 per zone
    above = "above"  # more than 20 per zone


@dataclass(frozen=True)
class ResponderReadiness:
    responders: int  # team members registered as citizen responder with a valid CPR certificate
    area_m2: float
    zones: float  # the area in 500 m zones
    per_zone: float
    needed_low: int
    needed_high: int
    level: ResponderLevel


def responder_readiness(responders: int, area_m2: float) -> ResponderReadiness:
    zones = area_m2 / ZONE_M2
    per_zone = responders / zones if zones > 0 else 0.0
    needed_low = math.ceil(RULE_OF_THUMB_LOW * zones - 1e-9)
    needed_high = math.ceil(RULE_OF_THUMB_HIGH * zones - 1e-9)
    level = (
        ResponderLevel.below
        if responders < needed_low
        else ResponderLevel.above
        if responders > needed_high
        else ResponderLevel.within
    )
    return ResponderReadiness(
        responders=responders,
        area_m2=area_m2,
        zones=zones,
        per_zone=per_zone,
        needed_low=needed_low,
        needed_high=needed_high,
        level=level,
    )
