"""The public datasets as files: which rows each holds, and the daily archive of all of them."""

from __future__ import annotations

import csv
import hashlib
import io
import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

from flask import current_app
from sqlalchemy import select

from portal.benchmarks import exports as benchmarks
from portal.compliance import exports as compliance
from portal.compliance.models import CompliancePeriod, ComplianceRecord
from portal.disclosure import exports as market
from portal.disclosure import services as disclosure
from portal.disclosure import statistics as stats
from portal.exports import (
    LICENCE_TITLE,
    LICENCE_URL,
    Dataset,
    about_rows,
    csv_chunks,
    write_xlsx,
)
from portal.extensions import db
from portal.i18n import gettext as _
from portal.news import exports as news
from portal.news.services import filter_announcements
from portal.urls import public_url
from portal.web import current_date

ARCHIVE_NAME = re.compile(r"^ynq-open-data-(\d{4}-\d{2}-\d{2})\.zip$")

# Every public dataset: its columns, and the list page whose rows (without filters) it holds.
DATASETS: tuple[tuple[Dataset, str], ...] = (
    (market.LISTINGS, "disclosure.listings"),
    (market.TRADES, "disclosure.trades"),
    (compliance.COMPLIANCE_RECORDS, "compliance.index"),
    (market.ENTERPRISES, "disclosure.enterprises"),
    (news.ANNOUNCEMENTS, "news.index"),
    (market.MONTHLY_STATISTICS, "disclosure.statistics"),
    (market.DAILY_STATISTICS, "disclosure.statistics_daily"),
    (benchmarks.BENCHMARKS, "benchmarks.index"),
)


def dataset_rows(name: str):
    """The select of every public row of a dataset, in the order of its page."""
    if name == "listings":
        stmt, _count = disclosure.listings_query({})
    elif name == "trades":
        stmt, _count = disclosure.trades_query({})
    elif name == "compliance":
        # Every published period, newest first; within a period the page's order (by name).
        stmt = (
            select(ComplianceRecord)
            .join(ComplianceRecord.enterprise)
            .join(CompliancePeriod, CompliancePeriod.year == ComplianceRecord.period_year)
            .where(CompliancePeriod.published_at.is_not(None))
            .order_by(
                ComplianceRecord.period_year.desc(), ComplianceRecord.sort_name, ComplianceRecord.id
            )
        )
        return stmt.options(*compliance.LOADS)
    elif name == "enterprises":
        stmt, _count = disclosure.enterprises_query({})
    elif name == "announcements":
        stmt, _count = filter_announcements()
        return stmt
    elif name == "benchmarks":
        return benchmarks.rows_stmt()
    else:
        raise KeyError(name)
    return stmt.options(*market.LOADS[name])


def dataset_iter(name: str):
    """Every public row of a dataset, streamed: the rows of `dataset_rows`, or for the statistics
    the months since the market opened and every trading day's report, market-wide."""
    if name == market.MONTHLY_STATISTICS.name:
        opened = stats.first_trading_day()
        if opened is None:
            return iter(())
        last = max(current_date(), stats.last_trading_day() or opened)
        return market.monthly_rows(stats.monthly(stats.Scope(), opened, last), stats.Scope())
    if name == market.DAILY_STATISTICS.name:
        return (
            row
            for day, by_category, by_division in stats.every_day()
            for row in market.daily_rows(day, by_category, by_division)
        )
    return db.session.scalars(dataset_rows(name).execution_options(yield_per=1000))


@dataclass(frozen=True)
class Archive:
    path: Path
    day: date
    size: int
    sha256: str

    @property
    def name(self) -> str:
        return self.path.name


def archive_folder() -> Path:
    return Path(current_app.config["ARCHIVE_DIR"])


def _stored(name: str, when: datetime) -> zipfile.ZipInfo:
    """A member stored as it is: an XLSX file is a zip already, compressing it again gains nothing."""
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_STORED
    return info


