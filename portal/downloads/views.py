"""Open-data pages: what can be downloaded, what each field means, how it may be reused."""

from __future__ import annotations

from flask import abort, current_app, send_file, url_for

from portal.downloads import bp, services
from portal.exports import LICENCE_LEGALCODE, LICENCE_NAME, LICENCE_TITLE, LICENCE_URL
from portal.i18n import file_size
from portal.i18n import gettext as _
from portal.urls import public_url
from portal.web import render

# Where each dataset's full list downloads: the CSV and the XLSX endpoint of its page, with their
# arguments. The others are in the daily archive (and the compliance lists per period).
DOWNLOADS = {
    **{
        kind: (
            ("disclosure.export_csv", {"kind": kind}),
            ("disclosure.export_xlsx", {"kind": kind}),
        )
        for kind in ("listings", "trades", "enterprises")
    },
    "statistics-monthly": tuple(
        ("disclosure.statistics_monthly_export", {"file_format": fmt, "period": "all"})
        for fmt in ("csv", "xlsx")
    ),
}


def _licence() -> dict:
    return {
        "name": LICENCE_NAME,
        "title": LICENCE_TITLE,
        "url": LICENCE_URL,
        "legalcode": LICENCE_LEGALCODE,
    }


def dataset_json_ld(dataset, page: str) -> dict:
    """schema.org Dataset for one public dataset, with its downloads as DataDownload."""
    distribution = []
    if dataset.name in DOWNLOADS:
        (csv_endpoint, csv_args), (xlsx_endpoint, xlsx_args) = DOWNLOADS[dataset.name]
        distribution = [
            {
                "@type": "DataDownload",
                "encodingFormat": "text/csv",
                "contentUrl": public_url(csv_endpoint, **csv_args),
            },
            {
                "@type": "DataDownload",
                "encodingFormat": (
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
                ),
                "contentUrl": public_url(xlsx_endpoint, **xlsx_args),
            },
        ]
    organization = {"@id": public_url("main.home") + "#organization"}
    return {
        "@context": "https://schema.org",
        "@type": "Dataset",
        "name": str(dataset.title),
        "description": str(dataset.description),
        "url": public_url(page),
        "license": LICENCE_URL,
        "isAccessibleForFree": True,
        "keywords": list(dataset.keywords),
        "creator": organization,
        "publisher": organization,
        "variableMeasured": [str(column.header) for column in dataset.columns],
        "distribution": distribution,
    }


@bp.get("")
def index():
    datasets = [(dataset, page) for dataset, page in services.DATASETS]
    catalog = {
        "@context": "https://schema.org",
        "@type": "DataCatalog",
        "name": _("开放数据"),
        "url": public_url("downloads.index"),
        "license": LICENCE_URL,
        "publisher": {"@id": public_url("main.home") + "#organization"},
        "dataset": [dataset_json_ld(dataset, page) for dataset, page in datasets],
    }
    return render(
        "downloads/index.html",
        datasets=datasets,
        downloads=DOWNLOADS,
        archives=services.list_archives()[:1],
        licence=_licence(),
        json_ld=catalog,
        breadcrumbs=[(_("开放数据"), None)],
    )


@bp.get("/dictionary")
def dictionary():
    return render(
        "downloads/dictionary.html",
        datasets=[dataset for dataset, _page in services.DATASETS],
        breadcrumbs=[(_("开放数据"), url_for(".index")), (_("数据字典"), None)],
    )


@bp.get("/licence")
def licence():
    return render(
        "downloads/licence.html",
        licence=_licence(),
        breadcrumbs=[(_("开放数据"), url_for(".index")), (_("数据使用许可"), None)],
    )


@bp.get("/archives")
def archives():
    return render(
        "downloads/archives.html",
        archives=services.list_archives(),
        file_size=file_size,
        keep=current_app.config["ARCHIVE_KEEP"],
        breadcrumbs=[(_("开放数据"), url_for(".index")), (_("全量数据包"), None)],
    )


@bp.get("/archives/<name>")
def archive(name: str):
    found = services.find_archive(name)
    if found is None:
        abort(404, description=_("没有这个数据包；请在全量数据包页面选择一个日期。"))
    response = send_file(
        found.path,
        mimetype="application/zip",
        as_attachment=True,
        download_name=found.name,
        conditional=True,
        etag=found.sha256 or True,
    )
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
