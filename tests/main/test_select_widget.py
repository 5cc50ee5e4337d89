"""The list filters' <select> writes exactly what WTForms' own widget writes."""

import pytest
from wtforms import Form
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import Select

from portal.forms import SelectField

CHOICES = [
    SelectChoice("", "全部"),
    SelectChoice("410100", "郑州市"),
    SelectChoice('a"b<c>&', "<script>alert(1)</script>"),
    SelectChoice(True, "是"),
    SelectChoice("x", ""),
]


class Filters(Form):
    division = SelectField("地区", choices=CHOICES)
    attrs = SelectField(
        "带属性", choices=[SelectChoice("1", "一", {"data-x": "y"}), SelectChoice("2", "二")]
    )


@pytest.mark.parametrize("chosen", ["", "410100", 'a"b<c>&', "True", "nothing"])
def test_options_are_written_as_wtforms_writes_them(chosen):
    form = Filters(data={"division": chosen, "attrs": "1"})
    for field in form:
        assert str(field()) == str(Select()(field))
        assert str(field(**{"aria-invalid": "true", "class_": "wide"})) == str(
            Select()(field, **{"aria-invalid": "true", "class_": "wide"})
        )
    html = str(form.division())
    assert "<script>" not in html
    assert html.count(" selected ") == (chosen in {"", "410100", 'a"b<c>&', "True"})


SHARED = (("", "全部"), ("410100", "郑州市"), ('a"b<c>&', "<script>alert(1)</script>"), ("9", "九"))


class Shared(Form):
    """As the list filters are: the choices are set on the bound fields (lists.per_language)."""

    division = SelectField("地区")
    required = SelectField("必填")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.division.choices = self.required.choices = SHARED


@pytest.mark.parametrize("chosen", ["", "410100", 'a"b<c>&', "nothing", "", "410100"])
def test_a_shared_tuple_of_choices_is_written_once_per_value_and_the_same(chosen):
    """The second time a value is shown its options come from the widget's store; the text is
    still WTForms' own, with the right option selected and the field's own name and id."""
    for _ in range(2):
        form = Shared(data={"division": chosen, "required": "9"}, prefix="p-")
        for field in form:
            assert str(field()) == str(Select()(field))
            assert str(field(**{"aria-invalid": "true"})) == str(
                Select()(field, **{"aria-invalid": "true"})
            )
        field.flags.required = True
        assert str(form.required()) == str(Select()(form.required))
        assert 'name="p-required" required>' in str(form.required())


def test_another_tuple_with_the_same_id_is_not_mistaken_for_the_first():
    from portal.forms import OptionsSelect

    form = Shared(data={"division": "9"})
    first = str(form.division())
    form.division.choices = tuple((v, label + "!") for v, label in SHARED)
    OptionsSelect._written[(id(form.division.choices), str, "9")] = (SHARED, "stale")
    assert str(form.division()) == str(Select()(form.division)) != first
