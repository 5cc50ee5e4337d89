"""flask commands: the search index. Features add their own in their init_app().

`flask demo` is not the product's: the top-level `demo` package registers it through the
`flask.commands` entry point (pyproject.toml), so nothing here imports demo code.
"""

from __future__ import annotations

import click
from flask import Flask

from portal.search import reindex_all


def init_app(app: Flask) -> None:
    @app.cli.command("reindex")
    def reindex_command() -> None:
        """Rebuild the search index beside the live one and swap it in."""
        reindex_all(progress=click.echo)
