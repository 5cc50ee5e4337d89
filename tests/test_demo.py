"""The demo data set: generated rows (in memory) and the `flask demo` command (on the test DB)."""

from __future__ import annotations

import ast
import random
import sqlite3
import time
import tomllib
from collections import Counter, defaultdict
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import func, inspect, select
from sqlalchemy import text as sql
from stdnum.cn import uscc as stdnum_uscc

from demo import accounts as demo_accounts
from demo import benchmarks as demo_benchmarks
from demo import data as demo_data
from demo import reset as demo_reset
from demo.cli import demo as demo_command
from demo.data import (
    ANCHOR,
    PERIODS,
    TABLES,
    DemoData,
    generate,
    generated_parts,
    run_feature_hooks,
)
from demo.reset import MARKER_ACTION, check_development_database, is_development_url
from portal import create_app
from portal.audit.models import AuditEvent
from portal.compliance.models import COMPLIANCE_STATUSES
from portal.config import SQLITE_BUSY_TIMEOUT_MS
from portal.disclosure.models import LISTING_STATUSES
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.news.models import Announcement
from portal.reference.data import CATEGORIES, DIVISIONS
from portal.registry.models import LedgerEntry
from tests import factories

ROOT = Path(__file__).resolve().parent.parent
PUBLISHED_YEARS = [year for year, (_deadline, published) in PERIODS.items() if published]


@pytest.fixture(scope="module")
def data():
    return generate(20211)


def _count(model) -> int:
    from portal.extensions import db

    return db.session.scalar(select(func.count()).select_from(model))


# --- the generated rows ------------------------------------------------------------------------


def test_counts_meet_the_minimums(data):
    assert len(data.enterprises) >= 300
    assert len(data.listings) >= 500
    assert len(data.trades) >= 1000
    assert len(data.announcements) >= 50
    assert 5 <= len(data.audit_firms) <= 8
    assert sum(1 for p in data.periods if p["published_at"]) >= 3


def test_every_uscc_is_valid_and_names_its_division(data):
    for row in data.enterprises:
        assert stdnum_uscc.validate(row["uscc"]) == row["uscc"]
        assert row["uscc"][2:8] == row["division_code"]
        org = row["uscc"][8:17]
        weights = (3, 7, 9, 10, 5, 8, 4, 2)
        check = 11 - sum(int(c) * w for c, w in zip(org[:8], weights, strict=True)) % 11
        assert org[8] == {10: "X", 11: "0"}.get(check, str(check))
    for row in data.audit_firms:
        stdnum_uscc.validate(row["uscc"])
    usccs = [r["uscc"] for r in data.enterprises + data.audit_firms]
    assert len(set(usccs)) == len(usccs)


def test_every_name_is_marked_fictional(data):
    assert all("示例" in row["name"] for row in data.enterprises + data.audit_firms)


def test_all_divisions_and_categories_used_with_pilots_over_represented(data):
    by_division = Counter(row["division_code"] for row in data.enterprises)
    assert set(by_division) == {code for code, *_ in DIVISIONS}
    pilots = {code for code, _n, _e, pilot in DIVISIONS if pilot}
    pilot_share = sum(by_division[c] for c in pilots) / len(data.enterprises)
    assert pilot_share > 4 / 18 * 1.5
    assert {row["category_code"] for row in data.listings} == {code for code, *_ in CATEGORIES}
    assert {row["seller_kind"] for row in data.listings} == {"enterprise", "city", "province"}


def test_same_seed_gives_the_same_rows_and_another_seed_does_not(data):
    assert generate(20211).digest() == data.digest()
    assert generate(7).digest() != data.digest()


def test_parts_from_a_second_process_add_up_to_the_same_rows(data):
    # A large load generates in a forked process and writes each part as it arrives; what it
    # writes must be what generate() builds, part by part and in foreign-key order.
    for background in (False, True):
        streamed = DemoData()
        order = []
        for part in generated_parts(20211, None, background=background):
            order += list(part)
            for name, rows in part.items():
                setattr(streamed, name, rows)
        assert streamed.digest() == data.digest()
        assert order == [
            "audit_firms",
            "enterprises",
            "listings",
            "trades",
            "periods",
            "compliance_records",
            "ledger",
            "announcements",
        ]
        assert set(order) == {*TABLES, "ledger"}


