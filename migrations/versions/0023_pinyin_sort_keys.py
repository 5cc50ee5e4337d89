"""pinyin sort keys: enterprise.name_sort and compliance_record.sort_name, indexed for the lists;
announcements by category and status

Revision ID: 0023_pinyin_sort_keys
Revises: 0022_cache
Create Date: 2026-12-01 02:40:00

"""

import unicodedata

import sqlalchemy as sa
from alembic import op
from pypinyin import Style, lazy_pinyin

revision = "0023_pinyin_sort_keys"
down_revision = "0022_cache"
branch_labels = None
depends_on = None

BATCH = 2000
SortKey = sa.String(300).with_variant(sa.String(300, collation="C"), "postgresql")


def sort_key(name: str) -> str:
    """The key as this revision defines it (a copy: a migration does not import live code)."""
    syllables = lazy_pinyin(unicodedata.normalize("NFKC", name), style=Style.TONE3)
    return " ".join(part.strip().lower() for part in syllables if part.strip())[:300]


def upgrade():
    op.add_column("enterprise", sa.Column("name_sort", SortKey, nullable=False, server_default=""))
    op.add_column(
        "compliance_record", sa.Column("sort_name", SortKey, nullable=False, server_default="")
    )
    conn = op.get_bind()
    enterprise = sa.table("enterprise", sa.column("id"), sa.column("name"), sa.column("name_sort"))
    record = sa.table("compliance_record", sa.column("enterprise_id"), sa.column("sort_name"))
    rows = conn.execute(sa.select(enterprise.c.id, enterprise.c.name).order_by(enterprise.c.id))
    keys = [{"unit": unit_id, "key": sort_key(name or "")} for unit_id, name in rows]
    for start in range(0, len(keys), BATCH):
        chunk = keys[start : start + BATCH]
        conn.execute(
            enterprise.update()
            .where(enterprise.c.id == sa.bindparam("unit"))
            .values(name_sort=sa.bindparam("key")),
            chunk,
        )
        conn.execute(
            record.update()
            .where(record.c.enterprise_id == sa.bindparam("unit"))
            .values(sort_name=sa.bindparam("key")),
            chunk,
        )
    op.create_index("ix_enterprise_name_sort", "enterprise", ["name_sort", "id"])
    op.create_index(
        "ix_enterprise_public_name_sort", "enterprise", ["is_public", "name_sort", "id"]
    )
    for column in ("division_code", "industry_code"):
        op.create_index(
            f"ix_enterprise_public_{column.split('_')[0]}_name",
            "enterprise",
            ["is_public", column, "name_sort", "id"],
        )
    op.create_index(
        "ix_announcement_category_status_published",
        "announcement",
        ["category", "status", "published_at"],
    )
    op.drop_index("ix_compliance_period_status", table_name="compliance_record")
    op.create_index(
        "ix_compliance_period_status",
        "compliance_record",
        ["period_year", "status", "sort_name", "id"],
    )
    op.create_index(
        "ix_compliance_period_sort_name", "compliance_record", ["period_year", "sort_name", "id"]
    )


def downgrade():
    op.drop_index("ix_announcement_category_status_published", table_name="announcement")
    op.drop_index("ix_compliance_period_sort_name", table_name="compliance_record")
    op.drop_index("ix_compliance_period_status", table_name="compliance_record")
    op.create_index("ix_compliance_period_status", "compliance_record", ["period_year", "status"])
    op.drop_index("ix_enterprise_public_industry_name", table_name="enterprise")
    op.drop_index("ix_enterprise_public_division_name", table_name="enterprise")
    op.drop_index("ix_enterprise_public_name_sort", table_name="enterprise")
    op.drop_index("ix_enterprise_name_sort", table_name="enterprise")
    op.drop_column("compliance_record", "sort_name")
    op.drop_column("enterprise", "name_sort")
