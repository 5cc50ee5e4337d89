"""Who acts for which enterprise: identity applications (身份核验) and the city's decisions, the
access requests an enterprise's administrator decides, and the administrator role.

The rule (portal.access.acts_for): an account acts for a unit only once its identity is approved.
- Registering creates the account and a draft application: a new unit, the claim of a unit the
  portal lists (no administrator yet), or, when the only administrator has left, the transfer of
  that role. The applicant adds the business licence (营业执照), the legal representative's name
  and an authorisation letter (授权委托书), each checked by content (portal.uploads.check_document),
  and submits. A unit that has an administrator cannot be claimed: the person asks that
  administrator for access (an AccessRequest) or, if the administrator left, applies for transfer.
- The city authority of the unit's division approves or refuses, with a remark, seeing the name
  typed beside the listed name with the difference marked. Only then does the account belong to
  the unit (`user.enterprise_id`); a transfer also takes the role from the previous administrators.
- Administrators who got the role before this review are flagged (kind "recheck", migration 12);
  the city confirms them or takes the role away.

Every step writes the audit log; the applicant is told of each decision in the inbox and by mail.
Functions flush, never commit.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from flask import abort, url_for
from sqlalchemy import select

from portal.access import (
    READERS,
    acts_for,
    administers,
    can_decide_identity,
    can_see_division,
    refuse_object,
)
from portal.accounts import services
from portal.accounts.models import (
    AccessRequest,
    IdentityApplication,
    IdentityDocument,
    Notice,
    User,
)
from portal.audit.services import record_event, record_new
from portal.enterprises.models import Enterprise
from portal.extensions import db
from portal.i18n import Message
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.mail import absolute_url, queue_mail
from portal.text import to_halfwidth
from portal.uploads import CheckedUpload, store_upload

KIND_LABELS = {
    "new": _l("新企业注册"),
    "claim": _l("认领已收录单位"),
    "transfer": _l("移交管理员"),
    "recheck": _l("存量管理员复核"),
}
STATUS_LABELS = {
    "draft": _l("待补充材料"),
    "submitted": _l("待市级审核"),
    "approved": _l("已通过"),
    "refused": _l("未通过"),
}
PURPOSE_LABELS = {"licence": _l("营业执照"), "authorisation": _l("授权委托书")}
PURPOSES = tuple(PURPOSE_LABELS)
# Kinds that give the applicant the unit (a re-check confirms an administrator who has it).
GRANTING = ("new", "claim", "transfer")
OPEN = ("draft", "submitted")


class IdentityError(ValueError):
    """A step that may not be taken; `message` is shown to the person."""

    def __init__(self, code: str, message: str):
        super().__init__(code)
        self.code = code
        self.message = message


def listed_unit(uscc: str) -> Enterprise | None:
    return db.session.scalar(select(Enterprise).where(Enterprise.uscc == uscc))


def _has_admin_message() -> str:
    return _(
        "该单位已有管理员，不能再次认领。请向该单位的管理员申请账号；如唯一的管理员已离职，请申请移交管理员。"
    )


def classify(uscc: str, transfer: bool) -> tuple[str, Enterprise | None]:
    """The kind of application a USCC makes: a new unit, a claim, or (asked for) a transfer."""
    listed = listed_unit(uscc)
    if listed is None:
        return "new", None
    if services.enterprise_admins(listed.id):
        if not transfer:
            raise IdentityError("has_admin", _has_admin_message())
        return "transfer", listed
    return "claim", listed


# ---------------------------------------------------------------- registration


@dataclass
class Registration:
    uscc: str
    name: str
    division_code: str
    industry_code: str
    address: str
    contact_name: str
    mobile: str
    email: str
    password: str
    # The only administrator of the (listed) unit has left: ask the city for the role.
    transfer: bool = False


def register_enterprise(data: Registration) -> User | None:
    """Create an account that acts for no unit yet, and its draft identity application.

    Returns None without creating anything when the address already has an account; that owner
    is told by mail instead, so neither the page nor the time taken reveals who has an account
    (the password is hashed either way, and a mail goes out either way).
    """
    email = services.normalize_email(data.email)
    password_hash = services.hash_password(data.password)
    existing = services.find_user_by_email(email)
    if existing is not None:
        queue_mail(
            email,
            _("有人尝试用您的邮箱注册"),
            _(
                "有人尝试用此邮箱注册河南省用能权交易平台的企业账号。此邮箱已有账号；如忘记密码，请在登录页选择“忘记密码”：%(url)s\n如非本人操作，请忽略本邮件。",
                url=absolute_url("accounts.forgot_password"),
            ),
        )
        return None
    kind, _listed = classify(data.uscc, data.transfer)
    user = User(
        email=email,
        name=data.contact_name.strip(),
        phone=data.mobile.strip(),
        password_hash=password_hash,
        role="enterprise",
        enterprise_id=None,  # no unit until the city approves the application
        is_enterprise_admin=False,
    )
    record_new(
        "account.register",
        user,
        after={"email": email, "enterprise": data.uscc, "kind": kind},
        actor=user,
    )
    open_application(user, data, data.name, data.transfer)
    services.send_verification(user)
    return user


# ---------------------------------------------------------------- the applicant's side


def open_application(user: User, about, name: str, transfer: bool = False) -> IdentityApplication:
    """Start a draft for the unit `about` describes (its uscc, division_code, industry_code and
    address: a registration form, a listed unit or an earlier application), under the typed
    `name`. A listed unit's division and industry come from the listing, not the form: the city
    that decides is the one of the unit, whatever the applicant chose."""
    uscc, division_code, industry_code = about.uscc, about.division_code, about.industry_code
    address = about.address
    kind, listed = classify(uscc, transfer)
    application = IdentityApplication(
        user_id=user.id,
        kind=kind,
        status="draft",
        enterprise_id=listed.id if listed else None,
        division_code=listed.division_code if listed else division_code,
        uscc=uscc,
        enterprise_name=(name or "").strip()[:120],
        industry_code=listed.industry_code if listed else industry_code,
        address=((address or "").strip() or (listed.address if listed else ""))[:200],
        legal_representative="",
        remark="",
    )
    record_new(
        "identity.open",
        application,
        after={"kind": kind, "uscc": uscc, "enterprise": application.enterprise_id},
        actor=user,
    )
    return application


def applications_of(user: User) -> list[IdentityApplication]:
    """The user's applications, newest first."""
    return list(
        db.session.scalars(
            select(IdentityApplication)
            .where(IdentityApplication.user_id == user.id)
            .order_by(IdentityApplication.id.desc())
        )
    )