def _deflated(name: str, when: datetime) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=when.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def write_archive(day: date, folder: Path | None = None, keep: int | None = None) -> Archive:
    """Write `ynq-open-data-<day>.zip`: each dataset as CSV and XLSX, the data dictionary and a
    README with the licence. Written under a temporary name and renamed, so a reader never sees
    half a file; the SHA-256 goes beside it. Run inside a request context (labels, URLs)."""
    folder = folder or archive_folder()
    keep = current_app.config["ARCHIVE_KEEP"] if keep is None else keep
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    target = folder / f"ynq-open-data-{day.isoformat()}.zip"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".archive-", suffix=".zip")
    counts: dict[str, int] = {}
    try:
        with os.fdopen(handle, "wb") as raw, zipfile.ZipFile(raw, "w") as archive:
            for dataset, page in DATASETS:
                rows = dataset_iter(dataset.name)
                with archive.open(_deflated(f"{dataset.name}.csv", now), "w") as member:
                    for chunk in csv_chunks(dataset.columns, rows):
                        member.write(chunk.encode("utf-8"))
                about = about_rows(dataset, [], public_url(page))
                with tempfile.TemporaryFile() as spool:
                    rows = dataset_iter(dataset.name)
                    counts[dataset.name] = write_xlsx(
                        spool, dataset.columns, rows, about, str(dataset.title)
                    )
                    spool.seek(0)
                    with archive.open(_stored(f"{dataset.name}.xlsx", now), "w") as member:
                        shutil.copyfileobj(spool, member, 1024 * 1024)
                db.session.expunge_all()
            archive.writestr(_deflated("dictionary.csv", now), dictionary_csv())
            archive.writestr(_deflated("README.txt", now), readme(now, counts))
        digest = _sha256(Path(temporary))
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    target.with_name(target.name + ".sha256").write_text(f"{digest}  {target.name}\n", "ascii")
    prune_archives(folder, keep)
    return Archive(target, day, target.stat().st_size, digest)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def dictionary_csv() -> str:
    """The data dictionary as CSV: one line per column of every dataset."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(
        [_("数据集"), _("列名"), _("字段名"), _("类型"), _("单位"), _("来源"), _("说明")]
    )
    for dataset, _page in DATASETS:
        for column in dataset.columns:
            writer.writerow(
                [
                    dataset.name,
                    str(column.header),
                    column.key,
                    str(column.kind_label),
                    str(column.unit or ""),
                    str(column.source or dataset.source),
                    str(column.description or ""),
                ]
            )
    return buffer.getvalue()


def readme(now: datetime, counts: dict[str, int]) -> str:
    site = current_app.config["SITE_NAME"]
    lines = [
        site,
        _("开放数据全量包"),
        "",
        _("生成时间：%(time)s（UTC）", time=now.strftime("%Y-%m-%d %H:%M:%S")),
        _("许可协议：%(licence)s，%(url)s", licence=LICENCE_TITLE, url=LICENCE_URL),
        _("署名方式：来源：%(site)s（%(url)s）", site=site, url=public_url("main.home")),
        _("字段说明：dictionary.csv，或 %(url)s", url=public_url("downloads.dictionary")),
        "",
    ]
    for dataset, _page in DATASETS:
        lines.append(
            _(
                "%(name)s.csv / %(name)s.xlsx：%(title)s，%(count)s 条",
                name=dataset.name,
                title=dataset.title,
                count=counts.get(dataset.name, 0),
            )
        )
    return "\r\n".join(lines) + "\r\n"


def list_archives(folder: Path | None = None) -> list[Archive]:
    """The archives present, newest first."""
    folder = folder or archive_folder()
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = ARCHIVE_NAME.match(path.name)
        if not match or not path.is_file():
            continue
        side = path.with_name(path.name + ".sha256")
        digest = side.read_text("ascii").split()[0] if side.is_file() else ""
        found.append(Archive(path, date.fromisoformat(match.group(1)), path.stat().st_size, digest))
    return sorted(found, key=lambda archive: archive.day, reverse=True)


def prune_archives(folder: Path, keep: int) -> None:
    for archive in list_archives(folder)[max(keep, 1) :]:
        archive.path.unlink(missing_ok=True)
        archive.path.with_name(archive.name + ".sha256").unlink(missing_ok=True)


def find_archive(name: str) -> Archive | None:
    """The archive of that file name, if it exists; any other name is None (no path walking)."""
    if not ARCHIVE_NAME.match(name):
        return None
    return next((a for a in list_archives() if a.name == name), None)