def test_a_failure_in_the_generating_process_stops_the_load(monkeypatch):
    def broken(self):
        raise ValueError("no ledger today")

    monkeypatch.setattr(demo_data._Generator, "make_ledger", broken)
    parts = generated_parts(1, 40, background=True)
    with pytest.raises(RuntimeError, match="no ledger today"):
        for _part in parts:
            pass


def test_listing_status_and_remaining_quantity_agree_with_trades(data):
    trades = defaultdict(list)
    for trade in data.trades:
        trades[trade["listing_id"]].append(trade)
    assert {row["status"] for row in data.listings} == set(LISTING_STATUSES)
    for listing in data.listings:
        own = trades[listing["id"]]
        traded = sum((t["quantity"] for t in own), Decimal(0))
        assert listing["remaining_quantity"] == listing["quantity"] - traded
        assert (listing["status"] in ("traded", "partial")) == bool(own)
        if listing["status"] == "traded":
            assert listing["remaining_quantity"] == 0
        if listing["status"] == "partial":
            assert 0 < listing["remaining_quantity"] < listing["quantity"]
        if listing["status"] in ("open",):
            assert listing["ends_on"] >= ANCHOR
        if listing["status"] == "expired":
            assert listing["ends_on"] < ANCHOR
        assert listing["number"].startswith(f"YNQ-GP-{listing['starts_on'].year}-")
        for trade in own:
            assert listing["starts_on"] <= trade["trade_date"] <= min(listing["ends_on"], ANCHOR)
            assert trade["variety_code"] == listing["variety_code"]
            assert trade["seller_name"] == listing["seller_name"]
    assert any(row["status"] == "open" and row["ends_on"] > ANCHOR for row in data.listings)


def test_trades_are_priced_and_numbered_plausibly(data):
    numbers = [t["number"] for t in data.trades]
    assert len(set(numbers)) == len(numbers)
    for trade in data.trades:
        assert trade["number"].startswith(f"YNQ-CJ-{trade['trade_date'].year}-")
        assert trade["quantity"] > 0 and trade["quantity"] == trade["quantity"].quantize(
            Decimal("0.0001")
        )
        assert trade["amount"] == (trade["quantity"] * trade["unit_price"]).quantize(
            Decimal("0.01")
        )
        assert trade["buyer_name"] and trade["seller_name"]
    years = {t["trade_date"].year for t in data.trades}
    assert years == set(range(2021, ANCHOR.year + 1))

    def average(variety, year):
        rows = [
            t for t in data.trades if t["variety_code"] == variety and t["trade_date"].year == year
        ]
        return sum(t["amount"] for t in rows) / sum(t["quantity"] for t in rows)

    assert 200 <= average("energy", 2021) <= 280
    assert 300 <= average("energy", 2026) <= 450
    assert average("energy", 2026) > average("energy", 2021)
    assert 90 <= average("coal", 2021) < average("coal", 2026) <= 210


def test_no_enterprise_in_carbon_trading_trades_or_lists(data):
    carbon = {row["id"] for row in data.enterprises if row["in_carbon_trading"]}
    assert carbon
    for trade in data.trades:
        assert trade["buyer_enterprise_id"] not in carbon
        assert trade["seller_enterprise_id"] not in carbon
    assert not any(row["seller_enterprise_id"] in carbon for row in data.listings)
    assert not any(row["enterprise_id"] in carbon for row in data.compliance_records)


def test_new_project_buyers_implement_energy_intensive_projects(data):
    industries = {row["id"]: row["industry_code"] for row in data.enterprises}
    two_high = {"chemical", "nonferrous", "steel", "building", "power", "petrochem"}
    buyers = [t["buyer_enterprise_id"] for t in data.trades if t["category_code"] == "new_project"]
    assert buyers and all(b is not None and industries[b] in two_high for b in buyers)


