"""Account pages: thin views over accounts.services."""

from __future__ import annotations

import segno
from flask import abort, current_app, flash, redirect, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from portal.access import acts_for
from portal.accounts import bp, identity, services
from portal.accounts.access import (
    PENDING_NEXT,
    TOTP_SESSION_KEY,
    enterprise_admin_required,
    enterprise_required,
    pending_next,
    pending_user,
    second_factor_url,
    start_pending,
)
from portal.accounts.crypto import decrypt_secret, encrypt_secret
from portal.accounts.forms import (
    AcceptInvitationForm,
    AccessRequestForm,
    EmptyForm,
    ForgotPasswordForm,
    InviteForm,
    LoginForm,
    RegistrationForm,
    ResetPasswordForm,
    SecondFactorForm,
    TotpDisableForm,
    TotpRebindForm,
    TotpSetupForm,
)
from portal.accounts.models import Notice, User
from portal.extensions import db, limiter
from portal.i18n import gettext as _
from portal.i18n import localized
from portal.mail import outbox_page_open, read_outbox
from portal.reference.models import Division, Industry
from portal.urls import safe_next
from portal.web import enterprise_crumbs, redirect_after_post, render

# The new authenticator's secret while the person enrols, encrypted like the stored one.
TOTP_SETUP_KEY = "totp_setup_secret"
LIMIT_LOGIN = "10 per minute;60 per hour"
LIMIT_FORMS = "5 per minute;30 per hour"


def _next(default: str) -> str:
    return safe_next(request.values.get("next"), default)


def _home_for(user: User) -> str:
    if user.role == "enterprise":
        # An account that acts for no unit yet sees only its identity application.
        if not acts_for(user, user.enterprise_id):
            return url_for("accounts.application")
        return url_for("enterprise.dashboard")
    return url_for("review.index")


# ---------------------------------------------------------------- registration


def _reference_choices():
    divisions = db.session.scalars(select(Division).order_by(Division.code))
    industries = db.session.scalars(select(Industry).order_by(Industry.sort_order))
    return (
        [(d.code, localized(d)) for d in divisions],
        [(i.code, localized(i)) for i in industries],
    )


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit(LIMIT_FORMS, methods=["POST"])
def register():
    divisions, industries = _reference_choices()
    form = RegistrationForm(divisions=divisions, industries=industries)
    if form.validate_on_submit():
        try:
            identity.register_enterprise(
                identity.Registration(
                    uscc=form.uscc.data,
                    name=form.name.data,
                    division_code=form.division.data,
                    industry_code=form.industry.data,
                    address=form.address.data,
                    contact_name=form.contact_name.data,
                    mobile=form.mobile.data,
                    email=form.email.data,
                    password=form.password.data,
                    transfer=bool(form.transfer.data),
                )
            )
        except identity.IdentityError as refused:
            # The unit got an administrator between the form's check and this one.
            db.session.rollback()
            form.uscc.errors.append(refused.message)
        else:
            db.session.commit()
            # The same page whether or not the address already had an account.
            session["registered_email"] = form.email.data
            return redirect_after_post(url_for("accounts.register_sent"))
    duplicate = form.uscc_already_registered
    return render(
        "accounts/register.html",
        form=form,
        duplicate_uscc=form.uscc.data if duplicate else None,
        breadcrumbs=[(_("企业注册"), None)],
    ), (422 if form.errors else 200)


@bp.get("/register/sent")
def register_sent():
    return render(
        "accounts/register_sent.html",
        email=session.get("registered_email", ""),
        outbox=outbox_page_open(current_app),
        breadcrumbs=[(_("企业注册"), None)],
    )


@bp.get("/verify/<token>")
def verify_email(token: str):
    user = services.verify_email(token)
    db.session.commit()
    if user is None:
        return render("accounts/verify_failed.html", breadcrumbs=[(_("验证邮箱"), None)]), 400
    flash(_("邮箱验证成功，请登录。"), "success")
    return redirect(url_for("accounts.login"), code=303)


