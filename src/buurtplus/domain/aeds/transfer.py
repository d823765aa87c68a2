"""Import and export of the registry. An import is idempotent by source id: a row whose source
is in the registry updates that AED (or leaves it unchanged), a new one creates one; every row
gets a line in the report, a rejected one with its reasons."""

import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, text
from sqlmodel import Session, col, select

from buurtplus.core.actor import Actor, UserRole
from buurtplus.core.audit.actions import AuditAction
from buurtplus.core.audit.service import audit
from buurtplus.core.clock import Clock
from buurtplus.core.errors import PermissionDenied
from buurtplus.core.ids import time_ordered_id
from buurtplus.domain.aeds.areas import Reach, reach_of
from buurtplus.domain.aeds.formats import (
    WRITERS,
    ExportItem,
    FileFormat,
    RawRow,
    read_rows,
)
from buurtplus.domain.aeds.models import Aed
from buurtplus.domain.aeds.service import DEFAULTS, visible_clause
from buurtplus.domain.aeds.tags import coordinates, fields_from_tags
from buurtplus.domain.partners.models import Partner

CHUNK = 500
# Every column's plain default, for rows inserted without building ORM objects.
PLAIN_DEFAULTS = {
    name: info.default
    for name, info in Aed.model_fields.items()
    if info.default_factory is None and not info.is_required()
}
Progress = Callable[[int, int], None]


class RowOutcome(StrEnum):
    created = "created"
    updated = "updated"
    unchanged = "unchanged"
    rejected = "rejected"


@dataclass(frozen=True)
class RowResult:
    row: int
    source: str | None
    outcome: RowOutcome
    aed_id: uuid.UUID | None = None
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class ImportReport:
    dry_run: bool
    rows: list[RowResult]

    def count(self, outcome: RowOutcome) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)


def _system_reach() -> Reach:
    return Reach(actor=SYSTEM, managed=(), member_of=())


# The command line acts with an admin's reach, audited as the system.
SYSTEM = Actor(user_id=uuid.UUID(int=0), role=UserRole.admin)


def _chunks(rows: Sequence[RawRow]) -> Iterator[Sequence[RawRow]]:
    for start in range(0, len(rows), CHUNK):
        yield rows[start : start + CHUNK]


def _own_id(source: str | None) -> uuid.UUID | None:
    """This registry's own id, for a source an export of it wrote ("buurtplus:<id>")."""
    if source and source.startswith("buurtplus:"):
        try:
            return uuid.UUID(source.removeprefix("buurtplus:"))
        except ValueError:
            return None
    return None


