"""Blinker signals whose receivers run in the order they were connected.

Blinker keeps the receivers of a sender in a set, so by itself it calls them in no fixed order.
The portal's signals (portal/filings/signals.py, portal/publicity/services.py) use OrderedSignal:
receivers run in connection order, i.e. in the order their modules are imported, which the
import graph fixes (a package that subscribes imports the package that sends first).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any

from blinker import Signal
from blinker._utilities import make_id


class OrderedSignal(Signal):
    def receivers_for(self, sender: Any) -> Generator[Callable[..., Any], None, None]:
        position = {receiver_id: index for index, receiver_id in enumerate(self.receivers)}
        receivers = list(super().receivers_for(sender))
        yield from sorted(receivers, key=lambda receiver: position.get(make_id(receiver), -1))