@bp.route("/access-request", methods=["GET", "POST"])
@limiter.limit(LIMIT_FORMS, methods=["POST"])
def access_request():
    form = AccessRequestForm(uscc=request.args.get("uscc", ""))
    if form.validate_on_submit():
        services.request_access(
            form.uscc.data, form.name.data, form.email.data, form.phone.data, form.message.data
        )
        db.session.commit()
        flash(
            _("申请已提交。如该企业已开通账号，其管理员会收到通知，并通过邮件邀请您。"), "success"
        )
        return redirect_after_post(url_for("accounts.login"))
    return render(
        "accounts/access_request.html",
        form=form,
        breadcrumbs=[(_("申请加入企业账号"), None)],
    ), (422 if form.errors else 200)


# ---------------------------------------------------------------- login


def _sign_in(user: User, totp_passed: bool) -> None:
    """Start a fresh session for `user` (only once every factor they owe is passed)."""
    session.clear()
    login_user(user)
    session[TOTP_SESSION_KEY] = totp_passed
    services.record_login(user)
    db.session.commit()


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(LIMIT_LOGIN, methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(_home_for(current_user))
    form = LoginForm()
    error = None
    if request.method == "GET" and request.args.get("next"):
        waiting = pending_user()
        if waiting is not None:
            # A page sent a user half-way through signing in here: the second factor comes next.
            return redirect(second_factor_url(waiting, _next("") or pending_next()))
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data)
        db.session.commit()
        next_url = _next("")
        if result.ok and (result.needs_totp or result.user.is_back_office):
            start_pending(result.user, next_url)
            if result.user.totp_enabled_at is None:
                flash(_("后台账号须启用双因素认证（动态验证码），请先完成设置。"), "error")
                return redirect_after_post(url_for("accounts.totp_setup"))
            return redirect_after_post(url_for("accounts.second_factor"))
        if result.ok:
            _sign_in(result.user, False)
            return redirect_after_post(next_url or _home_for(result.user))
        if result.unverified:
            services.send_verification(result.user)
            db.session.commit()
            error = _("您的邮箱尚未验证。我们已重新发送验证邮件，请点击邮件中的链接后再登录。")
        else:
            error = _(
                "邮箱或密码不正确，或账号已被临时锁定。连续 5 次失败将锁定 30 分钟；忘记密码可点击“忘记密码”。"
            )
    return render(
        "accounts/login.html",
        form=form,
        error=error,
        next=_next(""),
        breadcrumbs=[(_("登录"), None)],
    ), (422 if (error or form.errors) else 200)


@bp.route("/login/second-factor", methods=["GET", "POST"])
@limiter.limit(LIMIT_LOGIN, methods=["POST"])
def second_factor():
    user = pending_user()
    if user is None:
        return redirect(url_for("accounts.login"))
    if user.totp_enabled_at is None:
        return redirect(url_for("accounts.totp_setup"))
    if request.args.get("next"):
        session[PENDING_NEXT] = _next("")
    form = SecondFactorForm()
    if form.validate_on_submit():
        if user.locked_until and user.locked_until > services.now():
            form.code.errors.append(_("尝试次数过多，账号已临时锁定 30 分钟。"))
        elif services.verify_second_factor(user, form.code.data):
            next_url = pending_next()
            _sign_in(user, True)
            return redirect_after_post(next_url or _home_for(user))
        else:
            services.register_failure(user)
            db.session.commit()
            form.code.errors.append(
                _("验证码不正确、已过期或已使用过，请等下一个验证码出现后重试。")
            )
    return render("accounts/second_factor.html", form=form, breadcrumbs=[(_("登录"), None)]), (
        422 if form.errors else 200
    )


@bp.post("/logout")
def logout():
    form = EmptyForm()
    if form.validate_on_submit() and current_user.is_authenticated:
        services.end_sessions(current_user)
        db.session.commit()
        logout_user()
    session.clear()
    flash(_("您已安全退出。"), "success")
    return redirect_after_post(url_for("main.home"))


@bp.post("/security/logout-everywhere")
def logout_everywhere():
    gate = _signed_in()
    if gate:
        return gate
    form = EmptyForm()
    if not form.validate_on_submit():
        abort(400)
    services.end_sessions(current_user, everywhere=True)
    db.session.commit()
    logout_user()
    session.clear()
    flash(_("已在所有设备上退出登录，包括本设备。请重新登录。"), "success")
    return redirect_after_post(url_for("accounts.login"))


