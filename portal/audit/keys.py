"""The audit chain's key: each entry's hash is an HMAC-SHA256 under a key kept outside the database.

Whoever can write the database can still edit an entry and recompute plain hashes; without the key
they cannot make it verify. The key comes from the setting AUDIT_HMAC_KEY, or, when that is unset,
from `audit_key` in the instance folder (PORTAL_INSTANCE_DIR), generated once. Each entry stores
the id of its key, so after a rotation the older entries verify with the keys listed in
AUDIT_HMAC_OLD_KEYS (comma-separated).
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from portal.config import ROOT

KEY_FILE = "audit_key"
MIN_KEY_LENGTH = 32
# The key id of entries written before the chain had a key (plain SHA-256): `flask audit rekey`.
UNKEYED = "sha256"


class AuditKeyError(RuntimeError):
    """The audit key is missing, too short, or cannot be stored."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]

    @property
    def current(self) -> bytes:
        return self.keys[self.current_id]


def key_id(key: bytes) -> str:
    """A short public name for a key (it reveals nothing of the key)."""
    return hashlib.sha256(b"portal audit key id\x00" + key).hexdigest()[:12]


def instance_dir() -> Path:
    """The instance folder, as config.py names it: PORTAL_INSTANCE_DIR, else ./instance."""
    return Path(os.environ.get("PORTAL_INSTANCE_DIR") or ROOT / "instance")


def _checked(raw: str, source: str) -> bytes:
    key = raw.strip()
    if len(key) < MIN_KEY_LENGTH:
        raise AuditKeyError(f"{source}: the audit key must be at least {MIN_KEY_LENGTH} characters")
    return key.encode("utf-8")


def key_from_file(path: Path) -> bytes:
    """Read the key file, creating it first (mode 600, atomically) when it does not exist.

    Two processes starting at once both write a temporary file, and os.link() lets only the first
    become the key; the other reads that one. A key file is never overwritten.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{KEY_FILE}.")
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, (secrets.token_hex(32) + "\n").encode("ascii"))
            os.fsync(fd)
            os.close(fd)
            fd = -1
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process made the key first: use that one
        finally:
            if fd >= 0:
                os.close(fd)
            os.unlink(temporary)
    return _checked(path.read_text(encoding="utf-8"), str(path))


def load_keyring(config) -> Keyring:
    """The current key (AUDIT_HMAC_KEY, else the instance key file) and the old ones."""
    configured = config.get("AUDIT_HMAC_KEY") or ""
    if configured:
        current = _checked(configured, "AUDIT_HMAC_KEY")
    else:
        current = key_from_file(instance_dir() / KEY_FILE)
    keys = {}
    for raw in (config.get("AUDIT_HMAC_OLD_KEYS") or "").split(","):
        if raw.strip():
            old = _checked(raw, "AUDIT_HMAC_OLD_KEYS")
            keys[key_id(old)] = old
    keys[key_id(current)] = current
    return Keyring(key_id(current), keys)


def keyring() -> Keyring:
    """The app's keyring, read once per app."""
    ring = current_app.extensions.get("audit_keyring")
    if ring is None:
        ring = current_app.extensions["audit_keyring"] = load_keyring(current_app.config)
    return ring
