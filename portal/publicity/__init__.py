"""公示 and objections (异议); `flask tick` finalizes what is due."""

import click
from flask import Blueprint

from portal.extensions import db
from portal.publicity.services import run_tick, withdrawal_of
from portal.search import sync_pending
from portal.text import escape_markdown

bp = Blueprint("publicity", __name__)

from portal.publicity import views  # noqa: E402,F401


def init_app(app):
    # Generated Markdown (公示 bodies) passes every value through this filter.
    app.jinja_env.filters["escape_markdown"] = escape_markdown
    # The public pages say when and why a 公示 was withdrawn.
    app.jinja_env.globals["publicity_withdrawal"] = withdrawal_of

    @app.cli.command("tick")
    def tick_command():
        """Finalize ended 公示, warn and take back for the 2-year rule. Safe to run any time."""
        report = run_tick()
        db.session.commit()
        # Scheduled announcements whose time has come, and this tick's changes, reach the index.
        try:
            sync_pending(app)
        except Exception as error:  # noqa: BLE001 — search catches up on its own later
            click.echo(f"search sync skipped: {error}", err=True)
        click.echo(
            f"finalized {len(report.finalized)} publicity notice(s); "
            f"{len(report.waiting)} waiting on unanswered objections; "
            f"{len(report.warned)} construction warning(s); "
            f"{len(report.taken_back)} take-back(s)."
        )
        for error in report.errors:
            click.echo(f"ERROR {error}", err=True)
        if report.errors:
            raise SystemExit(1)
