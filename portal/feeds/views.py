"""Feeds beside each list (/listings/feed.atom…) and the subscription pages. Thin views."""

from __future__ import annotations

from flask import abort, current_app, flash, request, url_for
from flask_babel import get_locale

from portal.extensions import csrf, db, limiter
from portal.feeds import bp, subscriptions
from portal.feeds.forms import ConfirmForm, ForgetForm, FrequencyForm, SubscribeForm
from portal.feeds.services import FORMATS, as_aware, etag_of, render_feed
from portal.feeds.sources import BY_NAME, SOURCES, Located, canonical_query
from portal.feeds.subscriptions import SubscriptionError
from portal.i18n import gettext as _
from portal.i18n import is_english
from portal.i18n import lazy_gettext as _l
from portal.web import redirect_after_post, render

# Feed readers ask often; a shared cache may keep a feed this long (conditional GETs are cheap).
FEED_MAX_AGE = 300


TARGET_ERRORS = {
    "target": _l(
        "这个页面不能订阅。请从挂牌信息、成交公示、履约名单、通知公告或搜索结果页面上的“邮件订阅”进入。"
    ),
    "empty_search": _l("请先输入搜索内容，再订阅这次搜索。"),
    "frequency": _l("请选择发送频率。"),
}


def _feed(source_name: str, fmt: str, **view_args):
    """The feed of one list: the page's query, Atom or RSS, with ETag and Last-Modified (304)."""
    located = BY_NAME[source_name].locate(view_args, request.args)
    body, updated = render_feed(located, fmt, request.args)
    response = current_app.response_class(body, mimetype=FORMATS[fmt])
    response.set_etag(etag_of(body))
    response.last_modified = as_aware(updated).replace(microsecond=0)
    response.cache_control.public = True
    response.cache_control.max_age = FEED_MAX_AGE
    return response.make_conditional(request)


# The feed beside each list, at its path .atom and .rss; the endpoint is the source's name.
FEED_PATHS = {
    "announcements": "/news/feed",
    "listings": "/listings/feed",
    "trades": "/trades/feed",
    "compliance_lists": "/compliance/feed",
    "compliance": "/compliance/<int:year>/feed",
    "enterprises": "/enterprises/feed",
    "search": "/search/feed",
}


def _feed_view(source_name: str):
    def view(fmt: str, **view_args):
        return _feed(source_name, fmt, **view_args)

    view.__name__ = source_name
    return view


for _name, _path in FEED_PATHS.items():
    _view = _feed_view(_name)
    for _fmt in FORMATS:
        bp.add_url_rule(f"{_path}.{_fmt}", _name, _view, defaults={"fmt": _fmt})


def page_feed() -> dict | None:
    """The feeds and the mail subscription of the list page being shown, for its links; None on
    any other page. The filters are the page's query string, as the address bar shows it."""
    source = SOURCES.get(request.endpoint or "")
    if source is None:
        return None
    view_args = dict(request.view_args or {})
    query = canonical_query(request.args, source.arg_names())
    located = Located(source, view_args, request.args, filters=request.args.to_dict())
    feed_query = query
    if is_english() and not source.content_locale:
        feed_query = "&".join(filter(None, [query, "lang=en"]))
    suffix = f"?{feed_query}" if feed_query else ""
    page = url_for(source.endpoint, **view_args) + (f"?{query}" if query else "")
    subscribe = None
    if source.subscribable and (source.name != "search" or request.args.get("q", "").strip()):
        subscribe = url_for("feeds.subscribe", target=page)
    return {
        "title": source.title(located),
        "atom": url_for(f"feeds.{source.name}", fmt="atom", **view_args) + suffix,
        "rss": url_for(f"feeds.{source.name}", fmt="rss", **view_args) + suffix,
        "subscribe": subscribe,
    }


# ---- subscriptions ------------------------------------------------------------------------------


