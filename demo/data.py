"""The deterministic demo data set behind `flask demo`.

`generate(seed, scale)` builds every row as a plain dict, with no database; the same seed gives the
same rows, byte for byte (tests compare `DemoData.digest()`). `load_demo()` inserts them in chunks
with Core-style bulk inserts, runs each feature's `demo.<feature>.load_demo(rng, echo)`, and
commits once. This package lives beside `portal/`, which never imports it: the demo ships apart
from the product, and `flask demo` reaches Flask through the `flask.commands` entry point.

Dates are computed from a fixed anchor, 2026-11-26 (Asia/Shanghai), never from the clock, so the
data is the same on every run; a few listings and 公示 still run past the anchor. Datetimes are
naive UTC, as everywhere in the database.
"""

from __future__ import annotations

import gc
import hashlib
import json
import math
import multiprocessing
import operator
import random
import re
import time as timer
import traceback
import uuid
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from queue import Empty

from babel.numbers import format_decimal
from flask import current_app
from sqlalchemy import func, select
from sqlalchemy import text as sql
from sqlalchemy.exc import OperationalError
from stdnum.cn import uscc as stdnum_uscc

from demo import accounts as demo_accounts
from demo import benchmarks as demo_benchmarks
from demo import text
from demo.reset import check_demo_database, check_development_database, empty_tables, write_marker
from portal.accounts.models import AuditFirm
from portal.audit.models import AuditEvent
from portal.bulk import indexes_deferred, insert_rows
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.config import SQLITE_BUSY_TIMEOUT_MS
from portal.disclosure.models import Listing, Trade
from portal.disclosure.summary import rebuild_summary
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.news.models import Announcement
from portal.news.services import render_markdown
from portal.reference.data import CATEGORIES, DIVISIONS, INDUSTRIES
from portal.registry.models import Holding, LedgerEntry
from portal.registry.services import POOL_KINDS, Holder, PlannedEntry, append_bulk
from portal.text import pinyin_sort_key

ANCHOR = date(2026, 11, 26)  # "today" of the data set, in Asia/Shanghai
FIRST_DAY = date(2021, 1, 4)
UTC_OFFSET = timedelta(hours=8)  # Asia/Shanghai has no daylight saving time
PUBLICITY_DAYS = 7
YEARS = list(range(2021, ANCHOR.year + 1))

Q4 = Decimal("0.0001")  # Numeric(18, 4)
C2 = Decimal("0.01")
ZERO = Decimal("0")

PILOT_DIVISIONS = {code for code, _n, _e, pilot in DIVISIONS if pilot}
DIVISION_NAMES = {code: name for code, name, _e, _p in DIVISIONS}
INDUSTRY_NAMES = {code: name for code, name, _e, _p, _s in INDUSTRIES}
CATEGORY_CODES = [code for code, *_ in CATEGORIES]
# The six 两高 industries whose new projects must buy energy-use rights (实施方案 二(一)3).
TWO_HIGH = {"chemical", "nonferrous", "steel", "building", "power", "petrochem"}
INDUSTRY_WEIGHTS = {
    "chemical": 20, "nonferrous": 13, "steel": 13, "building": 16, "power": 7,
    "petrochem": 5, "paper": 6, "textile": 6, "food": 6, "other": 8,
}  # fmt: skip
COAL_USE = {
    "chemical": 0.8, "nonferrous": 0.45, "steel": 0.65, "building": 0.7, "power": 0.95,
    "petrochem": 0.5, "paper": 0.5, "textile": 0.3, "food": 0.3, "other": 0.2,
}  # fmt: skip
CARBON_TRADING = {"power": 0.7, "petrochem": 0.25}  # others: 0.04
JOIN_YEAR_WEIGHTS = {2021: 35, 2022: 20, 2023: 15, 2024: 12, 2025: 10, 2026: 8}
LISTING_YEAR_WEIGHTS = {2021: 10, 2022: 15, 2023: 18, 2024: 20, 2025: 22, 2026: 15}
UNITS = {"energy": "吨标准煤", "coal": "吨"}
VARIETY_NAMES = {"energy": "能耗指标", "coal": "煤炭指标"}
METHOD_NAMES = {"listing": "挂牌", "agreement": "协议", "auction": "竞价"}
STATUS_NAMES = {
    "on_time": "按期履约",
    "late": "逾期履约",
    "non_compliant": "未履约",
    "not_applicable": "不适用",
    "not_reported": "数据未报送",
}
# Compliance periods: year → (filing deadline, published on); None = not yet published.
PERIODS = {
    2022: (date(2023, 6, 30), date(2023, 8, 15)),
    2023: (date(2024, 6, 28), date(2024, 8, 16)),
    2024: (date(2025, 6, 30), date(2025, 8, 15)),
    2025: (date(2026, 6, 30), None),
}

DEFAULT_COUNTS = {"enterprises": 360, "listings": 640, "trades": 1300}
CHUNK = 5000


# --- small helpers ------------------------------------------------------------------------------


def utc_at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    """Naive UTC for a wall-clock time in Asia/Shanghai."""
    return datetime.combine(day, time(hour, minute)) - UTC_OFFSET


def q4(value) -> Decimal:
    return Decimal(value).quantize(Q4, rounding=ROUND_HALF_UP)


def c2(value) -> Decimal:
    return Decimal(value).quantize(C2, rounding=ROUND_HALF_UP)


def cn_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def num(value, places: int = 2) -> str:
    pattern = "#,##0." + "#" * places if places else "#,##0"
    return format_decimal(value, format=pattern, locale="zh_Hans_CN")


def organization_code(rng: random.Random) -> str:
    """A 9-character 组织机构代码 (GB 11714): 8 digits and their mod-11 check character."""
    body = "".join(rng.choice("0123456789") for _ in range(8))
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    check = 11 - sum(int(c) * w for c, w in zip(body, weights, strict=True)) % 11
    return body + {10: "X", 11: "0"}.get(check, str(check))


class _SortKeys:
    """The pinyin keys the lists sort by (enterprise.name_sort, compliance_record.sort_name), added
    to the rows apart from the generator, by whoever writes them: in a background load the
    writing process computes them while the generating one builds the next part."""

    def __init__(self):
        self.of_unit: dict[int, str] = {}

    def add(self, part: dict) -> dict:
        for row in part.get("enterprises", ()):
            row["name_sort"] = self.of_unit[row["id"]] = pinyin_sort_key(row["name"])
        for row in part.get("compliance_records", ()):
            row["sort_name"] = self.of_unit[row["enterprise_id"]]
        return part


def make_uscc(rng: random.Random, division_code: str, taken: set[str]) -> str:
    """A valid 统一社会信用代码 of a company (91) registered in the division."""
    while True:
        head = "91" + division_code + organization_code(rng)
        code = head + stdnum_uscc.calc_check_digit(head)
        if code not in taken:
            taken.add(code)
            return code


def city_authority(division_code: str) -> str:
    return text.CITY_AUTHORITY_OVERRIDES.get(
        division_code, f"{DIVISION_NAMES[division_code]}发展和改革委员会"
    )


def city_short(division_code: str) -> str:
    return DIVISION_NAMES[division_code].removesuffix("市")


def md_table(headers: list[str], rows: list[list[str]], numeric_from: int | None = None) -> str:
    align = [
        "---:" if numeric_from is not None and i >= numeric_from else "---"
        for i in range(len(headers))
    ]
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


LIST_ITEM = re.compile(r"^\d+\. ")


def summary_of(body_md: str, limit: int = 110) -> str:
    """The first sentence-bearing paragraph of a body, as plain text."""
    for line in body_md.splitlines():
        line = line.strip()
        if not line or line[0] in "#|-" or LIST_ITEM.match(line) or line.endswith("："):
            continue
        plain = line.replace("**", "")
        return plain if len(plain) <= limit else plain[: limit - 1] + "…"
    return ""


# --- the data set ------------------------------------------------------------------------------


