"""Text normalisation shared by forms and search: full-width to half-width, one form of Unicode."""

import unicodedata


def to_halfwidth(text: str) -> str:
    """Fold full-width letters, digits and punctuation (１２３, ＡＢＣ) to their ASCII forms (NFKC)."""
    return unicodedata.normalize("NFKC", text)
