"""Signals of the filing workflow: other packages subscribe to what a step sets off.

`filing_transitioned` is sent by `workflow.transition()` once a step has been taken (status
changed, event and audit entry written, the enterprise told), with `sender` the action name and
keyword arguments `filing`, `actor`, `remark` and `step`. Receivers run in the order they were
connected, inside the same transaction; one that raises undoes the whole step.
"""

from __future__ import annotations

from blinker import Namespace

signals = Namespace()

filing_transitioned = signals.signal("filing-transitioned")