def test_every_status_appears_in_each_published_period(data):
    assert len(PUBLISHED_YEARS) >= 3
    for year in PUBLISHED_YEARS:
        found = {r["status"] for r in data.compliance_records if r["period_year"] == year}
        assert found == set(COMPLIANCE_STATUSES), year


def _holder(entry) -> str:
    """The holder key of a demo ledger entry that is not a trade (a unit's, or a pool's)."""
    return entry.get("holder") or f"enterprise:{entry['enterprise_id']}"


def _ledger_holdings(data) -> dict:
    """(holder key, year, variety) → allocated + bought − sold − taken back, from the demo's
    ledger; a trade's seller is a unit or a pool (the province's, a city's)."""
    held = defaultdict(Decimal)
    for entry in data.ledger:
        if entry["kind"] == "trade":
            year, variety = entry["period_year"], entry["variety_code"]
            held[(f"enterprise:{entry['buyer']}", year, variety)] += entry["quantity"]
            held[(entry["seller"], year, variety)] -= entry["quantity"]
        elif entry["kind"] in ("allocate", "take_back"):
            sign = 1 if entry["kind"] == "allocate" else -1
            key = (_holder(entry), entry["period_year"], entry["variety_code"])
            held[key] += sign * entry["quantity"]
    return held


def test_compliance_arithmetic_agrees_with_the_status(data):
    deadlines = {p["year"]: p["filing_deadline"] for p in data.periods}
    held = _ledger_holdings(data)
    for row in data.compliance_records:
        holdings = held[
            (f"enterprise:{row['enterprise_id']}", row["period_year"], row["variety_code"])
        ]
        status = row["status"]
        if status in ("not_reported", "not_applicable"):
            assert row["actual"] is None and row["shortfall"] is None
            continue
        assert row["filed_on"] is not None
        if status == "on_time":
            assert row["actual"] <= holdings and row["filed_on"] <= deadlines[row["period_year"]]
        elif status == "late":
            assert row["actual"] <= holdings and row["filed_on"] > deadlines[row["period_year"]]
        else:
            assert row["actual"] > holdings
            assert row["shortfall"] == row["actual"] - holdings
            assert row["rectify_by"] is not None


def test_every_trade_that_moves_indicators_has_its_ledger_pair(data):
    """A trade between registered parties, and a pool's sale to a registered buyer."""
    listings = {row["id"]: row for row in data.listings}
    moving = {}
    for t in data.trades:
        if t["buyer_enterprise_id"] is None:
            continue
        if t["seller_enterprise_id"] is not None:
            moving[t["number"]] = (f"enterprise:{t['seller_enterprise_id']}", t)
            continue
        listing = listings[t["listing_id"]]
        if listing["seller_kind"] == "province":
            moving[t["number"]] = ("province", t)
        elif listing["seller_kind"] == "city":
            moving[t["number"]] = (f"city:{listing['division_code']}", t)
    pairs = {e["number"]: e for e in data.ledger if e["kind"] == "trade"}
    assert set(pairs) == set(moving) and len(pairs) > 50
    assert any(seller == "province" for seller, _t in moving.values())
    assert any(seller.startswith("city:") for seller, _t in moving.values())
    for number, entry in pairs.items():
        seller, trade = moving[number]
        assert (entry["seller"], entry["buyer"], entry["quantity"]) == (
            seller,
            trade["buyer_enterprise_id"],
            trade["quantity"],
        )
        assert entry["period_year"] == trade["trade_date"].year


