from sqlalchemy import text

from portal.audit.services import record_event, verify_chain
from portal.extensions import db
from portal.registry import services as registry
from tests.factories import make_enterprise


def _events(app):
    with app.app_context():
        unit = make_enterprise("审计企业")
        registry.issue_indicators(unit.id, "energy", 10, "确权")
        record_event(
            "filing.reject",
            "filing",
            7,
            before={"status": "submitted"},
            after={"status": "rejected"},
            remark="材料不全",
        )
        db.session.commit()


def test_supervisor_searches_the_log(app, client, users, sign_in):
    _events(app)
    sign_in(users["supervisor"])
    everything = client.get("/admin/audit/").get_data(as_text=True)
    assert "ledger.issue" in everything and "filing.reject" in everything
    filtered = client.get("/admin/audit/?action=filing&object_id=7").get_data(as_text=True)
    assert "filing.reject" in filtered and "<code>ledger.issue</code>" not in filtered
    assert "材料不全" in filtered
    fragment = client.get("/admin/audit/?action=ledger", headers={"HX-Request": "true"})
    body = fragment.get_data(as_text=True)
    assert "<html" not in body and "ledger.issue" in body
    bad = client.get("/admin/audit/?date_from=2025-02-01&date_to=2025-01-01")
    assert bad.status_code == 400 and "不能早于" in bad.get_data(as_text=True)
    none = client.get("/admin/audit/?actor=nobody").get_data(as_text=True)
    assert "没有符合条件的审计记录" in none


def test_only_the_supervisor_reads_the_log(app, client, users, sign_in):
    for role in ("province", "city", "editor", "auditor"):
        sign_in(users[role])
        assert client.get("/admin/audit/").status_code == 403
    sign_in(users["supervisor"])
    assert client.post("/admin/audit/").status_code in (400, 405)


def test_tampering_with_a_ledger_event_is_caught(app, runner):
    _events(app)
    with app.app_context():
        assert verify_chain().ok
        db.session.execute(
            text(
                "UPDATE audit_event SET after = replace(after, '10', '1000') WHERE action = 'ledger.issue'"
            )
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "BROKEN" in result.output
