"""Near misses: what a query that found nothing probably meant.

Two kinds, both tried only after a search found nothing:
- **Sound-alike characters.** A pinyin input method offers every character of a syllable, so a
  visitor types 用能劝 for 用能权 or 郑洲 for 郑州. Each run of Chinese characters in the query is
  read as toneless pinyin, and a stretch of it that reads like a word of the index's titles
  (the most frequent such word) is replaced by that word.
- **Part of a number.** A listing or trade number is long (YNQ-CJ-2021-000501); a visitor often
  types its tail (2021-000501, 000501). The numbers that end with what was typed, or contain it,
  are found in the database's unique indexes of those numbers.
"""

from __future__ import annotations

import functools
import re
import threading
import time
import unicodedata
from dataclasses import dataclass

from pypinyin.pinyin_dict import pinyin_dict
from sqlalchemy import select

from portal.disclosure.models import Listing, Trade
from portal.extensions import db

_CJK_RUN = re.compile(r"[\u3400-\u9fff]{2,}")
_CJK = re.compile(r"^[\u3400-\u9fff]{2,8}$")
# A number's tail or middle as typed: digits and dashes with at least 4 digits.
_NUMBER_PART = re.compile(r"^[0-9A-Z][0-9A-Z\-]{3,31}$")
LONGEST_WORD = 8
NUMBER_MATCHES = 8


@functools.lru_cache(maxsize=20_000)
def syllable(character: str) -> str:
    """The character's first (most common) reading, without its tone; the character itself when
    it has none."""
    readings = pinyin_dict.get(ord(character))
    if not readings:
        return character
    first = readings.split(",", 1)[0]
    plain = unicodedata.normalize("NFKD", first)
    return "".join(c for c in plain if not unicodedata.combining(c)).replace("ü", "v")


def sound_of(text: str) -> str:
    return " ".join(syllable(c) for c in text)


@dataclass
class Words:
    """The index's title words by their sound: the most frequent word of each sound."""

    by_sound: dict[str, str]
    known: frozenset[str]


_words: dict[str, tuple[float, Words]] = {}
_words_lock = threading.Lock()
WORDS_FRESH_SECONDS = 600


def title_words(view, folder: str) -> Words:
    """The title words by sound, read from the titles' term list. A view is new after every
    commit to the index; the words hardly change, so one reading serves every view of the same
    index `folder` for WORDS_FRESH_SECONDS (a word first indexed meanwhile is offered later)."""
    with _words_lock:
        kept = _words.get(folder)
    if kept is not None and time.monotonic() - kept[0] < WORDS_FRESH_SECONDS:
        return kept[1]
    best: dict[str, tuple[int, str]] = {}
    known = set()
    # Terms are sorted by their UTF-8 bytes: the Chinese ones form one stretch of the list, from
    # U+3400 up to U+9FFF; the codes, numbers and Latin words before it are never read.
    for term, info in view.searcher.reader().iter_field("title", "\u3400"):
        text = term.decode("utf-8", "replace") if isinstance(term, bytes) else term
        if text[:1] > "\u9fff":
            break
        if not _CJK.match(text):
            continue
        known.add(text)
        key = sound_of(text)
        frequency = info.doc_frequency()
        if key not in best or frequency > best[key][0]:
            best[key] = (frequency, text)
    words = Words({key: text for key, (_f, text) in best.items()}, frozenset(known))
    with _words_lock:
        _words[folder] = (time.monotonic(), words)
    return words


def sound_alike_query(view, folder: str, text: str) -> str | None:
    """The query with each stretch of Chinese that reads like a known title word (and is not
    one) replaced by that word; None when nothing changes. `folder` names the index."""
    words = title_words(view, folder)
    changed = False

    def fix(match: re.Match) -> str:
        nonlocal changed
        run = match.group(0)
        out, i = [], 0
        while i < len(run):
            for size in range(min(LONGEST_WORD, len(run) - i), 1, -1):
                piece = run[i : i + size]
                word = words.by_sound.get(sound_of(piece))
                if word is not None and piece not in words.known:
                    out.append(word)
                    changed = True
                    i += size
                    break
            else:
                out.append(run[i])
                i += 1
        return "".join(out)

    corrected = _CJK_RUN.sub(fix, text)
    return corrected if changed else None


def numbers_containing(fragment: str) -> list[tuple[str, str]]:
    """(kind, number) of the listings and trades whose number ends with, or else contains, what
    was typed; at most NUMBER_MATCHES, newest first."""
    if not _NUMBER_PART.match(fragment) or sum(c.isdigit() for c in fragment) < 4:
        return []
    found: list[tuple[str, str]] = []
    for pattern in (f"%{fragment}", f"%{fragment}%"):
        for kind, model in (("trade", Trade), ("listing", Listing)):
            left = NUMBER_MATCHES - len(found)
            if left <= 0:
                return found
            numbers = db.session.scalars(
                select(model.number)
                .where(model.number.like(pattern))
                .order_by(model.id.desc())
                .limit(left)
            ).all()
            found += [(kind, n) for n in numbers if (kind, n) not in found]
        if found:
            return found
    return found