def get_own_application_or_404(application_id: int, user: User) -> IdentityApplication:
    application = db.session.get(IdentityApplication, application_id)
    if application is None or application.user_id != user.id:
        abort(404)
    return application


def open_again(user: User) -> IdentityApplication:
    """A new draft: after a refusal (the same unit as the last application), or for a colleague of
    a unit that asks for the administrator role (its administrator left)."""
    mine = applications_of(user)
    if any(a.status in OPEN and a.kind in GRANTING for a in mine):
        raise IdentityError("open", _("您已有一份办理中的申请，请先补充材料或等待审核结果。"))
    if user.enterprise_id is not None:
        if user.is_enterprise_admin:
            raise IdentityError("admin", _("您已是本单位的管理员。"))
        unit = user.enterprise
        return open_application(user, unit, unit.name, transfer=True)
    # The last application of any kind: a refused re-check may apply again as a claim.
    last = mine[0] if mine else None
    if last is None:
        raise IdentityError("none", _("没有可以重新提交的申请。"))
    return open_application(user, last, last.enterprise_name, last.kind == "transfer")


def save_draft(
    application: IdentityApplication,
    actor: User,
    *,
    enterprise_name: str,
    legal_representative: str,
    files: dict[str, CheckedUpload],
) -> None:
    """Keep what the applicant typed and the files that passed the check (a new file of a purpose
    replaces the old one)."""
    if application.user_id != actor.id or application.status != "draft":
        raise IdentityError("state", _("申请已提交，不能再修改。"))
    changed = {}
    name = (enterprise_name or "").strip()[:120]
    representative = (legal_representative or "").strip()[:60]
    if name != application.enterprise_name:
        changed["enterprise_name"] = name
        application.enterprise_name = name
    if representative != application.legal_representative:
        changed["legal_representative"] = representative
        application.legal_representative = representative
    if changed:
        record_event(
            "identity.edit", "identity_application", application.id, after=changed, actor=actor
        )
    for purpose, upload in files.items():
        if purpose not in PURPOSES:
            continue
        old = application.document(purpose)
        if old is not None:
            application.documents.remove(old)
            db.session.delete(old)
        store_upload(upload)
        document = IdentityDocument(
            purpose=purpose,
            original_name=upload.original_name,
            content_type=upload.content_type,
            size=upload.size,
            sha256=upload.sha256,
            uploaded_at=services.now(),
        )
        application.documents.append(document)
        db.session.flush()
        record_event(
            "identity.upload",
            application,
            after={
                "document": document.id,
                "purpose": purpose,
                "sha256": upload.sha256,
                "name": upload.original_name,
            },
            actor=actor,
        )
    db.session.flush()


