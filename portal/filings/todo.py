"""The filings' part of the dashboard's 待办 (portal/accounts/todo.py): drafts to finish, returned
filings to fix, filings in their 公示, and the 开工 deadline of each 两高 project."""

from __future__ import annotations

from flask import url_for
from sqlalchemy import select

from portal.accounts.todo import Todo, collect_todo
from portal.extensions import db
from portal.filings.models import NUMBER_PREFIX, Filing, FilingEvent
from portal.registry.models import ConstructionObligation
from portal.registry.services import awaiting_start


@collect_todo.connect
def _filings_todo(todo: Todo) -> None:
    waiting = list(
        db.session.scalars(
            select(Filing)
            .where(
                Filing.enterprise_id == todo.enterprise_id,
                Filing.status.in_(("draft", "returned", "publicity")),
            )
            .order_by(Filing.updated_at.desc(), Filing.id.desc())
        )
    )
    todo.drafts.extend(f for f in waiting if f.status == "draft")
    returned = [f for f in waiting if f.status == "returned"]
    todo.returned.extend(zip(returned, _return_steps(returned), strict=True))
    todo.awaiting_publicity.extend(
        ("filing", str(f.id), f) for f in waiting if f.status == "publicity"
    )
    for obligation, filing in _construction_starts(todo.enterprise_id):
        url = (
            url_for("filings.detail", filing_id=filing.id)
            if filing is not None
            else url_for("filings.index")
        )
        todo.add("construction", obligation.start_deadline, url, obligation, filing=filing)


def _return_steps(filings: list[Filing]) -> list[FilingEvent | None]:
    """The step that sent each filing back (its remark says what to fix)."""
    if not filings:
        return []
    latest: dict[int, FilingEvent] = {}
    for event in db.session.scalars(
        select(FilingEvent)
        .where(
            FilingEvent.filing_id.in_([f.id for f in filings]),
            FilingEvent.to_status == "returned",
        )
        .order_by(FilingEvent.id)
    ):
        latest[event.filing_id] = event
    return [latest.get(f.id) for f in filings]


def _construction_starts(enterprise_id: int) -> list[tuple[ConstructionObligation, Filing | None]]:
    """Projects that have not started construction and whose indicators were not taken back,
    with the filing that granted them (the obligation names it by its number). A project whose
    start report waits for the city has nothing left to do here."""
    obligations = list(
        db.session.scalars(
            select(ConstructionObligation).where(
                ConstructionObligation.enterprise_id == enterprise_id, *awaiting_start()
            )
        )
    )
    ids = {o.id: _filing_id(o.source_id) for o in obligations if o.source_type == "filing"}
    wanted = [i for i in ids.values() if i is not None]
    filings = {}
    if wanted:
        filings = {
            f.id: f
            for f in db.session.scalars(
                select(Filing).where(Filing.id.in_(wanted), Filing.enterprise_id == enterprise_id)
            )
        }
    return [(o, filings.get(ids.get(o.id) or 0)) for o in obligations]


def _filing_id(number: str) -> int | None:
    """The id in a filing number such as LG000012, or None for anything else."""
    prefix, digits = number[:2], number[2:]
    if prefix in NUMBER_PREFIX.values() and digits.isdigit() and len(digits) <= 9:
        return int(digits)
    return None
