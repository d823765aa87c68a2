"""One table for the whole of `make bench`: every benchmark adds its rows here, each with the
budget it is held to (issue: fast under load) and whether this run met it."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Budget:
    """What a figure must reach: a share of the floor, a rate, a p99 ceiling, a memory ceiling."""

    share: float | None = None  # of the floor measured in the same run
    at_least: float | None = None  # the figure itself (req/s, deliveries/s, ratio)
    p99_ms: float | None = None
    at_most: float | None = None  # the figure itself (MB)

    def describe(self) -> str:
        parts = []
        if self.share is not None:
            parts.append(f"≥ {self.share:.0%} of floor")
        if self.at_least is not None:
            parts.append(f"≥ {self.at_least:g}")
        if self.at_most is not None:
            parts.append(f"≤ {self.at_most:g}")
        if self.p99_ms is not None:
            parts.append(f"p99 ≤ {self.p99_ms:g} ms")
        return ", ".join(parts)


@dataclass(frozen=True)
class Row:
    benchmark: str
    database: str
    value: float
    unit: str
    share: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    budget: Budget | None = None
    note: str = ""
    errors: int = 0  # failed or timed-out requests: a fast failure meets no budget

    def met(self) -> bool | None:
        b = self.budget
        if b is None:
            return None
        checks = [self.errors == 0]
        if b.share is not None:
            checks.append(self.share is not None and self.share >= b.share)
        if b.at_least is not None:
            checks.append(self.value >= b.at_least)
        if b.at_most is not None:
            checks.append(self.value <= b.at_most)
        if b.p99_ms is not None:
            checks.append(self.p99_ms is not None and self.p99_ms <= b.p99_ms)
        return all(checks)


def _ms(value: float | None) -> str:
    return "" if value is None else f"{value:.1f} ms"


def _value(row: Row) -> str:
    figure = f"{row.value:,.2f}" if row.value < 10 else f"{row.value:,.0f}"
    return f"{figure} {row.unit}".strip()


def table(rows: list[Row]) -> str:
    lines = [
        "| benchmark | database | result | share of floor | p50 | p99 | budget | met |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        met = r.met()
        verdict = "" if met is None else ("yes" if met else "**no**")
        share = "" if r.share is None else f"{r.share:.1%}"
        notes = [r.note] if r.note else []
        notes += [f"{r.errors} errors"] if r.errors else []
        note = f" ({', '.join(notes)})" if notes else ""
        lines.append(
            f"| {r.benchmark}{note} | {r.database} | {_value(r)} | {share} | {_ms(r.p50_ms)} "
            f"| {_ms(r.p99_ms)} | {r.budget.describe() if r.budget else ''} | {verdict} |"
        )
    return "\n".join(lines)