@dataclass
class DemoData:
    """Every generated row, as dicts keyed by column name, in insertion order."""

    audit_firms: list[dict] = field(default_factory=list)
    enterprises: list[dict] = field(default_factory=list)
    listings: list[dict] = field(default_factory=list)
    trades: list[dict] = field(default_factory=list)
    periods: list[dict] = field(default_factory=list)
    compliance_records: list[dict] = field(default_factory=list)
    announcements: list[dict] = field(default_factory=list)
    # The registry entries behind every holding: allocations, trade pairs, take-backs and
    # surrenders, in time order. Written by registry.append_bulk, not inserted as rows.
    ledger: list[dict] = field(default_factory=list)

    def tables(self):
        """(model, rows) pairs in an order that respects foreign keys."""

        return [(model, getattr(self, name)) for name, model in TABLES.items()]

    def counts(self) -> dict[str, int]:
        return {name: len(rows) for name, rows in vars(self).items()}

    def digest(self) -> str:
        """SHA-256 of every row, to prove that a seed gives the same data."""
        sha = hashlib.sha256()
        for name, rows in vars(self).items():
            sha.update(name.encode())
            for row in rows:
                sha.update(json.dumps(row, sort_keys=True, default=str).encode())
        return sha.hexdigest()


# The DemoData fields inserted as rows, and their models, in an order that respects foreign keys.
TABLES = {
    "audit_firms": AuditFirm,
    "enterprises": Enterprise,
    "listings": Listing,
    "trades": Trade,
    "periods": CompliancePeriod,
    "compliance_records": ComplianceRecord,
    "announcements": Announcement,
}


@dataclass
class _Unit:
    """What the generator knows about an enterprise beyond its row."""

    id: int
    name: str
    division_code: str
    industry_code: str
    role: str  # voluntary, project, both, none, carbon
    join_year: int
    coal_user: bool
    energy_base: float
    coal_base: float

    @property
    def sells(self) -> bool:
        return self.role in ("voluntary", "both")

    @property
    def buys(self) -> bool:
        return self.role in ("project", "both")

    @property
    def participates(self) -> bool:
        return self.role in ("voluntary", "project", "both")


def generate(seed: int = 20211, scale: int | None = None) -> DemoData:
    """Build the whole demo data set in memory. With `scale`, make `scale` rows of each kind."""
    return _Generator(seed, scale).run()


# From this many rows of each kind, a load generates the later parts in a second process (when
# the platform can fork) while it writes the earlier ones: two cores instead of one.
BACKGROUND_FROM_SCALE = 5000


def generated_parts(seed: int, scale: int | None, background: bool | None = None):
    """Yield the data set in the order generate() builds it, one part at a time: a dict of the
    DemoData fields a step filled and their rows. The parts add up to generate(seed, scale)."""
    if background is None:
        background = bool(scale and scale >= BACKGROUND_FROM_SCALE)
    keys = _SortKeys()
    parts = _Generator(seed, scale).parts()
    if background and "fork" in multiprocessing.get_all_start_methods():
        parts = _rest_in_child(parts)
    for part in parts:
        yield keys.add(part)


def _rest_in_child(parts):
    """Take the parts up to the trades here, then fork: the child goes on with the generator's
    state where it stands and queues each later part as soon as it is complete, while the caller
    writes the first ones. Here, because sending the listings and trades through the queue (their
    Decimals and dates, pickled) would cost more than generating them."""
    first = []
    for part in parts:
        first.append(part)
        if "trades" in part:
            break
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(
        target=_queue_rest, args=(parts, queue), name="demo-generate", daemon=True
    )
    child.start()
    try:
        yield from first
        while True:
            try:
                kind, payload = queue.get(timeout=1)
            except Empty:
                if not child.is_alive():
                    raise RuntimeError(
                        f"The demo data's generating process ended (exit code {child.exitcode})"
                    ) from None
                continue
            if kind == "done":
                break
            if kind == "error":
                raise RuntimeError(f"Generating the demo data failed:\n{payload}")
            yield payload
    finally:
        if child.is_alive():
            child.terminate()
        child.join()
        queue.close()


def _queue_rest(parts, queue) -> None:
    """The child process: generate the remaining parts and queue each one. It never touches the
    database connection it inherited."""
    try:
        for part in parts:
            queue.put(("part", part))
    except BaseException:
        queue.put(("error", traceback.format_exc()))
        raise
    queue.put(("done", None))


