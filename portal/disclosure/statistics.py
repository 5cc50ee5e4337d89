"""Market statistics read from the daily summary (market_daily_summary), never from the trades.

Monthly figures are sums of days, cumulative figures sums of every day since the market opened, and
a day's report the rows of that day; each is one grouped query over the summary. Volumes of the two
varieties are never added together (tce and t): every figure is per variety.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from itertools import groupby

from sqlalchemy import case, func, select

from portal.disclosure.models import MARKET_WIDE, MarketDailySummary, MarketMonthlySummary
from portal.disclosure.summary import AMOUNT_SCALE, VOLUME_SCALE
from portal.extensions import db
from portal.reference.services import categories, divisions, varieties

S = MarketDailySummary
M = MarketMonthlySummary
CENT = Decimal("0.01")
RANGES = ("12", "24", "all", "custom")
DEFAULT_RANGE = "24"


@dataclass
class Figures:
    """Trades, volume, amount, high and low of some set of days; volume-weighted average price."""

    trades: int = 0
    volume: Decimal = Decimal("0.0000")
    amount: Decimal = Decimal("0.00")
    high: Decimal | None = None
    low: Decimal | None = None

    @property
    def average_price(self) -> Decimal | None:
        """Amount / volume, to the fen; None when nothing traded (never a zero price)."""
        return (self.amount / self.volume).quantize(CENT) if self.volume else None

    def __add__(self, other: Figures) -> Figures:
        highs = [p for p in (self.high, other.high) if p is not None]
        lows = [p for p in (self.low, other.low) if p is not None]
        return Figures(
            self.trades + other.trades,
            self.volume + other.volume,
            self.amount + other.amount,
            max(highs) if highs else None,
            min(lows) if lows else None,
        )


def figures(trades, volume, amount, high=None, low=None) -> Figures:
    """Figures from the summary's stored units (ten-thousandths, fen)."""
    return Figures(
        int(trades or 0),
        (Decimal(int(volume or 0)) / VOLUME_SCALE).quantize(Decimal("0.0001")),
        (Decimal(int(amount or 0)) / AMOUNT_SCALE).quantize(CENT),
        None if high is None else Decimal(str(high)).quantize(CENT),
        None if low is None else Decimal(str(low)).quantize(CENT),
    )


@dataclass
class Scope:
    """What a report covers: a variety, a category, a division; None means all of them."""

    variety: str | None = None
    category: str | None = None
    division: str | None = None

    def conditions(self, table=S) -> list:
        out = [table.division_code == (self.division or MARKET_WIDE)]
        if self.variety:
            out.append(table.variety_code == self.variety)
        if self.category:
            out.append(table.category_code == self.category)
        return out

    def varieties(self) -> list:
        return [v for v in varieties() if not self.variety or v.code == self.variety]


SUMS = (
    func.sum(S.trades),
    func.sum(S.volume),
    func.sum(S.amount),
    func.max(S.high),
    func.min(S.low),
)


# ---- months ----


@dataclass
class MonthRow:
    month: date  # its first day
    figures: Figures
    cumulative: Figures  # since the market opened, to the end of this month (within the range)

    @property
    def label(self) -> str:
        return f"{self.month.year:04d}-{self.month.month:02d}"

    # The names the API's MonthlyStatistics record reads.
    @property
    def trade_count(self) -> int:
        return self.figures.trades

    @property
    def quantity(self) -> Decimal:
        return self.figures.volume

    @property
    def amount(self) -> Decimal:
        return self.figures.amount

    @property
    def average_price(self) -> Decimal | None:
        return self.figures.average_price

    @property
    def high_price(self) -> Decimal | None:
        return self.figures.high

    @property
    def low_price(self) -> Decimal | None:
        return self.figures.low


@dataclass
class VarietySeries:
    variety: object
    months: list[MonthRow]
    total: Figures  # within the range
    cumulative: Figures  # since the market opened, to the range's end
    volume_chart: dict = field(default_factory=dict)
    price_chart: dict = field(default_factory=dict)

    @property
    def has_trades(self) -> bool:
        return self.total.trades > 0