class _Importer:
    def __init__(self, session: Session, reach: Reach, clock: Clock) -> None:
        self.session = session
        self.reach = reach
        self.now = clock.now()
        self.seen: dict[str, int] = {}
        self.pending: list[dict[str, Any]] = []
        self.partners: set[uuid.UUID] = set(session.exec(select(Partner.id)))

    def chunk(self, rows: Sequence[RawRow]) -> list[RowResult]:
        sources = [r.source for r in rows if r.source and _own_id(r.source) is None]
        own = [i for r in rows if (i := _own_id(r.source)) is not None]
        by_source = {
            a.source_id: a
            for a in self.session.exec(select(Aed).where(col(Aed.source_id).in_(sources)))
        }
        by_id = {a.id: a for a in self.session.exec(select(Aed).where(col(Aed.id).in_(own)))}
        results = [self.row(r, by_source, by_id) for r in rows]
        self.session.flush()
        if self.pending:
            # New rows go in as one multi-row insert: building ORM objects cost more than
            # the database work.
            self.session.execute(insert(Aed), self.pending)
            self.pending = []
        return results

    def row(
        self, raw: RawRow, by_source: dict[str | None, Aed], by_id: dict[uuid.UUID, Aed]
    ) -> RowResult:
        def rejected(*reasons: str) -> RowResult:
            return RowResult(raw.number, raw.source, RowOutcome.rejected, None, tuple(reasons))

        problems = list(raw.problems)
        fields, tag_problems = fields_from_tags(raw.tags)
        problems += tag_problems
        if raw.latitude is not None or raw.longitude is not None or not problems:
            position, bad = coordinates(raw.latitude, raw.longitude)
            if bad:
                problems.append(bad)
            elif position:
                fields["latitude"], fields["longitude"] = position
        if raw.source is None:
            problems.append("no source id (a feature id, OSM node id or `source` column)")
        elif raw.source in self.seen:
            problems.append(f"the same source as row {self.seen[raw.source]}")
        else:
            self.seen[raw.source] = raw.number
        maintainer = fields.get("maintainer_partner_id")
        if maintainer is not None and maintainer not in self.partners:
            problems.append("buurtplus:maintainer is not a partner organisation here")
        if problems:
            return rejected(*problems)
        assert raw.source is not None
        own_id = _own_id(raw.source)
        existing = by_id.get(own_id) if own_id else by_source.get(raw.source)
        if existing is None:
            return self.create(raw, own_id, fields, rejected)
        return self.update(raw, existing, fields, rejected)

    def create(
        self,
        raw: RawRow,
        own_id: uuid.UUID | None,
        fields: dict[str, Any],
        rejected: Callable[..., RowResult],
    ) -> RowResult:
        row = {
            **PLAIN_DEFAULTS,
            **DEFAULTS,
            **fields,
            "not_ready_reasons": [],
            "id": own_id or time_ordered_id(),
            "source_id": None if own_id else raw.source,
            "version": 1,
            "created_at": self.now,
            "updated_at": self.now,
        }
        if not self.reach.manages_place(
            latitude=row["latitude"], longitude=row["longitude"], buurt_code=row["buurt_code"]
        ):
            return rejected("outside the area of the teams you coordinate")
        self.pending.append(row)
        return RowResult(raw.number, raw.source, RowOutcome.created, row["id"])

    def update(
        self, raw: RawRow, aed: Aed, fields: dict[str, Any], rejected: Callable[..., RowResult]
    ) -> RowResult:
        if aed.retired_at is not None:
            return rejected("this AED is retired in the registry")
        if not self.reach.manages(aed):
            return rejected("outside the area of the teams you coordinate")
        changed = {k: v for k, v in fields.items() if getattr(aed, k) != v}
        if not changed:
            return RowResult(raw.number, raw.source, RowOutcome.unchanged, aed.id)
        before = {k: getattr(aed, k) for k in changed}
        for name, value in changed.items():
            setattr(aed, name, value)
        if not self.reach.manages(aed):  # moved out of your area
            for name, value in before.items():
                setattr(aed, name, value)
            return rejected("outside the area of the teams you coordinate")
        aed.updated_at = self.now
        self.session.add(aed)
        return RowResult(raw.number, raw.source, RowOutcome.updated, aed.id)


def import_aeds(
    session: Session,
    *,
    actor: Actor | None,
    data: bytes,
    fmt: FileFormat,
    dry_run: bool,
    clock: Clock,
    progress: Progress | None = None,
) -> ImportReport:
    """Import a file; `actor` None is the command line (an admin's reach, audited as the
    system). A dry run reports the same and stores nothing (but the audit event)."""
    reach = _system_reach() if actor is None else reach_of(session, actor)
    if actor is not None and not (actor.is_admin or reach.managed):
        raise PermissionDenied("A team's coordinator or an admin imports AEDs.")
    rows = read_rows(data, fmt)
    if session.get_bind().dialect.name == "postgresql":
        # Each chunk looks its rows up by source id with the same statement; after five runs
        # psycopg prepares it, and PostgreSQL's generic plan for it, made while the table was
        # nearly empty, scans the whole table for every later chunk (100 000 AEDs: minutes
        # instead of seconds). A plan per execution follows the table as it grows.
        session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    importer = _Importer(session, reach, clock)
    results: list[RowResult] = []
    with session.no_autoflush:
        savepoint = session.begin_nested()
        for chunk in _chunks(rows):
            results += importer.chunk(chunk)
            if progress is not None:
                progress(len(results), len(rows))
        if dry_run:
            savepoint.rollback()
        else:
            savepoint.commit()
    report = ImportReport(dry_run=dry_run, rows=results)
    audit(
        session,
        actor,
        AuditAction.aed_import,
        None,
        clock=clock,
        format=fmt,
        dry_run=dry_run,
        **{outcome.value: report.count(outcome) for outcome in RowOutcome},
    )
    return report


def export_aeds(session: Session, *, actor: Actor, fmt: FileFormat, clock: Clock) -> str:
    """Every AED the actor may read that is not retired, as a file that imports again; the
    contact person only where the actor looks after the AED, the cabinet code never."""
    reach = reach_of(session, actor)
    statement = select(Aed).where(col(Aed.retired_at).is_(None))
    visible = visible_clause(reach)
    if visible is not None:
        statement = statement.where(visible)
    aeds = session.exec(statement.order_by(col(Aed.created_at), col(Aed.id)))
    items = [ExportItem(a, reach.sees_contact(a)) for a in aeds if reach.reads(a)]
    audit(session, actor, AuditAction.aed_export, None, clock=clock, format=fmt, count=len(items))
    return WRITERS[fmt](items)
