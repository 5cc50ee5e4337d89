"""The audit chain is keyed: a hash recomputed without the key does not verify; rotation and the
upgrade from plain SHA-256 (`flask audit rekey`) keep every entry verifiable."""

from __future__ import annotations

import hashlib
import os
import stat

import pytest
from sqlalchemy import select, text

from portal.audit import keys
from portal.audit.models import AuditChainHead, AuditEvent
from portal.audit.services import _unkeyed_digest, record_event, rekey_chain, verify_chain
from portal.extensions import db

OLD_KEY = "old-audit-key-0123456789abcdef0123456789"
NEW_KEY = "new-audit-key-abcdef0123456789abcdef0123"


def _events(n=3):
    for i in range(n):
        record_event("demo.change", "thing", i, before={"v": i}, after={"v": i + 1})
    db.session.commit()


def _ids():
    return list(db.session.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def _recompute_plain(from_id: int, *, mark_unkeyed: bool) -> None:
    """What an intruder with database access does: rewrite the hashes from `from_id` on."""
    events = list(
        db.session.scalars(select(AuditEvent).where(AuditEvent.id >= from_id).order_by("id"))
    )
    previous = db.session.scalar(
        select(AuditEvent.hash).where(AuditEvent.id < from_id).order_by(AuditEvent.id.desc())
    ) or ("0" * 64)
    for event in events:
        event.prev_hash = previous
        if mark_unkeyed:
            event.key_id = keys.UNKEYED
        event.hash = _unkeyed_digest(event)
        previous = event.hash
    db.session.get(AuditChainHead, 1).last_hash = previous
    db.session.commit()


def _app(app_config, **settings):
    from portal import create_app

    return create_app(app_config | settings)


def _dispose(app):
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_entries_are_sealed_with_the_key(ctx):
    _events(1)
    event = db.session.scalar(select(AuditEvent))
    assert event.key_id == keys.keyring().current_id != keys.UNKEYED
    assert event.hash != _unkeyed_digest(event)
    assert verify_chain().ok


@pytest.mark.parametrize("mark_unkeyed", [False, True])
def test_edit_then_plain_sha_recompute_fails(ctx, mark_unkeyed):
    _events(3)
    second = _ids()[1]
    db.session.execute(
        text("UPDATE audit_event SET after = :a WHERE id = :i"), {"a": '{"v": 99}', "i": second}
    )
    db.session.commit()
    db.session.expire_all()
    _recompute_plain(second, mark_unkeyed=mark_unkeyed)
    result = verify_chain()
    assert not result.ok and result.broken_id == second


def test_cli_verify_names_the_first_bad_entry(app, runner):
    with app.app_context():
        _events(3)
        first = _ids()[0]
        db.session.execute(
            text("UPDATE audit_event SET actor_label = 'mallory' WHERE id = :i"), {"i": first}
        )
        db.session.commit()
        db.session.expire_all()
        _recompute_plain(first, mark_unkeyed=False)
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and f"BROKEN at entry #{first}" in result.output


def test_rotation_old_entries_verify_with_the_old_key(app, app_config):
    old = _app(app_config, AUDIT_HMAC_KEY=OLD_KEY)
    with old.app_context():
        _events(2)
    _dispose(old)

    rotated = _app(app_config, AUDIT_HMAC_KEY=NEW_KEY, AUDIT_HMAC_OLD_KEYS=OLD_KEY)
    with rotated.app_context():
        _events(2)
        assert {e.key_id for e in db.session.scalars(select(AuditEvent))} == {
            keys.key_id(OLD_KEY.encode()),
            keys.key_id(NEW_KEY.encode()),
        }
        assert verify_chain().ok
    _dispose(rotated)

    forgot = _app(app_config, AUDIT_HMAC_KEY=NEW_KEY)
    with forgot.app_context():
        result = verify_chain()
        assert not result.ok and "AUDIT_HMAC_OLD_KEYS" in result.reason
        # rekey refuses, changing nothing, while the chain cannot be proved
        assert not rekey_chain().ok
        db.session.rollback()
    _dispose(forgot)

    retire = _app(app_config, AUDIT_HMAC_KEY=NEW_KEY, AUDIT_HMAC_OLD_KEYS=OLD_KEY)
    with retire.app_context():
        assert rekey_chain().ok
        db.session.commit()
    _dispose(retire)

    only_new = _app(app_config, AUDIT_HMAC_KEY=NEW_KEY)
    with only_new.app_context():
        assert verify_chain().ok and verify_chain().checked == 4
    _dispose(only_new)


def test_an_entry_under_a_retired_key_is_refused(app, app_config):
    """After a rotation, someone who kept the old key cannot append entries sealed with it."""
    for current, old in ((OLD_KEY, ""), (NEW_KEY, OLD_KEY), (OLD_KEY, NEW_KEY)):
        writer = _app(app_config, AUDIT_HMAC_KEY=current, AUDIT_HMAC_OLD_KEYS=old)
        with writer.app_context():
            _events(1)
        _dispose(writer)
    checker = _app(app_config, AUDIT_HMAC_KEY=NEW_KEY, AUDIT_HMAC_OLD_KEYS=OLD_KEY)
    with checker.app_context():
        result = verify_chain()
        assert not result.ok and result.broken_id == _ids()[-1]
        assert "earlier audit key" in result.reason
    _dispose(checker)


def test_upgrade_rekey_from_plain_sha(app, runner):
    """Entries from before the key (the migration marks them `sha256`) verify only after rekey."""
    with app.app_context():
        _events(3)
        _recompute_plain(_ids()[0], mark_unkeyed=True)  # the chain as the old code left it
        result = verify_chain()
        assert not result.ok and "flask audit rekey" in result.reason
        record_event("demo.after_upgrade", "thing", 9)  # written between upgrade and rekey
        db.session.commit()
    result = runner.invoke(args=["audit", "rekey"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["audit", "verify"]).exit_code == 0
    with app.app_context():
        assert {e.key_id for e in db.session.scalars(select(AuditEvent))} == {
            keys.keyring().current_id
        }


def test_rekey_refuses_an_edited_unkeyed_chain(app, runner):
    with app.app_context():
        _events(3)
        _recompute_plain(_ids()[0], mark_unkeyed=True)
        second = _ids()[1]
        db.session.execute(text("UPDATE audit_event SET remark = 'x' WHERE id = :i"), {"i": second})
        db.session.commit()
    result = runner.invoke(args=["audit", "rekey"])
    assert result.exit_code == 1 and f"entry #{second}" in result.output


def test_an_unkeyed_entry_after_keyed_ones_is_refused_even_by_rekey(ctx):
    _events(3)
    last = _ids()[-1]
    _recompute_plain(last, mark_unkeyed=True)
    check = rekey_chain()
    db.session.rollback()
    assert not check.ok and check.broken_id == last


def test_key_file_is_made_once_mode_600(app, app_config, tmp_path, monkeypatch):
    monkeypatch.setenv("PORTAL_INSTANCE_DIR", str(tmp_path / "instance"))
    first = _app(app_config, AUDIT_HMAC_KEY="")
    with first.app_context():
        ring = keys.keyring()
    _dispose(first)
    path = tmp_path / "instance" / keys.KEY_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(path.read_text().strip()) >= keys.MIN_KEY_LENGTH
    second = _app(app_config, AUDIT_HMAC_KEY="")
    with second.app_context():
        assert keys.keyring().current_id == ring.current_id  # read, never regenerated
    _dispose(second)
    assert [p.name for p in path.parent.iterdir()] == [keys.KEY_FILE]  # no temporary left


def test_short_key_is_refused(app, app_config):
    app = _app(app_config, AUDIT_HMAC_KEY="short")
    with app.app_context(), pytest.raises(keys.AuditKeyError):
        keys.keyring()
    _dispose(app)


def test_key_id_reveals_nothing_of_the_key():
    key = NEW_KEY.encode()
    assert keys.key_id(key) not in hashlib.sha256(key).hexdigest()
