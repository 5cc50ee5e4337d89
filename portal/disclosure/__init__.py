"""Disclosure: the public listing, trade, statistics and enterprise pages, and the back office's
listing and trade entry."""

import click
from flask import Blueprint, Flask

from portal.extensions import db

bp = Blueprint("disclosure", __name__)
# Listing and trade entry in the back office (/admin/market).
admin_bp = Blueprint("disclosure_admin", __name__, url_prefix="/admin")

from portal.disclosure import admin, summary, views  # noqa: E402,F401

summary.listen()


def init_app(app: Flask) -> None:
    @app.cli.group("statistics")
    def statistics_group() -> None:
        """The market statistics' daily summary (market_daily_summary)."""

    @statistics_group.command("check")
    def check_command() -> None:
        """Compare the summary with the trades; exit 1 on any difference."""
        with db.engine.connect() as connection:
            mismatches = summary.check_summary(connection)
        _report(mismatches)
        if mismatches:
            raise SystemExit(1)
        click.echo("market_daily_summary and market_monthly_summary agree with the trades.")

    @statistics_group.command("rebuild")
    def rebuild_command() -> None:
        """Check the summary against the trades, then rebuild it from them.

        Exits 1 when the summary had differed (each is listed), so a scheduled run is noticed;
        the table is right afterwards either way.
        """
        with db.engine.begin() as connection:
            mismatches = summary.check_summary(connection)
            _report(mismatches)
            count = summary.rebuild_summary(connection)
            left = summary.check_summary(connection)
        click.echo(f"market summaries rebuilt: {count} daily rows and their months.")
        if left:
            _report(left)
            raise SystemExit(2)
        if mismatches:
            raise SystemExit(1)


def _report(mismatches) -> None:
    for found in mismatches[:50]:
        click.echo(
            f"MISMATCH {' '.join(str(part) for part in found.key)}: "
            f"stored {found.stored}, from trades {found.expected}",
            err=True,
        )
    if len(mismatches) > 50:
        click.echo(f"… and {len(mismatches) - 50} more", err=True)
    if mismatches:
        click.echo(f"{len(mismatches)} summary row(s) differed from the trades.", err=True)
