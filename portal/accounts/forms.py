"""Account forms. Each validates its own input, uniqueness included (Warehouse style)."""

from __future__ import annotations

from email_validator import EmailNotValidError, validate_email
from stdnum.cn import uscc as stdnum_uscc
from wtforms import (
    BooleanField,
    EmailField,
    FileField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Email,
    EqualTo,
    Length,
    Optional,
    ValidationError,
)

from portal.accounts.passwords import MAX_PASSWORD_LENGTH, password_problems
from portal.accounts.services import MOBILE, is_uscc_registered
from portal.enterprises.services import InvalidUSCC, normalize_uscc
from portal.forms import FlaskForm, options
from portal.i18n import gettext as _
from portal.i18n import lazy_gettext as _l
from portal.text import to_halfwidth

REQUIRED = _l("此项必填。")
# The one maximum password length, on every form that takes a password.
PASSWORD_LENGTH = Length(max=MAX_PASSWORD_LENGTH, message=_l("密码不能超过 %(max)d 个字符。"))


class ChoiceField(SelectField):
    """A select whose refusal of a forged value is in Chinese."""

    def pre_validate(self, form):
        if self.validate_choice and self.data not in {str(c.value) for c in self.choices or []}:
            if self.data:
                raise ValidationError(_("请从列表中选择。"))


class ChoiceRadioField(RadioField):
    """Radio buttons whose refusal of a forged value is in Chinese."""

    def pre_validate(self, form):
        if self.data not in {str(c.value) for c in self.choices or []}:
            raise ValidationError(_("请选择一项。"))


def _strip(value):
    return value.strip() if isinstance(value, str) else value


class USCCField(StringField):
    """统一社会信用代码: normalised, and a wrong check character is named."""

    def pre_validate(self, form):
        raw = self.data or ""
        if not raw.strip():
            return
        try:
            self.data = normalize_uscc(raw)
        except InvalidUSCC as exc:
            raise ValidationError(uscc_message(raw, exc.reason)) from exc


def uscc_message(raw: str, reason: str) -> str:
    if reason == "length":
        return _("统一社会信用代码应为 18 位，您输入了 %(n)s 位。", n=len(stdnum_uscc.compact(raw)))
    if reason == "checksum":
        code = stdnum_uscc.compact(raw).upper()
        try:
            expected = stdnum_uscc.calc_check_digit(code[:17])
        except Exception:  # a malformed body has no check character to name
            return _("统一社会信用代码校验未通过，请核对。")
        return _(
            "第18位校验码错误：您输入的是 %(got)s，按前 17 位计算应为 %(expected)s。请核对营业执照。",
            got=code[17],
            expected=expected,
        )
    return _(
        "统一社会信用代码格式不正确：只能由数字和大写字母组成（不含 I、O、S、V、Z），第 3-8 位为行政区划代码。"
    )


