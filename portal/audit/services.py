"""Record and verify the audit trail. Entries join the caller's transaction: no commit here."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from portal.audit.models import AuditChainHead, AuditEvent
from portal.extensions import db

GENESIS = "0" * 64


def _json(value) -> str:
    if value in (None, ""):
        return ""

    def default(obj):
        if isinstance(obj, Decimal):
            return str(obj)
        if hasattr(obj, "isoformat"):
            return obj.isoformat()
        return str(obj)

    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=default)


def _digest(event: AuditEvent) -> str:
    fields = [
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
    return hashlib.sha256("\x1f".join(fields).encode("utf-8")).hexdigest()


def record_event(
    action: str,
    object_type: str,
    object_id,
    *,
    before=None,
    after=None,
    remark: str = "",
    actor=None,
    ip: str | None = None,
) -> AuditEvent:
    """Append one entry to the chain, inside the current transaction.

    `actor` is a User or None (the system); `ip` defaults to the request's remote address.
    """
    if ip is None:
        from flask import has_request_context, request

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
    event.hash = _digest(event)
    head.last_hash = event.hash
    db.session.add(event)
    db.session.flush()
    return event


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


def verify_chain(batch: int = 5000) -> ChainCheck:
    """Walk the chain in id order; report the first entry whose hash or link is wrong."""
    expected_prev = GENESIS
    checked = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(AuditEvent).where(AuditEvent.id > last_id).order_by(AuditEvent.id).limit(batch)
        ).all()
        if not rows:
            break
        for event in rows:
            if event.prev_hash != expected_prev:
                return ChainCheck(
                    False,
                    checked,
                    event.id,
                    "link to the previous entry is broken (an entry was removed or reordered)",
                )
            if _digest(event) != event.hash:
                return ChainCheck(
                    False,
                    checked,
                    event.id,
                    "content does not match its hash (the entry was edited)",
                )
            expected_prev = event.hash
            checked += 1
            last_id = event.id
        db.session.expunge_all()
    head = db.session.get(AuditChainHead, 1)
    if head is not None and head.last_hash != expected_prev:
        return ChainCheck(
            False,
            checked,
            None,
            "the newest entries were removed (the head does not match the last entry)",
        )
    return ChainCheck(True, checked)
