"""What every public filtered list shares: its filter form, its filter and sort tables, and one
rendered page of it (full page or htmx fragment). Its downloads are portal/exports.py's.

A list is a form of GET filters (no CSRF: they change nothing), a table of query argument → SQL
condition, a table of sort choice → ORDER BY, and a query factory that gives the select and its
count. Disclosure (listings, trades, enterprises), compliance and the API build on these.
"""

from __future__ import annotations

from datetime import datetime

from flask import request
from sqlalchemy import or_
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from portal.extensions import db
from portal.forms import FlaskForm, SelectField
from portal.i18n import formats, localized
from portal.i18n import lazy_gettext as _l
from portal.reference.services import categories, divisions, industries, varieties
from portal.web import paginate, parse_int, render

# ---- Filter forms ----

ALL = ("", _l("全部"))
UNKNOWN_CHOICE = _l("不是可选的值，请从列表中选择。")


class ChineseDateField(DateField):
    """A date field whose parse error is a clear message in the visitor's language."""

    def process_formdata(self, valuelist):
        if not valuelist or not valuelist[0].strip():
            self.data = None
            return
        text = valuelist[0].strip()
        try:
            self.data = datetime.strptime(text, "%Y-%m-%d").date()
        except ValueError:
            self.data = None
            raise ValueError(_l("日期格式应为 年-月-日，例如 2024-03-01。")) from None


class Choice(SelectField):
    """A select whose unknown value gets a Chinese message instead of WTForms' English one.

    The message does not quote the value: it came from the URL, so anyone can write it, and the
    field's own select already shows what may be chosen.
    """

    def pre_validate(self, form):
        if self.data not in {value for value, _label in self.choices}:
            raise ValidationError(UNKNOWN_CHOICE)


class FilterForm(FlaskForm):
    class Meta:
        csrf = False

    def __init__(self, formdata, **kwargs):
        super().__init__(formdata=formdata, meta={"csrf": False}, **kwargs)
        self.fill_choices()

    def fill_choices(self) -> None:
        """Set each select's choices at request time, in the request's language."""

    def validate_date_to(self, field):
        date_from = getattr(self, "date_from", None)
        if field.data and date_from is not None and date_from.data and field.data < date_from.data:
            raise ValidationError(_l("结束日期不能早于开始日期。"))

    def described(self) -> list[tuple[str, str]]:
        """The filters in force (sort excluded), as (label, value) in the visitor's language."""
        out = []
        for name, f in self._fields.items():
            if name == "sort" or not f.data or not (f.raw_data and f.raw_data[0]):
                continue
            out.append((str(f.label.text), self._shown(f)))
        return out

    def sort_described(self) -> str | None:
        """The order of the rows, in words (None for a list without a choice of order)."""
        field = self._fields.get("sort")
        return self._shown(field) if field is not None and field.data else None

    @staticmethod
    def _shown(field) -> str:
        if isinstance(field, SelectField):
            return str(dict(field.choices).get(field.data, field.data))
        if hasattr(field.data, "isoformat"):
            return field.data.isoformat()
        return str(field.data)

    @property
    def active(self) -> dict:
        """The filters in force, as query arguments (sort excluded)."""
        return {
            name: f.raw_data[0]
            for name, f in self._fields.items()
            if name != "sort" and f.raw_data and f.raw_data[0]
        }


def per_language(make):
    """Choices made once per language: a tuple of (value, text) pairs that every request in that
    language shares. Their rows (reference data, fixed labels) change only with a release; being
    the same tuple each time lets the select keep its options written (forms.OptionsSelect)."""
    made: dict = {}

    def choices() -> tuple:
        language = formats().locale
        found = made.get(language)
        if found is None:
            found = made[language] = tuple((value, str(label)) for value, label in make())
        return found

    return choices


def reference_choices(rows):
    return per_language(lambda: [ALL] + [(row.code, localized(row)) for row in rows()])


def label_choices(mapping):
    return per_language(lambda: [ALL] + list(mapping.items()))


def fixed_choices(*pairs):
    return per_language(lambda: pairs)


def optional_choice(label):
    """An optional select; its choices come from the form's CHOICES at request time."""
    # strip_whitespace=False: a value of spaces is an unknown choice (400), not “no filter”
    return Choice(label, validators=[Optional(strip_whitespace=False)], default="")


DIVISIONS = reference_choices(divisions)
VARIETIES = reference_choices(varieties)
CATEGORIES = reference_choices(categories)
INDUSTRIES = reference_choices(industries)
# A filter named after a reference list offers that list, on every form that has one.
REFERENCE_FILTERS = {
    "division": DIVISIONS,
    "variety": VARIETIES,
    "category": CATEGORIES,
    "industry": INDUSTRIES,
}


class ChoiceFilterForm(FilterForm):
    # field name → a function that returns its choices, called per request (the visitor's
    # language); the reference filters (REFERENCE_FILTERS) need no entry
    CHOICES: dict = {}

    def fill_choices(self):
        for name, choices in {**REFERENCE_FILTERS, **self.CHOICES}.items():
            if name in self:
                self[name].choices = choices()


def sort_choice(default: str):
    """The order of a list: its choices come from the form's CHOICES["sort"]."""
    return Choice(_l("排序"), validators=[Optional()], default=default)


# ---- Filter and sort tables ----


def equals(column):
    return lambda value: column == value


def either(*columns):
    return lambda value: or_(*(column == value for column in columns))


def filter_conditions(table: dict, filters: dict) -> list:
    return [condition(filters[name]) for name, condition in table.items() if filters.get(name)]


def sorted_by(stmt, sorts: dict, choice: str | None, default: str):
    return stmt.order_by(*sorts.get(choice or default, sorts[default]))


# ---- One page ----


def render_list(
    form, query_factory, template: str, partial: str, *, total=None, valid=None, **context
):
    """Validate the filters, run one page, and render the full page or the results fragment.

    `total`, when given, says from the filters how many rows there are, or None where it cannot
    tell (then the rows are counted). `valid` is form.validate()'s answer when the caller needed
    it first (for the page's title)."""
    page_number = parse_int(request.args.get("page"))
    if not (form.validate() if valid is None else valid):
        return render(template, partial, form=form, page=None, **context, status_code=400)
    stmt, _exact_count = query_factory(form.data)
    page = paginate(
        db.session,
        stmt,
        page=page_number,
        keyset=True,
        after=request.args.get("after"),
        before=request.args.get("before"),
        total=total(form.data) if total else None,
    )
    return render(template, partial, form=form, page=page, **context)