def missing_parts(application: IdentityApplication) -> list[str]:
    """What the application still lacks before it can be submitted (labels, in order)."""
    missing = []
    if not application.enterprise_name:
        missing.append(_("企业名称"))
    if not application.legal_representative:
        missing.append(_("法定代表人姓名"))
    for purpose in PURPOSES:
        if application.document(purpose) is None:
            missing.append(str(PURPOSE_LABELS[purpose]))
    return missing


def submit_application(application: IdentityApplication, actor: User) -> None:
    """Send a complete draft to the city. The kind is decided again: the unit may have been listed,
    or have got an administrator, since the draft began."""
    if application.user_id != actor.id or application.status != "draft":
        raise IdentityError("state", _("申请已提交，不能重复提交。"))
    missing = missing_parts(application)
    if missing:
        raise IdentityError(
            "incomplete", _("还缺少：%(parts)s。补齐后再提交。", parts="、".join(missing))
        )
    kind, listed = classify(application.uscc, application.kind == "transfer")
    application.kind = kind
    if listed is not None:
        application.enterprise_id = listed.id
        application.division_code = listed.division_code
    application.status = "submitted"
    application.submitted_at = services.now()
    db.session.flush()
    record_event(
        "identity.submit",
        application,
        after={"kind": kind, "enterprise": application.enterprise_id},
        actor=actor,
    )


# ---------------------------------------------------------------- the city's side


def _fold(name: str) -> str:
    """Compare names as the registry would: full-width folded, spaces dropped."""
    return "".join(to_halfwidth(name or "").split())


@dataclass
class NameDifference:
    same: bool
    # (text, differs) runs: the name typed, and the listed unit's name
    stated: list[tuple[str, bool]]
    registered: list[tuple[str, bool]]


def name_difference(application: IdentityApplication) -> NameDifference | None:
    """The typed name against the listed unit's name, run by run; None for a new unit."""
    unit = application.enterprise
    if unit is None:
        return None
    stated, registered = _fold(application.enterprise_name), _fold(unit.name)
    matcher = difflib.SequenceMatcher(None, stated, registered, autojunk=False)
    left: list[tuple[str, bool]] = []
    right: list[tuple[str, bool]] = []
    for op, a1, a2, b1, b2 in matcher.get_opcodes():
        if stated[a1:a2]:
            left.append((stated[a1:a2], op != "equal"))
        if registered[b1:b2]:
            right.append((registered[b1:b2], op != "equal"))
    return NameDifference(same=stated == registered, stated=left, registered=right)


def applications_for(user: User, status: str = "submitted"):
    """The statement of the applications `user` reviews: its division's, never a draft.

    status: submitted (waiting, oldest first), approved, refused, or all (newest first).
    """
    statement = select(IdentityApplication).where(IdentityApplication.status != "draft")
    if user.role not in READERS:
        statement = statement.where(IdentityApplication.division_code == user.division_code)
    if status in ("submitted", "approved", "refused"):
        statement = statement.where(IdentityApplication.status == status)
    if status == "submitted":
        return statement.order_by(IdentityApplication.submitted_at, IdentityApplication.id)
    return statement.order_by(IdentityApplication.id.desc())


def get_application_or_404(application_id: int, for_user: User) -> IdentityApplication:
    """An application the back-office user may read: submitted once, of a division it sees."""
    application = db.session.get(IdentityApplication, application_id)
    if application is None or application.status == "draft":
        abort(404)
    if not can_see_division(for_user, application.division_code):
        refuse_object()
    return application


