"""`flask demo`: registered through the `flask.commands` entry point in pyproject.toml, so the
product (`wsgi.py`, `portal/`) never imports the demo."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from demo.data import load_demo
from demo.reset import check_development_database

CONFIRM_FLAG = "--yes-delete-everything"


@click.command("demo")
@click.option(
    "--scale", type=int, default=None, help="Make N records of each kind (for benchmarks)."
)
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
@click.option(
    "--reset",
    is_flag=True,
    help="Delete everything but the reference data, audit log included, then load. Only on a "
    f"development database that the demo created, and only with {CONFIRM_FLAG}.",
)
@click.option(
    CONFIRM_FLAG, "confirmed", is_flag=True, help="Confirm --reset: every row will be deleted."
)
@click.option(
    "--seed",
    type=int,
    default=20211,
    show_default=True,
    help="Random seed: the same seed gives the same data.",
)
@with_appcontext
def demo(scale: int | None, if_empty: bool, reset: bool, confirmed: bool, seed: int) -> None:
    """Load the deterministic demo data set."""

    if reset:
        if not confirmed:
            raise click.UsageError(
                f"--reset deletes every row, the audit log included: pass {CONFIRM_FLAG} too "
                "to confirm."
            )
        check_development_database(current_app)
    load_demo(scale=scale, if_empty=if_empty, seed=seed, echo=click.echo, reset=reset)
