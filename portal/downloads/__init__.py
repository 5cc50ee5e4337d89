"""Open-data downloads: the data dictionary, the licence, and the daily archive of every dataset."""

from __future__ import annotations

import click
from flask import Blueprint, Flask, current_app

from portal.web import current_date

bp = Blueprint("downloads", __name__, url_prefix="/data")

from portal.downloads import services, views  # noqa: E402,F401  (views attach to bp)


def init_app(app: Flask) -> None:
    @app.cli.group("data")
    def data_group() -> None:
        """Open data: the daily archive of every public dataset."""

    @data_group.command("archive")
    @click.option("--day", type=click.DateTime(["%Y-%m-%d"]), help="Date in the file name.")
    def archive_command(day) -> None:
        """Write today's zip of every public dataset (CSV and XLSX) into ARCHIVE_DIR.

        Run it daily from cron; archives beyond ARCHIVE_KEEP are deleted, oldest first.
        """
        with current_app.test_request_context("/"):
            archive = services.write_archive(day.date() if day else current_date())
        click.echo(f"{archive.path} {archive.size} bytes sha256 {archive.sha256}")
