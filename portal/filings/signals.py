"""Signals of the filing workflow: other packages subscribe to what a step sets off.

`filing_transitioned` is sent by `workflow.transition()` once a step has been taken (status
changed, event and audit entry written), with `sender` the action name and keyword arguments
`filing`, `actor`, `remark` and `step`. Receivers run inside the same transaction; one that raises
undoes the whole step. They run by `order`, then in connection order (portal/signals.py):
1. portal.filings.services._decision_taken (order=-1): the enterprise is told of a back-office
   decision (inbox and mail);
2. portal.review.services._on_filing_transitioned: the 公示 opens, is reopened or withdrawn; a
   final step writes the registry entries (issued indicators, the 2-year start rule);
   portal.compliance.services._compliance_filing_final: a final compliance filing's surrender.
   These two act on different kinds of filing, so their relative order does not matter.
"""

from __future__ import annotations

from portal.signals import OrderedSignal

filing_transitioned = OrderedSignal("filing-transitioned")