def test_the_ledger_never_overdraws_and_surrenders_settle_their_period(data):
    running = defaultdict(Decimal)
    surrendered = defaultdict(Decimal)
    held = _ledger_holdings(data)
    times = [e["created_at"] for e in data.ledger]
    assert times == sorted(times)
    for entry in data.ledger:
        if entry["kind"] == "trade":
            running[(entry["seller"], entry["variety_code"])] -= entry["quantity"]
            running[(f"enterprise:{entry['buyer']}", entry["variety_code"])] += entry["quantity"]
            assert running[(entry["seller"], entry["variety_code"])] >= 0
            continue
        key = (_holder(entry), entry["variety_code"])
        sign = 1 if entry["kind"] == "allocate" else -1
        running[key] += sign * entry["quantity"]
        assert running[key] >= 0, entry
        if entry["kind"] == "surrender":
            period = (_holder(entry), entry["period_year"], entry["variety_code"])
            surrendered[period] += entry["quantity"]
            assert surrendered[period] <= held[period]


def test_announcements_are_real_prose_with_open_and_closed_publicity(data):
    by_category = Counter(row["category"] for row in data.announcements)
    assert set(by_category) == {"notice", "policy", "news", "publicity"}
    years = {row["published_at"].year for row in data.announcements}
    assert years == set(range(2021, ANCHOR.year + 1))
    anchor_noon = datetime(ANCHOR.year, ANCHOR.month, ANCHOR.day, 4)  # 12:00 in Shanghai, as UTC
    publicity = [row for row in data.announcements if row["publicity_ends_at"]]
    assert any(row["publicity_ends_at"] > anchor_noon for row in publicity)
    assert any(row["publicity_ends_at"] < anchor_noon for row in publicity)
    assert all(row["published_at"] <= anchor_noon for row in data.announcements)
    assert any(row["is_featured"] for row in data.announcements)
    assert any("<table>" in row["body_html"] for row in data.announcements)
    for row in data.announcements:
        assert row["status"] == "published" and row["source"] and row["summary"]
        text = row["title"] + row["body_md"]
        assert any(term in text for term in ("用能权", "能耗指标", "煤炭指标")), row["title"]
        assert "lorem" not in row["body_md"].lower()
    titles = [row["title"] for row in data.announcements]
    assert len(set(titles)) == len(titles)


def test_scaled_generation_makes_n_of_each_kind():
    scaled = generate(1, scale=40)
    for kind in ("enterprises", "listings", "compliance_records", "announcements"):
        assert len(getattr(scaled, kind)) == 40, kind
    assert 35 <= len(scaled.trades) <= 40


def test_feature_hooks_get_their_own_seeded_rng(monkeypatch):
    calls = []

    def load_demo(rng, echo):
        calls.append(rng.random())

    # The real hooks need the app and the demo rows; the seeding is what is tested here.
    monkeypatch.setattr(demo_accounts, "load_demo", load_demo)
    monkeypatch.setattr(demo_benchmarks, "load_demo", load_demo)
    for seed in (5, 5, 6):
        run_feature_hooks(seed, echo=lambda _m: None)
    # Per run: the benchmark table's hook, then the accounts'.
    assert calls[0:2] == calls[2:4] != calls[4:6]
    assert calls[0:2] == [
        random.Random("5:benchmarks").random(),
        random.Random("5:accounts").random(),
    ]


# --- the command, on the test database ----------------------------------------------------------


