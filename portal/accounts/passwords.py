"""The password policy, in one place: length, character classes, and no common password.

Common passwords come from the `zxcvbn` package's frequency list (30,000 leaked passwords, shipped in
the wheel, read offline). A password is refused when it, or its core once case, common
substitutions (0→o, 1→i/l, 3→e, 4→a, 5→s, 7→t, @→a, $→s, !→i) and leading or trailing digits
and symbols are taken away, is on that list: "Password1!" and "Passw0rd" are both "password".
"""

from __future__ import annotations

import re
from functools import cache

from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.i18n import gettext as _

MIN_PASSWORD_LENGTH = 8
# The one maximum: registration, reset, invitation, login and every confirmation form use it.
MAX_PASSWORD_LENGTH = 128
# A core shorter than this is not judged alone (the digits around it carry the strength).
MIN_CORE_LENGTH = 4

_EDGES = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_SUBSTITUTIONS = [
    str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                   "$": "s", "!": "i"}),
    str.maketrans({"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a",
                   "$": "s", "!": "l"}),
]  # fmt: skip


@cache
def common_passwords() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def _candidates(password: str) -> set[str]:
    lowered = password.lower()
    forms = {lowered}
    forms.update(lowered.translate(table) for table in _SUBSTITUTIONS)
    for form in list(forms) + [lowered]:
        core = _EDGES.sub("", form)
        if len(core) >= MIN_CORE_LENGTH:
            forms.add(core)
    # Substitute after stripping too: "P@ssw0rd2024!" → "p@ssw0rd" → "password".
    for form in list(forms):
        forms.update(form.translate(table) for table in _SUBSTITUTIONS)
    return forms


def is_common_password(password: str) -> bool:
    listed = common_passwords()
    return any(form in listed for form in _candidates(password or ""))


def password_problems(password: str) -> list[str]:
    """Why a password is not acceptable (empty list when it is)."""
    password = password or ""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(_("密码至少需要 8 个字符。"))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(_("密码不能超过 %(max)d 个字符。", max=MAX_PASSWORD_LENGTH))
    classes = sum(
        [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
    )
    if classes < 3:
        problems.append(_("密码需包含大写字母、小写字母、数字、符号中的至少 3 类。"))
    if not problems and is_common_password(password):
        problems.append(
            _(
                "这个密码太常见（如 Password1!、Passw0rd 这类常用词加数字或符号），很容易被猜中。请换一个不常见的密码，例如由几个不相关的词组成。"
            )
        )
    return problems
