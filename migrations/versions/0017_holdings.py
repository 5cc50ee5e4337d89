"""the holdings table, built from the ledger; ledger entries name their period and component;
compliance records keep no holdings of their own (their old figures move to ledger_opening_source,
which `flask registry open-balances` turns into opening entries)

Revision ID: 0017_holdings
Revises: 0015_market_summary
Create Date: 2026-11-30 21:40:00

"""

from alembic import op
import sqlalchemy as sa

revision = "0017_holdings"
down_revision = "0015_market_summary"
branch_labels = None
depends_on = None

QTY = sa.Numeric(18, 4)
FIGURES = ("quota", "bought", "sold", "taken_back")
COMPONENT_CASE = (
    "CASE kind WHEN 'transfer_in' THEN 'bought' WHEN 'transfer_out' THEN 'sold' "
    "WHEN 'take_back' THEN 'taken_back' WHEN 'cancel' THEN 'taken_back' "
    "WHEN 'surrender' THEN 'surrendered' ELSE 'allocated' END"
)


def _postgresql():
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.add_column(sa.Column("period_year", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("component", sa.String(length=12), nullable=True))
    # Existing entries count in the year they were written, in their kind's component. The
    # append-only trigger is lifted for this one backfill of two new columns.
    if _postgresql():
        op.execute("ALTER TABLE ledger_entry DISABLE TRIGGER ledger_entry_append_only")
        op.execute(
            "UPDATE ledger_entry SET period_year = EXTRACT(YEAR FROM created_at)::int, "
            f"component = {COMPONENT_CASE}"
        )
        op.execute("ALTER TABLE ledger_entry ENABLE TRIGGER ledger_entry_append_only")
    else:
        op.execute(
            "UPDATE ledger_entry SET period_year = CAST(strftime('%Y', created_at) AS INTEGER), "
            f"component = {COMPONENT_CASE}"
        )
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.alter_column("period_year", existing_type=sa.Integer(), nullable=False)
        batch_op.alter_column("component", existing_type=sa.String(length=12), nullable=False)
        batch_op.create_index(batch_op.f("ix_ledger_entry_period_year"), ["period_year"], unique=False)

    op.create_table(
        "holding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("holder_key", sa.String(length=24), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=True),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        sa.Column("period_year", sa.Integer(), nullable=False),
        sa.Column("allocated", QTY, nullable=False),
        sa.Column("bought", QTY, nullable=False),
        sa.Column("sold", QTY, nullable=False),
        sa.Column("taken_back", QTY, nullable=False),
        sa.Column("surrendered", QTY, nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["enterprise_id"], ["enterprise.id"], name=op.f("fk_holding_enterprise_id_enterprise")),
        sa.ForeignKeyConstraint(["variety_code"], ["variety.code"], name=op.f("fk_holding_variety_code_variety")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_holding")),
        sa.UniqueConstraint("holder_key", "variety_code", "period_year", name="uq_holding_key"),
    )
    with op.batch_alter_table("holding", schema=None) as batch_op:
        batch_op.create_index("ix_holding_enterprise_period", ["enterprise_id", "period_year", "variety_code"], unique=False)
        batch_op.create_index("ix_holding_period_variety", ["period_year", "variety_code"], unique=False)
    # The sums of the entries already there (`flask registry rebuild-holdings` does the same).
    sign = "CASE WHEN {c} IN ('sold', 'taken_back', 'surrendered') THEN -quantity ELSE quantity END"
    parts = ", ".join(
        f"COALESCE(SUM(CASE WHEN component = '{c}' THEN {sign.format(c='component')} END), 0)"
        for c in ("allocated", "bought", "sold", "taken_back", "surrendered")
    )
    op.execute(
        "INSERT INTO holding (holder_key, enterprise_id, variety_code, period_year, allocated, "
        "bought, sold, taken_back, surrendered, entries) "
        f"SELECT holder_key, MIN(enterprise_id), variety_code, period_year, {parts}, COUNT(*) "
        "FROM ledger_entry GROUP BY holder_key, variety_code, period_year"
    )

    op.create_table(
        "ledger_opening_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("enterprise_id", sa.Integer(), nullable=False),
        sa.Column("period_year", sa.Integer(), nullable=False),
        sa.Column("variety_code", sa.String(length=10), nullable=False),
        *(sa.Column(name, QTY, nullable=False) for name in FIGURES),
        sa.Column("opened_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_opening_source")),
    )
    op.execute(
        "INSERT INTO ledger_opening_source (id, enterprise_id, period_year, variety_code, quota, "
        "bought, sold, taken_back) SELECT id, enterprise_id, period_year, variety_code, "
        "COALESCE(quota, 0), COALESCE(bought, 0), COALESCE(sold, 0), COALESCE(taken_back, 0) "
        "FROM compliance_record"
    )
    with op.batch_alter_table("compliance_record", schema=None) as batch_op:
        for name in FIGURES:
            batch_op.drop_column(name)


def downgrade():
    with op.batch_alter_table("compliance_record", schema=None) as batch_op:
        for name in FIGURES:
            batch_op.add_column(sa.Column(name, QTY, nullable=False, server_default="0"))
    # The records get their figures back from the holdings (the ledger's sums).
    for name, column in (
        ("quota", "allocated"), ("bought", "bought"), ("sold", "sold"), ("taken_back", "taken_back")
    ):
        op.execute(
            f"UPDATE compliance_record SET {name} = COALESCE((SELECT h.{column} FROM holding h "
            "WHERE h.enterprise_id = compliance_record.enterprise_id "
            "AND h.variety_code = compliance_record.variety_code "
            "AND h.period_year = compliance_record.period_year), 0)"
        )
    op.drop_table("ledger_opening_source")
    with op.batch_alter_table("holding", schema=None) as batch_op:
        batch_op.drop_index("ix_holding_period_variety")
        batch_op.drop_index("ix_holding_enterprise_period")
    op.drop_table("holding")
    with op.batch_alter_table("ledger_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ledger_entry_period_year"))
        batch_op.drop_column("component")
        batch_op.drop_column("period_year")
