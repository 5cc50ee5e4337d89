"""Text normalisation shared by forms and search: full-width to half-width, one form of Unicode."""

import unicodedata


def to_halfwidth(text: str) -> str:
    """Fold full-width letters, digits and punctuation (１２３, ＡＢＣ) to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)


def spreadsheet_safe(value) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (OWASP "CSV injection").

    Text that starts with = + - @ or a control character gets a leading apostrophe; numbers and
    dates are written as they are, so -1.5 stays a number.
    """
    if not isinstance(value, str):
        return "" if value is None else str(value)
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