def email_validator_field(form, field):
    value = (field.data or "").strip()
    if not value:
        return
    try:
        field.data = validate_email(value, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise ValidationError(_("邮箱地址格式不正确，例如 name@example.com。")) from exc


def mobile_validator(form, field):
    value = to_halfwidth(field.data or "").replace(" ", "").replace("-", "")
    if value.startswith("+86"):
        value = value[3:]
    if value and not MOBILE.match(value):
        raise ValidationError(_("请填写 11 位中国大陆手机号码，如 13812345678。"))
    field.data = value


def strong_password(form, field):
    problems = password_problems(field.data or "")
    if problems:
        raise ValidationError("".join(problems))


def new_password_field(label) -> PasswordField:
    """A password being chosen: required, held to the password rules, which it describes."""
    return PasswordField(
        label,
        validators=[DataRequired(REQUIRED), strong_password],
        description=_l("至少 8 位，包含大写字母、小写字母、数字、符号中的至少 3 类。"),
    )


def repeat_password_field(label) -> PasswordField:
    """The chosen password typed again: it must equal the form's `password` field."""
    return PasswordField(
        label,
        validators=[DataRequired(REQUIRED), EqualTo("password", _l("两次输入的密码不一致。"))],
    )


class RegistrationForm(FlaskForm):
    uscc = USCCField(
        _l("统一社会信用代码"),
        validators=[DataRequired(REQUIRED)],
        filters=[_strip],
        description=_l("18 位，见营业执照。"),
    )
    name = StringField(
        _l("企业名称"), validators=[DataRequired(REQUIRED), Length(max=120)], filters=[_strip]
    )
    division = ChoiceField(_l("所在地市"), validators=[DataRequired(REQUIRED)])
    industry = ChoiceField(_l("所属行业"), validators=[DataRequired(REQUIRED)])
    address = StringField(
        _l("地址"), validators=[DataRequired(REQUIRED), Length(max=200)], filters=[_strip]
    )
    contact_name = StringField(
        _l("联系人"), validators=[DataRequired(REQUIRED), Length(max=60)], filters=[_strip]
    )
    mobile = StringField(
        _l("手机号码"), validators=[DataRequired(REQUIRED), mobile_validator], filters=[_strip]
    )
    email = EmailField(
        _l("电子邮箱"),
        validators=[DataRequired(REQUIRED), Length(max=254), email_validator_field],
        description=_l("用于登录和接收通知；注册后需点击邮件中的链接验证。"),
    )
    password = new_password_field(_l("密码"))
    confirm = repeat_password_field(_l("再次输入密码"))

    transfer = BooleanField(
        _l("本单位唯一的管理员已离职，申请由所在地市节能主管部门移交管理员"),
        description=_l("须上传与认领相同的材料，经市级主管部门核实后，原管理员不再是管理员。"),
    )

    def __init__(self, *args, divisions=(), industries=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.division.choices = options([("", _("请选择"))] + list(divisions))
        self.industry.choices = options([("", _("请选择"))] + list(industries))
        for select in (self.division, self.industry):
            select.validate_choice = True

    uscc_already_registered = False

    def validate_uscc(self, field):
        if field.data and is_uscc_registered(field.data):
            # The view offers "ask the administrator for access" on this flag, in any language.
            self.uscc_already_registered = True
            if not self.transfer.data:
                raise ValidationError(
                    _(
                        "该单位已有管理员，不能再次认领。如您是该单位员工，请向管理员申请账号；如唯一的管理员已离职，请勾选下方的“移交管理员”。"
                    )
                )


class AccessRequestForm(FlaskForm):
    uscc = USCCField(_l("统一社会信用代码"), validators=[DataRequired(REQUIRED)], filters=[_strip])
    name = StringField(
        _l("姓名"), validators=[DataRequired(REQUIRED), Length(max=60)], filters=[_strip]
    )
    email = EmailField(
        _l("电子邮箱"), validators=[DataRequired(REQUIRED), Length(max=254), email_validator_field]
    )
    phone = StringField(_l("手机号码"), validators=[mobile_validator], filters=[_strip])
    message = TextAreaField(_l("说明"), validators=[Length(max=500)], filters=[_strip])


class LoginForm(FlaskForm):
    email = EmailField(_l("电子邮箱"), validators=[DataRequired(REQUIRED), Length(max=254)])
    password = PasswordField(_l("密码"), validators=[DataRequired(REQUIRED), PASSWORD_LENGTH])


def code_field(label, *, recovery: bool = False, **kwargs) -> StringField:
    """A one-time code box: the authenticator's 6 digits (a numeric keypad), or with recovery=True
    also a recovery code (a text keyboard, longer)."""
    return StringField(
        label,
        validators=[DataRequired(REQUIRED), Length(max=40 if recovery else 10)],
        render_kw={"autocomplete": "one-time-code", "inputmode": "text" if recovery else "numeric"},
        **kwargs,
    )


class SecondFactorForm(FlaskForm):
    code = code_field(
        _l("动态验证码或恢复码"),
        recovery=True,
        description=_l("打开身份验证器 App 查看 6 位数字；手机不在身边时可用一个恢复码。"),
    )


class TotpSetupForm(FlaskForm):
    code = code_field(_l("6 位动态验证码"))


class TotpRebindForm(TotpSetupForm):
    """Bind a new authenticator: the current one (or a recovery code) proves it is the owner."""

    current_code = code_field(_l("当前验证器上的验证码或一个恢复码"), recovery=True)
    code = code_field(_l("新验证器上的 6 位验证码"))


class PasswordConfirmForm(FlaskForm):
    password = PasswordField(_l("当前密码"), validators=[DataRequired(REQUIRED), PASSWORD_LENGTH])


class TotpDisableForm(PasswordConfirmForm):
    code = code_field(_l("动态验证码或恢复码"), recovery=True)


class ForgotPasswordForm(FlaskForm):
    email = EmailField(
        _l("电子邮箱"), validators=[DataRequired(REQUIRED), Length(max=254), email_validator_field]
    )


class ResetPasswordForm(FlaskForm):
    password = new_password_field(_l("新密码"))
    confirm = repeat_password_field(_l("再次输入新密码"))


class InviteForm(FlaskForm):
    email = EmailField(
        _l("同事的电子邮箱"),
        validators=[DataRequired(REQUIRED), Length(max=254), email_validator_field],
    )


class AcceptInvitationForm(ResetPasswordForm):
    name = StringField(
        _l("姓名"), validators=[DataRequired(REQUIRED), Length(max=60)], filters=[_strip]
    )
    phone = StringField(
        _l("手机号码"), validators=[DataRequired(REQUIRED), mobile_validator], filters=[_strip]
    )


class EmptyForm(FlaskForm):
    """Only the CSRF token: for buttons that change state (log out, remove, withdraw)."""


# ---- Back-office users (/admin/users) ----


class BackOfficeUserForm(FlaskForm):
    email = StringField(
        _l("电子邮箱"),
        validators=[
            DataRequired(message=_l("请填写电子邮箱。")),
            Email(message=_l("电子邮箱格式不正确。")),
            Length(max=254),
        ],
    )
    name = StringField(
        _l("姓名"), validators=[DataRequired(message=_l("请填写姓名。")), Length(max=60)]
    )
    role = SelectField(_l("角色"), validators=[DataRequired()])
    division_code = SelectField(
        _l("所属省辖市"), description=_l("市级审核人员必须选择。"), validators=[Optional()]
    )
    audit_firm_id = SelectField(
        _l("所属审核机构"), description=_l("第三方审核人员必须选择。"), validators=[Optional()]
    )


class UserStatusForm(FlaskForm):
    active = HiddenField(validators=[DataRequired()])


# ---------------------------------------------------------------- identity


class ApplicationForm(FlaskForm):
    """The evidence of an identity application; files are checked by portal.uploads.check_document."""

    enterprise_name = StringField(
        _l("企业名称"),
        validators=[DataRequired(REQUIRED), Length(max=120)],
        filters=[_strip],
        description=_l("与营业执照上的名称一字不差。"),
    )
    legal_representative = StringField(
        _l("法定代表人姓名"),
        validators=[DataRequired(REQUIRED), Length(max=60)],
        filters=[_strip],
    )
    licence = FileField(
        _l("营业执照"),
        description=_l("扫描件或照片：PDF、JPEG 或 PNG。系统按文件内容识别格式。"),
    )
    authorisation = FileField(
        _l("授权委托书"),
        description=_l(
            "法定代表人签字并加盖单位公章，授权您代表本单位使用本平台。PDF、JPEG 或 PNG。"
        ),
    )


class IdentityDecisionForm(FlaskForm):
    decision = ChoiceRadioField(
        _l("审核结论"),
        choices=options([("approve", _l("通过")), ("refuse", _l("不通过"))]),
        validators=[DataRequired(REQUIRED)],
    )
    remark = TextAreaField(
        _l("审核意见"),
        validators=[DataRequired(REQUIRED), Length(max=500)],
        filters=[_strip],
        description=_l("申请人会在站内消息和邮件中看到这段意见。"),
    )
    deactivate_previous = BooleanField(_l("同时停用原管理员的账号（原管理员已离职）"), default=True)


class AccessDecisionForm(FlaskForm):
    decision = ChoiceRadioField(
        _l("处理"),
        choices=options(
            [
                ("staff", _l("同意，设为员工")),
                ("admin", _l("同意，设为管理员")),
                ("refuse", _l("不同意")),
            ]
        ),
        validators=[DataRequired(REQUIRED)],
    )
    remark = TextAreaField(
        _l("说明"),
        validators=[Length(max=500)],
        filters=[_strip],
        description=_l("不同意时必填，会通过邮件告知申请人。"),
    )

    def validate_remark(self, field):
        if self.decision.data == "refuse" and not field.data:
            raise ValidationError(_("不同意时请写明理由。"))


class IdentityFilterForm(FlaskForm):
    """The status filter of the city's list (GET: changes nothing)."""

    class Meta:
        csrf = False

    status = ChoiceField(
        _l("状态"),
        choices=options(
            [
                ("", _l("待审核")),
                ("approved", _l("已通过")),
                ("refused", _l("未通过")),
                ("all", _l("全部")),
            ]
        ),
        validate_choice=True,
    )
