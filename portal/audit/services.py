"""Record and verify the audit trail. Entries join the caller's transaction: no commit here."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from flask import has_request_context, request
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.audit.keys import UNKEYED, keyring
from portal.audit.models import AuditChainHead, AuditEvent
from portal.bulk import insert_rows
from portal.extensions import db

GENESIS = "0" * 64


def _json_default(obj):
    if isinstance(obj, Decimal):
        return str(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    return str(obj)


# One encoder for every entry: json.dumps with these arguments builds this same encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=_json_default)


def _json(value) -> str:
    if value in (None, ""):
        return ""
    return _ENCODER.encode(value)


def _fields(event: AuditEvent) -> list[str]:
    return [
        event.prev_hash,
        event.created_at.isoformat(timespec="microseconds"),
        str(event.actor_id or ""),
        event.actor_label,
        event.ip,
        event.action,
        event.object_type,
        event.object_id,
        event.before,
        event.after,
        event.remark,
    ]


def _digest(event: AuditEvent, key: bytes) -> str:
    """HMAC-SHA256 of every field, the previous entry's hash and the key id, under the key."""
    message = "\x1f".join([*_fields(event), event.key_id]).encode("utf-8")
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def _unkeyed_digest(event: AuditEvent) -> str:
    """The hash of entries written before the chain had a key (plain SHA-256); `rekey` only."""
    return hashlib.sha256("\x1f".join(_fields(event)).encode("utf-8")).hexdigest()


def _seal(event: AuditEvent) -> None:
    """Hash an entry under the current key, and name that key on the entry."""
    ring = keyring()
    event.key_id = ring.current_id
    event.hash = _digest(event, ring.current)


def record_new(action: str, row, *, after=None, remark: str = "", actor=None) -> AuditEvent:
    """Add a new row, flush it for its id, and audit its creation."""
    db.session.add(row)
    db.session.flush()
    return record_event(action, row, after=after, remark=remark, actor=actor)