class _Generator:
    def __init__(self, seed: int, scale: int | None):
        self.rng = random.Random(seed)
        self.scale = scale
        if scale:
            self.n_enterprises = self.n_listings = self.n_trades = scale
        else:
            self.n_enterprises = DEFAULT_COUNTS["enterprises"]
            self.n_listings = DEFAULT_COUNTS["listings"]
            self.n_trades = DEFAULT_COUNTS["trades"]
        self.data = DemoData()
        self.units: list[_Unit] = []
        self.by_id: dict[int, _Unit] = {}
        self._pools: dict[tuple, list[_Unit]] = {}
        # (enterprise id, year, variety) → [bought, sold]
        self.flows: dict[tuple[int, int, str], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        # (pool holder key, year, variety) → what the province's or a city's pool sold
        self.pool_sales: dict[tuple[str, int, str], Decimal] = defaultdict(lambda: ZERO)
        self.listing_of: dict[int, dict] = {}  # listing id → its row
        self.usccs: set[str] = set()
        # (enterprise id, year, variety) → quota, bought, sold, taken_back of a compliance row
        self.figures: dict[tuple[int, int, str], dict[str, Decimal]] = {}

    def run(self) -> DemoData:
        keys = _SortKeys()
        for part in self.parts():
            keys.add(part)
        return self.data

    def parts(self):
        """Run the steps in order; after each, yield the fields it filled, with their rows. A later
        step reads the earlier rows but never changes them, so a part is final once yielded.
        The consumer adds the sort keys (_SortKeys)."""
        steps = (
            (self.make_audit_firms, ("audit_firms",)),
            (self.make_enterprises, ("enterprises",)),
            (self.make_listings_and_trades, ("listings", "trades")),
            (self.make_compliance, ("periods", "compliance_records")),
            (self.make_ledger, ("ledger",)),
            (self.make_announcements, ("announcements",)),
        )
        for step, names in steps:
            step()
            yield {name: getattr(self.data, name) for name in names}

    # -- people ----------------------------------------------------------------------------------

    def person(self) -> str:
        return self.rng.choice(text.SURNAMES) + self.rng.choice(text.GIVEN_NAMES)

    def phone(self, division_code: str | None) -> str:
        area = text.AREA_CODES.get(division_code or "410100")
        return f"{area}-0000{self.rng.randrange(10000):04d}"

    def make_audit_firms(self) -> None:
        for i, name in enumerate(text.AUDIT_FIRM_NAMES, start=1):
            division = self.rng.choice(sorted(PILOT_DIVISIONS))
            self.data.audit_firms.append(
                {
                    "id": i,
                    "name": name,
                    "uscc": make_uscc(self.rng, division, self.usccs),
                    "is_approved": i != len(text.AUDIT_FIRM_NAMES),  # one firm pending approval
                    "created_at": utc_at(date(2021, 3, 1) + timedelta(days=40 * i)),
                }
            )

    # -- enterprises ------------------------------------------------------------------------------

    def make_enterprises(self) -> None:
        rng = self.rng
        divisions = [code for code, *_ in DIVISIONS]
        division_weights = [3 if code in PILOT_DIVISIONS else 1 for code in divisions]
        industries = list(INDUSTRY_WEIGHTS)
        industry_weights = list(INDUSTRY_WEIGHTS.values())
        forced = divisions[:]
        rng.shuffle(forced)
        names: set[str] = set()
        for i in range(1, self.n_enterprises + 1):
            division = (
                forced[i - 1] if i <= len(forced) else rng.choices(divisions, division_weights)[0]
            )
            industry = rng.choices(industries, industry_weights)[0]
            if i == 1:
                industry = "chemical"  # so that even a tiny --scale has a buyer and a seller
            product, goods = rng.choice(text.PRODUCTS[industry])
            name = self.company_name(division, product, names)
            if rng.random() < CARBON_TRADING.get(industry, 0.04):
                role = "carbon"
            else:
                roll = rng.random()
                if industry in TWO_HIGH:
                    role = (
                        "voluntary" if roll < 0.38 else
                        "project" if roll < 0.76 else
                        "both" if roll < 0.86 else "none"
                    )  # fmt: skip
                else:
                    role = "voluntary" if roll < 0.75 else "none"
            join_year = rng.choices(list(JOIN_YEAR_WEIGHTS), list(JOIN_YEAR_WEIGHTS.values()))[0]
            if i == 1:
                role, join_year = "both", YEARS[0]
            big = 2.0 if industry in ("steel", "nonferrous", "chemical", "power") else 1.0
            unit = _Unit(
                id=i,
                name=name,
                division_code=division,
                industry_code=industry,
                role=role,
                join_year=join_year,
                coal_user=rng.random() < COAL_USE[industry],
                energy_base=big * math.exp(rng.uniform(math.log(4000), math.log(150000))),
                coal_base=big * math.exp(rng.uniform(math.log(8000), math.log(250000))),
            )
            self.units.append(unit)
            self.by_id[i] = unit
            county = rng.choice(text.COUNTIES[division])
            measure = rng.choice(text.RETROFIT_MEASURES)
            profile = text.PROFILE.format(
                name=name,
                city=DIVISION_NAMES[division],
                county=county,
                product=goods,
                industry=INDUSTRY_NAMES[industry],
                role=text.PROFILE_ROLES[role].format(measure=measure),
            )
            joined = date(join_year, 1, 1) + timedelta(days=rng.randrange(300))
            self.data.enterprises.append(
                {
                    "id": i,
                    "uscc": make_uscc(rng, division, self.usccs),
                    "name": name,
                    "division_code": division,
                    "industry_code": industry,
                    "address": f"河南省{DIVISION_NAMES[division]}{county}"
                    f"{rng.choice(text.ROADS)}{rng.randrange(1, 400)}号",
                    "in_carbon_trading": role == "carbon",
                    "is_public": unit.participates,
                    "created_at": utc_at(min(joined, ANCHOR), 10),
                    "profile": profile,
                }
            )

    def company_name(self, division: str, product: str, taken: set[str]) -> str:
        rng = self.rng
        short = city_short(division)
        for attempt in range(12):
            brand = rng.choice(text.BRAND_WORDS)
            if attempt >= 4:
                brand += rng.choice(text.BRAND_WORDS)
            name = f"示例{short}{brand}{product}{rng.choice(text.COMPANY_SUFFIXES)}"
            if name not in taken:
                taken.add(name)
                return name
        name = f"示例{short}{rng.choice(text.BRAND_WORDS)}{product}第{len(taken)}有限公司"
        taken.add(name)
        return name

    def pool(self, kind: str, year: int, variety: str, division: str | None = None):
        """Participants that may sell (`sells`) or buy (`buys`) in a year, cached."""
        key = (kind, year, variety, division)
        if key not in self._pools:
            if division is not None:
                found = [u for u in self.pool(kind, year, variety) if u.division_code == division]
                self._pools[key] = found
                return found
            found = [
                u
                for u in self.units
                if getattr(u, kind) and u.join_year <= year and (variety == "energy" or u.coal_user)
            ]
            if not found:
                # Tiny data sets: fall back to any participant of that kind.
                found = [u for u in self.units if getattr(u, kind)] or [
                    u for u in self.units if u.participates
                ]
            self._pools[key] = found
        return self._pools[key]

    # -- listings and trades ----------------------------------------------------------------------

    def reference_price(self, variety: str, day: date) -> float:
        """The market's reference price: the 十三五 average, drifting upward (实施方案 二(三)2)."""
        years = (day - date(2021, 1, 1)).days / 365.25
        season = 1.04 if day.month in (5, 6, 11, 12) else 1.0  # before compliance and year end
        if variety == "energy":
            return (232 + 29.5 * years) * season
        return (110 + 11.5 * years) * season

    def quantity(self, low: float, high: float) -> Decimal:
        value = math.exp(self.rng.uniform(math.log(low), math.log(high)))
        if self.rng.random() < 0.7:
            return Decimal(round(value / 10) * 10 or 10).quantize(Q4)
        return q4(value)

    def listing_start(self) -> date:
        rng = self.rng
        if rng.random() < 0.08:
            return ANCHOR - timedelta(days=rng.randrange(40))
        year = rng.choices(list(LISTING_YEAR_WEIGHTS), list(LISTING_YEAR_WEIGHTS.values()))[0]
        first = max(date(year, 1, 1), FIRST_DAY)
        last = min(date(year, 12, 31), ANCHOR)
        return first + timedelta(days=rng.randrange((last - first).days + 1))

    def make_listings_and_trades(self) -> None:
        rng = self.rng
        divisions = [code for code, *_ in DIVISIONS]
        drafts = []
        for _ in range(self.n_listings):
            starts_on = self.listing_start()
            ends_on = starts_on + timedelta(days=rng.choice((10, 15, 20, 30, 30, 45, 60)))
            variety = "coal" if rng.random() < 0.3 else "energy"
            category = rng.choices(CATEGORY_CODES, (15, 30, 20, 35))[0]
            if category == "provincial" or (category == "new_project" and rng.random() < 0.4):
                kind, seller, division = "province", None, None
                qty = (
                    self.quantity(5000, 60000) if variety == "energy" else self.quantity(1e4, 12e4)
                )
            elif category in ("local", "new_project"):
                kind, seller = "city", None
                division = rng.choices(
                    divisions, [3 if c in PILOT_DIVISIONS else 1 for c in divisions]
                )[0]
                qty = self.quantity(1000, 30000) if variety == "energy" else self.quantity(2e3, 6e4)
            else:
                kind = "enterprise"
                seller = rng.choice(self.pool("sells", starts_on.year, variety))
                division = seller.division_code
                qty = self.quantity(200, 15000) if variety == "energy" else self.quantity(500, 3e4)
            method = rng.choices(
                ("listing", "agreement", "auction"),
                (50, 20, 30) if kind == "province" else (65, 22, 13),
            )[0]
            multiplier = {"provincial": 1.0, "local": 0.97, "new_project": 1.05, "voluntary": 0.95}
            price = c2(
                self.reference_price(variety, starts_on)
                * multiplier[category]
                * math.exp(rng.gauss(0, 0.06))
            )
            active = ends_on >= ANCHOR
            if active:
                status = rng.choices(("open", "partial", "traded"), (60, 25, 15))[0]
            else:
                status = rng.choices(
                    ("traded", "partial", "withdrawn", "expired"), (58, 15, 10, 17)
                )[0]
            drafts.append(
                {
                    "starts_on": starts_on,
                    "ends_on": ends_on,
                    "variety": variety,
                    "category": category,
                    "kind": kind,
                    "seller": seller,
                    "division": division,
                    "quantity": qty,
                    "price": price,
                    "method": method,
                    "status": status,
                    "trades": 0,
                }
            )
        drafts.sort(key=lambda d: d["starts_on"])
        self.allocate_trades(drafts)
        trades = []
        per_year: Counter[int] = Counter()
        for listing_id, draft in enumerate(drafts, start=1):
            per_year[draft["starts_on"].year] += 1
            number = f"YNQ-GP-{draft['starts_on'].year}-{per_year[draft['starts_on'].year]:06d}"
            trades += self.trades_of(listing_id, draft)
            traded = sum((t["quantity"] for t in trades[len(trades) - draft["trades"] :]), ZERO)
            self.data.listings.append(self.listing_row(listing_id, number, draft, traded))
            self.listing_of[listing_id] = self.data.listings[-1]
        trades.sort(key=lambda t: (t["trade_date"], t["listing_id"]))
        per_year.clear()
        for trade_id, trade in enumerate(trades, start=1):
            year = trade["trade_date"].year
            per_year[year] += 1
            trade["id"] = trade_id
            trade["number"] = f"YNQ-CJ-{year}-{per_year[year]:06d}"
            seller = self.ledger_seller(trade)
            if trade["buyer_enterprise_id"] is None or seller is None:
                continue  # the trade moves no indicators (registry.record_trade_transfer)
            variety = trade["variety_code"]
            self.flows[(trade["buyer_enterprise_id"], year, variety)][0] += trade["quantity"]
            if trade["seller_enterprise_id"] is not None:
                self.flows[(trade["seller_enterprise_id"], year, variety)][1] += trade["quantity"]
            else:
                self.pool_sales[(seller, year, variety)] += trade["quantity"]
        self.data.trades = [{"id": t.pop("id"), "number": t.pop("number"), **t} for t in trades]

    def allocate_trades(self, drafts: list[dict]) -> None:
        """Give each traded or partial listing at least one trade, the rest at random."""
        rng = self.rng
        bearing = [d for d in drafts if d["status"] in ("traded", "partial")]
        while len(bearing) > self.n_trades:
            draft = bearing.pop(rng.randrange(len(bearing)))
            draft["status"] = "open" if draft["ends_on"] >= ANCHOR else "expired"
        if not bearing:
            return
        for draft in bearing:
            draft["trades"] = 1
        for _ in range(self.n_trades - len(bearing)):
            draft = bearing[rng.randrange(len(bearing))]
            if draft["trades"] < 12:
                draft["trades"] += 1
            else:
                min(bearing, key=lambda d: d["trades"])["trades"] += 1

    def trades_of(self, listing_id: int, draft: dict) -> list[dict]:
        rng = self.rng
        k = draft["trades"]
        if not k:
            return []
        total = draft["quantity"]
        if draft["status"] == "partial":
            total = q4(total * Decimal(str(round(rng.uniform(0.2, 0.85), 2))))
            if draft["quantity"] == draft["quantity"].to_integral_value():
                total = Decimal(max(1, int(total))).quantize(Q4)
        weights = [rng.uniform(0.5, 1.5) for _ in range(k)]
        parts = []
        whole = total == total.to_integral_value() and total >= k
        for w in weights[:-1]:
            share = total * Decimal(w / sum(weights))
            parts.append(Decimal(max(1, int(share))).quantize(Q4) if whole else q4(share))
        parts.append(total - sum(parts, ZERO))
        if parts[-1] <= 0:  # rounding left nothing for the last trade: merge it away
            parts = [total]
        last = min(draft["ends_on"], ANCHOR)
        span = (last - draft["starts_on"]).days
        days = sorted(draft["starts_on"] + timedelta(days=rng.randint(0, span)) for _ in parts)
        draft["trades"] = len(parts)
        rows = []
        for qty, day in zip(parts, days, strict=True):
            price = draft["price"]
            if draft["method"] == "agreement":
                price = c2(price * Decimal(str(round(rng.uniform(0.96, 1.0), 4))))
            elif draft["method"] == "auction":
                price = c2(price * Decimal(str(round(rng.uniform(1.0, 1.18), 4))))
            buyer_kind, buyer = self.pick_buyer(draft, day.year)
            seller = draft["seller"]
            age = (ANCHOR - day).days
            if age <= 7:
                settlement = rng.choices(("pending", "settled"), (70, 30))[0]
            elif age <= 30:
                settlement = rng.choices(("pending", "settled", "delivered"), (10, 60, 30))[0]
            else:
                settlement = rng.choices(("settled", "delivered"), (8, 92))[0]
            if buyer_kind == "enterprise":
                buyer_name, buyer_division = buyer.name, buyer.division_code
            else:
                buyer_name, buyer_division = city_authority(buyer), buyer
            rows.append(
                {
                    "listing_id": listing_id,
                    "variety_code": draft["variety"],
                    "category_code": draft["category"],
                    "quantity": qty,
                    "unit_price": price,
                    "amount": c2(qty * price),
                    "buyer_enterprise_id": buyer.id if buyer_kind == "enterprise" else None,
                    "buyer_name": buyer_name,
                    "buyer_division_code": buyer_division,
                    "seller_enterprise_id": seller.id if seller else None,
                    "seller_name": self.seller_name(draft),
                    "seller_division_code": draft["division"],
                    "industry_code": (
                        buyer.industry_code
                        if buyer_kind == "enterprise"
                        else seller.industry_code
                        if seller
                        else None
                    ),
                    "method": draft["method"],
                    "trade_date": day,
                    "settlement_status": settlement,
                    "created_at": utc_at(day, 16, 30),
                }
            )
        return rows

    def pick_buyer(self, draft: dict, year: int):
        """Return ("enterprise", unit) or ("city", division code) for one trade."""
        rng = self.rng
        category, variety = draft["category"], draft["variety"]
        roll = rng.random()
        if category == "provincial" and roll < 0.3:
            return "city", rng.choice([code for code, *_ in DIVISIONS])
        if category == "local" and roll < 0.4:
            others = [code for code, *_ in DIVISIONS if code != draft["division"]]
            return "city", rng.choice(others)
        if category == "voluntary":
            if roll < 0.25:
                return "city", draft["division"]  # the city buys back local savings (收储)
            if roll < 0.4:
                other = rng.choice(self.pool("sells", year, variety))
                if other is not draft["seller"]:
                    return "enterprise", other
        if category == "local" and rng.random() < 0.7:
            local = self.pool("buys", year, variety, draft["division"])
            if local:
                return "enterprise", rng.choice(local)
        return "enterprise", rng.choice(self.pool("buys", year, variety))

    def seller_name(self, draft: dict) -> str:
        if draft["kind"] == "province":
            return text.PROVINCE_AUTHORITY
        if draft["kind"] == "city":
            return city_authority(draft["division"])
        return draft["seller"].name

    def listing_row(self, listing_id: int, number: str, draft: dict, traded: Decimal) -> dict:
        rng = self.rng
        status = draft["status"]
        remaining = ZERO.quantize(Q4) if status == "traded" else draft["quantity"] - traded
        if status == "traded":
            # A fully traded listing is exactly its trades.
            draft["quantity"] = traded
        seller = draft["seller"]
        seller_name = self.seller_name(draft)
        description = text.LISTING_DESCRIPTIONS[draft["category"]].format(
            seller=seller_name, measure=rng.choice(text.RETROFIT_MEASURES)
        )
        updated = min(draft["ends_on"], ANCHOR)
        return {
            "id": listing_id,
            "number": number,
            "variety_code": draft["variety"],
            "category_code": draft["category"],
            "seller_kind": draft["kind"],
            "seller_enterprise_id": seller.id if seller else None,
            "seller_name": seller_name,
            "division_code": draft["division"],
            "industry_code": seller.industry_code if seller else None,
            "quantity": draft["quantity"],
            "remaining_quantity": remaining,
            "listed_price": draft["price"],
            "starts_on": draft["starts_on"],
            "ends_on": draft["ends_on"],
            "method": draft["method"],
            "status": status,
            "contact_name": self.person(),
            "contact_phone": self.phone(draft["division"]),
            "description": description,
            "created_at": utc_at(draft["starts_on"], 8, 30),
            "updated_at": utc_at(updated, 17),
        }

    # -- compliance -----------------------------------------------------------------------------

    def make_compliance(self) -> None:
        rng = self.rng
        for year, (deadline, published) in PERIODS.items():
            self.data.periods.append(
                {
                    "year": year,
                    "filing_deadline": deadline,
                    "published_at": utc_at(published, 10) if published else None,
                    "publicity_ends_at": (
                        utc_at(published + timedelta(days=PUBLICITY_DAYS), 23, 59)
                        if published
                        else None
                    ),
                    "note": (
                        f"{year}年度履约情况已公布，公示期{PUBLICITY_DAYS}天。"
                        if published
                        else f"{year}年度履约数据正在审核，尚未公布。"
                    ),
                }
            )
        limit = self.scale or None
        rows: list[dict] = []
        for unit in self.units:
            if not unit.participates:
                continue
            for year in PERIODS:
                if unit.join_year > year:
                    continue
                for variety in ("energy", "coal"):
                    if limit and len(rows) >= limit:
                        break
                    rows.append(self.compliance_row(unit, year, variety))
        by_period: dict[int, list[dict]] = defaultdict(list)
        for row in rows:
            by_period[row["period_year"]].append(row)
        for year, period_rows in by_period.items():
            applicable = [r for r in period_rows if r["status"] != "not_applicable"]
            rng.shuffle(applicable)
            forced = ["on_time", "late", "non_compliant", "not_reported"]
            for i, row in enumerate(applicable):
                status = forced[i] if i < len(forced) else rng.choices(forced, (76, 10, 7, 7))[0]
                self.settle(row, year, status)
        for i, row in enumerate(rows, start=1):
            row["id"] = i
        self.data.compliance_records = [{"id": r.pop("id"), **r} for r in rows]

    def compliance_row(self, unit: _Unit, year: int, variety: str) -> dict:
        rng = self.rng
        bought, sold = self.flows.get((unit.id, year, variety), (ZERO, ZERO))
        applicable = variety == "energy" or unit.coal_user or bought or sold
        figures = {
            "quota": ZERO.quantize(Q4),
            "bought": q4(bought),
            "sold": q4(sold),
            "taken_back": ZERO.quantize(Q4),
        }
        self.figures[(unit.id, year, variety)] = figures
        row = {
            "enterprise_id": unit.id,
            "division_code": unit.division_code,
            "industry_code": unit.industry_code,
            "period_year": year,
            "variety_code": variety,
            "actual": None,
            "status": "not_applicable",
            "shortfall": None,
            "rectify_by": None,
            "filed_on": None,
            "updated_at": utc_at(PERIODS[year][1] or PERIODS[year][0], 10),
        }
        if applicable:
            base = unit.energy_base if variety == "energy" else unit.coal_base
            figures["quota"] = Decimal(round(base * rng.uniform(0.95, 1.05)) + int(sold)).quantize(
                Q4
            )
            if unit.buys and year >= 2023 and rng.random() < 0.05:
                figures["taken_back"] = Decimal(round(base * rng.uniform(0.02, 0.08))).quantize(Q4)
            row["status"] = "pending"
        return row

    def settle(self, row: dict, year: int, status: str) -> None:
        """Fill actual, filing date and shortfall so that they agree with the status."""
        rng = self.rng
        deadline, published = PERIODS[year]
        f = self.figures[(row["enterprise_id"], year, row["variety_code"])]
        holdings = f["quota"] + f["bought"] - f["sold"] - f["taken_back"]
        row["status"] = status
        if status == "not_reported":
            return
        if status == "on_time":
            row["actual"] = q4(holdings * Decimal(str(rng.uniform(0.82, 0.995))))
            row["filed_on"] = deadline - timedelta(days=rng.randint(3, 75))
        elif status == "late":
            row["actual"] = q4(holdings * Decimal(str(rng.uniform(0.85, 0.999))))
            row["filed_on"] = deadline + timedelta(days=rng.randint(1, 40))
        else:
            row["actual"] = q4(holdings * Decimal(str(rng.uniform(1.01, 1.12))))
            row["filed_on"] = deadline - timedelta(days=rng.randint(0, 30))
            row["shortfall"] = row["actual"] - holdings
            row["rectify_by"] = (published or deadline) + timedelta(days=90)
        row["updated_at"] = utc_at(published or min(row["filed_on"], ANCHOR), 10)

    # -- the registry ledger ----------------------------------------------------------------------

    def ledger_seller(self, trade: dict) -> str | None:
        """The holder key a trade draws on, as registry.trade_seller gives it: the seller on file,
        or the pool of a province's or a city's listing; None when the seller is not on file."""
        if trade["seller_enterprise_id"] is not None:
            return f"enterprise:{trade['seller_enterprise_id']}"
        listing = self.listing_of.get(trade["listing_id"])
        if listing is None or listing["seller_kind"] not in POOL_KINDS:
            return None
        if listing["seller_kind"] == "province" or not listing["division_code"]:
            return "province"
        return f"city:{listing['division_code']}"

    def make_ledger(self) -> None:
        """Every ledger entry behind the holdings, in time order: each period's initial allocation
        (1 January), each trade between registered parties (its pair), take-backs (20 December)
        and each reported compliance's surrender (on its filing date), which settles the period
        with at most its holdings."""
        events: list[tuple] = []  # (created_at, order, entry)

        def add(when: datetime, order: int, **entry) -> None:
            events.append((when, order, len(events), entry))

        for (unit_id, year, variety), f in self.figures.items():
            if f["quota"] > 0:
                add(
                    utc_at(date(year, 1, 1), 9),
                    0,
                    kind="allocate",
                    enterprise_id=unit_id,
                    variety_code=variety,
                    quantity=f["quota"],
                    period_year=year,
                    reason=f"{year} 年度初始分配",
                    source_type="allocation",
                    source_id=str(year),
                    idempotency_key=f"allocation:{year}:{unit_id}:{variety}",
                )
            if f["taken_back"] > 0:
                add(
                    utc_at(date(year, 12, 20), 10),
                    2,
                    kind="take_back",
                    enterprise_id=unit_id,
                    variety_code=variety,
                    quantity=f["taken_back"],
                    period_year=year,
                    reason="项目两年内未开工，无偿收回",
                    source_type="demo",
                    source_id=f"{year}:{unit_id}",
                    idempotency_key=f"demo:{year}:{unit_id}:{variety}:take_back",
                )
        # A seller without a compliance row for the year (a year outside the periods, or past
        # --scale's row limit) still holds an allocation that covers what it sells.
        for (unit_id, year, variety), (_bought, sold) in self.flows.items():
            if sold > 0 and (unit_id, year, variety) not in self.figures:
                add(
                    utc_at(date(year, 1, 1), 9),
                    0,
                    kind="allocate",
                    enterprise_id=unit_id,
                    variety_code=variety,
                    quantity=Decimal(math.ceil(sold * Decimal("1.1"))).quantize(Q4),
                    period_year=year,
                    reason=f"{year} 年度初始分配",
                    source_type="allocation",
                    source_id=str(year),
                    idempotency_key=f"allocation:{year}:{unit_id}:{variety}",
                )
        # A pool (the province's, a city's) sells from its year's reserve, allocated on 1 January:
        # what it sold that year, so no sale needs a reserve registered at the time of the trade.
        for (pool, year, variety), sold in self.pool_sales.items():
            add(
                utc_at(date(year, 1, 1), 9),
                0,
                kind="allocate",
                holder=pool,
                variety_code=variety,
                quantity=q4(sold),
                period_year=year,
                reason=f"{year} 年度储备指标",
                source_type="allocation",
                source_id=str(year),
                idempotency_key=f"allocation:{year}:{pool}:{variety}",
            )
        for trade in self.data.trades:
            seller = self.ledger_seller(trade)
            if trade["buyer_enterprise_id"] is None or seller is None:
                continue
            add(
                utc_at(trade["trade_date"], 16, 30),
                1,
                kind="trade",
                number=trade["number"],
                seller=seller,
                buyer=trade["buyer_enterprise_id"],
                variety_code=trade["variety_code"],
                quantity=trade["quantity"],
                period_year=trade["trade_date"].year,
            )
        for row in self.data.compliance_records:
            if row["actual"] is None:
                continue
            f = self.figures[(row["enterprise_id"], row["period_year"], row["variety_code"])]
            holdings = f["quota"] + f["bought"] - f["sold"] - f["taken_back"]
            surrender = min(row["actual"], holdings)
            if surrender <= 0:
                continue
            add(
                utc_at(min(row["filed_on"], ANCHOR), 11),
                3,
                kind="surrender",
                enterprise_id=row["enterprise_id"],
                variety_code=row["variety_code"],
                quantity=surrender,
                period_year=row["period_year"],
                reason=f"{row['period_year']} 年度履约注销",
                source_type="compliance_record",
                source_id=str(row["id"]),
                idempotency_key=f"compliance_record:{row['id']}:surrender",
            )
        events.sort(key=lambda e: (e[0], e[1], e[2]))
        self.data.ledger = [{"created_at": when, **entry} for when, _o, _i, entry in events]

    # -- announcements --------------------------------------------------------------------------

    def make_announcements(self) -> None:
        items: list[dict] = []
        items += self.policy_items()
        items += self.notice_items()
        items += self.news_items()
        items += self.publicity_items()
        items.sort(key=lambda a: (a["published_at"], a["title"]))
        if self.scale:
            items = self.scaled(items, self.scale)
        rendered: dict[str, str] = {}

        for i, item in enumerate(items, start=1):
            body = item["body_md"]
            if body not in rendered:
                rendered[body] = render_markdown(body)
            published = item["published_at"]
            self.data.announcements.append(
                {
                    "id": i,
                    "category": item["category"],
                    "title": item["title"],
                    "summary": summary_of(body),
                    "body_md": body,
                    "body_html": rendered[body],
                    "source": item.get("source", text.PROVINCE_AUTHORITY),
                    "division_code": item.get("division_code"),
                    "status": "published",
                    "is_featured": item.get("is_featured", False),
                    "published_at": published,
                    "updated_at": published,
                    "publicity_starts_at": item.get("publicity_starts_at"),
                    "publicity_ends_at": item.get("publicity_ends_at"),
                    "created_at": published - timedelta(hours=2),
                }
            )

    def scaled(self, items: list[dict], n: int) -> list[dict]:
        """Repeat the announcements, on other dates, until there are n (bodies are reused)."""
        rng = self.rng
        out = items[:n]
        span = (ANCHOR - FIRST_DAY).days
        copy = 1
        while len(out) < n:
            for item in items:
                if len(out) >= n:
                    break
                day = FIRST_DAY + timedelta(days=rng.randrange(span))
                published = utc_at(day, rng.randint(8, 17), rng.randrange(60))
                clone = dict(item, title=f"{item['title']}（演示副本{copy}）", is_featured=False)
                clone["published_at"] = published
                if item.get("publicity_starts_at"):
                    clone["publicity_starts_at"] = published
                    clone["publicity_ends_at"] = published + timedelta(days=PUBLICITY_DAYS)
                out.append(clone)
            copy += 1
        out.sort(key=lambda a: (a["published_at"], a["title"]))
        return out

    def publicity_window(self, day: date) -> dict:
        start = utc_at(day, 9, 30)
        return {
            "publicity_starts_at": start,
            "publicity_ends_at": utc_at(day + timedelta(days=PUBLICITY_DAYS), 23, 59),
            "published_at": start,
        }

    def policy_items(self) -> list[dict]:
        days = [
            date(2021, 2, 8), date(2021, 3, 22), date(2021, 6, 15), date(2021, 9, 6),
            date(2022, 3, 14), date(2022, 7, 11), date(2023, 2, 20), date(2023, 9, 4),
            date(2024, 4, 8), date(2025, 3, 17),
        ]  # fmt: skip
        return [
            {
                "category": "policy",
                "title": title,
                "body_md": body,
                "published_at": utc_at(day, 10),
                "is_featured": i == 0,
            }
            for i, ((title, body), day) in enumerate(zip(text.POLICIES, days, strict=True))
        ]

    def notice_items(self) -> list[dict]:
        rng = self.rng
        items = []
        records = self.data.compliance_records
        for year, (deadline, published) in PERIODS.items():
            count = len({r["enterprise_id"] for r in records if r["period_year"] == year})
            title, body = text.NOTICE_COMPLIANCE
            items.append(
                {
                    "category": "notice",
                    "title": title.format(year=year),
                    "body_md": body.format(
                        year=year,
                        count=count,
                        report_by=cn_date(date(year + 1, 4, 30)),
                        deadline=cn_date(deadline),
                    ),
                    "published_at": utc_at(date(year + 1, 3, 10), 10),
                    "is_featured": year == max(PERIODS),
                }
            )
            if not published:
                continue
            failing = [
                r for r in records if r["period_year"] == year and r["status"] == "non_compliant"
            ]
            if not failing:
                continue
            title, body = text.NOTICE_RECTIFY
            table = md_table(
                ["序号", "单位名称", "所在地", "品种", "缺口量"],
                [
                    [
                        str(i),
                        self.by_id[r["enterprise_id"]].name,
                        DIVISION_NAMES[self.by_id[r["enterprise_id"]].division_code],
                        VARIETY_NAMES[r["variety_code"]],
                        f"{num(r['shortfall'], 4)} {UNITS[r['variety_code']]}",
                    ]
                    for i, r in enumerate(failing[:20], start=1)
                ],
                numeric_from=4,
            )
            items.append(
                {
                    "category": "notice",
                    "title": title.format(year=year),
                    "body_md": body.format(
                        year=year,
                        published=cn_date(published),
                        count=len({r["enterprise_id"] for r in failing}),
                        table=table,
                        rectify_by=cn_date(failing[0]["rectify_by"]),
                    ),
                    "published_at": utc_at(published + timedelta(days=12), 10),
                }
            )
        for year in YEARS:
            day = date(year, 3, 1) + timedelta(days=rng.randrange(20))
            energy = sum(
                (x["quantity"] for x in self.data.listings
                 if x["seller_kind"] == "province" and x["starts_on"].year == year
                 and x["variety_code"] == "energy"),
                ZERO,
            )  # fmt: skip
            coal = sum(
                (x["quantity"] for x in self.data.listings
                 if x["seller_kind"] == "province" and x["starts_on"].year == year
                 and x["variety_code"] == "coal"),
                ZERO,
            )  # fmt: skip
            title, body = text.NOTICE_LISTING_ROUND
            items.append(
                {
                    "category": "notice",
                    "title": title.format(year=year),
                    "body_md": body.format(
                        authority=text.PROVINCE_AUTHORITY,
                        start=cn_date(day + timedelta(days=7)),
                        energy=num(round(energy, -2), 0),
                        coal=num(round(coal, -2), 0),
                        price=num(round(self.reference_price("energy", day)), 0),
                    ),
                    "published_at": utc_at(day, 9, 30),
                    "source": text.TRADING_CENTRE,
                }
            )
        for day in (date(2023, 10, 20), date(2025, 5, 16)):
            title, body = text.NOTICE_MAINTENANCE
            items.append(
                {
                    "category": "notice",
                    "title": title.format(date=cn_date(day)),
                    "body_md": body.format(date=cn_date(day)),
                    "published_at": utc_at(day - timedelta(days=3), 15),
                    "source": text.TRADING_CENTRE,
                }
            )
        title, body = text.NOTICE_AUDITORS
        items.append(
            {
                "category": "notice",
                "title": title,
                "body_md": body.format(table=self.auditor_table(approved_only=True)),
                "published_at": utc_at(date(2022, 1, 10), 10),
            }
        )
        return items

    def auditor_table(self, approved_only: bool) -> str:
        return md_table(
            ["序号", "机构名称", "统一社会信用代码"],
            [
                [str(i), f["name"], f["uscc"]]
                for i, f in enumerate(
                    (f for f in self.data.audit_firms if f["is_approved"] or not approved_only),
                    start=1,
                )
            ],
        )

    def news_items(self) -> list[dict]:
        rng = self.rng
        items = []
        by_month: dict[tuple[int, int], list[dict]] = defaultdict(list)
        for trade in self.data.trades:
            by_month[(trade["trade_date"].year, trade["trade_date"].month)].append(trade)
        months = [(y, m) for y in YEARS for m in (3, 6, 9, 12)] + [(ANCHOR.year, 10)]
        previous_avg = None
        for year, month in months:
            first_next = date(year + month // 12, month % 12 + 1, 5)
            if first_next > ANCHOR:
                continue
            trades = by_month.get((year, month), [])
            rows, avg_energy = [], None
            for variety in ("energy", "coal"):
                of = [t for t in trades if t["variety_code"] == variety]
                qty = sum((t["quantity"] for t in of), ZERO)
                amount = sum((t["amount"] for t in of), ZERO)
                avg = c2(amount / qty) if qty else None
                if variety == "energy":
                    avg_energy = avg
                rows.append(
                    f"| {VARIETY_NAMES[variety]} | {len(of)} | {num(qty, 4)} {UNITS[variety]} | "
                    f"{num(amount / 10000, 2)} | "
                    + (f"{num(avg)} 元/{UNITS[variety]}" if avg else "—")
                    + " |"
                )
            cities = Counter(t["seller_division_code"] or t["buyer_division_code"] for t in trades)
            cities.pop(None, None)
            top_city, top_count = cities.most_common(1)[0] if cities else ("410100", 0)
            if previous_avg and avg_energy:
                change = (avg_energy - previous_avg) / previous_avg * 100
                trend = (
                    f"能耗指标成交均价较上季度{'上涨' if change >= 0 else '下降'}"
                    f"{num(abs(change), 1)}%。"
                )
            else:
                trend = "能耗指标价格总体平稳。"
            previous_avg = avg_energy or previous_avg
            title, body = text.NEWS_MONTHLY
            items.append(
                {
                    "category": "news",
                    "title": title.format(year=year, month=month),
                    "body_md": body.format(
                        year=year,
                        month=month,
                        count=len(trades),
                        rows="\n".join(rows),
                        top_city=DIVISION_NAMES[top_city],
                        top_count=top_count,
                        trend=trend,
                    ),
                    "published_at": utc_at(first_next, 10),
                    "source": text.TRADING_CENTRE,
                    "is_featured": (year, month) == months[-1],
                }
            )
        # The two largest trades of each year that a city took part in.
        for year in YEARS:
            of_year = [
                t
                for t in self.data.trades
                if t["trade_date"].year == year
                and (t["seller_division_code"] or t["buyer_division_code"])
            ]
            of_year.sort(key=lambda t: (-t["amount"], t["number"]))
            for trade in of_year[:2]:
                city = trade["seller_division_code"] or trade["buyer_division_code"]
                unit = UNITS[trade["variety_code"]]
                note = (
                    "买方为新建项目实施单位，所购指标将用于项目新增用能。"
                    if trade["buyer_enterprise_id"]
                    else "买方为市级节能主管部门，所购指标纳入地方用能权指标统筹使用。"
                )
                title, body = text.NEWS_BIG_TRADE
                values = {
                    "city": DIVISION_NAMES[city],
                    "quantity": num(trade["quantity"], 4),
                    "unit": unit,
                    "variety": VARIETY_NAMES[trade["variety_code"]],
                    "date": cn_date(trade["trade_date"]),
                    "seller": trade["seller_name"],
                    "buyer": trade["buyer_name"],
                    "method": METHOD_NAMES[trade["method"]],
                    "price": num(trade["unit_price"]),
                    "amount": num(trade["amount"] / 10000, 2),
                    "buyer_note": note,
                }
                day = min(trade["trade_date"] + timedelta(days=rng.randint(1, 3)), ANCHOR)
                items.append(
                    {
                        "category": "news",
                        "title": title.format(**values),
                        "body_md": body.format(**values),
                        "published_at": utc_at(day, 11),
                        "source": city_authority(city),
                        "division_code": city,
                    }
                )
        for city, day in (
            ("410100", date(2021, 4, 16)),
            ("410400", date(2022, 5, 20)),
            ("410600", date(2023, 6, 9)),
            ("419001", date(2024, 10, 18)),
            ("410300", date(2026, 9, 25)),
        ):
            title, body = text.NEWS_TRAINING
            items.append(
                {
                    "category": "news",
                    "title": title.format(city=DIVISION_NAMES[city]),
                    "body_md": body.format(
                        city=DIVISION_NAMES[city], date=cn_date(day), people=rng.randint(8, 30) * 10
                    ),
                    "published_at": utc_at(day, 16),
                    "source": city_authority(city),
                    "division_code": city,
                }
            )
        return items

    def publicity_items(self) -> list[dict]:
        rng = self.rng
        items = []
        records = self.data.compliance_records
        for year, (_deadline, published) in PERIODS.items():
            if not published:
                continue
            of_year = [r for r in records if r["period_year"] == year]
            counts = Counter(r["status"] for r in of_year)
            order = {"non_compliant": 0, "not_reported": 1, "late": 2}
            failing = sorted(
                (r for r in of_year if r["status"] in order),
                key=lambda r: (
                    order[r["status"]],
                    self.by_id[r["enterprise_id"]].division_code,
                    r["enterprise_id"],
                    r["variety_code"],
                ),
            )
            table = md_table(
                ["序号", "单位名称", "所在地", "品种", "履约状态", "实际用能量", "缺口量"],
                [
                    [
                        str(i),
                        self.by_id[r["enterprise_id"]].name,
                        DIVISION_NAMES[self.by_id[r["enterprise_id"]].division_code],
                        VARIETY_NAMES[r["variety_code"]],
                        STATUS_NAMES[r["status"]],
                        num(r["actual"], 4) if r["actual"] is not None else "未报送",
                        num(r["shortfall"], 4) if r["shortfall"] is not None else "—",
                    ]
                    for i, r in enumerate(failing[:30], start=1)
                ],
                numeric_from=5,
            )
            window = self.publicity_window(published)
            title, body = text.PUBLICITY_COMPLIANCE
            items.append(
                {
                    "category": "publicity",
                    "title": title.format(year=year),
                    "body_md": body.format(
                        year=year,
                        units=len({r["enterprise_id"] for r in of_year}),
                        records=len(of_year),
                        table=table,
                        starts=cn_date(published),
                        ends=cn_date(published + timedelta(days=PUBLICITY_DAYS)),
                        **{code: counts.get(code, 0) for code in STATUS_NAMES},
                    ),
                    **window,
                }
            )
        # 确权 results: older ones closed, the last two still open at the anchor.
        sellers = [u for u in self.units if u.sells]
        days = [
            date(2021, 8, 9), date(2022, 4, 18), date(2022, 11, 7), date(2023, 5, 22),
            date(2024, 3, 11), date(2024, 12, 2), date(2025, 7, 14), date(2026, 4, 20),
            ANCHOR - timedelta(days=4), ANCHOR - timedelta(days=1),
        ]  # fmt: skip
        for i, day in enumerate(days):
            city = (
                sorted(PILOT_DIVISIONS)[i % 4]
                if i % 3
                else rng.choice(sorted({u.division_code for u in sellers}) or ["410100"])
            )
            local = [u for u in sellers if u.division_code == city] or sellers
            chosen = rng.sample(local, min(len(local), rng.randint(3, 8)))
            table = md_table(
                ["序号", "企业名称", "改造措施", "品种", "确权量", "审核机构"],
                [
                    [
                        str(n),
                        unit.name,
                        rng.choice(text.RETROFIT_MEASURES),
                        "能耗指标",
                        f"{num(self.quantity(150, 6000), 4)} 吨标准煤",
                        rng.choice(self.data.audit_firms[:-1])["name"],
                    ]
                    for n, unit in enumerate(chosen, start=1)
                ],
            )
            window = self.publicity_window(day)
            title, body = text.PUBLICITY_CONFIRMATION
            values = {
                "city": DIVISION_NAMES[city],
                "count": len(chosen),
                "authority": city_authority(city),
                "table": table,
                "starts": cn_date(day),
                "ends": cn_date(day + timedelta(days=PUBLICITY_DAYS)),
            }
            items.append(
                {
                    "category": "publicity",
                    "title": title.format(**values),
                    "body_md": body.format(**values),
                    "source": city_authority(city),
                    "division_code": city,
                    "is_featured": day >= ANCHOR - timedelta(days=PUBLICITY_DAYS),
                    **window,
                }
            )
        taken = [
            {**r, "taken_back": self.figures[key]["taken_back"]}
            for r in records
            if self.figures[(key := (r["enterprise_id"], r["period_year"], r["variety_code"]))][
                "taken_back"
            ]
            > 0
        ]
        for day in (date(2025, 9, 8), ANCHOR - timedelta(days=2)):
            rows = [r for r in taken if utc_at(day) > r["updated_at"]][:12] or taken[:5]
            table = md_table(
                ["序号", "项目实施单位", "所在地", "取得指标年度", "拟收回量"],
                [
                    [
                        str(n),
                        self.by_id[r["enterprise_id"]].name,
                        DIVISION_NAMES[self.by_id[r["enterprise_id"]].division_code],
                        f"{r['period_year'] - 2}年",
                        f"{num(r['taken_back'], 4)} {UNITS[r['variety_code']]}",
                    ]
                    for n, r in enumerate(rows, start=1)
                ],
            )
            window = self.publicity_window(day)
            title, body = text.PUBLICITY_TAKE_BACK
            items.append(
                {
                    "category": "publicity",
                    "title": title + f"（{day.year}年第{1 if day.month < 10 else 2}批）",
                    "body_md": body.format(
                        table=table,
                        starts=cn_date(day),
                        ends=cn_date(day + timedelta(days=PUBLICITY_DAYS)),
                    ),
                    "is_featured": day >= ANCHOR - timedelta(days=PUBLICITY_DAYS),
                    **window,
                }
            )
        for day in (date(2023, 12, 4), ANCHOR - timedelta(days=6)):
            window = self.publicity_window(day)
            title, body = text.PUBLICITY_AUDITORS
            items.append(
                {
                    "category": "publicity",
                    "title": title.format(year=day.year),
                    "body_md": body.format(
                        table=self.auditor_table(approved_only=False),
                        starts=cn_date(day),
                        ends=cn_date(day + timedelta(days=PUBLICITY_DAYS)),
                    ),
                    **window,
                }
            )
        return items


# --- loading ------------------------------------------------------------------------------------


def _existing_rows(data: DemoData) -> dict[str, int]:

    found = {}
    for model, _rows in data.tables():
        count = db.session.scalar(select(func.count()).select_from(model))
        if count:
            found[model.__tablename__] = count
    return found


def reset_database(echo=print) -> None:
    """Delete every row except the reference data, so the demo can load again.

    Refuses (click.ClickException) unless the database is a development one that the demo created:
    the reset empties the audit log too.
    """

    check_development_database(current_app)
    check_demo_database(db.session)
    count = empty_tables(db.session.connection(), db.metadata)
    echo(f"Reset: emptied {count} tables (reference data kept).")


def _bulk_insert(model, rows: list[dict], echo) -> None:
    """Insert the rows (dicts with the same keys) as tuples through portal.bulk: the values are
    bound exactly as SQLAlchemy binds them, without building a parameter dict per row."""
    started = timer.perf_counter()
    if rows:
        columns = list(rows[0])
        # itemgetter gives a tuple for two or more keys, the bare value for one.
        pick = operator.itemgetter(*columns)
        values = pick if len(columns) > 1 else (lambda row: (pick(row),))
        for start in range(0, len(rows), CHUNK * 4):
            chunk = rows[start : start + CHUNK * 4]
            insert_rows(model.__table__, columns, [values(row) for row in chunk])
            if len(rows) > CHUNK * 4:
                echo(
                    f"  {model.__tablename__}: {min(start + CHUNK * 4, len(rows)):,}/{len(rows):,}"
                )
    echo(f"  {model.__tablename__}: {len(rows):,} rows in {timer.perf_counter() - started:.1f}s")


def _fix_sequences(data: DemoData) -> None:
    """Move PostgreSQL's id sequences past the explicit ids we inserted."""

    if db.session.get_bind().dialect.name != "postgresql":
        return
    for model, _rows in data.tables():
        if "id" not in model.__table__.c:
            continue
        name = model.__tablename__
        db.session.execute(
            sql(
                f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                f'COALESCE((SELECT MAX(id) FROM "{name}"), 0) + 1, false)'
            )
        )


def _planned_ledger(data: DemoData) -> list:
    """The demo's ledger entries as the registry's bulk append takes them: a trade between
    registered parties becomes the same pair as registry.record_trade_transfer writes."""
    holders: dict[str, Holder] = {}

    def holder(key: str) -> Holder:
        # One (immutable) Holder per holder key, not one per entry.
        found = holders.get(key)
        if found is None:
            found = holders[key] = Holder.parse(key)
        return found

    planned = []
    for entry in data.ledger:
        if entry["kind"] == "trade":
            number = entry["number"]
            common = {
                "variety_code": entry["variety_code"],
                "quantity": entry["quantity"],
                "reason": f"成交 {number}",
                "period_year": entry["period_year"],
                "created_at": entry["created_at"],
                "source_type": "trade",
                "source_id": number,
                "transfer_id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"trade:{number}")),
            }
            planned.append(
                PlannedEntry(
                    kind="transfer_out",
                    holder=holder(entry["seller"]),
                    idempotency_key=f"trade:{number}:out",
                    **common,
                )
            )
            planned.append(
                PlannedEntry(
                    kind="transfer_in",
                    holder=holder(f"enterprise:{entry['buyer']}"),
                    idempotency_key=f"trade:{number}:in",
                    **common,
                )
            )
            continue
        fields = {k: v for k, v in entry.items() if k not in ("enterprise_id", "holder")}
        key = entry.get("holder") or f"enterprise:{entry['enterprise_id']}"
        planned.append(PlannedEntry(holder=holder(key), **fields))
    return planned


def load_ledger(data: DemoData, echo=print) -> int:
    """Write the demo's ledger through the registry's bulk append (balances checked in order)."""

    started = timer.perf_counter()
    count = append_bulk(_planned_ledger(data), echo=echo)
    echo(f"  ledger_entry: {count:,} entries in {timer.perf_counter() - started:.1f}s")
    return count


def run_feature_hooks(seed: int, echo=print) -> None:
    """Let the accounts demo add its users, filings and their history, with its own seeded RNG;
    the benchmark table its 两高 purchases read comes first."""
    echo("Feature demo: benchmarks")
    demo_benchmarks.load_demo(random.Random(f"{seed}:benchmarks"), echo)
    echo("Feature demo: accounts")
    demo_accounts.load_demo(random.Random(f"{seed}:accounts"), echo)


LOAD_CACHE_KB = 512 * 1024


def _rollback_journal() -> bool:
    """Switch a large load's SQLite connection from the write-ahead log to a rollback journal,
    if no other connection has the database open; say whether it did.

    In WAL mode every page of the load is written twice: to the log, and again when the log is
    checkpointed into the database. Run before the first write, while no transaction is open;
    the caller sets WAL again after its commit, and every new connection sets it anyway.
    """
    connection = db.session.connection()
    connection.exec_driver_sql("PRAGMA busy_timeout=0")  # another reader: keep WAL, at once
    try:
        mode = connection.exec_driver_sql("PRAGMA journal_mode=DELETE").scalar()
    except OperationalError:
        mode = "wal"
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    return str(mode).lower() == "delete"


def load_demo(
    scale: int | None = None,
    if_empty: bool = False,
    seed: int = 20211,
    echo=print,
    reset: bool = False,
) -> DemoData | None:
    """Generate the demo data set and insert it in one transaction; return what was loaded.

    Python's cyclic garbage collector is paused meanwhile: the load builds millions of rows that
    live until it ends and form no cycles, and the collector walked them all again and again
    (about a tenth of the load's time at --scale 100000)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _load(scale, if_empty, seed, echo, reset)
    finally:
        if enabled:
            gc.enable()


def _load(scale, if_empty, seed, echo, reset) -> DemoData | None:
    import click

    if scale is not None and scale < 1:
        raise click.BadParameter("must be at least 1", param_hint="--scale")
    started = timer.perf_counter()
    if db.session.get_bind().dialect.name == "sqlite":
        # The load writes a million index entries in random key order: with SQLite's default
        # 2 MB page cache most of them read and write a page on disk (the connection's own
        # setting, for this load only).
        rollback_journal = bool(scale and scale >= BACKGROUND_FROM_SCALE) and _rollback_journal()
        db.session.execute(sql(f"PRAGMA cache_size=-{LOAD_CACHE_KB}"))
        # Sorts (index builds, the market summary) in memory, and no wait for the disk at
        # the commit: a load cut short leaves a database to delete, never one to keep.
        db.session.execute(sql("PRAGMA temp_store=MEMORY"))
        db.session.execute(sql("PRAGMA synchronous=OFF"))
    existing = _existing_rows(DemoData())
    if existing:
        listed = ", ".join(f"{name} ({count:,})" for name, count in existing.items())
        if if_empty:
            echo(f"The database already has data: {listed}. Demo data not loaded (--if-empty).")
            return None
        if not reset:
            raise click.ClickException(
                f"The database already has data: {listed}. Load the demo into a fresh database "
                "(flask db upgrade on an empty one), or, on a development database the demo "
                "created, pass --reset --yes-delete-everything to delete everything except the "
                "reference data first."
            )
        reset_database(echo)
    echo(f"Generating and loading demo data (seed {seed}, scale {scale or 'default'})…")
    data = DemoData()
    try:
        # First, so that a later --reset can tell this database is the demo's.
        write_marker(db.session, seed, scale)
        loaded = [model.__table__ for model in TABLES.values()]
        loaded += [LedgerEntry.__table__, Holding.__table__, AuditEvent.__table__]
        with indexes_deferred(loaded) as indexes:
            # Each part is written while the next one is generated (see generated_parts); the
            # parts come in foreign-key order, the ledger after the units and trades it names.
            waited = timer.perf_counter()
            for part in generated_parts(seed, scale):
                echo(f"  generated {', '.join(part)} ({timer.perf_counter() - waited:.1f}s waited)")
                for name, rows in part.items():
                    setattr(data, name, rows)
                    if name in TABLES:
                        _bulk_insert(TABLES[name], rows, echo)
                        # Its rows are all in: its indexes now, often while the next part is
                        # still being generated.
                        indexes.build(TABLES[name].__table__)
                if "trades" in part:
                    # Bulk-inserted trades skip the ORM hook that keeps the market summary.
                    step = timer.perf_counter()
                    rebuild_summary(db.session.connection())
                    echo(f"  market summary in {timer.perf_counter() - step:.1f}s")
                if "ledger" in part:
                    load_ledger(data, echo)
                waited = timer.perf_counter()
            _fix_sequences(data)
            started_indexes = timer.perf_counter()
        echo(f"  indexes built in {timer.perf_counter() - started_indexes:.1f}s")
        step = timer.perf_counter()
        run_feature_hooks(seed, echo)
        db.session.commit()
        echo(f"  feature data and commit in {timer.perf_counter() - step:.1f}s")
        if db.session.get_bind().dialect.name == "sqlite":
            # Back to the portal's own settings for whatever this connection does next.
            for pragma in ("cache_size=-2000", "temp_store=DEFAULT", "synchronous=NORMAL"):
                db.session.execute(sql(f"PRAGMA {pragma}"))
            db.session.commit()
            if rollback_journal:
                db.session.execute(sql("PRAGMA journal_mode=WAL"))
                db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    # Fresh statistics after a bulk load, so the query planner picks the right index
    # (PostgreSQL's autovacuum would get there too, later; SQLite never does by itself). On
    # PostgreSQL, VACUUM also marks the new pages all-visible, so counts read indexes alone.
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("VACUUM ANALYZE")
    else:
        with db.engine.begin() as connection:
            connection.exec_driver_sql("ANALYZE")
    counts = ", ".join(f"{name} {count:,}" for name, count in data.counts().items())
    echo(f"Demo data loaded in {timer.perf_counter() - started:.1f}s: {counts}.")
    echo("Run `flask reindex` to make it searchable.")
    return data
