"""Names sort by pinyin, as a Chinese index does, from a stored and indexed key."""

from __future__ import annotations

import re

from pypinyin import Style, lazy_pinyin
from sqlalchemy import select, text

from portal.compliance.models import ComplianceRecord
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.text import SORT_KEY_LENGTH, pinyin_sort_key, to_halfwidth
from tests import factories as f

# Code-point order would put 北 (U+5317) before 安 (U+5B89); pinyin puts an before bei before zheng.
NAMES = ("示例郑州豫能化工有限公司", "北京示例能源有限公司", "安阳示例钢铁有限公司")
EXPECTED = ["安阳示例钢铁有限公司", "北京示例能源有限公司", "示例郑州豫能化工有限公司"]


def test_the_key_follows_pinyin_with_tones_and_folds_letters():
    assert pinyin_sort_key("安阳钢铁") == "an1 yang2 gang1 tie3"
    assert pinyin_sort_key("ＡＢＣ能源") == "abc neng2 yuan2"
    assert sorted(NAMES, key=pinyin_sort_key) == EXPECTED
    assert sorted(NAMES) != EXPECTED


def test_the_remembered_conversion_is_the_librarys():
    # Polyphones read by their phrase (重庆 chong, 重量 zhong; 银行 hang, 行长 xing zhang), asked
    # twice so that the second answer comes from the converter's memory.
    names = [
        "重庆银行行长",
        "重量长行",
        "单县单于",
        "ＡＢＣ１２３能源",
        "",
        "调整调动",
        "重庆银行行长",
    ]
    for name in names * 2:
        syllables = lazy_pinyin(to_halfwidth(name), style=Style.TONE3, errors="default")
        expected = " ".join(part.strip().lower() for part in syllables if part.strip())
        assert pinyin_sort_key(name) == expected[:SORT_KEY_LENGTH]
    assert pinyin_sort_key("重庆银行行长") == "chong2 qing4 yin2 hang2 hang2 zhang3"


def _names_in(html: str) -> list[str]:
    return [name for name in re.findall(r"示例[^<\s]*有限公司|[^<>\s]*示例[^<>\s]*有限公司", html)]


def _seed(app):
    with app.app_context():
        f.period(2024)
        for name in NAMES:
            f.compliance(f.enterprise(name), 2024, "on_time")
        db.session.commit()


def test_the_compliance_list_the_api_and_the_units_list_sort_by_pinyin(app, client):
    _seed(app)
    page = client.get("/compliance/2024?sort=name").get_data(as_text=True)
    order = [n for n in _names_in(page) if n in NAMES]
    assert list(dict.fromkeys(order)) == EXPECTED
    api = client.get("/api/v1/compliance/2024").get_json()
    names = [row["enterprise"] for row in api["results"]]
    assert list(dict.fromkeys(names)) == EXPECTED
    units = client.get("/enterprises").get_data(as_text=True)
    assert [n for n in dict.fromkeys(_names_in(units)) if n in NAMES] == EXPECTED


def test_a_renamed_unit_moves_in_the_lists(app, client):
    _seed(app)
    with app.app_context():
        unit = db.session.scalar(select(Enterprise).where(Enterprise.name == NAMES[0]))
        unit.name = "阿坝示例化工有限公司"  # a1 ba4: first
        db.session.commit()
        keys = db.session.scalars(
            select(ComplianceRecord.sort_name).where(ComplianceRecord.enterprise_id == unit.id)
        ).all()
        assert keys and set(keys) == {pinyin_sort_key("阿坝示例化工有限公司")}
    api = client.get("/api/v1/compliance/2024").get_json()
    assert api["results"][0]["enterprise"] == "阿坝示例化工有限公司"


def _usccs_in(html: str) -> set[str]:
    return set(re.findall(r"9[0-9A-Z]{17}", html))


def test_the_division_and_industry_filters_follow_the_unit(app, client):
    with app.app_context():
        f.period(2024)
        moved = f.enterprise("示例郑州化工有限公司", division="410100", industry="chemical")
        stays = f.enterprise("示例洛阳钢铁有限公司", division="410300", industry="steel")
        for unit in (moved, stays):
            f.compliance(unit, 2024, "on_time")
        db.session.commit()
        moved_uscc, stays_uscc = moved.uscc, stays.uscc
        record = db.session.scalar(
            select(ComplianceRecord).where(ComplianceRecord.enterprise_id == moved.id)
        )
        assert (record.division_code, record.industry_code) == ("410100", "chemical")
    assert _usccs_in(client.get("/compliance/2024?division=410100").get_data(as_text=True)) >= {
        moved_uscc
    }
    with app.app_context():
        unit = db.session.scalar(select(Enterprise).where(Enterprise.uscc == moved_uscc))
        unit.division_code, unit.industry_code = "410300", "steel"
        db.session.commit()
    old = _usccs_in(client.get("/compliance/2024?division=410100").get_data(as_text=True))
    new = _usccs_in(
        client.get("/compliance/2024?division=410300&industry=steel").get_data(as_text=True)
    )
    assert moved_uscc not in old
    assert {moved_uscc, stays_uscc} <= new


def test_the_name_sort_is_served_by_an_index(app):
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return  # the plan's wording is SQLite's; PostgreSQL chooses by its statistics
    with app.app_context():
        plan = db.session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM compliance_record WHERE period_year = 2024 "
                "ORDER BY sort_name, id LIMIT 50"
            )
        ).all()
    detail = " ".join(str(row[-1]) for row in plan)
    assert "ix_compliance_period_sort_name" in detail and "TEMP B-TREE" not in detail
