"""flask commands that cross features: `tick` (publicity, then search) and the search index.
Features add their own in their init_app().

`flask demo` is not the product's: the top-level `demo` package registers it through the
`flask.commands` entry point (pyproject.toml), so nothing here imports demo code.
"""

from __future__ import annotations

import click
from flask import Flask

from portal.caching import bump_generation
from portal.disclosure import reconcile as reconciliation
from portal.extensions import db
from portal.prices import services as prices_services
from portal.publicity.services import run_tick
from portal.registry import services as registry_services
from portal.search import reindex_all, sync_pending
from portal.search import services as search_services


def init_app(app: Flask) -> None:
    @app.cli.group("registry")
    def registry_group() -> None:
        """The registry ledger: holdings, opening balances, reconciliation."""

    @registry_group.command("rebuild-holdings")
    def rebuild_holdings_command() -> None:
        """Rebuild the holdings table (unit × variety × period) from the ledger."""
        count = registry_services.rebuild_holdings()
        db.session.commit()
        click.echo(f"holdings rebuilt from the ledger: {count} row(s).")

    @registry_group.command("open-balances")
    def open_balances_command() -> None:
        """Build the ledger's opening entries from the records already there (safe to rerun)."""
        report = reconciliation.open_balances()
        db.session.commit()
        click.echo(
            f"{report.trade_pairs} trade pair(s) written; {report.entries} opening entr(ies) from "
            f"{report.sources} record(s); {report.ledger_exceeds} figure(s) where the ledger "
            f"already held more (kept); {report.shortfalls} shortfall(s) recomputed; "
            f"republished: {', '.join(map(str, report.republished)) or 'none'}."
        )

    @registry_group.command("reconcile")
    def reconcile_command() -> None:
        """Recompute every published holding, shortfall and market total; exit 1 on a mismatch."""
        mismatches = reconciliation.reconcile()
        for mismatch in mismatches:
            click.echo(str(mismatch))
        click.echo(f"{len(mismatches)} mismatch(es).")
        db.session.rollback()
        if mismatches:
            raise SystemExit(1)

    @app.cli.command("reindex")
    def reindex_command() -> None:
        """Rebuild the search index beside the live one and swap it in."""
        reindex_all(progress=click.echo)

    @app.cli.command("tick")
    def tick_command():
        """Finalize ended 公示, warn and take back for the 2-year rule, expire unpaid payment
        notices, release undecided 收储 offers. Safe to run any time."""
        report = run_tick()
        # Unpaid payment notices past their due day expire; undecided 收储 offers are released.
        money = prices_services.run_tick()
        db.session.commit()
        # Scheduled announcements whose time has come, and this tick's changes, reach the index.
        try:
            sync_pending(app, rebuild="inline")
            # Every SEARCH_VERIFY_MINUTES: the index against the database, differences repaired.
            checked = search_services.verify_when_due(app)
            if checked and (checked["missing"] or checked["extra"] or checked["stale"]):
                click.echo(
                    "search index repaired: "
                    f"{len(checked['missing'])} missing, {len(checked['extra'])} extra, "
                    f"{len(checked['stale'])} stale",
                    err=True,
                )
        except Exception as error:  # noqa: BLE001 — search catches up on its own later
            click.echo(f"search sync skipped: {error}", err=True)
        # Pages whose content changed with the time alone (a scheduled announcement now public,
        # search results now indexed) are rendered anew: every cached page is dropped.
        bump_generation(app)
        click.echo(
            f"finalized {len(report.finalized)} publicity notice(s); "
            f"{len(report.waiting)} waiting on unanswered objections; "
            f"{len(report.warned)} construction warning(s); "
            f"{len(report.taken_back)} take-back(s)."
        )
        click.echo(
            f"expired {len(money.expired)} payment notice(s); "
            f"released {len(money.released)} reserve offer(s) past their decision day."
        )
        for error in report.errors:
            click.echo(f"ERROR {error}", err=True)
        if report.errors:
            raise SystemExit(1)
