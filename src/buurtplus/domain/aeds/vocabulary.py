"""The values AED fields take."""

from enum import StrEnum


class AedStatus(StrEnum):
    active = "active"
    inactive = "inactive"
    used = "used"
    missing = "missing"
    defective = "defective"


class Access(StrEnum):
    """OSM `access` values that make sense for an AED."""

    yes = "yes"
    permissive = "permissive"
    customers = "customers"
    private = "private"
    no = "no"


class Visibility(StrEnum):
    # Everyone signed in.
    public = "public"
    # Members of a team whose area holds it, the partner that maintains it, admins.
    responders = "responders"


class Problem(StrEnum):
    """Why an AED is not ready."""

    display_fault = "display_fault"
    cabinet_fault = "cabinet_fault"
    kit_missing = "kit_missing"
    pads_expired = "pads_expired"
    battery_expired = "battery_expired"


PROBLEM_NL = {
    Problem.display_fault: "statuslampje/display geeft een fout",
    Problem.cabinet_fault: "kast beschadigd of gaat niet open",
    Problem.kit_missing: "AED niet in de kast",
    Problem.pads_expired: "elektroden verlopen",
    Problem.battery_expired: "batterij verlopen",
}
PROBLEM_EN = {
    Problem.display_fault: "status light/display shows a fault",
    Problem.cabinet_fault: "cabinet damaged or does not open",
    Problem.kit_missing: "AED not in its cabinet",
    Problem.pads_expired: "pads expired",
    Problem.battery_expired: "battery expired",
}
