"""Column types every package shares. Quantities, prices and amounts are exact decimals, never
floats; portal/forms.py bounds input to what these columns hold."""

from sqlalchemy import Index, Numeric, String

Quantity = Numeric(18, 4)  # tce or t
Price = Numeric(14, 2)  # yuan per unit
Amount = Numeric(20, 2)  # yuan
# A sort key compares bytewise on every database (PostgreSQL's default collation would reorder
# it by locale rules, and an index in another collation would not serve the ORDER BY).
SortKey = String(300).with_variant(String(300, collation="C"), "postgresql")


def filter_indexes(prefix: str, leading: tuple[str, ...], name_key: str) -> tuple[Index, ...]:
    """A list filtered by division or by industry and shown in name order reads one index each:
    the leading columns, the filter's code, the name key and the id, named
    ``{prefix}_division_name`` and ``{prefix}_industry_name``."""
    return tuple(
        Index(f"{prefix}_{kind}_name", *leading, f"{kind}_code", name_key, "id")
        for kind in ("division", "industry")
    )


def order_indexes(prefix: str, suffix: str, order: str, *filters: str) -> tuple[Index, ...]:
    """A list filtered on one column and shown in ``order`` reads one index per filter, named
    ``{prefix}_{filter}_{suffix}`` (a column's ``_code`` left out of the name)."""
    return tuple(
        Index(f"{prefix}_{column.removesuffix('_code')}_{suffix}", column, order)
        for column in filters
    )


def schema_comparison_filter(dialect_name: str):
    """Alembic's `include_object` for comparing the models with a database of `dialect_name`.

    On PostgreSQL, an index whose column order is given by `postgresql_ops` (the compliance list's
    `shortfall DESC NULLS LAST`) is left out: Alembic reads that order back from the database but
    not from the option, and would report a difference that is not there. tests/test_migrations.py
    checks those indexes' definitions on PostgreSQL itself. Everything else is compared.
    """

    def include(obj, name, type_, reflected, compare_to) -> bool:
        if dialect_name != "postgresql" or type_ != "index":
            return True
        model_index = compare_to if reflected else obj
        return model_index is None or not model_index.dialect_options["postgresql"].get("ops")

    return include
