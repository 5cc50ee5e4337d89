"""The line under each hit: for a listing, trade, compliance record or enterprise, a summary built
at render time from the stored facts, in the visitor's language and Babel's formats, e.g.

    能耗指标 · 地方用能权指标 · 郑州市 · 1,970 吨标准煤 · ¥408.95/吨标准煤 · 部分成交

with the matched words marked. Announcements keep the text window cut from their body (services).
English reference names are searched (names_en) but never shown here in Chinese.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from markupsafe import Markup

from portal.compliance.labels import COMPLIANCE_STATUS
from portal.disclosure import labels
from portal.i18n import RequestFormats, formats
from portal.i18n import gettext as _
from portal.reference.models import Category, Division, Industry, Variety
from portal.reference.services import by_code
from portal.search.analysis import fold
from portal.search.engine import highlight

SEPARATOR = " · "
EXCERPT_WIDTH = 100


def _decimal(value: str | None) -> Decimal | None:
    if not value:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        return None


def _label(mapping: dict, code: str | None) -> str:
    label = mapping.get(code or "")
    return str(label) if label is not None else ""


class Lines:
    """Builds summary lines for one request's hits (one locale, one set of formatters)."""

    def __init__(self, fmt: RequestFormats | None = None) -> None:
        self.fmt = fmt or formats()

    def name(self, model, code: str | None) -> str:
        return self.fmt.localized(by_code(model, code)) if code else ""

    def parts(self, hit) -> tuple[list[str], str]:
        """(summary parts, free text to excerpt) for a structured hit."""
        f, facts, variety = self.fmt, hit.facts or {}, hit.variety
        division = self.name(Division, hit.division)
        variety_name = self.name(Variety, variety)
        category = self.name(Category, facts.get("category"))
        offer = [
            f.qty(_decimal(facts.get("quantity")), variety),
            f.price(_decimal(facts.get("price")), variety),
        ]
        if hit.kind == "listing":
            status = _label(labels.LISTING_STATUS, facts.get("status"))
            return [variety_name, category, division, *offer, status], facts.get("text", "")
        if hit.kind == "trade":
            seller = self.name(Division, facts.get("seller_division"))
            buyer = self.name(Division, facts.get("buyer_division"))
            route = (
                f"{seller} → {buyer}" if seller and buyer and seller != buyer else seller or buyer
            )
            amount = _("成交金额 %(amount)s", amount=f.money(_decimal(facts.get("amount"))))
            method = _label(labels.TRADE_METHOD, facts.get("method"))
            return [variety_name, category, route, *offer, amount, method], ""
        if hit.kind == "compliance":
            actual = _decimal(facts.get("actual"))
            shortfall = _decimal(facts.get("shortfall"))
            return [
                variety_name,
                division,
                _label(COMPLIANCE_STATUS, facts.get("status")),
                _("持有指标 %(q)s", q=f.qty(_decimal(facts.get("holdings")), variety)),
                _("实际用能量 %(q)s", q=f.qty(actual, variety)) if actual is not None else "",
                _("缺口 %(q)s", q=f.qty(shortfall, variety)) if shortfall else "",
            ], ""
        if hit.kind == "enterprise":
            return [
                _("统一社会信用代码 %(code)s", code=facts.get("uscc", "")),
                division,
                self.name(Industry, facts.get("industry")),
            ], facts.get("text", "")
        return [], ""

    def fill(self, hit) -> None:
        """Set hit.snippet (summary line) and hit.excerpt (free text, when it helps)."""
        if hit.facts is None:
            return
        parts, text = self.parts(hit)
        # Each fact stays on one line (a quantity is never split from its unit).
        hit.snippet = Markup(SEPARATOR).join(
            Markup('<span class="fact">%s</span>') % highlight(part, hit.terms)
            for part in parts
            if part and part != "—"
        )
        folded = fold(text)
        # A listing's description is shown when it is why the record matched; a profile always.
        if text and (hit.kind == "enterprise" or any(fold(t) in folded for t in hit.terms)):
            hit.excerpt = highlight(text, hit.terms, width=EXCERPT_WIDTH)


def fill(hits, fmt: RequestFormats | None = None) -> None:
    lines = Lines(fmt)
    for hit in hits:
        lines.fill(hit)


__all__ = ["fill", "Lines"]