# ---------------------------------------------------------------- password reset


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit(LIMIT_FORMS, methods=["POST"])
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        services.start_password_reset(form.email.data)
        db.session.commit()
        flash(_("如果该邮箱已注册，您将收到一封重置密码的邮件，链接 1 小时内有效。"), "success")
        return redirect_after_post(url_for("accounts.login"))
    return render(
        "accounts/forgot_password.html", form=form, breadcrumbs=[(_("忘记密码"), None)]
    ), (422 if form.errors else 200)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit(LIMIT_FORMS, methods=["POST"])
def reset_password(token: str):
    user = services.user_for_reset_token(token)
    if user is None:
        return render("accounts/reset_failed.html", breadcrumbs=[(_("重置密码"), None)]), 400
    form = ResetPasswordForm()
    if form.validate_on_submit():
        services.set_password(user, form.password.data)
        if user.email_verified_at is None:
            user.email_verified_at = services.now()  # the link reached this address
        db.session.commit()
        logout_user()
        session.clear()
        flash(_("密码已更新，请用新密码登录。"), "success")
        return redirect_after_post(url_for("accounts.login"))
    return render("accounts/reset_password.html", form=form, breadcrumbs=[(_("重置密码"), None)]), (
        422 if form.errors else 200
    )


# ---------------------------------------------------------------- security: TOTP


def _signed_in():
    if not current_user.is_authenticated:
        return redirect(url_for("accounts.login", next=request.path))
    return None


@bp.get("/security")
def security():
    gate = _signed_in()
    if gate:
        return gate
    return render(
        "accounts/security.html",
        codes_left=services.recovery_codes_left(current_user),
        disable_form=TotpDisableForm(),
        breadcrumbs=[(_("账号安全"), None)],
    )


def _setup_secret() -> str:
    """The secret being enrolled, kept encrypted in the session until the code proves it."""
    token = session.get(TOTP_SETUP_KEY)
    secret = decrypt_secret(token) if token else None
    if not secret:
        secret = services.new_totp_secret()
        session[TOTP_SETUP_KEY] = encrypt_secret(secret)
    return secret


@bp.route("/security/totp", methods=["GET", "POST"])
def totp_setup():
    """Enrol TOTP: a signed-in user, or a back-office user half-way through signing in (pending).
    Binding a new authenticator when one is enrolled (?codes=1) needs a code from the current one."""
    user = current_user if current_user.is_authenticated else pending_user()
    if user is None:
        return redirect(url_for("accounts.login", next=request.path))
    pending = not current_user.is_authenticated
    rebinding = user.totp_enabled_at is not None
    if rebinding and (pending or not request.args.get("codes")):
        return redirect(
            url_for("accounts.second_factor") if pending else url_for("accounts.security")
        )
    secret = _setup_secret()
    form = TotpRebindForm() if rebinding else TotpSetupForm()
    if form.validate_on_submit():
        step = services.totp_step(secret, form.code.data)
        if rebinding and not services.verify_second_factor(user, form.current_code.data):
            form.current_code.errors.append(
                _(
                    "当前验证器的验证码不正确或已使用过。更换验证器需要先输入当前的动态验证码或一个恢复码。"
                )
            )
        elif step is None:
            form.code.errors.append(_("验证码不正确，请确认手机时间准确后重试。"))
        else:
            next_url = pending_next() if pending else _next("")
            codes = services.enable_totp(user, secret, step)
            db.session.commit()
            session.pop(TOTP_SETUP_KEY, None)
            if pending:
                _sign_in(user, True)  # the enrolment code was the second factor
            else:
                session[TOTP_SESSION_KEY] = True
            return render(
                "accounts/recovery_codes.html",
                codes=codes,
                next=next_url or _home_for(user),
                breadcrumbs=[(_("账号安全"), url_for("accounts.security")), (_("恢复码"), None)],
            )
    uri = services.totp_uri(user, secret)
    qr = segno.make(uri, error="m").svg_data_uri(scale=4)
    return render(
        "accounts/totp_setup.html",
        form=form,
        secret=secret,
        qr=qr,
        next=_next(""),
        codes=request.args.get("codes") if rebinding else None,
        breadcrumbs=[(_("账号安全"), url_for("accounts.security")), (_("启用动态验证码"), None)],
    ), (422 if form.errors else 200)


