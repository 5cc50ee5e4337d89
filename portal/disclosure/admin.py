"""Back-office listings and trades: one at a time by form, or a batch with a dry-run preview."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import abort, current_app, flash, request, url_for
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from portal.access import MARKET_CLERKS, role_required
from portal.disclosure import admin_bp as bp
from portal.disclosure import entry as market
from portal.disclosure.forms import ImportForm, ListingForm, TradeForm
from portal.disclosure.labels import (
    LISTING_STATUS,
    SELLER_KIND,
    SETTLEMENT_STATUS,
    TRADE_METHOD,
)
from portal.extensions import db
from portal.forms import ConfirmForm
from portal.i18n import gettext as _
from portal.i18n import localized
from portal.reference.services import categories, varieties
from portal.registry.services import LedgerError
from portal.web import redirect_after_post, render


def _choices(mapping):
    return [SelectChoice(code, label) for code, label in mapping.items()]


def _fill(form):
    form.variety.choices = [SelectChoice(v.code, localized(v)) for v in varieties()]
    form.category.choices = [SelectChoice(c.code, localized(c)) for c in categories()]
    form.method.choices = _choices(TRADE_METHOD)
    if hasattr(form, "seller_kind"):
        form.seller_kind.choices = _choices(SELLER_KIND)
        form.status.choices = _choices(LISTING_STATUS)
    else:
        form.settlement_status.choices = _choices(SETTLEMENT_STATUS)


def _crumbs(last=None):
    crumbs = [
        (_("后台"), url_for("review.index")),
        (_("挂牌与成交录入"), url_for(".market") if last else None),
    ]
    return crumbs + ([(last, None)] if last else [])


@bp.get("/market", endpoint="market")
@role_required(MARKET_CLERKS)
def market_home():
    return render("disclosure/admin_market.html", import_form=_import_form(), breadcrumbs=_crumbs())


def _record_form(kind: str):
    form = ListingForm() if kind == "listings" else TradeForm()
    _fill(form)
    return form


@bp.route("/market/<any(listings, trades):kind>/new", methods=["GET", "POST"])
@role_required(MARKET_CLERKS)
def market_record(kind: str):
    form = _record_form(kind)
    if form.validate_on_submit():
        raw = {
            name: ("" if f.data is None else str(f.data).strip())
            for name, f in form._fields.items()
            if name != "csrf_token"
        }
        check = market.check_listing if kind == "listings" else market.check_trade
        values, errors = check(raw)
        for name, message in errors:
            target = getattr(form, name, None) or form.number
            target.errors = list(target.errors) + [message]
        if not errors:
            try:
                action, record = market.upsert(kind, values, actor=current_user)
            except Exception as error:
                if not isinstance(error, LedgerError):
                    raise
                db.session.rollback()
                form.quantity.errors = [_("卖方登记簿余额不足，不能登记这笔成交。")]
            else:
                db.session.commit()
                flash(
                    {
                        "create": _("已录入 %(number)s。", number=record.number),
                        "update": _("已更新 %(number)s。", number=record.number),
                        "unchanged": _(
                            "%(number)s 与已登记的内容相同，没有变化。", number=record.number
                        ),
                    }[action],
                    "success",
                )
                return redirect_after_post(url_for(".market_record", kind=kind))
    return render(
        "disclosure/admin_record.html",
        form=form,
        kind=kind,
        breadcrumbs=_crumbs(_("录入挂牌") if kind == "listings" else _("录入成交")),
        status_code=400 if request.method == "POST" else 200,
    )


def _import_form():
    form = ImportForm()
    form.kind.choices = [
        SelectChoice("listings", _("挂牌信息")),
        SelectChoice("trades", _("成交信息")),
    ]
    return form


def _import_dir() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]) / "imports"


def _stored_import(token: str) -> tuple[str, bytes]:
    """The file a preview kept: token is '<sha256>.<ext>'."""
    digest, _dot, ext = token.partition(".")
    if (
        len(digest) != 64
        or any(c not in "0123456789abcdef" for c in digest)
        or ext not in ("csv", "xlsx", "json")
    ):
        abort(400, description=_("导入文件标识无效，请重新上传。"))
    path = _import_dir() / token
    if not path.is_file():
        abort(410, description=_("预览已过期，请重新上传文件。"))
    return f"import.{ext}", path.read_bytes()


@bp.post("/market/import")
@role_required(MARKET_CLERKS)
def import_preview():
    """Read the file and show what would happen, row by row; write nothing yet."""
    form = _import_form()
    upload = request.files.get("file")
    if form.validate_on_submit() and (upload is None or not upload.filename):
        form.file.errors = [_("请选择要导入的文件。")]
    if form.errors or not form.validate_on_submit():
        return render(
            "disclosure/admin_market.html", import_form=form, breadcrumbs=_crumbs(), status_code=400
        )
    data = upload.read(current_app.config["MAX_UPLOAD_MB"] * 1024 * 1024 + 1)
    ext = Path(upload.filename or "").suffix.lower().lstrip(".")
    try:
        rows = market.read_rows(upload.filename, data)
    except market.ImportFileError as error:
        form.file.errors = [error.message]
        return render(
            "disclosure/admin_market.html", import_form=form, breadcrumbs=_crumbs(), status_code=400
        )
    token = f"{hashlib.sha256(data).hexdigest()}.{ext}"
    _import_dir().mkdir(parents=True, exist_ok=True)
    (_import_dir() / token).write_bytes(data)
    result = market.preview(form.kind.data, rows)
    db.session.rollback()
    return render(
        "disclosure/admin_import_preview.html",
        result=result,
        token=token,
        kind=form.kind.data,
        filename=upload.filename,
        confirm=ConfirmForm(),
        applied=False,
        breadcrumbs=_crumbs(_("导入预览")),
    )


@bp.post("/market/import/apply")
@role_required(MARKET_CLERKS)
def import_apply():
    confirm = ConfirmForm()
    kind = request.form.get("kind")
    if not confirm.validate_on_submit() or kind not in market.KINDS:
        abort(400, description=_("请求无效，请重新上传文件。"))
    name, data = _stored_import(request.form.get("token", ""))
    try:
        rows = market.read_rows(name, data)
    except market.ImportFileError as error:
        abort(400, description=error.message)
    result = market.apply(kind, rows, actor=current_user)
    db.session.commit()
    return render(
        "disclosure/admin_import_preview.html",
        result=result,
        token=None,
        kind=kind,
        filename=request.form.get("filename", ""),
        confirm=confirm,
        applied=True,
        breadcrumbs=_crumbs(_("导入结果")),
    )
