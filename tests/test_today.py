"""The portal's today is Beijing's (`portal.web.current_date`), not the server's clock's.

From 16:00 to 24:00 UTC the two are a day apart: the demo recorded a payment on the server's
date, before the notice it paid (issued on Beijing's), and the load failed; a closure dated
today in Beijing was refused as in the future.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SERVER_TODAY = re.compile(r"\b(?:date\.today|datetime\.date\.today)\(\)")
# Outside an app there is no configured time zone: the one place that falls back to the clock.
ALLOWED = {"portal/benchmarks/services.py": "has_app_context()"}


def test_no_code_takes_today_from_the_servers_clock():
    found = []
    for folder in ("portal", "demo"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            name = path.relative_to(ROOT).as_posix()
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if SERVER_TODAY.search(line) and ALLOWED.get(name, "\0") not in line:
                    found.append(f"{name}:{number}: {line.strip()}")
    assert not found, "use portal.web.current_date() for today:\n" + "\n".join(found)