def get_document_or_404(document_id: int, for_user: User) -> IdentityDocument:
    document = db.get_or_404(IdentityDocument, document_id)
    get_application_or_404(document.application_id, for_user)
    return document


def unit_accounts(application: IdentityApplication) -> list[User]:
    """The active accounts that act for the application's unit now."""
    if application.enterprise_id is None:
        return []
    return list(
        db.session.scalars(
            select(User)
            .where(
                User.enterprise_id == application.enterprise_id,
                User.is_active_account.is_(True),
            )
            .order_by(User.is_enterprise_admin.desc(), User.id)
        )
    )


def _end_sessions(user: User) -> None:
    user.session_version = (user.session_version or 1) + 1


def decide_application(
    application: IdentityApplication,
    actor: User,
    *,
    approve: bool,
    remark: str,
    deactivate_previous: bool = False,
) -> None:
    """Approve or refuse a submitted application, as the city of its division.

    Approval gives the applicant the unit as its administrator (a new unit is listed now, not
    public); a transfer takes the role from the previous administrators, and, when they left,
    their accounts. Refusing a re-check takes the unit from the administrator it flagged.
    """
    if not can_decide_identity(actor, application.division_code):
        raise IdentityError("jurisdiction", _("只有该单位所在地市的节能主管部门可以审核这份申请。"))
    if application.status != "submitted":
        raise IdentityError("state", _("这份申请已经处理过了。"))
    remark = (remark or "").strip()
    if not remark:
        raise IdentityError("remark", _("请填写审核意见。"))
    applicant = application.user
    before = {
        "status": application.status,
        "enterprise_id": applicant.enterprise_id,
        "admin": applicant.is_enterprise_admin,
    }
    after: dict = {}
    if approve and application.kind in GRANTING:
        unit = application.enterprise or listed_unit(application.uscc)
        if unit is None:
            unit = Enterprise(
                uscc=application.uscc,
                name=application.enterprise_name,
                division_code=application.division_code,
                industry_code=application.industry_code,
                address=application.address,
            )
            record_new(
                "enterprise.create",
                unit,
                after={"uscc": unit.uscc, "name": unit.name, "application": application.id},
                actor=actor,
            )
        application.enterprise_id = unit.id
        previous = [a for a in services.enterprise_admins(unit.id) if a.id != applicant.id]
        if previous and application.kind != "transfer":
            raise IdentityError("has_admin", _has_admin_message())
        if applicant.enterprise_id not in (None, unit.id):
            raise IdentityError("elsewhere", _("申请人的账号已属于另一家单位。"))
        for person in previous:
            person.is_enterprise_admin = False
            if deactivate_previous:
                person.is_active_account = False
                _end_sessions(person)
            record_event(
                "identity.transfer_from",
                person,
                before={"admin": True, "active": True},
                after={"admin": False, "active": person.is_active_account},
                remark=remark,
                actor=actor,
            )
        applicant.enterprise_id = unit.id
        applicant.is_enterprise_admin = True
        after = {
            "enterprise_id": unit.id,
            "admin": True,
            "previous_admins": [p.id for p in previous],
        }
    elif not approve and application.kind == "recheck":
        applicant.enterprise_id = None
        applicant.is_enterprise_admin = False
        _end_sessions(applicant)
        after = {"enterprise_id": None, "admin": False}
    application.status = "approved" if approve else "refused"
    application.remark = remark
    application.decided_at = services.now()
    application.decided_by_id = actor.id
    db.session.flush()
    record_event(
        "identity.approve" if approve else "identity.refuse",
        application,
        before=before,
        after={"status": application.status, "kind": application.kind} | after,
        remark=remark,
        actor=actor,
    )
    _tell_applicant(application, approve)


