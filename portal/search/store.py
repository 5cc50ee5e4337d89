"""The index on disk: generations, the pointer that names the live one, and the locks.

    SEARCH_INDEX_DIR/
      CURRENT            the live generation's name; replaced with os.replace, so readers see
                         either the old or the new name, never half of one
      gen-000007/        a Whoosh index, plus `outbox_position` (highest outbox id applied here)
                         and `outbox_gaps` (ids below it not seen yet, rechecked until settled)
      write.lock         fcntl lock: one writer at a time, across threads, workers and the CLI
      rebuild.lock       fcntl lock: one full rebuild at a time
      verified_at        when the index was last checked against the database

A rebuild writes gen-N+1 beside the live one, applies the outbox rows committed meanwhile, then
swaps the pointer. Readers that still hold gen-N keep answering; the generation before the previous
one is deleted, so a reader has a whole rebuild's time to move on.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import gc
import json
import os
import shutil
import time
import warnings
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.fields import ID, STORED, TEXT, Schema

from portal.search.analysis import chinese_analyzer

POINTER = "CURRENT"
POSITION = "outbox_position"
GAPS = "outbox_gaps"
RECONCILED = "reconciled_at"
VERIFIED = "verified_at"


class IndexUnavailable(Exception):
    """The index is missing or cannot be read."""


class LockBusy(Exception):
    """Another writer holds the lock."""


def make_schema(engine: str = "rjieba") -> Schema:
    analyzer = chinese_analyzer(engine)
    return Schema(
        key=ID(unique=True, stored=True),
        kind=ID(stored=True),
        # Shown or used for links only, never searched: stored, not indexed (fewer postings).
        record=STORED(),
        link=STORED(),
        category=STORED(),
        code=ID(stored=True),
        # Our own engine checks phrases against the stored text, so no positions are kept:
        # that makes indexing faster and the index smaller (docs/search.md).
        title=TEXT(analyzer=analyzer, stored=True, phrase=False, field_boost=3.0),
        # Chinese text; stored for phrase checks and announcement snippets, never shown for
        # structured records (their line is built from `facts` at render time).
        body=TEXT(analyzer=analyzer, stored=True, phrase=False),
        # English reference names (Zhengzhou, City indicators): searchable, not stored, not shown.
        names_en=TEXT(analyzer=analyzer, stored=False, phrase=False),
        # The values a structured record's result line is built from (quantity, price, status…).
        facts=STORED(),
        division=ID(stored=True),
        variety=ID(stored=True),
        year=ID(stored=True),
        date=ID(stored=True),
    )


@functools.cache
def schema_fields() -> frozenset[str]:
    return frozenset(make_schema().names())


class IndexStore:
    def __init__(self, root: str | os.PathLike, engine: str = "rjieba") -> None:
        self.root = Path(root)
        self.engine = engine
        self._opened: dict[str, object] = {}

    # ---- generations ------------------------------------------------------------------------

    def generation(self) -> str | None:
        try:
            name = (self.root / POINTER).read_text(encoding="ascii").strip()
        except (FileNotFoundError, UnicodeDecodeError):
            return None
        return name or None

    def open_index(self):
        """The live generation's Whoosh index; IndexUnavailable if missing or unreadable."""
        name = self.generation()
        if name is None:
            raise IndexUnavailable("no index")
        ix = self._opened.get(name)
        if ix is None:
            path = self.root / name
            failure = None
            # Whoosh leaves an unreadable file open when it fails; it is reclaimed here, quietly.
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ResourceWarning)
                try:
                    ix = whoosh_index.open_dir(str(path))
                    # Reading the table of contents and one reader proves the segments are there.
                    with ix.reader() as reader:
                        reader.doc_count()
                    # An index written with an older schema is rebuilt, like a missing one.
                    if set(ix.schema.names()) != schema_fields():
                        raise IndexUnavailable("schema changed; rebuilding")
                except Exception as error:  # noqa: BLE001 - any failure to open means "rebuild"
                    failure = f"{path}: {error!r}"
                if failure:
                    ix = None
                    gc.collect()
            if failure:
                raise IndexUnavailable(failure)
            self._opened = {name: ix}
        return ix

    def forget(self) -> None:
        self._opened = {}

    def _generations(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and p.name[:4] == "gen-")

    def new_generation(self) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        numbers = [int(name[4:]) for name in self._generations() if name[4:].isdigit()]
        path = self.root / f"gen-{(max(numbers, default=0) + 1):06d}"
        path.mkdir()
        return path

    def swap(self, path: Path) -> None:
        """Make `path` the live generation, atomically."""
        tmp = self.root / f"{POINTER}.{os.getpid()}.tmp"
        tmp.write_text(path.name, encoding="ascii")
        os.replace(tmp, self.root / POINTER)
        self.forget()
        self.cleanup()

    def cleanup(self) -> None:
        """Delete every generation older than the previous one, and abandoned half-built ones."""
        live = self.generation()
        names = self._generations()
        if live not in names:
            return
        keep = {live}
        older = [n for n in names if n < live]
        if older:
            keep.add(older[-1])
        for name in names:
            if name not in keep and name < live:
                shutil.rmtree(self.root / name, ignore_errors=True)

    # ---- positions in the outbox ------------------------------------------------------------

    def _read_int(self, path: Path) -> int:
        try:
            return int(path.read_text(encoding="ascii").strip() or 0)
        except (FileNotFoundError, ValueError):
            return 0

    def _write_text(self, path: Path, text: str) -> None:
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_text(text, encoding="ascii")
        os.replace(tmp, path)

    def position(self, path: Path | None = None) -> int:
        path = path or self.root / (self.generation() or "none")
        return self._read_int(path / POSITION)

    def set_position(self, value: int, path: Path | None = None) -> None:
        path = path or self.root / (self.generation() or "none")
        self._write_text(path / POSITION, str(value))

    def gaps(self, path: Path | None = None) -> dict[int, dict]:
        """Outbox ids below the position not seen yet: id → {"seen": epoch s, "xmax": xid or None}."""
        path = path or self.root / (self.generation() or "none")
        try:
            raw = json.loads((path / GAPS).read_text(encoding="ascii") or "{}")
        except (FileNotFoundError, ValueError):
            return {}
        return {int(k): v for k, v in raw.items()}

    def set_gaps(self, gaps: dict[int, dict], path: Path | None = None) -> None:
        path = path or self.root / (self.generation() or "none")
        self._write_text(path / GAPS, json.dumps({str(k): v for k, v in sorted(gaps.items())}))

    def low(self, path: Path | None = None) -> int:
        """Every outbox id up to this one is applied here or known never to commit."""
        gaps = self.gaps(path)
        return min(min(gaps) - 1, self.position(path)) if gaps else self.position(path)

    def reconciled_at(self) -> str:
        try:
            return (self.root / (self.generation() or "none") / RECONCILED).read_text().strip()
        except FileNotFoundError:
            return ""

    def set_reconciled_at(self, value: str, path: Path | None = None) -> None:
        path = path or self.root / (self.generation() or "none")
        self._write_text(path / RECONCILED, value)

    def verified_at(self) -> str:
        """When `flask search verify` last compared this server's index with the database."""
        try:
            return (self.root / VERIFIED).read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return ""

    def set_verified_at(self, value: str) -> None:
        self._write_text(self.root / VERIFIED, value)

    # ---- locks -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, name: str = "write.lock", timeout: float | None = 30.0):
        """Hold an exclusive fcntl lock; timeout=0 fails at once with LockBusy."""
        self.root.mkdir(parents=True, exist_ok=True)
        handle = open(self.root / name, "a+b")  # noqa: SIM115 - closed in finally
        try:
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise LockBusy(name) from None
                    time.sleep(0.02)
            yield
        finally:
            handle.close()

    # ---- writing -----------------------------------------------------------------------------

    def write(self, deletes: list[str], documents: list[dict], ix=None) -> None:
        """Delete `deletes` keys and write `documents` in one Whoosh commit (caller holds the lock)."""
        ix = ix or self.open_index()
        writer = ix.writer(timeout=30.0)
        try:
            for key in deletes:
                writer.delete_by_term("key", key)
            for document in documents:
                writer.update_document(**document)
        except BaseException:
            writer.cancel()
            raise
        writer.commit()

    def create(self, path: Path):
        return whoosh_index.create_in(str(path), make_schema(self.engine))