@bp.post("/security/totp/disable")
def totp_disable():
    """Turn TOTP off (enterprise users only): needs the password and a current code."""
    gate = _signed_in()
    if gate:
        return gate
    form = TotpDisableForm()
    if current_user.is_back_office:
        flash(_("后台账号必须保持双因素认证。"), "error")
        return redirect_after_post(url_for("accounts.security"))
    if (
        form.validate_on_submit()
        and services.check_password(current_user, form.password.data)
        and services.verify_second_factor(current_user, form.code.data)
    ):
        services.disable_totp(current_user)
        db.session.commit()
        flash(_("已关闭动态验证码。"), "success")
    else:
        flash(_("密码或动态验证码不正确，动态验证码未关闭。"), "error")
    return redirect_after_post(url_for("accounts.security"))


# ---------------------------------------------------------------- my enterprise


@bp.get("/notices")
@enterprise_required
def notices():
    return render(
        "accounts/notices.html",
        notices=services.notices_for(current_user, limit=200),
        form=EmptyForm(),
        breadcrumbs=enterprise_crumbs((_("消息"), None)),
    )


@bp.post("/notices/read")
@enterprise_required
def notices_read():
    form = EmptyForm()
    if form.validate_on_submit():
        for notice in db.session.scalars(
            select(Notice).where(
                Notice.enterprise_id == current_user.enterprise_id, Notice.read_at.is_(None)
            )
        ):
            notice.read_at = services.now()
        db.session.commit()
    return redirect_after_post(url_for("accounts.notices"))


@bp.get("/colleagues")
@enterprise_admin_required
def colleagues():
    return render(
        "accounts/colleagues.html",
        people=services.colleagues_of(current_user),
        invite_form=InviteForm(),
        remove_form=EmptyForm(),
        breadcrumbs=enterprise_crumbs((_("同事账号"), None)),
    )


@bp.post("/colleagues/invite")
@enterprise_admin_required
@limiter.limit(LIMIT_FORMS)
def invite():
    form = InviteForm()
    if form.validate_on_submit():
        services.invite_colleague(current_user, form.email.data)
        db.session.commit()
        flash(_("邀请邮件已发送至 %(email)s，链接 7 天内有效。", email=form.email.data), "success")
        return redirect_after_post(url_for("accounts.colleagues"))
    return render(
        "accounts/colleagues.html",
        people=services.colleagues_of(current_user),
        invite_form=form,
        remove_form=EmptyForm(),
        breadcrumbs=enterprise_crumbs((_("同事账号"), None)),
    ), 422


@bp.post("/colleagues/<int:user_id>/remove")
@enterprise_admin_required
def remove_colleague(user_id: int):
    form = EmptyForm()
    colleague = db.session.get(User, user_id)
    if colleague is None or colleague.enterprise_id != current_user.enterprise_id:
        abort(404)
    if colleague.id == current_user.id:
        flash(_("不能移除自己的账号。"), "error")
    elif form.validate_on_submit():
        services.remove_colleague(current_user, colleague)
        db.session.commit()
        flash(_("已移除 %(name)s 的账号。", name=colleague.name or colleague.email), "success")
    return redirect_after_post(url_for("accounts.colleagues"))


@bp.route("/invitation/<token>", methods=["GET", "POST"])
@limiter.limit(LIMIT_FORMS, methods=["POST"])
def accept_invitation(token: str):
    payload = services.read_invitation(token)
    if payload is None:
        return render("accounts/verify_failed.html", breadcrumbs=[(_("接受邀请"), None)]), 400
    form = AcceptInvitationForm()
    if form.validate_on_submit():
        services.accept_invitation(payload, form.name.data, form.phone.data, form.password.data)
        db.session.commit()
        flash(_("账号已设置。请用邀请邮件所发往的邮箱登录。"), "success")
        return redirect_after_post(url_for("accounts.login"))
    return render(
        "accounts/accept_invitation.html",
        form=form,
        email=payload["email"],
        breadcrumbs=[(_("接受邀请"), None)],
    ), (422 if form.errors else 200)


# ---------------------------------------------------------------- development outbox


@bp.get("/dev/outbox")
def outbox():
    """The outbox folder as a page, for development only (mail.outbox_page_open)."""
    if not outbox_page_open(current_app):
        abort(404)

    return render(
        "accounts/outbox.html", messages=read_outbox(), breadcrumbs=[(_("开发邮箱"), None)]
    )