def _tell_applicant(application: IdentityApplication, approved: bool) -> None:
    """A notice in the applicant's inbox and a mail (portal.mail) with the decision."""
    name = application.enterprise.name if application.enterprise else application.enterprise_name
    if application.kind == "recheck":
        title = Message(
            _l("您的管理员身份已复核通过") if approved else _l("您的管理员身份未通过复核")
        )
    else:
        title = Message(_l("身份核验已通过") if approved else _l("身份核验未通过"))
    if approved:
        body = Message(
            _l(
                "所在地市节能主管部门已核实您的身份，您现在是 %(name)s 的管理员。审核意见：%(remark)s"
            ),
            name=Message.chinese(name),
            remark=Message.chinese(application.remark),
        )
    else:
        body = Message(
            _l(
                "所在地市节能主管部门未能核实您代表 %(name)s 的身份，您的账号不能办理该单位的业务。审核意见：%(remark)s\n您可以补充材料后重新申请。"
            ),
            name=Message.chinese(name),
            remark=Message.chinese(application.remark),
        )
    applicant = application.user
    db.session.add(
        Notice(
            user_id=applicant.id,
            title=title.text()[:200],
            body=body.text(),
            link=url_for("accounts.application"),
            message={"title": title.to_json(), "body": body.to_json()},
        )
    )
    title, body = title.text(), body.text()
    queue_mail(applicant.email, title, body + "\n" + absolute_url("accounts.application"))


# ---------------------------------------------------------------- access requests and roles


def access_requests_of(enterprise_id: int) -> tuple[list[AccessRequest], list[AccessRequest]]:
    """The unit's waiting requests (oldest first) and the 20 last decided (newest first)."""
    waiting = db.session.scalars(
        select(AccessRequest)
        .where(AccessRequest.enterprise_id == enterprise_id, AccessRequest.status == "pending")
        .order_by(AccessRequest.id)
    )
    decided = db.session.scalars(
        select(AccessRequest)
        .where(AccessRequest.enterprise_id == enterprise_id, AccessRequest.status != "pending")
        .order_by(AccessRequest.handled_at.desc(), AccessRequest.id.desc())
        .limit(20)
    )
    return list(waiting), list(decided)


def get_access_request_or_404(request_id: int, admin: User) -> AccessRequest:
    """A request to the administrator's own unit; any other is not found."""
    row = db.session.get(AccessRequest, request_id)
    if row is None or not administers(admin, row.enterprise_id):
        abort(404)
    return row


def decide_access_request(
    row: AccessRequest, actor: User, *, approve: bool, as_admin: bool = False, remark: str = ""
) -> None:
    """Approve (an invitation to the address, as a colleague or an administrator) or refuse (a
    mail with the remark)."""
    if not administers(actor, row.enterprise_id):
        raise IdentityError("jurisdiction", _("只有本单位的管理员可以处理加入申请。"))
    if row.status != "pending":
        raise IdentityError("state", _("这份申请已经处理过了。"))
    remark = (remark or "").strip()
    if not approve and not remark:
        raise IdentityError("remark", _("拒绝时请写明理由，我们会通过邮件告知申请人。"))
    row.status = "approved" if approve else "refused"
    row.grants_admin = bool(approve and as_admin)
    row.remark = remark
    row.handled_at = services.now()
    row.handled_by_id = actor.id
    db.session.flush()
    record_event(
        "access_request.approve" if approve else "access_request.refuse",
        "enterprise",
        row.enterprise_id,
        after={"request": row.id, "email": row.email, "admin": row.grants_admin},
        remark=remark,
        actor=actor,
    )
    if approve:
        services.invite_colleague(actor, row.email, as_admin=row.grants_admin)
    else:
        queue_mail(
            row.email,
            _("您的加入申请未获同意"),
            _(
                "您申请加入 %(name)s 的企业账号，该单位管理员未同意。理由：%(remark)s",
                name=actor.enterprise.name,
                remark=remark,
            ),
        )


def change_role(actor: User, colleague: User, make_admin: bool) -> None:
    """Make a colleague an administrator, or an administrator a colleague; a unit keeps at least
    one administrator."""
    if not administers(actor, actor.enterprise_id) or not acts_for(colleague, actor.enterprise_id):
        raise IdentityError("jurisdiction", _("只能调整本单位同事的身份。"))
    if colleague.is_enterprise_admin == make_admin:
        return
    if not make_admin:
        others = [
            a for a in services.enterprise_admins(actor.enterprise_id) if a.id != colleague.id
        ]
        if not others:
            raise IdentityError("last_admin", _("本单位至少要保留一名管理员。"))
    colleague.is_enterprise_admin = make_admin
    db.session.flush()
    record_event(
        "account.change_role",
        colleague,
        before={"admin": not make_admin},
        after={"admin": make_admin},
        actor=actor,
    )