def _private(response):
    """Pages reached by a personal link: never cached, the link never sent on as a Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _located_or_error(target: str):
    try:
        return subscriptions.locate_target(target), None
    except SubscriptionError as error:
        return None, error.description or str(
            TARGET_ERRORS.get(error.code, TARGET_ERRORS["target"])
        )


@bp.route("/subscriptions/new", methods=["GET", "POST"])
@limiter.limit(
    lambda: current_app.config["SUBSCRIBE_RATE_LIMIT"],
    methods=["POST"],
    error_message=lambda: _("提交过于频繁，请稍后再试。"),
)
def subscribe():
    """Subscribe to the list named by `target` (the list's own address, filters included).

    Without a target the page says which lists can be followed and where their links are.
    """
    form = SubscribeForm()
    if request.method == "GET":
        form.target.data = request.args.get("target", "")
    located, problem, status = None, None, 200
    if form.target.data or request.method == "POST":
        located, problem = _located_or_error(form.target.data or "")
        status = 200 if located is not None else 400
    if located is not None and request.method == "POST":
        if form.validate_on_submit():
            subscriptions.subscribe(
                form.email.data, located, form.frequency.data, _current_locale()
            )
            db.session.commit()
            return redirect_after_post(url_for(".subscription_sent"))
        status = 400
    return render(
        "feeds/subscribe.html",
        form=form,
        located=located,
        what=subscriptions.describe(located) if located is not None else "",
        problem=problem,
        breadcrumbs=[(_("邮件订阅"), None)],
        status_code=status,
    )


def _current_locale() -> str:
    return str(get_locale())


@bp.get("/subscriptions/sent")
def subscription_sent():
    return render("feeds/sent.html", breadcrumbs=[(_("邮件订阅"), None)])


@bp.route("/subscriptions/confirm/<token>", methods=["GET", "POST"])
def confirm(token: str):
    subscription = subscriptions.subscription_for_confirm_token(token)
    if subscription is None:
        abort(
            404, description=_("确认链接无效或已过期（7 天内有效）。请回到要订阅的页面重新订阅。")
        )
    form = ConfirmForm()
    if request.method == "POST" and form.validate_on_submit():
        subscriptions.confirm(subscription)
        db.session.commit()
        flash(_("订阅已确认。有新信息时，我们会按您选择的频率发邮件。"), "success")
        return redirect_after_post(
            url_for(".manage", token=subscriptions.manage_token(subscription))
        )
    return _private(
        render(
            "feeds/confirm.html",
            form=form,
            subscription=subscription,
            what=_what(subscription),
            frequency=subscriptions.frequency_label(subscription.frequency),
            breadcrumbs=[(_("确认订阅"), None)],
        )
    )


def _what(subscription) -> str:
    try:
        return subscriptions.describe(subscriptions.locate_target(subscription.target))
    except SubscriptionError:
        return subscription.target


def _subscription_or_404(token: str):
    subscription = subscriptions.subscription_for_token(token)
    if subscription is None:
        abort(404, description=_("这个订阅不存在，可能已经退订。"))
    return subscription


@bp.get("/subscriptions/manage/<token>")
def manage(token: str):
    subscription = _subscription_or_404(token)
    form = FrequencyForm(frequency=subscription.frequency)
    return _private(_manage_page(subscription, token, form))


def _manage_page(subscription, token, form):
    return render(
        "feeds/manage.html",
        subscription=subscription,
        token=token,
        what=_what(subscription),
        form=form,
        forget_form=ForgetForm(),
        frequency=subscriptions.frequency_label(subscription.frequency),
        breadcrumbs=[(_("管理订阅"), None)],
    )


@bp.post("/subscriptions/manage/<token>/frequency")
def change_frequency(token: str):
    subscription = _subscription_or_404(token)
    form = FrequencyForm()
    if not form.validate_on_submit():
        response = _manage_page(subscription, token, form)
        response.status_code = 400
        return _private(response)
    subscriptions.change_frequency(subscription, form.frequency.data)
    db.session.commit()
    flash(_("发送频率已更改。"), "success")
    return redirect_after_post(url_for(".manage", token=token))


@bp.post("/subscriptions/manage/<token>/forget")
def forget(token: str):
    subscription = _subscription_or_404(token)
    if not ForgetForm().validate_on_submit():
        abort(400)
    count = subscriptions.forget_address(subscription)
    db.session.commit()
    return _private(render("feeds/unsubscribed.html", count=count, breadcrumbs=[(_("退订"), None)]))


@bp.route("/subscriptions/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # one-click (RFC 8058): the mail client POSTs with no page; the token is the proof
def unsubscribe(token: str):
    """GET asks with one button (a link scanner must not unsubscribe); POST unsubscribes."""
    subscription = _subscription_or_404(token)
    if request.method == "POST":
        subscriptions.unsubscribe(subscription)
        db.session.commit()
        return _private(render("feeds/unsubscribed.html", count=1, breadcrumbs=[(_("退订"), None)]))
    return _private(
        render(
            "feeds/unsubscribe.html",
            token=token,
            what=_what(subscription),
            breadcrumbs=[(_("退订"), None)],
        )
    )
