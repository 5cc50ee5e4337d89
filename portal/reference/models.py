from __future__ import annotations

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from portal.extensions import db


class PilotScope:
    """What a division and an industry both have: a name in each language, and whether the pilot
    covers it."""

    name: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(40))
    is_pilot: Mapped[bool] = mapped_column(default=False)


class Division(PilotScope, db.Model):
    """An administrative division of Henan (GB/T 2260)."""

    __tablename__ = "division"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)


class Industry(PilotScope, db.Model):
    __tablename__ = "industry"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    # Last, after the shared columns, as the table has it.
    sort_order: Mapped[int] = mapped_column(default=0, sort_order=1)


class Variety(db.Model):
    """交易品种: 能耗指标 (tce) or 煤炭指标 (t)."""

    __tablename__ = "variety"

    code: Mapped[str] = mapped_column(String(10), primary_key=True)
    name: Mapped[str] = mapped_column(String(20))
    name_en: Mapped[str] = mapped_column(String(60))
    unit: Mapped[str] = mapped_column(String(10))
    unit_en: Mapped[str] = mapped_column(String(10))


class Category(db.Model):
    """交易类别."""

    __tablename__ = "category"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(60))
    sort_order: Mapped[int] = mapped_column(default=0)
