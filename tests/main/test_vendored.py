import hashlib
import re
from pathlib import Path

VENDOR = Path(__file__).resolve().parents[2] / "portal" / "static" / "vendor"


def test_every_vendored_file_matches_its_recorded_sha256():
    table = (VENDOR / "VENDORED.md").read_text(encoding="utf-8")
    rows = re.findall(r"^\| ([\w.\-]+) \|.*\| ([0-9a-f]{64}) \|$", table, flags=re.M)
    assert rows, "VENDORED.md lists no files"
    listed = {name for name, _ in rows}
    on_disk = {p.name for p in VENDOR.iterdir() if p.name != "VENDORED.md"}
    assert listed == on_disk
    for name, digest in rows:
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
