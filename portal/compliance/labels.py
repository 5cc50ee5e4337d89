"""Labels of the compliance status codes, lazy so each request shows its own language."""

from portal.i18n import lazy_gettext as _l

# After the EU registry's A/B/C compliance legend; zero and missing are never shown alike.
COMPLIANCE_STATUS = {
    "on_time": _l("按期履约"),
    "late": _l("逾期履约"),
    "non_compliant": _l("未履约"),
    "not_applicable": _l("不适用"),
    "not_reported": _l("数据未报送"),
}
COMPLIANCE_LEGEND = {
    "on_time": _l("在履约期截止前提交了经核实的实际用能量，且实际用能量不超过持有指标。"),
    "late": _l("履约期截止后才完成履约，实际用能量不超过持有指标。"),
    "non_compliant": _l("实际用能量超过持有指标，缺口量另列；须在限期内整改。"),
    "not_applicable": _l("本履约期该单位不承担此品种的履约义务。"),
    "not_reported": _l("未按时报送经核实的实际用能量；这与“用能量为零”不同。"),
}
