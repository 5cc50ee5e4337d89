"""flask commands: demo data and the search index. Features add their own in their init_app()."""

from __future__ import annotations

import click
from flask import Flask


def init_app(app: Flask) -> None:
    @app.cli.command("demo")
    @click.option(
        "--scale", type=int, default=None, help="Make N records of each kind (for benchmarks)."
    )
    @click.option("--if-empty", is_flag=True, help="Do nothing when the database already has data.")
    @click.option(
        "--reset", is_flag=True, help="Delete everything but the reference data, then load."
    )
    @click.option(
        "--seed",
        type=int,
        default=20211,
        show_default=True,
        help="Random seed: the same seed gives the same data.",
    )
    def demo_command(scale: int | None, if_empty: bool, reset: bool, seed: int) -> None:
        """Load the deterministic demo data set."""
        from portal.demo import load_demo

        load_demo(scale=scale, if_empty=if_empty, seed=seed, echo=click.echo, reset=reset)

    @app.cli.command("reindex")
    def reindex_command() -> None:
        """Rebuild the search index beside the live one and swap it in."""
        from portal.search import reindex_all

        reindex_all(progress=click.echo)