def test_flask_demo_loads_the_database(app, runner):
    from portal.compliance.models import ComplianceRecord
    from portal.disclosure.models import Listing, Trade
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.feeds.models import Subscription
    from portal.news.models import Announcement

    result = runner.invoke(demo_command, [])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output
    with app.app_context():
        assert _count(Enterprise) >= 300
        assert _count(Listing) >= 500
        assert _count(Trade) >= 1000
        assert _count(Announcement) >= 50
        assert _count(ComplianceRecord) > 0
        divisions = db.session.scalars(select(Enterprise.division_code).distinct()).all()
        assert len(divisions) == 18
        carbon = select(Enterprise.id).where(Enterprise.in_carbon_trading)
        assert (
            db.session.scalar(
                select(func.count())
                .select_from(Trade)
                .where(
                    Trade.buyer_enterprise_id.in_(carbon) | Trade.seller_enterprise_id.in_(carbon)
                )
            )
            == 0
        )
        for year in PUBLISHED_YEARS:
            statuses = db.session.scalars(
                select(ComplianceRecord.status)
                .where(ComplianceRecord.period_year == year)
                .distinct()
            ).all()
            assert set(statuses) == set(COMPLIANCE_STATUSES)
        # One identity application waits for 郑州's city: a claim with its evidence, a name that
        # differs from the listed unit's, and an account that acts for no unit yet.
        from portal.accounts.identity import name_difference
        from portal.accounts.models import IdentityApplication

        (waiting,) = db.session.scalars(select(IdentityApplication)).all()
        assert (waiting.kind, waiting.status, waiting.division_code) == (
            "claim",
            "submitted",
            "410100",
        )
        assert len(waiting.documents) == 2 and not name_difference(waiting).same
        assert waiting.user.enterprise_id is None
        # A confirmed mail subscription to new 郑州 listings, made through the services.
        followed = db.session.execute(select(Subscription.target, Subscription.status)).all()
        assert followed == [("/listings?division=410100", "active")]
        # The load builds the indexes it set aside again: every index of the schema is there.
        inspector = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            present = {index["name"] for index in inspector.get_indexes(table.name)}
            assert {index.name for index in table.indexes} <= present, table.name
        # Explicit ids must leave the sequences usable (PostgreSQL): a new row gets a fresh id.
        db.session.add(
            Announcement(category="news", title="新增", status="draft", body_md="", body_html="")
        )
        db.session.commit()


def test_if_empty_is_idempotent_and_a_second_load_is_refused(app, runner):
    from portal.enterprises.models import Enterprise
    from portal.news.models import Announcement

    assert runner.invoke(demo_command, ["--if-empty"]).exit_code == 0
    with app.app_context():
        counts = (_count(Enterprise), _count(Announcement))
    again = runner.invoke(demo_command, ["--if-empty"])
    assert again.exit_code == 0 and "not loaded" in again.output
    refused = runner.invoke(demo_command, [])
    assert refused.exit_code != 0 and "already has data" in refused.output
    with app.app_context():
        assert (_count(Enterprise), _count(Announcement)) == counts


def _audit_actions(app) -> list[str]:
    from portal.audit.models import AuditEvent
    from portal.extensions import db

    with app.app_context():
        return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


@pytest.fixture
def dev_database(app_config, database_url):
    """The test database counts as a development one: by its name (test.db), or by the setting."""
    if not is_development_url(database_url, []):
        app_config["DEMO_RESET_ALLOWED"] = True


