from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, event, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.columns import SortKey, filter_indexes
from portal.extensions import db
from portal.reference.models import Division, Industry
from portal.text import pinyin_sort_key


class Enterprise(db.Model):
    """An enterprise, known by its 统一社会信用代码 (GB 32100-2015)."""

    __tablename__ = "enterprise"
    __table_args__ = (
        Index("ix_enterprise_name_sort", "name_sort", "id"),
        Index("ix_enterprise_public_name_sort", "is_public", "name_sort", "id"),
        # The public list's two filters, each in name order.
        *filter_indexes("ix_enterprise_public", ("is_public",), "name_sort"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    # The name's pinyin key (portal/text.py), kept with the name: lists sort by it.
    name_sort: Mapped[str] = mapped_column(SortKey, default="", server_default="")
    division_code: Mapped[str] = mapped_column(ForeignKey("division.code"), index=True)
    industry_code: Mapped[str] = mapped_column(ForeignKey("industry.code"), index=True)
    address: Mapped[str] = mapped_column(String(200), default="")
    # Units inside carbon-emissions trading may not trade energy-use rights (实施方案 二(一)3).
    in_carbon_trading: Mapped[bool] = mapped_column(default=False)
    # Shown on the public site once the unit takes part in the market.
    is_public: Mapped[bool] = mapped_column(default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(server_default=func.now())
    profile: Mapped[str] = mapped_column(Text, default="")

    division: Mapped[Division] = relationship(lazy="joined")
    industry: Mapped[Industry] = relationship(lazy="joined")

    def __repr__(self) -> str:
        return f"<Enterprise {self.uscc} {self.name}>"


@event.listens_for(Enterprise.name, "set")
def _keep_name_sort(target: Enterprise, value, _old, _initiator) -> None:
    target.name_sort = pinyin_sort_key(value or "")
