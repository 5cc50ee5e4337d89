"""Blinker signals whose receivers run in a fixed order.

Blinker keeps the receivers of a sender in a set, so by itself it calls them in no fixed order.
The portal's signals (portal/filings/signals.py, portal/publicity/services.py) use OrderedSignal:
receivers run by their `order` (default 0, lower first), then in the order they were connected.
Connection order is import order, which depends on which module is imported first, so a receiver
that must run before the others says so with `order`.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Hashable
from typing import Any

from blinker import ANY, Signal
from blinker._utilities import make_id


class OrderedSignal(Signal):
    def __init__(self, name: str | None = None, doc: str | None = None) -> None:
        super().__init__(doc)
        self.name = name
        self._order: dict[Hashable, int] = {}

    def connect(self, receiver, sender: Any = ANY, weak: bool = True, *, order: int = 0):
        self._order[make_id(receiver)] = order
        return super().connect(receiver, sender, weak)

    def connect_via(self, sender: Any, weak: bool = False, *, order: int = 0):
        def decorator(fn):
            self.connect(fn, sender, weak, order=order)
            return fn

        return decorator

    def receivers_for(self, sender: Any) -> Generator[Callable[..., Any], None, None]:
        position = {receiver_id: index for index, receiver_id in enumerate(self.receivers)}

        def key(receiver) -> tuple[int, int]:
            receiver_id = make_id(receiver)
            return self._order.get(receiver_id, 0), position.get(receiver_id, -1)

        yield from sorted(super().receivers_for(sender), key=key)
