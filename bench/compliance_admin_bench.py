"""The back office's compliance list (/admin/compliance/<year>) with 100,000 compliance records in
one period: 50,000 units × two varieties, each unit with its holdings in the ledger. Target: p95
≤ 300 ms through the whole Flask stack, signed in as the province, on SQLite and PostgreSQL.

The records are written straight into a scratch database of their own (bulk inserts; this is a
load, not a demo), so the page's query meets one period of the size asked for. Run alone:
`python -m bench.compliance_admin_bench`, or as part of `make bench`.

Settings (environment): BENCH_COMPLIANCE_RECORDS (default 100000), BENCH_COMPLIANCE_DATABASE_URL
(default a SQLite file in bench/.data/), BENCH_REQUESTS (timed requests, default 300).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from bench.run import DATA, bench_app, time_requests

YEAR = 2024
TARGET_P95_MS = 300
STATUSES = ("on_time", "late", "non_compliant", "not_reported")
WEIGHTS = (76, 10, 7, 7)
DIVISIONS = ("410100", "410200", "410300", "410400", "410500", "410600", "410700", "410800",
             "410900", "411000", "411100", "411200", "411300", "411400", "411500", "411600",
             "411700", "419001")  # fmt: skip
INDUSTRIES = ("chemical", "nonferrous", "steel", "building")
WORDS = ("豫能", "中原", "华豫", "宏达", "金源", "恒信", "新材", "嵩山", "黄河", "伏牛")


def database_url(records: int) -> str:
    DATA.mkdir(exist_ok=True)
    return os.environ.get("BENCH_COMPLIANCE_DATABASE_URL") or (
        f"sqlite:///{DATA / f'compliance-admin-{records}.db'}"
    )


def build(url: str, records: int) -> None:
    """Migrate, then fill the period unless it is filled already."""
    from sqlalchemy import func, insert, select

    from demo.data import make_uscc
    from portal import create_app
    from portal.accounts.models import User
    from portal.compliance.models import CompliancePeriod, ComplianceRecord
    from portal.enterprises.models import Enterprise
    from portal.extensions import db
    from portal.registry.services import Holder, PlannedEntry, append_bulk
    from portal.text import pinyin_sort_key

    env = {**os.environ, "DATABASE_URL": url}
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, check=True, capture_output=True)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "RATELIMIT_ENABLED": False})
    with app.app_context():
        have = db.session.scalar(
            select(func.count(ComplianceRecord.id)).where(ComplianceRecord.period_year == YEAR)
        )
        if have >= records:
            print(f"compliance bench: {have} records already there")
            return
        started = time.perf_counter()
        rng = random.Random(2024)
        taken: set[str] = set()
        now = datetime.now(UTC).replace(tzinfo=None)
        db.session.add(CompliancePeriod(year=YEAR, filing_deadline=date(2025, 6, 30), note=""))
        db.session.add(
            User(
                email="bench-province@example.gov.cn",
                name="bench",
                password_hash="!",
                role="province",
                totp_secret="JBSWY3DPEHPK3PXP",
                totp_enabled_at=now,
            )
        )
        db.session.flush()
        units = records // 2
        batch = 5000
        for start in range(0, units, batch):
            rows = []
            for i in range(start, min(start + batch, units)):
                division = DIVISIONS[i % len(DIVISIONS)]
                name = f"{rng.choice(WORDS)}{rng.choice(WORDS)}测试单位{i:06d}有限公司"
                rows.append(
                    {
                        "id": i + 1,
                        "uscc": make_uscc(rng, division, taken),
                        "name": name,
                        "name_sort": pinyin_sort_key(name),
                        "division_code": division,
                        "industry_code": INDUSTRIES[i % len(INDUSTRIES)],
                        "address": "",
                        "in_carbon_trading": False,
                        "is_public": True,
                        "created_at": now,
                        "profile": "",
                    }
                )
            db.session.execute(insert(Enterprise), rows)
            records_rows, planned = [], []
            for row in rows:
                for variety in ("energy", "coal"):
                    quota = Decimal(rng.randint(1000, 90000))
                    status = rng.choices(STATUSES, WEIGHTS)[0]
                    actual = None
                    shortfall = None
                    if status in ("on_time", "late"):
                        actual = (quota * Decimal("0.9")).quantize(Decimal("0.0001"))
                    elif status == "non_compliant":
                        actual = (quota * Decimal("1.05")).quantize(Decimal("0.0001"))
                        shortfall = actual - quota
                    records_rows.append(
                        {
                            "enterprise_id": row["id"],
                            "period_year": YEAR,
                            "variety_code": variety,
                            "sort_name": row["name_sort"],
                            "division_code": row["division_code"],
                            "industry_code": row["industry_code"],
                            "actual": actual,
                            "status": status,
                            "shortfall": shortfall,
                            "rectify_by": date(2025, 9, 30) if shortfall else None,
                            "filed_on": date(2025, 6, 1) if actual is not None else None,
                            "updated_at": now,
                        }
                    )
                    # The period's allocation (初始分配), through the registry's bulk append:
                    # the ledger row, its holding and its audit entry, as the demo writes them.
                    planned.append(
                        PlannedEntry(
                            kind="allocate",
                            holder=Holder("enterprise", enterprise_id=row["id"]),
                            variety_code=variety,
                            quantity=quota.quantize(Decimal("0.0001")),
                            reason=f"{YEAR} 年度初始分配",
                            period_year=YEAR,
                            created_at=now - timedelta(days=300),
                            source_type="allocation",
                            source_id=str(YEAR),
                        )
                    )
            db.session.execute(insert(ComplianceRecord), records_rows)
            append_bulk(planned, check_balance=False)
            db.session.commit()
        if url.startswith("postgresql"):
            from sqlalchemy import text

            # The sequence follows the ids given above, and the planner gets fresh statistics.
            db.session.execute(
                text("SELECT setval('enterprise_id_seq', (SELECT max(id) FROM enterprise))")
            )
            db.session.commit()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("ANALYZE"))
        else:
            from sqlalchemy import text

            db.session.execute(text("ANALYZE"))
            db.session.commit()
        print(f"compliance bench: {records} records built in {time.perf_counter() - started:.1f} s")


def sign_in(app, client) -> None:
    """The session the login flow leaves for a province user who passed the second factor."""
    from sqlalchemy import select

    from portal.accounts import LOGIN_KEY, session_identifier
    from portal.accounts.models import User
    from portal.extensions import db

    with app.app_context():
        user = db.session.scalar(select(User).where(User.role == "province"))
        user_id = user.get_id()
    from importlib.metadata import version

    agent = f"Werkzeug/{version('werkzeug')}"
    with app.test_request_context(
        headers={"User-Agent": agent}, environ_base={"REMOTE_ADDR": "127.0.0.1"}
    ):
        identifier = session_identifier()
    with client.session_transaction() as session:
        session["_user_id"] = user_id
        session["_fresh"] = True
        session["_id"] = identifier
        session[LOGIN_KEY] = time.time()
        session["totp_ok"] = True


def deep_cursor(app, depth: int) -> str:
    """The cursor a visitor walking `next` would hold `depth` units into the list."""
    from portal import keyset
    from portal.compliance import admin_queries
    from portal.extensions import db

    with app.test_request_context():
        statement = admin_queries.units_query(YEAR, {})
        keys = keyset.sort_keys(statement)
        ordered = keyset.ordered(statement, keys)
        row = db.session.execute(
            ordered.with_only_columns(*(key.column for key in keys)).offset(depth).limit(1)
        ).first()
        return keyset.encode_cursor(keys, tuple(row))


def benchmark(url: str, rounds: int) -> dict:
    from sqlalchemy import select

    from portal.enterprises.models import Enterprise
    from portal.extensions import db

    app = bench_app(url)
    client = app.test_client()
    sign_in(app, client)
    with app.app_context():
        uscc, name = db.session.execute(
            select(Enterprise.uscc, Enterprise.name).order_by(Enterprise.id).offset(777).limit(1)
        ).one()
    base = f"/admin/compliance/{YEAR}"
    cursor = deep_cursor(
        app, min(25_000, int(os.environ.get("BENCH_COMPLIANCE_RECORDS", "100000")) // 4)
    )
    urls = [
        base,
        f"{base}?division=410300",
        f"{base}?status=non_compliant",
        f"{base}?shortfall=yes&division=411300",
        f"{base}?status=late&shortfall=no",
        f"{base}?status=unrecorded",
        f"{base}?q={name[-10:]}",
        f"{base}?q={uscc}",
        f"{base}?page=3",
        f"{base}?after={cursor}",
    ]
    first = client.get(base)
    assert first.status_code == 200, first.status_code
    per_url = {}
    for one in urls:
        per_url[one] = time_requests(client, [one], max(10, rounds // len(urls)))["p95_ms"]
    overall = time_requests(client, urls, rounds)
    fragment = client.get(f"{base}?status=non_compliant", headers={"HX-Request": "true"})
    return {
        "database": url.split("://")[0],
        "records": None,
        "all_urls": overall,
        "p95_ms_by_url": per_url,
        "page_bytes": len(first.get_data()),
        "fragment_bytes": len(fragment.get_data()),
        "target_p95_ms": TARGET_P95_MS,
    }


def main(results: dict | None = None) -> dict:
    records = int(os.environ.get("BENCH_COMPLIANCE_RECORDS", "100000"))
    rounds = int(os.environ.get("BENCH_REQUESTS", "300"))
    url = database_url(records)
    build(url, records)
    found = benchmark(url, rounds)
    found["records"] = records
    if results is not None:
        results["compliance_admin"] = found
    return found


if __name__ == "__main__":
    print(json.dumps(main(), ensure_ascii=False, indent=2))
