"""Reference lookups, cached per process: the rows change only through migrations."""

from __future__ import annotations

from functools import cache

from sqlalchemy import select

from portal.extensions import db
from portal.reference.data import VARIETIES
from portal.reference.models import Category, Division, Industry, Variety


@cache
def _rows(model) -> tuple:
    rows = db.session.scalars(select(model)).all()
    for row in rows:
        db.session.expunge(row)
    return tuple(sorted(rows, key=lambda r: (getattr(r, "sort_order", 0), r.code)))


def divisions() -> tuple[Division, ...]:
    return _rows(Division)


def industries() -> tuple[Industry, ...]:
    return _rows(Industry)


def varieties() -> tuple[Variety, ...]:
    """能耗指标 first, then 煤炭指标, as the seed text names them."""
    order = [code for code, *_ in VARIETIES]
    return tuple(
        sorted(_rows(Variety), key=lambda v: order.index(v.code) if v.code in order else len(order))
    )


def categories() -> tuple[Category, ...]:
    return _rows(Category)


@cache
def _by_code(model) -> dict:
    return {row.code: row for row in _rows(model)}


def by_code(model, code: str | None):
    if code is None:
        return None
    return _by_code(model).get(code)


def clear_cache() -> None:
    _rows.cache_clear()
    _by_code.cache_clear()