def record_event(
    action: str,
    subject,
    object_id=None,
    *,
    before=None,
    after=None,
    remark: str = "",
    actor=None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one entry to the chain, inside the current transaction.

    `subject` is the changed row (its `audit_type` or its table names the object type, its id the
    object) or, with `object_id`, the object type itself. `actor` is a User or None (the system);
    `ip` defaults to the request's remote address.
    """
    if object_id is None and not isinstance(subject, str):
        object_type = getattr(subject, "audit_type", subject.__tablename__)
        object_id = subject.id
    else:
        object_type = subject
    if ip is None:
        ip = (request.remote_addr or "") if has_request_context() else ""
    lock_chain_head()
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    event = AuditEvent(
        created_at=datetime.now(UTC).replace(tzinfo=None),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "email", None) or "system",
        ip=ip or "",
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        before=_json(before),
        after=_json(after),
        remark=remark or "",
        prev_hash=head.last_hash,
    )
    _seal(event)
    head.last_hash = event.hash
    db.session.add(event)
    db.session.flush()
    return event


def record_events_bulk(events: list[dict], *, actor=None, ip: str | None = None) -> int:
    """Append many entries to the chain at once: the same entries as one record_event() each.

    Each item holds action, object_type, object_id and optionally before, after and remark.
    """
    if not events:
        return 0
    if ip is None:
        ip = (request.remote_addr or "") if has_request_context() else ""
    ip = ip or ""
    lock_chain_head()
    head = db.session.get(AuditChainHead, 1, populate_existing=True)
    ring = keyring()
    key, key_id = ring.current, ring.current_id
    prev = head.last_hash
    actor_id = getattr(actor, "id", None)
    actor_label = getattr(actor, "email", None) or "system"
    actor_text = str(actor_id or "")
    rows = []
    for item in events:
        # Plain tuples, no ORM objects: the same fields and the same hash as _digest() gives.
        created_at = datetime.now(UTC).replace(tzinfo=None)
        fields = [
            prev,
            created_at.isoformat(timespec="microseconds"),
            actor_text,
            actor_label,
            ip,
            item["action"],
            item["object_type"],
            str(item["object_id"]),
            _json(item.get("before")),
            _json(item.get("after")),
            item.get("remark") or "",
            key_id,
        ]
        digest = hmac.digest(key, "\x1f".join(fields).encode("utf-8"), "sha256").hex()
        rows.append((created_at, actor_id, *fields[3:11], prev, digest, key_id))
        prev = digest
    insert_rows(AuditEvent.__table__, _BULK_COLUMNS, rows)
    head.last_hash = prev
    db.session.flush()
    return len(rows)


_BULK_COLUMNS = (
    "created_at",
    "actor_id",
    "actor_label",
    "ip",
    "action",
    "object_type",
    "object_id",
    "before",
    "after",
    "remark",
    "prev_hash",
    "hash",
    "key_id",
)


def lock_chain_head() -> None:
    """Lock the chain's head row until this transaction ends (again within it is harmless).

    On PostgreSQL a row lock, on SQLite the database write lock. The lock order is written at the
    top of portal/registry/services.py: this head first, then ledger holders.
    """
    bump = update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=AuditChainHead.seq + 1)
    if db.session.execute(bump).rowcount:
        return
    try:
        with db.session.begin_nested():
            db.session.add(AuditChainHead(id=1, seq=1, last_hash=GENESIS))
    except IntegrityError:
        # Another transaction made the first head at the same moment: lock the row it made.
        db.session.execute(bump)


@dataclass
class ChainCheck:
    ok: bool
    checked: int
    broken_id: int | None = None
    reason: str = ""


def _check_entry(event: AuditEvent, ring, expected_prev: str, state: dict, accept_unkeyed: bool):
    """The reason this entry breaks the chain, or None when it holds."""
    if event.prev_hash != expected_prev:
        return "link to the previous entry is broken (an entry was removed or reordered)"
    if event.key_id in (None, "", UNKEYED):
        if not accept_unkeyed or state["keys_seen"]:
            return (
                "the entry is hashed without the audit key (plain SHA-256); after the upgrade, "
                "run `flask audit rekey` once, or the entry was forged"
            )
        if _unkeyed_digest(event) != event.hash:
            return "content does not match its hash (the entry was edited)"
        return None
    key = ring.keys.get(event.key_id)
    if key is None:
        return (
            f"the entry names an unknown audit key {event.key_id!r} "
            "(add the old key to AUDIT_HMAC_OLD_KEYS)"
        )
    if event.key_id in state["retired"]:
        return f"the chain goes back to an earlier audit key {event.key_id!r}"
    if _digest(event, key) != event.hash:
        return "content does not match its hash (the entry was edited)"
    if state["keys_seen"] and state["keys_seen"][-1] != event.key_id:
        state["retired"].add(state["keys_seen"][-1])
    if not state["keys_seen"] or state["keys_seen"][-1] != event.key_id:
        state["keys_seen"].append(event.key_id)
    return None


def _entries_in_order(batch: int):
    """Every audit entry in id order, a batch at a time; each batch is flushed (for rekey's
    changes) and let go before the next is read, so memory stays bounded."""
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            return
        yield from rows
        last_id = rows[-1].id
        db.session.flush()
        db.session.expunge_all()


def verify_chain(batch: int = 5000, *, accept_unkeyed: bool = False) -> ChainCheck:
    """Walk the chain in id order; report the first entry whose hash, key or link is wrong.

    `accept_unkeyed` lets entries from before the key (plain SHA-256) pass when they come first
    in the chain: only `flask audit rekey` asks for it, to re-seal them.
    """
    ring = keyring()
    state: dict = {"keys_seen": [], "retired": set()}
    expected_prev = GENESIS
    checked = 0
    for event in _entries_in_order(batch):
        reason = _check_entry(event, ring, expected_prev, state, accept_unkeyed)
        if reason is not None:
            return ChainCheck(False, checked, event.id, reason)
        expected_prev = event.hash
        checked += 1
    head = db.session.get(AuditChainHead, 1)
    if head is not None and head.last_hash != expected_prev:
        return ChainCheck(
            False,
            checked,
            None,
            "the newest entries were removed (the head does not match the last entry)",
        )
    return ChainCheck(True, checked)


def rekey_chain(batch: int = 2000) -> ChainCheck:
    """Re-seal the whole chain under the current key, after proving it intact as it stands.

    For the upgrade from plain SHA-256 (entries marked `sha256` by the migration), and to retire
    an old key after a rotation. Writers wait on the chain head meanwhile. Flushes, never commits;
    changes nothing and returns the failed check when the chain does not verify.
    """
    db.session.execute(
        update(AuditChainHead).where(AuditChainHead.id == 1).values(seq=AuditChainHead.seq)
    )
    check = verify_chain(accept_unkeyed=True)
    if not check.ok:
        return check
    ring = keyring()
    previous = GENESIS
    sealed = 0
    for event in _entries_in_order(batch):
        event.prev_hash = previous
        event.key_id = ring.current_id
        event.hash = _digest(event, ring.current)
        previous = event.hash
        sealed += 1
    head = db.session.get(AuditChainHead, 1)
    if head is not None:
        head.last_hash = previous
        db.session.flush()
    return ChainCheck(True, sealed)
