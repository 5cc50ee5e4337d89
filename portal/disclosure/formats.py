"""Formatters for the statistics tables: Babel's output, computed the fast way.

A statistics page since the market opened shows about 1,300 quantities, amounts and prices; Babel's
pattern engine costs about 0.15 ms a value, which alone took the page past its 30 ms budget. The
locale's own symbols and the place of the currency sign are read from Babel once per render (by
formatting a sample), then each value is formatted with Python's grouping and those symbols.
tests/statistics checks that every output equals Babel's for both languages.
"""

from __future__ import annotations

from decimal import Decimal

from babel.numbers import (
    format_currency,
    get_decimal_symbol,
    get_group_symbol,
    get_minus_sign_symbol,
)

from portal.i18n import RequestFormats

SAMPLE = Decimal("1234567.89")


class TableFormats(RequestFormats):
    """RequestFormats with quantities, numbers, amounts and prices of non-negative decimals
    formatted without Babel's pattern engine (the same text); anything else goes to Babel."""

    def __init__(self):
        super().__init__()
        self.group = get_group_symbol(locale=self.locale)
        self.minus = get_minus_sign_symbol(locale=self.locale)
        self.decimal_sign = get_decimal_symbol(locale=self.locale)
        sample = format_currency(SAMPLE, "CNY", locale=self.locale)
        shown = self._grouped(SAMPLE, 2)
        self.money_prefix, found, self.money_suffix = sample.partition(shown)
        self.fast = bool(found)

    def _grouped(self, value: Decimal, places: int) -> str:
        text = f"{value:,.{places}f}"
        if self.group == "," and self.decimal_sign == ".":
            return text
        return text.replace(",", "\0").replace(".", self.decimal_sign).replace("\0", self.group)

    def _plain(self, value) -> bool:
        return self.fast and isinstance(value, Decimal | int) and value >= 0

    def qty(self, value, variety=None) -> str:
        if self.fast and isinstance(value, Decimal | int) and value < 0:
            # A debit on the ledger: the locale's minus sign before the same digits.
            return self.minus + self.qty(-value, variety)
        if not self._plain(value):
            return super().qty(value, variety)
        number = self._grouped(Decimal(value).quantize(Decimal("0.0001")), 4)
        number = number.rstrip("0").rstrip(self.decimal_sign)
        unit = self.units.get(variety or "")
        return f"{number} {unit}" if unit else number

    def num(self, value, digits: int = 0) -> str:
        if not self._plain(value):
            return super().num(value, digits)
        return self._grouped(Decimal(value).quantize(Decimal(1).scaleb(-digits)), digits)

    def money(self, value) -> str:
        if not self._plain(value):
            return super().money(value)
        number = self._grouped(Decimal(value).quantize(Decimal("0.01")), 2)
        return f"{self.money_prefix}{number}{self.money_suffix}"
