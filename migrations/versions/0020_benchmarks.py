"""The energy-efficiency benchmark table behind 两高 purchases; a purchase names its row

Revision ID: 0020_benchmarks
Revises: 0019_prices
Create Date: 2026-12-01 02:30:00

Creates efficiency_benchmark and inserts the first table (a copy of the rows then in
portal/benchmarks/data.py). project_purchase gains the product chosen, the benchmark row the
quantity was computed from, and the feedstock coal left out of a coal purchase; all nullable, so
purchases filed before keep their typed benchmark. The enterprise's current attachments hold a
content once per filing: the partial unique index now counts the 节能审查意见 (energy_review) too.
"""

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from alembic import op

revision = "0020_benchmarks"
down_revision = "0019_prices"
branch_labels = None
depends_on = None

EFFECTIVE_ON = date(2021, 11, 15)
SEED_REASON = "初始数据：按国家能效标杆水平录入"
OLD_FILES = "removed_at IS NULL AND purpose IN ('evidence', 'verification_report')"
NEW_FILES = (
    "removed_at IS NULL AND purpose IN ('evidence', 'verification_report', 'energy_review')"
)

BENCHMARKS = [
    # 钢铁
    ("steel_blast_furnace", "steel", "高炉工序", "Blast furnace", "吨铁", "t of hot metal", "benchmark", "361", "kgce", "435", "15000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("steel_eaf_50t", "steel", "电弧炉冶炼（公称容量≥50吨）", "Electric arc furnace (≥50 t)", "吨钢", "t of steel", "benchmark", "61", "kgce", "72", "5000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("steel_sinter", "steel", "烧结工序", "Sintering", "吨烧结矿", "t of sinter", "benchmark", "43", "kgce", "55", "20000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("steel_pellet", "steel", "球团工序", "Pelletising", "吨球团矿", "t of pellets", "benchmark", "15", "kgce", "24", "10000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    # 建材
    ("cement_clinker", "building", "水泥熟料", "Cement clinker", "吨熟料", "t of clinker", "benchmark", "100", "kgce", "117", "10000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("flat_glass_800", "building", "平板玻璃（生产能力＞800吨/天）", "Flat glass (>800 t/day)", "重量箱", "weight boxes", "benchmark", "8", "kgce", "12", "50000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("flat_glass_500_800", "building", "平板玻璃（500～800吨/天）", "Flat glass (500–800 t/day)", "重量箱", "weight boxes", "benchmark", "9.5", "kgce", "13.5", "30000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    # 有色
    ("aluminium_electrolytic", "nonferrous", "电解铝（铝液交流电耗）", "Primary aluminium (AC power per t of liquid aluminium)", "吨铝液", "t of liquid aluminium", "benchmark", "13000", "kWh", "13350", "2000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("copper_smelting", "nonferrous", "铜冶炼（阴极铜）", "Copper smelting (cathode copper)", "吨阴极铜", "t of cathode copper", "benchmark", "260", "kgce", "380", "1000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）；数值为示意，使用前请与原文核对'),
    ("lead_smelting", "nonferrous", "铅冶炼（粗铅）", "Lead smelting (crude lead)", "吨粗铅", "t of crude lead", "benchmark", "230", "kgce", "330", "500000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）；数值为示意，使用前请与原文核对'),
    ("zinc_smelting", "nonferrous", "锌冶炼（湿法，锌锭）", "Zinc smelting (hydrometallurgy, zinc ingot)", "吨锌锭", "t of zinc ingot", "benchmark", "1100", "kgce", "1280", "1000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）；数值为示意，使用前请与原文核对'),
    # 化工
    ("caustic_soda_30", "chemical", "烧碱（离子膜法液碱≥30%）", "Caustic soda (membrane, liquid ≥30%)", "吨烧碱", "t of caustic soda", "benchmark", "315", "kgce", "350", "2000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("caustic_soda_45", "chemical", "烧碱（离子膜法液碱≥45%）", "Caustic soda (membrane, liquid ≥45%)", "吨烧碱", "t of caustic soda", "benchmark", "420", "kgce", "470", "2000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("soda_ash_ammonia", "chemical", "纯碱（氨碱法，轻质）", "Soda ash (ammonia-soda process, light)", "吨纯碱", "t of soda ash", "benchmark", "320", "kgce", "370", "3000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("soda_ash_joint", "chemical", "纯碱（联碱法，轻质）", "Soda ash (joint process, light)", "吨纯碱", "t of soda ash", "benchmark", "160", "kgce", "245", "3000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("calcium_carbide", "chemical", "电石", "Calcium carbide", "吨电石", "t of calcium carbide", "benchmark", "805", "kgce", "940", "2000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("ammonia_anthracite", "chemical", "合成氨（优质无烟块煤）", "Synthetic ammonia (lump anthracite)", "吨氨", "t of ammonia", "benchmark", "1100", "kgce", "1350", "2000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("ammonia_gas", "chemical", "合成氨（天然气）", "Synthetic ammonia (natural gas)", "吨氨", "t of ammonia", "benchmark", "1000", "kgce", "1200", "2000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("methanol_coal", "chemical", "煤制甲醇", "Coal-to-methanol", "吨甲醇", "t of methanol", "benchmark", "1400", "kgce", "1800", "3000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("coke_top_charged", "chemical", "焦炭（顶装焦炉）", "Coke (top-charged ovens)", "吨焦", "t of coke", "benchmark", "110", "kgce", "135", "10000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    # 石化
    ("oil_refining", "petrochem", "炼油（单位能量因数综合能耗）", "Oil refining (per energy factor)", "吨·能量因数", "t × energy factor", "benchmark", "7.5", "kgoe", "8.5", "300000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
    ("ethylene", "petrochem", "乙烯", "Ethylene", "吨乙烯", "t of ethylene", "benchmark", "590", "kgoe", "640", "2000000", '《高耗能行业重点领域能效标杆水平和基准水平（2021年版）》（发改产业〔2021〕1609号）'),
]


def _attachment_index(where):
    op.drop_index("uq_filing_attachment_current_content", table_name="filing_attachment")
    op.create_index(
        "uq_filing_attachment_current_content",
        "filing_attachment",
        ["filing_id", "sha256"],
        unique=True,
        sqlite_where=sa.text(where),
        postgresql_where=sa.text(where),
    )


def upgrade():
    table = op.create_table(
        "efficiency_benchmark",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_code", sa.String(length=40), nullable=False),
        sa.Column("industry_code", sa.String(length=20), nullable=False),
        sa.Column("product_name", sa.String(length=80), nullable=False),
        sa.Column("product_name_en", sa.String(length=120), nullable=False),
        sa.Column("output_unit", sa.String(length=20), nullable=False),
        sa.Column("output_unit_en", sa.String(length=40), nullable=False),
        sa.Column("basis", sa.String(length=12), nullable=False),
        sa.Column("value", sa.Numeric(precision=14, scale=4), nullable=False),
        sa.Column("value_unit", sa.String(length=8), nullable=False),
        sa.Column("baseline_value", sa.Numeric(precision=14, scale=4), nullable=True),
        sa.Column("max_output", sa.Numeric(precision=18, scale=4), nullable=True),
        sa.Column("source", sa.String(length=300), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column(
            "recorded_at",
            sa.DateTime(),
            server_default=sa.text("(CURRENT_TIMESTAMP)"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["industry_code"],
            ["industry.code"],
            name=op.f("fk_efficiency_benchmark_industry_code_industry"),
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_efficiency_benchmark_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_efficiency_benchmark")),
    )
    op.create_index(
        "ix_efficiency_benchmark_product",
        "efficiency_benchmark",
        ["product_code", "effective_on"],
        unique=False,
    )
    op.bulk_insert(
        table,
        [
            {
                "product_code": code,
                "industry_code": industry,
                "product_name": name,
                "product_name_en": name_en,
                "output_unit": unit,
                "output_unit_en": unit_en,
                "basis": basis,
                "value": Decimal(value),
                "value_unit": value_unit,
                "baseline_value": Decimal(baseline) if baseline else None,
                "max_output": Decimal(max_output) if max_output else None,
                "source": source,
                "effective_on": EFFECTIVE_ON,
                "reason": SEED_REASON,
            }
            for (
                code, industry, name, name_en, unit, unit_en, basis, value, value_unit, baseline,
                max_output, source,
            ) in BENCHMARKS
        ],
    )

    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        # SQLite adds a column with its reference in place; batch mode would copy the table.
        op.execute(
            "ALTER TABLE project_purchase ADD COLUMN benchmark_id INTEGER "
            "CONSTRAINT fk_project_purchase_benchmark_id_efficiency_benchmark "
            "REFERENCES efficiency_benchmark (id)"
        )
    else:
        op.add_column("project_purchase", sa.Column("benchmark_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            "fk_project_purchase_benchmark_id_efficiency_benchmark",
            "project_purchase",
            "efficiency_benchmark",
            ["benchmark_id"],
            ["id"],
        )
    op.add_column(
        "project_purchase", sa.Column("product_code", sa.String(length=40), nullable=True)
    )
    op.add_column(
        "project_purchase",
        sa.Column("feedstock_coal", sa.Numeric(precision=18, scale=4), nullable=True),
    )
    _attachment_index(NEW_FILES)


def downgrade():
    _attachment_index(OLD_FILES)
    if op.get_bind().dialect.name == "sqlite":
        # SQLite ≥ 3.35 drops a plain column in place; the reference goes with it.
        for column in ("feedstock_coal", "product_code", "benchmark_id"):
            op.execute(f"ALTER TABLE project_purchase DROP COLUMN {column}")
    else:
        op.drop_constraint(
            "fk_project_purchase_benchmark_id_efficiency_benchmark",
            "project_purchase",
            type_="foreignkey",
        )
        for column in ("feedstock_coal", "product_code", "benchmark_id"):
            op.drop_column("project_purchase", column)
    op.drop_index("ix_efficiency_benchmark_product", table_name="efficiency_benchmark")
    op.drop_table("efficiency_benchmark")
