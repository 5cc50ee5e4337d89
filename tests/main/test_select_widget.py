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
