"""The tests' copy of the demo data set (tests/demo_copy.py) is the load, row for row and file for
file, and the database takes new rows after it."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

from demo.reset import empty_tables
from portal.extensions import db
from tests import demo_copy, factories


def _files(app) -> dict[str, str]:
    found = {}
    for name in demo_copy.FOLDERS:
        root = Path(app.config[name])
        for path in sorted(root.rglob("*")):
            if path.is_file():
                found[f"{name}/{path.relative_to(root)}"] = hashlib.sha256(
                    path.read_bytes()
                ).hexdigest()
    return found


def test_a_copy_of_the_demo_has_the_rows_and_files_of_the_load(app, demo_data, tmp_path):
    with app.app_context(), db.engine.connect() as connection:
        loaded = demo_copy.table_rows(connection)
    files = _files(app)
    assert sum(len(rows) for _table, rows in loaded) > 10_000
    assert files

    with app.app_context():
        db.session.remove()
        with db.engine.begin() as connection:
            empty_tables(connection, db.metadata)
    for name in demo_copy.FOLDERS:
        shutil.rmtree(app.config[name])
    demo_copy.put_demo(app, tmp_path)  # the worker's copy, made by this test or an earlier one

    with app.app_context(), db.engine.connect() as connection:
        copied = demo_copy.table_rows(connection)
    assert [table.name for table, _rows in copied] == [table.name for table, _rows in loaded]
    for (table, rows), (_same, rows_loaded) in zip(copied, loaded, strict=True):
        assert rows == rows_loaded, table.name
    assert _files(app) == files

    # New rows get new ids: the id sequences are past the copied rows.
    with app.app_context():
        factories.enterprise("示例复制后新增化工有限公司", "410100", "chemical")
        db.session.commit()
