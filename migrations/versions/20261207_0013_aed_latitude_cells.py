"""aeds: nearby's index, the latitude in cells of a hundredth of a degree, then the longitude
and the latitude (domain/aeds/models.py)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_aeds_latitude_cell",
        "aeds",
        [sa.text("CAST(latitude * 100 AS INTEGER)"), "longitude", "latitude"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_aeds_latitude_cell", table_name="aeds")
