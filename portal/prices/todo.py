"""The payments due on the enterprise dashboard's 待办 (portal/accounts/todo.py)."""

from __future__ import annotations

from flask import url_for

from portal.accounts.todo import Todo, collect_todo
from portal.prices.services import payments_due


@collect_todo.connect
def _payments_todo(todo: Todo) -> None:
    for notice in payments_due(todo.enterprise_id):
        url = url_for("filings.detail", filing_id=notice.filing_id)
        todo.add("payment", notice.due_on, url, notice, filing=notice.filing)
