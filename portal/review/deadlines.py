"""Review deadlines in working days: weekends and Chinese public holidays do not count, the
make-up working days (调休) do. Each back-office role's number of days is REVIEW_WORKING_DAYS.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from flask import current_app

from portal.filings import workflow
from portal.i18n import local_date

# When REVIEW_WORKING_DAYS does not name a role: the auditor's 15, the authorities' 10.
DEFAULT_WORKING_DAYS = {"auditor": 15, "city": 10, "province": 10}


@lru_cache(maxsize=16)
def _calendar(year: int):
    return holidays.country_holidays("CN", years=range(year - 1, year + 3))


def is_working_day(day: date) -> bool:
    return _calendar(day.year).is_working_day(day)


def add_working_days(start: date, days: int) -> date:
    """The `days`-th working day after `start` (the start day itself does not count)."""
    day = start
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return day


def last_start_within(today: date, days: int) -> date:
    """The earliest start day whose deadline is still today or later: a step that began before
    it is overdue today (deadline < today)."""
    day = today
    while add_working_days(day - timedelta(days=1), days) >= today:
        day -= timedelta(days=1)
    return day


def working_days_for(role: str) -> int:
    configured = current_app.config.get("REVIEW_WORKING_DAYS") or {}
    return int(configured.get(role, DEFAULT_WORKING_DAYS.get(role, 10)))


def waiting_role(filing) -> str | None:
    """The role that takes the filing's next forward step (None when no person has one)."""
    for (source, action), step in workflow.TRANSITIONS.get(filing.kind, {}).items():
        if source == filing.status and action not in ("return", "reject", "withdraw"):
            if step.role in ("auditor", "city", "province") and action != "finalize":
                return step.role
    return None


@dataclass(frozen=True)
class Deadline:
    role: str
    since: date
    due: date
    working_days: int
    overdue: bool
    days_left: int  # working days from today to the deadline; negative once overdue


def deadline_of(filing, since: datetime | None, today: date) -> Deadline | None:
    """The deadline of the step the filing waits for, counted from the day it reached it."""
    role = waiting_role(filing)
    if role is None or since is None:
        return None
    days = working_days_for(role)
    start = local_date(since)
    due = add_working_days(start, days)
    if due >= today:
        left = sum(
            1 for n in range(1, (due - today).days + 1) if is_working_day(today + timedelta(n))
        )
    else:
        left = -sum(
            1 for n in range(1, (today - due).days + 1) if is_working_day(due + timedelta(n))
        )
    return Deadline(role, start, due, days, due < today, left)
