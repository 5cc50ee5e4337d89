"""The audit trail: an append-only log of every state change, chained by keyed hashes (HMAC)."""

import click
from flask import Blueprint
from flask.cli import AppGroup

from portal.audit.keys import keyring
from portal.audit.services import rekey_chain, verify_chain
from portal.extensions import db

# The supervisor's read-only search (views.py).
bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

from portal.audit import views  # noqa: E402,F401


def init_app(app):
    group = AppGroup("audit", help="Audit trail commands.")

    @group.command("verify")
    def verify_command():
        """Prove the hash chain is intact, or name the first broken entry."""
        result = verify_chain()
        if result.ok:
            click.echo(f"OK: {result.checked} entries, chain intact.")
        else:
            where = f"entry #{result.broken_id}" if result.broken_id else "the chain head"
            click.echo(f"BROKEN at {where}: {result.reason}", err=True)
            raise SystemExit(1)

    @group.command("rekey")
    def rekey_command():
        """Re-seal the chain under the current key, after checking it as it stands.

        Run once after the upgrade that introduced keyed hashes, and after a key rotation to
        retire the old key. Refuses, changing nothing, when the chain does not verify.
        """
        result = rekey_chain()
        if not result.ok:
            db.session.rollback()
            where = f"entry #{result.broken_id}" if result.broken_id else "the chain head"
            click.echo(f"NOT REKEYED, BROKEN at {where}: {result.reason}", err=True)
            raise SystemExit(1)
        db.session.commit()
        click.echo(f"OK: {result.checked} entries sealed with audit key {keyring().current_id}.")

    app.cli.add_command(group)
