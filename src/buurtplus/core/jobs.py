"""Periodic jobs that run once per due moment, however many processes share the database.

Every process that runs jobs (the in-process worker of `buurtplus serve`, each `buurtplus
worker`) looks at the same moments: a job's *slot* is the interval it is due for (the minute,
the hour, the day). The first process to insert the row for (job, slot) runs it; the others see
the row and leave it. A run that failed may be taken again by the next look within its slot.
The rows are also the record of what ran, when, where, and how it ended.
"""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, Integer, String, and_, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Field, Session, SQLModel, col

from buurtplus.core.db import UTCDateTime


class JobName(StrEnum):
    escalation = "escalation"
    retention = "retention"
    aed_expiry = "aed_expiry"


class JobRun(SQLModel, table=True):
    """One run of a periodic job for one due moment; unique per (job, slot)."""

    __tablename__ = "job_runs"

    job: str = Field(sa_column=Column(String(40), primary_key=True))
    # The due moment, as text that sorts: "2026-03-02T09:31:00Z" (a minute or an hour) or
    # "2026-03-02" (a day in Europe/Amsterdam).
    slot: str = Field(sa_column=Column(String(40), primary_key=True))
    runner: str = Field(sa_type=String(200))
    started_at: datetime = Field(sa_type=UTCDateTime, index=True)
    finished_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    # How many things it did (signals escalated, rows purged, AEDs marked); None while running.
    handled: int | None = Field(default=None, sa_column=Column(Integer, nullable=True))
    # The kind of error of a failed run (never its message: it may hold personal data).
    error: str | None = Field(default=None, sa_type=String(200))
    attempts: int = Field(default=1, sa_column=Column(Integer, nullable=False))


def claim_job_run(session: Session, *, job: JobName, slot: str, runner: str, now: datetime) -> bool:
    """Take (job, slot) for this runner; False when another process has it or ran it.

    A run that failed may be taken again (the next process to look retries it)."""
    values = {"job": job.value, "slot": slot, "runner": runner, "started_at": now, "attempts": 1}
    retake = {
        "runner": runner,
        "started_at": now,
        "finished_at": None,
        "handled": None,
        "error": None,
        "attempts": JobRun.__table__.c.attempts + 1,  # type: ignore[attr-defined]
    }
    failed = col(JobRun.error).is_not(None)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(JobRun)
        .values(**values)
        .on_conflict_do_update(index_elements=["job", "slot"], set_=retake, where=failed)
        .returning(col(JobRun.runner))
    )
    # A row comes back only when it was inserted or a failed run was taken again.
    return session.execute(statement).first() is not None


def finish_job_run(
    session: Session,
    *,
    job: JobName,
    slot: str,
    runner: str,
    now: datetime,
    handled: int | None,
    error: str | None = None,
) -> None:
    session.execute(
        update(JobRun)
        .where(and_(col(JobRun.job) == job.value, col(JobRun.slot) == slot))
        .where(col(JobRun.runner) == runner)
        .values(finished_at=now, handled=handled, error=error)
    )


def prune_job_runs(session: Session, *, before: datetime) -> int:
    """Forget the runs started before `before`."""
    result = session.execute(delete(JobRun).where(col(JobRun.started_at) < before))
    return int(result.rowcount)  # type: ignore[attr-defined]
