"""Rules about enterprises that every feature shares."""

from __future__ import annotations

from stdnum import exceptions as stdnum_errors
from stdnum.cn import uscc as stdnum_uscc

from portal.text import to_halfwidth


class InvalidUSCC(ValueError):
    """The code is not a valid 统一社会信用代码; `reason` says which rule it breaks."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


def normalize_uscc(raw: str) -> str:
    """Return the code in its compact upper-case form, or raise InvalidUSCC naming the fault.

    reason is one of: length, format, checksum (the 18th character is wrong).
    """
    code = stdnum_uscc.compact(to_halfwidth(raw or ""))
    try:
        return stdnum_uscc.validate(code)
    except stdnum_errors.InvalidLength as exc:
        raise InvalidUSCC("length") from exc
    except stdnum_errors.InvalidChecksum as exc:
        raise InvalidUSCC("checksum") from exc
    except stdnum_errors.ValidationError as exc:
        raise InvalidUSCC("format") from exc


def is_valid_uscc(raw: str) -> bool:
    try:
        normalize_uscc(raw)
    except InvalidUSCC:
        return False
    return True
