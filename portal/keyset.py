"""Keyset (seek) pagination: a page starts after, or ends before, the sort key of a given row.

An OFFSET query reads and throws away every row before the page, so page 5,000 of a list costs
5,000 pages of reading. A keyset query asks the index for the rows after the last one shown
(`WHERE (starts_on, id) < (:d, :id)`), and every page costs the same.

The position is a cursor: the sort key values of one row, in an opaque URL-safe string. The sort
comes from the statement's own ORDER BY, so the pages and the cursor cannot disagree; its last
column must be a primary key, so that no two rows share a position. A nullable sort column says
where its NULLs go (`nulls_last()`), because SQLite and PostgreSQL put them at opposite ends; one
that does not say is read as "never NULL in this list" and its NULL rows are left out of the pages
(a published announcement always has its publication time), so an index still serves the order.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import and_, false, or_
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

# A cursor is a few sort values; anything longer was not made here.
MAX_CURSOR_LENGTH = 600


class InvalidCursor(ValueError):
    """A cursor that this sort did not make: damaged, from another sort, or of the wrong types."""


@dataclass(frozen=True)
class SortKey:
    """One column of an ORDER BY: its direction, and where its NULLs go when it has any."""

    column: object
    descending: bool
    nulls_last: (
        bool | None
    )  # None: no NULLs in the pages (a NOT NULL column, or NULL rows left out)
    skip_nulls: bool = False  # a nullable column without a NULL placement: NULL rows left out

    @property
    def clause(self):
        ordered = self.column.desc() if self.descending else self.column.asc()
        if self.nulls_last is None:
            return ordered
        return ordered.nulls_last() if self.nulls_last else ordered.nulls_first()

    def reversed(self) -> SortKey:
        flipped = None if self.nulls_last is None else not self.nulls_last
        return SortKey(self.column, not self.descending, flipped, self.skip_nulls)

    def after(self, value):
        """The rows that come strictly after `value` in this column's order."""
        if value is None:
            # NULLs sit together at one end: after them come the non-NULL rows, or nothing.
            return false() if self.nulls_last else self.column.is_not(None)
        beyond = self.column < value if self.descending else self.column > value
        if self.nulls_last:
            return or_(beyond, self.column.is_(None))
        return beyond

    def equal(self, value):
        return self.column.is_(None) if value is None else self.column == value


def sort_keys(statement) -> tuple[SortKey, ...]:
    """The statement's ORDER BY as sort keys; refuse an order that cannot place every row."""
    keys = []
    for clause in statement._order_by_clauses:  # the order the statement was built with
        nulls_last = None
        if isinstance(clause, UnaryExpression) and clause.modifier in (
            operators.nulls_last_op,
            operators.nulls_first_op,
        ):
            nulls_last = clause.modifier is operators.nulls_last_op
            clause = clause.element
        descending = isinstance(clause, UnaryExpression) and clause.modifier is operators.desc_op
        if isinstance(clause, UnaryExpression):
            clause = clause.element
        nullable = getattr(clause, "nullable", True)
        keys.append(
            SortKey(
                clause,
                descending,
                nulls_last if nullable else None,
                skip_nulls=nullable and nulls_last is None,
            )
        )
    if not keys or not getattr(keys[-1].column, "primary_key", False):
        raise ValueError("keyset pagination needs an order that ends with a primary key")
    return tuple(keys)


def seek(statement, keys: tuple[SortKey, ...], values: tuple, backwards: bool = False):
    """`statement` narrowed to the rows after `values` (before them when `backwards`), in the
    order of `keys` (reversed when `backwards`, so a LIMIT takes the rows nearest the cursor)."""
    used = tuple(key.reversed() for key in keys) if backwards else keys
    branches = []
    for i, key in enumerate(used):
        same_so_far = [
            earlier.equal(value) for earlier, value in zip(used[:i], values, strict=False)
        ]
        branches.append(and_(*same_so_far, key.after(values[i])))
    return ordered(statement, used).where(or_(*branches))


def ordered(statement, keys: tuple[SortKey, ...]):
    """`statement` in the order of `keys` (NULL placement spelled out for every database), without
    the rows whose sort value has no place in it."""
    skipped = [key.column.is_not(None) for key in keys if key.skip_nulls]
    return statement.order_by(None).order_by(*(key.clause for key in keys)).where(*skipped)


# ---- cursors --------------------------------------------------------------------------------------


def _fingerprint(keys: tuple[SortKey, ...]) -> str:
    """A short digest of the sort, so that a cursor of one sort is refused by another."""
    text = ",".join(f"{key.column}:{key.descending}" for key in keys)
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def _plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def encode_cursor(keys: tuple[SortKey, ...], values: tuple) -> str:
    """An opaque, URL-safe cursor for the row whose sort values are `values`."""
    payload = json.dumps(
        [_fingerprint(keys), [_plain(v) for v in values]], separators=(",", ":"), ensure_ascii=False
    )
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _typed(key: SortKey, raw):
    if raw is None:
        if key.nulls_last is None:  # no NULL is ever paged in this column
            raise InvalidCursor("null in a NOT NULL column")
        return None
    try:
        kind = key.column.type.python_type
    except NotImplementedError as exc:
        raise InvalidCursor("untyped sort column") from exc
    try:
        if kind is datetime and isinstance(raw, str):
            return datetime.fromisoformat(raw)
        if kind is date and isinstance(raw, str):
            return date.fromisoformat(raw)
        if kind is Decimal and isinstance(raw, str):
            number = Decimal(raw)
            if number.is_finite():
                return number
        if kind is int and isinstance(raw, int) and not isinstance(raw, bool):
            if abs(raw) < 2**63:
                return raw
        if kind is str and isinstance(raw, str):
            return raw
        if kind is bool and isinstance(raw, bool):
            return raw
    except (ValueError, InvalidOperation) as exc:
        raise InvalidCursor("a value does not fit its column") from exc
    raise InvalidCursor("a value does not fit its column")


def decode_cursor(keys: tuple[SortKey, ...], cursor: str) -> tuple:
    """The sort values inside `cursor`; InvalidCursor when it was not made for this sort."""
    if not cursor or len(cursor) > MAX_CURSOR_LENGTH:
        raise InvalidCursor("empty or too long")
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        fingerprint, raw_values = json.loads(text)
    except (binascii.Error, UnicodeDecodeError, ValueError, TypeError) as exc:
        raise InvalidCursor("not a cursor") from exc
    if fingerprint != _fingerprint(keys) or not isinstance(raw_values, list):
        raise InvalidCursor("made for another sort")
    if len(raw_values) != len(keys):
        raise InvalidCursor("wrong length")
    return tuple(_typed(key, raw) for key, raw in zip(keys, raw_values, strict=True))
