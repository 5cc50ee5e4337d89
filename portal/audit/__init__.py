"""The audit trail: an append-only, hash-chained log of every state change."""

import click
from flask import Blueprint
from flask.cli import AppGroup

# The supervisor's read-only search (views.py).
bp = Blueprint("audit", __name__, url_prefix="/admin/audit")

from portal.audit import views  # noqa: E402,F401


def init_app(app):
    group = AppGroup("audit", help="Audit trail commands.")

    @group.command("verify")
    def verify_command():
        """Prove the hash chain is intact, or name the first broken entry."""
        from portal.audit.services import verify_chain

        result = verify_chain()
        if result.ok:
            click.echo(f"OK: {result.checked} entries, chain intact.")
        else:
            click.echo(f"BROKEN at entry #{result.broken_id}: {result.reason}", err=True)
            raise SystemExit(1)

    app.cli.add_command(group)
