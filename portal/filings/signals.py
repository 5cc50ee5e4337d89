"""Signals of the filing workflow: other packages subscribe to what a step sets off.

`filing_transitioned` is sent by `workflow.transition()` once a step has been taken (status
changed, event and audit entry written, the enterprise told of a back-office decision), with
`sender` the action name and keyword arguments `filing`, `actor`, `remark` and `step`. Receivers
run inside the same transaction; one that raises undoes the whole step. Its one receiver today is
portal.review.services._on_filing_transitioned: the 公示 opens, is reopened or withdrawn, and a
final step writes the registry entries (issued indicators, the 2-year start rule, a compliance
surrender). Receivers run in connection order (portal/signals.py), which is import order and
depends on which module is imported first: a second receiver must not rely on running before or
after another one, or the order must be made explicit here.
"""

from __future__ import annotations

from portal.signals import OrderedSignal

filing_transitioned = OrderedSignal("filing-transitioned")