def month_starts(since: date, until: date) -> list[date]:
    out, y, m = [], since.year, since.month
    while (y, m) <= (until.year, until.month):
        out.append(date(y, m, 1))
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def months_back(until: date, months: int) -> date:
    """The first day of the month `months - 1` months before `until`'s (the range holds `months`)."""
    first = until.year * 12 + until.month - months
    return date(first // 12, first % 12 + 1, 1)


def monthly(scope: Scope, since: date, until: date) -> list[VarietySeries]:
    """Each variety's whole months from `since`'s to `until`'s (empty months included, so an axis
    has no gaps), its total over them and its cumulative figures since the market opened.

    One query over market_monthly_summary: the months of the range, and every month before it
    summed into one row per variety (the cumulative figures start from it).
    """
    first, last = since.replace(day=1), until.replace(day=1)
    months = (
        select(
            M.variety_code,
            case((M.month < first, None), else_=M.month).label("month_key"),
            M.trades,
            M.volume,
            M.amount,
            M.high,
            M.low,
        )
        .where(*scope.conditions(M), M.month <= last)
        .subquery()
    )
    rows = db.session.execute(
        select(
            months.c.variety_code,
            months.c.month_key,
            func.sum(months.c.trades),
            func.sum(months.c.volume),
            func.sum(months.c.amount),
            func.max(months.c.high),
            func.min(months.c.low),
        ).group_by(months.c.variety_code, months.c.month_key)
    ).all()
    earlier: dict[str, Figures] = {}
    found: dict[tuple[str, date], Figures] = {}
    for variety, month, *sums in rows:
        if month is None:
            earlier[variety] = figures(*sums)
        else:
            found[(variety, _as_date(month))] = figures(*sums)
    out = []
    starts = month_starts(since, until)
    for variety in scope.varieties():
        running = earlier.get(variety.code, Figures())
        total = Figures()
        months = []
        for start in starts:
            month = found.get((variety.code, start), Figures())
            running = running + month
            total = total + month
            months.append(MonthRow(start, month, running))
        series = VarietySeries(variety, months, total, running)
        series.volume_chart = volume_chart(months)
        series.price_chart = price_chart(months)
        out.append(series)
    return out


def _as_date(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def first_trading_day() -> date | None:
    """The first day with a trade: when the market opened, as far as the disclosures go."""
    found = db.session.scalar(select(func.min(S.day)).where(S.division_code == MARKET_WIDE))
    return _as_date(found) if found else None


def last_trading_day(on_or_before: date | None = None) -> date | None:
    stmt = select(func.max(S.day)).where(S.division_code == MARKET_WIDE)
    if on_or_before is not None:
        stmt = stmt.where(S.day <= on_or_before)
    found = db.session.scalar(stmt)
    return _as_date(found) if found else None


def next_trading_day(after: date) -> date | None:
    found = db.session.scalar(
        select(func.min(S.day)).where(S.division_code == MARKET_WIDE, S.day > after)
    )
    return _as_date(found) if found else None


def period(range_choice: str, today: date, date_from=None, date_to=None) -> tuple[date, date]:
    """The days a range choice covers: the last 12 or 24 months (this one included), everything
    since the first trade, or the given dates."""
    if range_choice == "custom":
        opened = first_trading_day() or today
        return (date_from or opened), (date_to or today)
    if range_choice == "all":
        return (first_trading_day() or today.replace(day=1)), today
    return months_back(today, int(range_choice)), today


def recent(days: int, until: date) -> dict[str, Figures]:
    """Each variety's figures over the last `days` days up to `until`, market-wide."""
    since = until - timedelta(days=days - 1)
    rows = db.session.execute(
        select(S.variety_code, *SUMS)
        .where(S.division_code == MARKET_WIDE, S.day.between(since, until))
        .group_by(S.variety_code)
    ).all()
    found = {variety: figures(*sums) for variety, *sums in rows}
    return {v.code: found.get(v.code, Figures()) for v in varieties()}


# ---- one day ----


@dataclass
class DayRow:
    variety: str
    category: str | None  # None: every category
    division: str | None  # None: the whole market
    figures: Figures


@dataclass
class DayReport:
    day: date
    by_category: list[DayRow]  # per variety: each category that traded, then the variety's total
    by_division: list[DayRow]  # per variety and division (all categories)
    # per variety: (that day, month to date, year to date, since the market opened)
    cumulative: dict[str, dict[str, Figures]]

    @property
    def has_trades(self) -> bool:
        return any(row.figures.trades for row in self.by_category)


def day_report(day: date, scope: Scope) -> DayReport:
    """That day's figures per variety and category, per division, and the cumulative totals.

    Two queries: the day's rows (every division), and the sums to that day with month-to-date and
    year-to-date sums beside them.
    """
    conditions = [S.day == day]
    if scope.variety:
        conditions.append(S.variety_code == scope.variety)
    if scope.category:
        conditions.append(S.category_code == scope.category)
    if scope.division:
        conditions.append(S.division_code.in_((MARKET_WIDE, scope.division)))
    rows = db.session.execute(select(*DAY_COLUMNS).where(*conditions)).all()
    by_category, by_division = _day_rows(_cells(rows), scope)
    return DayReport(day, by_category, by_division, cumulative(day, scope))


DAY_COLUMNS = (
    S.division_code,
    S.variety_code,
    S.category_code,
    S.trades,
    S.volume,
    S.amount,
    S.high,
    S.low,
)


def _cells(rows) -> dict[tuple, Figures]:
    """(division, variety, category) → figures, from rows of DAY_COLUMNS."""
    return {(d, v, c): figures(n, vol, amt, hi, lo) for d, v, c, n, vol, amt, hi, lo in rows}


def _day_rows(cells: dict[tuple, Figures], scope: Scope) -> tuple[list[DayRow], list[DayRow]]:
    """One day's rows per variety and category (each variety's total after its categories), and
    per variety and division (all categories together)."""
    own = scope.division or MARKET_WIDE
    by_category, by_division = [], []
    division_order = [d.code for d in divisions()]
    for variety in scope.varieties():
        total = Figures()
        for category in categories():
            found = cells.get((own, variety.code, category.code))
            if found is not None:
                by_category.append(DayRow(variety.code, category.code, scope.division, found))
                total = total + found
        by_category.append(DayRow(variety.code, None, scope.division, total))
        for code in division_order:
            if scope.division and code != scope.division:
                continue
            summed = Figures()
            for (d, v, _c), found in cells.items():
                if d == code and v == variety.code:
                    summed = summed + found
            if summed.trades:
                by_division.append(DayRow(variety.code, None, code, summed))
    return by_category, by_division


def every_day() -> Iterator[tuple[date, list[DayRow], list[DayRow]]]:
    """Each trading day's rows, as its daily report shows them for the whole market, oldest day
    first: the daily dataset of the open-data archive. One ordered scan of the summary."""
    stmt = select(S.day, *DAY_COLUMNS).order_by(S.day).execution_options(yield_per=2000)
    rows = db.session.execute(stmt)
    for day, day_rows in groupby(rows, key=lambda row: row[0]):
        by_category, by_division = _day_rows(_cells(row[1:] for row in day_rows), Scope())
        yield _as_date(day), by_category, by_division


def cumulative(day: date, scope: Scope) -> dict[str, dict[str, Figures]]:
    """Per variety: the day, the month to date, the year to date, and since the market opened.

    The month so far comes from its days, the months before it from market_monthly_summary.
    """
    month_start, year_start = day.replace(day=1), day.replace(month=1, day=1)
    this_month = db.session.execute(
        select(
            S.variety_code,
            func.sum(case((S.day == day, S.trades), else_=0)),
            func.sum(case((S.day == day, S.volume), else_=0)),
            func.sum(case((S.day == day, S.amount), else_=0)),
            func.max(case((S.day == day, S.high))),
            func.min(case((S.day == day, S.low))),
            *SUMS,
        )
        .where(*scope.conditions(), S.day.between(month_start, day))
        .group_by(S.variety_code)
    ).all()
    before = db.session.execute(
        select(
            M.variety_code,
            func.sum(case((M.month >= year_start, M.trades), else_=0)),
            func.sum(case((M.month >= year_start, M.volume), else_=0)),
            func.sum(case((M.month >= year_start, M.amount), else_=0)),
            func.max(case((M.month >= year_start, M.high))),
            func.min(case((M.month >= year_start, M.low))),
            func.sum(M.trades),
            func.sum(M.volume),
            func.sum(M.amount),
            func.max(M.high),
            func.min(M.low),
        )
        .where(*scope.conditions(M), M.month < month_start)
        .group_by(M.variety_code)
    ).all()
    days = {variety: (figures(*sums[0:5]), figures(*sums[5:10])) for variety, *sums in this_month}
    months = {variety: (figures(*sums[0:5]), figures(*sums[5:10])) for variety, *sums in before}
    out = {}
    for v in scope.varieties():
        on_day, to_date = days.get(v.code, (Figures(), Figures()))
        in_year, earlier = months.get(v.code, (Figures(), Figures()))
        out[v.code] = {
            "day": on_day,
            "month": to_date,
            "year": in_year + to_date,
            "all": earlier + to_date,
        }
    return out


# ---- charts: coordinates for inline SVG, drawn on the server ----

# The viewBox is about a phone's width, so 14 units of text (static/css: .stats-chart text) stay
# at least 12 px on a 390 px screen, in the elderly-friendly mode too (checked in Chromium by
# tests/browser/test_phone_layout.py); wider screens scale it up (.stats-chart caps the width).
CHART_WIDTH, CHART_HEIGHT = 360, 200
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 8, 8, 22, 30
LABEL_CHARS = 7  # "2025-01"
CHAR_UNITS = 8.5  # the width of one digit at 14 units of text
LABEL_GAP = 10


def _ticks(months: list[MonthRow]) -> list[tuple[float, str]]:
    """Month labels under the axis: evenly spaced, as many as fit without overlapping, each
    centred under its month and inside the chart."""
    n = len(months)
    if not n:
        return []
    plot = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    half = LABEL_CHARS * CHAR_UNITS / 2
    slot = plot / n
    step = max(1, math.ceil((2 * half + LABEL_GAP) / slot))
    low, high = PAD_LEFT + half, CHART_WIDTH - PAD_RIGHT - half
    out: list[tuple[float, str]] = []
    for i in range(n):
        centre = PAD_LEFT + slot * (i + 0.5)
        if not out and centre < low - slot / 2:
            continue  # too close to the edge to centre a label under it
        if out and i - out[-1][2] < step:
            continue
        if centre > high + slot / 2:
            break
        x = min(max(centre, low), high)
        if out and x - half < out[-1][0] + half + LABEL_GAP:
            continue
        out.append((round(x, 1), months[i].label, i))
    return [(x, label) for x, label, _i in out]


def volume_chart(months: list[MonthRow]) -> dict:
    """Bars of monthly volume from a zero baseline."""
    top = max((m.figures.volume for m in months), default=Decimal(0))
    plot_w = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = CHART_HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(months), 1)
    bars = []
    for i, m in enumerate(months):
        if not m.figures.volume or not top:
            continue
        h = float(m.figures.volume / top) * plot_h
        bars.append(
            {
                "x": round(PAD_LEFT + slot * i + slot * 0.15, 1),
                "y": round(PAD_TOP + plot_h - h, 1),
                "w": round(max(slot * 0.7, 1), 1),
                "h": round(max(h, 0.5), 1),
                "row": m,
            }
        )
    return {
        "bars": bars,
        "top": top if top else None,
        "ticks": _ticks(months),
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "base": PAD_TOP + plot_h,
        "left": PAD_LEFT,
        "right": CHART_WIDTH - PAD_RIGHT,
    }


def price_chart(months: list[MonthRow]) -> dict:
    """A line of monthly average prices, with each month's high–low range as a vertical stroke."""
    priced = [(i, m) for i, m in enumerate(months) if m.figures.average_price is not None]
    base = {
        "width": CHART_WIDTH,
        "height": CHART_HEIGHT,
        "ticks": _ticks(months),
        "base": CHART_HEIGHT - PAD_BOTTOM,
        "left": PAD_LEFT,
        "right": CHART_WIDTH - PAD_RIGHT,
    }
    if not priced:
        return {**base, "points": "", "dots": [], "ranges": [], "low": None, "high": None}
    low = min(m.figures.low or m.figures.average_price for _i, m in priced)
    high = max(m.figures.high or m.figures.average_price for _i, m in priced)
    span = (high - low) or Decimal(1)
    plot_w = CHART_WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = CHART_HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = plot_w / max(len(months), 1)

    def y(price: Decimal) -> float:
        return round(PAD_TOP + plot_h - float((price - low) / span) * plot_h, 1)

    dots, ranges = [], []
    for i, m in priced:
        x = round(PAD_LEFT + slot * (i + 0.5), 1)
        dots.append({"x": x, "y": y(m.figures.average_price), "row": m})
        if m.figures.high is not None and m.figures.low is not None:
            ranges.append({"x": x, "y1": y(m.figures.high), "y2": y(m.figures.low)})
    return {
        **base,
        "points": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "dots": dots,
        "ranges": ranges,
        "low": low,
        "high": high,
    }
