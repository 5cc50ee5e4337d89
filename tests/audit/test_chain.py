from sqlalchemy import text

from portal.audit.services import record_event, verify_chain
from portal.extensions import db


def _three_events():
    for n in range(3):
        record_event("demo.change", "thing", n, before={"v": n}, after={"v": n + 1}, remark="测试")
    db.session.commit()


def test_intact_chain_verifies(ctx):
    _three_events()
    result = verify_chain()
    assert result.ok and result.checked == 3


def test_edited_entry_is_named(ctx):
    _three_events()
    second = db.session.execute(
        text("SELECT id FROM audit_event ORDER BY id LIMIT 1 OFFSET 1")
    ).scalar()
    db.session.execute(
        text("UPDATE audit_event SET after = :a WHERE id = :i"), {"a": '{"v": 99}', "i": second}
    )
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_id == second


def test_deleted_entry_breaks_the_link(ctx):
    _three_events()
    first = db.session.execute(text("SELECT min(id) FROM audit_event")).scalar()
    db.session.execute(text("DELETE FROM audit_event WHERE id = :i"), {"i": first})
    db.session.commit()
    result = verify_chain()
    assert not result.ok and result.broken_id == first + 1


def test_deleting_the_newest_entry_is_caught(ctx):
    _three_events()
    db.session.execute(text("DELETE FROM audit_event WHERE id = (SELECT max(id) FROM audit_event)"))
    db.session.commit()
    assert not verify_chain().ok


def test_rolled_back_change_leaves_no_entry(ctx):
    record_event("demo.change", "thing", 1)
    db.session.rollback()
    assert verify_chain().checked == 0


def test_cli_reports_tampering(app, runner):
    with app.app_context():
        _three_events()
        db.session.execute(
            text(
                "UPDATE audit_event SET actor_label = 'mallory' WHERE id = (SELECT min(id) FROM audit_event)"
            )
        )
        db.session.commit()
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1
    assert "BROKEN" in result.output
