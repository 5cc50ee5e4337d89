"""Feeds (Atom, RSS) of every public list and search, and mail subscriptions with `flask digest`."""

import click
from flask import Blueprint

bp = Blueprint("feeds", __name__)

from portal.feeds import models, views  # noqa: E402,F401
from portal.feeds.digests import send_digests  # noqa: E402


def init_app(app):
    # Every list page's <head> and its results name the feeds and the subscription of that list.
    app.jinja_env.globals["page_feed"] = views.page_feed

    @app.cli.command("digest")
    def digest_command():
        """Mail the subscription digests that are due. Run it from cron, e.g. every 10 minutes:
        daily and weekly digests go out on the first run after local midnight (Monday for weekly).
        Safe to run at any time and in parallel: each digest is sent once."""
        report = send_digests()
        click.echo(
            f"sent {len(report.sent)} digest(s); {report.empty} window(s) with nothing new; "
            f"{report.not_due} not due; {report.skipped} held by another run; "
            f"{report.purged} unconfirmed subscription(s) deleted."
        )
