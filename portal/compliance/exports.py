"""The published compliance lists as a public dataset: its columns, shared by the CSV and XLSX
downloads, the bulk archive and the data dictionary."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal

from sqlalchemy.orm import contains_eager, lazyload

from portal.compliance.labels import COMPLIANCE_STATUS
from portal.compliance.models import ComplianceRecord
from portal.enterprises.models import Enterprise
from portal.exports import (
    REGISTER,
    Column,
    Dataset,
    attr_column,
    industry_columns,
    labelled_columns,
    quantity_column,
    reference_pair,
    unit_column,
    variety_columns,
)
from portal.i18n import lazy_gettext as _l

COMPLIANCE = _l("省级节能主管部门核定并公布的年度履约名单")

# The unit a row is about: its code, name and city.
UNIT_COLUMNS = (
    Column(
        "uscc",
        _l("统一社会信用代码"),
        lambda r, n: r.enterprise.uscc,
        kind="code",
        source=REGISTER,
    ),
    Column("enterprise", _l("单位名称"), lambda r, n: r.enterprise.name, source=REGISTER),
    *reference_pair(
        "division",
        _l("地区"),
        _l("地区代码"),
        lambda r: r.enterprise.division_code,
        "division",
        _l("单位所在省辖市"),
        _l("六位行政区划代码"),
    ),
)

COMPLIANCE_RECORDS = Dataset(
    name="compliance",
    title=_l("履约名单"),
    description=_l(
        "已公布履约期中每个参与单位每个交易品种的配额、买卖、持有量、实际用能量和履约状态。"
    ),
    source=COMPLIANCE,
    order=_l("与页面相同：默认按单位名称"),
    keywords=("用能权", "履约", "配额"),
    columns=(
        *UNIT_COLUMNS,
        *industry_columns(lambda r: r.enterprise.industry_code),
        Column("period", _l("履约期"), lambda r, n: r.period_year, kind="integer", unit=_l("年")),
        *variety_columns(),
        unit_column(),
        quantity_column("quota", _l("配额"), _l("本履约期核定的指标")),
        quantity_column("bought", _l("买入")),
        quantity_column("sold", _l("卖出")),
        quantity_column("taken_back", _l("收回"), _l("逾期未开工等原因无偿收回的指标")),
        quantity_column("holdings", _l("持有量"), _l("配额 + 买入 − 卖出 − 收回")),
        quantity_column(
            "actual",
            _l("实际用能量"),
            _l("经核实的实际用能量；空白表示数据未报送，与零不同"),
        ),
        *labelled_columns(
            "status",
            _l("履约状态"),
            _l("履约状态代码"),
            COMPLIANCE_STATUS,
            _l("按期履约、逾期履约、未履约、不适用或数据未报送"),
        ),
        quantity_column(
            "shortfall", _l("缺口量"), _l("未履约时实际用能量超出持有量的部分；其余为空")
        ),
        attr_column(
            "rectify_by", _l("整改期限"), kind="date", description=_l("未履约单位须在此日期前整改")
        ),
    ),
)


# The compliance selects join the unit already (to filter and sort by it): the rows use that join,
# without the division and industry rows the unit would bring.
LOADS = (
    contains_eager(ComplianceRecord.enterprise).options(
        lazyload(Enterprise.division), lazyload(Enterprise.industry)
    ),
)


def _decimal(key):
    return lambda r, n: Decimal(r[key]) if r[key] is not None else None


# The units that missed their obligation, for the provincial credit-information platform: its
# field names are the interface (the CSV and JSON carry the same), so they are the headers too.
NON_COMPLIANT = Dataset(
    name="non_compliant",
    title=_l("未履约单位（报送省信用信息共享平台）"),
    description=_l("未履约单位的统一社会信用代码、名称、地区、品种、实际用能量、持有量和缺口量。"),
    source=COMPLIANCE,
    order=_l("按单位和交易品种"),
    columns=(
        Column("uscc", "uscc", lambda r, n: r["uscc"], kind="code"),
        Column("name", "name", lambda r, n: r["name"]),
        Column("division_code", "division_code", lambda r, n: r["division_code"], kind="code"),
        Column("period_year", "period_year", lambda r, n: r["period_year"], kind="integer"),
        Column("variety_code", "variety_code", lambda r, n: r["variety_code"], kind="code"),
        Column("status", "status", lambda r, n: r["status"], kind="code"),
        Column("actual", "actual", _decimal("actual"), kind="quantity"),
        Column("holdings", "holdings", _decimal("holdings"), kind="quantity"),
        Column("shortfall", "shortfall", _decimal("shortfall"), kind="quantity"),
        Column(
            "rectify_by",
            "rectify_by",
            lambda r, n: date.fromisoformat(r["rectify_by"]) if r["rectify_by"] else None,
            kind="date",
        ),
    ),
)


# Every participating unit's status for one period, for 省信用信息共享平台: the public list's own
# columns (keys and headers), so the platform reads the same fields as anyone who downloads the
# published list; written in Chinese whatever the exporter's language, and kept as sent.
CREDIT_EXPORT = replace(
    COMPLIANCE_RECORDS,
    name="credit_export",
    title=_l("履约情况（报送省信用信息共享平台）"),
    description=_l(
        "一个履约期中每个参与单位每个交易品种的履约状态，按统一社会信用代码，报送省信用信息共享平台。"
    ),
    order=_l("按统一社会信用代码和交易品种"),
    keywords=("用能权", "履约", "信用"),
)


# The public exposure list (曝光): units that failed to comply, or falsified data in trading.
EXPOSURE_REASONS = {"non_compliant": _l("未履约"), "falsified": _l("交易数据造假")}
EXPOSURE_STATUS = {"confirmed": _l("已曝光"), "withdrawn": _l("已撤销")}

EXPOSURES = Dataset(
    name="exposure",
    title=_l("曝光名单"),
    description=_l("经省级节能主管部门确认曝光的未履约或在交易中弄虚作假的单位。"),
    source=_l("省级节能主管部门确认的曝光决定"),
    order=_l("曝光日期，新的在前"),
    keywords=("用能权", "曝光", "信用"),
    columns=(
        *UNIT_COLUMNS,
        *labelled_columns(
            "reason",
            _l("曝光原因"),
            _l("曝光原因代码"),
            EXPOSURE_REASONS,
            _l("未履约或交易数据造假"),
        ),
        Column("period", _l("履约期"), lambda r, n: r.period_year, kind="integer", unit=_l("年")),
        attr_column("trade_number", _l("成交编号"), kind="code"),
        attr_column("detail", _l("事实说明")),
        attr_column("exposed_on", _l("曝光日期"), kind="date"),
        *labelled_columns(
            "status", _l("状态"), _l("状态代码"), EXPOSURE_STATUS, _l("已曝光，或已撤销")
        ),
        Column("withdrawn_on", _l("撤销日期"), lambda r, n: r.withdrawn_at, kind="datetime"),
        Column(
            "record_url",
            _l("记录网址"),
            lambda r, n: (
                n.url("disclosure.trade_detail", number=r.trade_number)
                if r.trade_number
                else n.url("compliance.period", year=r.period_year, status="non_compliant")
            ),
            kind="url",
        ),
    ),
)