def test_reset_replaces_the_data(dev_database, app, runner):
    from portal.audit.services import verify_chain
    from portal.enterprises.models import Enterprise

    assert runner.invoke(demo_command, ["--scale", "30"]).exit_code == 0
    result = runner.invoke(
        demo_command, ["--reset", "--yes-delete-everything", "--scale", "20", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    assert "Reset: emptied" in result.output
    with app.app_context():
        assert _count(Enterprise) == 20
        assert verify_chain().ok
    # The reset emptied the audit log, and the new load marked the database again.
    assert _audit_actions(app)[0] == MARKER_ACTION
    assert _audit_actions(app).count(MARKER_ACTION) == 1


def test_first_load_marks_the_database_as_the_demos(app, runner):
    from portal.audit.services import verify_chain

    assert runner.invoke(demo_command, ["--scale", "5"]).exit_code == 0
    assert _audit_actions(app)[0] == MARKER_ACTION
    with app.app_context():
        assert verify_chain().ok


def test_reset_needs_the_confirmation_flag(dev_database, app, runner):
    from portal.enterprises.models import Enterprise

    assert runner.invoke(demo_command, ["--scale", "5"]).exit_code == 0
    result = runner.invoke(demo_command, ["--reset", "--scale", "7"])
    assert result.exit_code != 0
    assert "--yes-delete-everything" in result.output
    with app.app_context():
        assert _count(Enterprise) == 5


def test_reset_refuses_a_production_like_database(app, runner, monkeypatch):
    from portal.enterprises.models import Enterprise

    monkeypatch.delenv("DEMO_RESET_ALLOWED", raising=False)
    assert runner.invoke(demo_command, ["--scale", "5"]).exit_code == 0
    before = _audit_actions(app)
    # Only the configured URL is read before refusing; the engine stays on the test database.
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://portal:s3cret@db.example/portal"
    result = runner.invoke(demo_command, ["--reset", "--yes-delete-everything", "--scale", "7"])
    assert result.exit_code == 1, result.output
    assert "Refusing to reset" in result.output and "DEMO_RESET_ALLOWED" in result.output
    assert "s3cret" not in result.output
    with app.app_context():
        assert _count(Enterprise) == 5
    assert _audit_actions(app) == before


def test_reset_refuses_a_database_the_demo_did_not_create(dev_database, app, runner):
    from portal.audit.services import record_event
    from portal.enterprises.models import Enterprise
    from portal.extensions import db

    with app.app_context():  # real use came first: the demo load then writes no marker
        record_event("accounts.login", "user", 1, remark="真实记录")
        db.session.commit()
    assert runner.invoke(demo_command, ["--scale", "5"]).exit_code == 0
    assert MARKER_ACTION not in _audit_actions(app)
    result = runner.invoke(demo_command, ["--reset", "--yes-delete-everything", "--scale", "7"])
    assert result.exit_code == 1, result.output
    assert "not created by `flask demo`" in result.output
    with app.app_context():
        assert _count(Enterprise) == 5
    assert _audit_actions(app)[0] == "accounts.login"


@pytest.mark.parametrize(
    ("url", "development"),
    [
        ("sqlite:///{instance}/portal.db", True),
        ("sqlite:///{instance}/sub/other.db", True),
        ("sqlite://", True),
        ("sqlite:////srv/data/test.db", True),
        ("sqlite:////srv/data/portal.db", False),
        ("postgresql+psycopg://u:p@db/portal_dev", True),
        ("postgresql+psycopg://u:p@db/portal_test", True),
        ("postgresql+psycopg://u:p@db/test", True),
        ("postgresql+psycopg://u:p@db/portal", False),
        ("postgresql+psycopg://u:p@db/portal_prod", False),
        ("postgresql+psycopg://u:p@db/latest", False),
        ("postgresql+psycopg://u:p@db/", False),
    ],
)
def test_development_database_urls(tmp_path, url, development):
    assert is_development_url(url.format(instance=tmp_path), [tmp_path]) is development


def test_the_setting_or_the_environment_allows_a_reset(app, monkeypatch):
    monkeypatch.delenv("DEMO_RESET_ALLOWED", raising=False)
    app.config["SQLALCHEMY_DATABASE_URI"] = "postgresql+psycopg://u:p@db/portal"
    with pytest.raises(click.ClickException):
        check_development_database(app)
    monkeypatch.setenv("DEMO_RESET_ALLOWED", "1")
    check_development_database(app)
    monkeypatch.delenv("DEMO_RESET_ALLOWED")
    app.config["DEMO_RESET_ALLOWED"] = True
    check_development_database(app)


# --- kept apart from the product ----------------------------------------------------------------


def test_flask_finds_the_command_through_the_entry_point(app, monkeypatch):
    """pyproject.toml's flask.commands entry point, loaded by Flask's own FlaskGroup."""
    from importlib import metadata

    from flask.cli import FlaskGroup

    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    commands = pyproject["project"]["entry-points"]["flask.commands"]
    assert commands == {"demo": "demo.cli:demo"}
    assert "demo*" in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    entry_point = metadata.EntryPoint("demo", commands["demo"], "flask.commands")
    assert entry_point.load() is demo_command
    # Whatever the installed copy declares, Flask sees exactly this entry point.
    # (Only that group: Markdown finds its extensions through entry points too, and caches them.)
    real = metadata.entry_points

    def entry_points(**kw):
        if kw.get("group") == "flask.commands":
            return metadata.EntryPoints([entry_point])
        return real(**kw)

    monkeypatch.setattr(metadata, "entry_points", entry_points)
    group = FlaskGroup(create_app=lambda: app, load_dotenv=False, set_debug_flag=False)
    result = CliRunner().invoke(group, ["demo", "--scale", "5"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output
    assert "demo" not in app.cli.commands  # the product does not register it


def test_the_product_never_imports_the_demo():
    portal = ROOT / "portal"
    assert not list(portal.rglob("demo*.py"))
    for path in portal.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name != "demo" and not name.startswith("demo."), (path, name)
    wsgi = (ROOT / "wsgi.py").read_text(encoding="utf-8")
    assert "demo" not in wsgi


def test_small_scale_loads_n_of_each_kind(app, runner):
    from portal.compliance.models import ComplianceRecord
    from portal.disclosure.models import Listing, Trade
    from portal.enterprises.models import Enterprise
    from portal.news.models import Announcement
    from portal.publicity.models import PublicityNotice

    result = runner.invoke(demo_command, ["--scale", "50"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        for model in (Enterprise, Listing, ComplianceRecord):
            assert _count(model) == 50, model
        assert 40 <= _count(Trade) <= 50
        # 50 generated, plus the 公示 that the demo's filings open through the real publish step:
        # the 两高 purchase in its 公示, the paid purchase and the closure bought back (收储).
        filing_notices = db.session.scalar(
            select(func.count())
            .select_from(PublicityNotice)
            .where(PublicityNotice.subject_type == "filing")
        )
        assert filing_notices == 3
        assert _count(Announcement) == 50 + filing_notices


def test_scale_must_be_positive(runner):
    result = runner.invoke(demo_command, ["--scale", "0"])
    assert result.exit_code != 0 and "--scale" in result.output


def test_a_large_load_on_sqlite_takes_a_rollback_journal_only_when_alone(app_config, tmp_path):
    # A rollback journal writes each page once (WAL writes it to the log and again at the
    # checkpoint); with another connection open the switch cannot happen and the load keeps WAL,
    # without waiting for the busy timeout. A file of its own: nothing else has it open.
    path = tmp_path / "journal.db"
    app = create_app({**app_config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}"})
    with app.app_context():
        assert demo_data._rollback_journal() is True
        db.session.connection().exec_driver_sql("PRAGMA journal_mode=WAL")
        db.session.connection().exec_driver_sql("CREATE TABLE t (x)")
        db.session.commit()
        db.session.remove()
        other = sqlite3.connect(path)
        try:
            other.execute("SELECT count(*) FROM t").fetchone()
            started = time.perf_counter()
            assert demo_data._rollback_journal() is False
            assert time.perf_counter() - started < 1
            timeout = db.session.connection().exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert timeout == SQLITE_BUSY_TIMEOUT_MS
        finally:
            other.close()
            db.session.remove()


def test_postgresql_tables_are_emptied_by_delete_or_truncate(app, database_url, monkeypatch):
    # Small tables by DELETE, large ones and the append-only ledger (whose trigger refuses a
    # DELETE) by TRUNCATE; every used id sequence starts again at 1 either way.
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's TRUNCATE and triggers")
    monkeypatch.setattr(demo_reset, "TRUNCATE_FROM_ROWS", 3)
    with app.app_context():
        units = [factories.make_enterprise(f"测试企业{i}") for i in range(4)]  # large: truncated
        factories.announcement()  # small: deleted
        factories.holdings(units[0], quota=100)  # the ledger: truncated, its trigger untouched
        db.session.commit()
        with db.engine.begin() as connection:
            demo_reset.empty_tables(connection, db.metadata)
        for model in (Enterprise, Announcement, LedgerEntry, AuditEvent):
            assert _count(model) == 0, model
        again = factories.make_enterprise("又一家")
        factories.announcement()
        db.session.commit()
        assert again.id == 1
        assert db.session.scalar(select(Announcement.id)) == 1
        trigger = db.session.scalar(
            sql("SELECT count(*) FROM pg_trigger WHERE tgname = 'ledger_entry_append_only'")
        )
        assert trigger == 1
