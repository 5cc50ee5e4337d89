"""The enterprise dashboard's 待办: what the enterprise has to do next, each with where to do it.

Accounts knows none of the things that have deadlines: the packages that do subscribe to
`collect_todo` and add their items to the `Todo` it is sent with (the pattern of the workflow
signals in docs/architecture.md). They run by `order`, lower first:
- filings (order 0): drafts, returned filings with the reason, 开工 deadlines of 两高 projects, and
  the filings in their 公示 (`awaiting_publicity`, without the end, which filings does not know);
- publicity (order 1): the end of each 公示 registered in `awaiting_publicity`;
- compliance (order 0): the compliance filing of each open period for a unit that takes part,
  限期履约 shortfalls, and a published compliance list the unit is on, while its 公示 lasts;
- prices (order 0): each payment notice (缴款通知) of a 两高 purchase still to pay, by its due day.

The money itself is paid on the provincial trading platform; the portal shows what is due and the
province records the platform's receipt. The words are in accounts/_todo.html.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime

from portal.i18n import local_today
from portal.signals import OrderedSignal

collect_todo = OrderedSignal(
    "collect-todo", doc="Add the enterprise's to-do items to the Todo sent (the sender)."
)


@dataclass(frozen=True)
class Deadline:
    """One date by which the enterprise must act.

    kind: compliance_filing, rectify, publicity, compliance_publicity, construction or payment (the
    template words each); subject: the period, record, filing or obligation it is about;
    ends_at: the exact moment, where the deadline has one (a 公示 ends at a time of day).
    """

    kind: str
    due: date
    days_left: int
    url: str
    subject: object
    ends_at: datetime | None = None
    filing: object | None = None

    @property
    def overdue(self) -> bool:
        return self.days_left < 0


@dataclass
class Todo:
    enterprise_id: int
    today: date
    now: datetime  # naive UTC, as stored
    deadlines: list[Deadline] = field(default_factory=list)
    # (filing, the step that returned it: who, when, with what remark)
    returned: list[tuple[object, object | None]] = field(default_factory=list)
    drafts: list[object] = field(default_factory=list)
    # (subject type, subject id, the object) whose 公示 end publicity adds as a deadline
    awaiting_publicity: list[tuple[str, str, object]] = field(default_factory=list)
    # Why there may be no compliance deadline (set by compliance): the unit takes no part, or
    # no period takes filings now.
    takes_part: bool = False
    open_periods: int = 0

    def add(self, kind: str, due: date, url: str, subject, **extra) -> None:
        self.deadlines.append(Deadline(kind, due, (due - self.today).days, url, subject, **extra))

    @property
    def empty(self) -> bool:
        return not (self.deadlines or self.returned or self.drafts)


def todo_for(enterprise_id: int, today: date | None = None, now: datetime | None = None) -> Todo:
    """Everything the enterprise has to do next: deadlines soonest first, returned, drafts."""
    todo = Todo(
        enterprise_id,
        today or local_today(),
        now or datetime.now(UTC).replace(tzinfo=None),
    )
    collect_todo.send(todo)
    todo.deadlines.sort(key=lambda d: (d.due, d.kind))
    return todo
