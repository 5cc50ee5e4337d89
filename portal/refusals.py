"""The two shapes of a refusal a service raises, for the view to show next to the field at fault."""

from __future__ import annotations


class CodedRefusal(ValueError):
    """A service refused; `code` names the rule broken, and the view words the message."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Refusal(ValueError):
    """A service refused; `message` already says why, in the visitor's language."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message
