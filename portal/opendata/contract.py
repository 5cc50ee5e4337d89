"""The API's contract, declared once: value types, records, query parameters and endpoints.

The views turn rows into JSON with these declarations (`Record.dump`), and `openapi.py` describes
the same declarations, so the document and the responses cannot drift apart. Query parameters come
from the same WTForms filter forms as the HTML lists (`form_parameters`).

Number rules (docs/api.md): a quantity is a string with 4 decimals, a price or an amount a string
with 2; null means "not reported" and "0.0000" means zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from operator import attrgetter

from werkzeug.datastructures import MultiDict
from wtforms import BooleanField, DateField, StringField

from portal.forms import IntegerField, SelectField
from portal.i18n import gettext as _

# ---- value types ----------------------------------------------------------------------------------


class ValueType:
    """How one kind of value is written in JSON, and its JSON Schema (without null)."""

    def schema(self) -> dict:
        raise NotImplementedError

    def dump(self, value):
        return value

    def label(self) -> str:
        """The type in words, for the documentation page."""
        raise NotImplementedError


class Text(ValueType):
    def __init__(self, fmt: str | None = None, max_length: int | None = None):
        self.fmt, self.max_length = fmt, max_length

    def schema(self) -> dict:
        out = {"type": "string"}
        if self.fmt:
            out["format"] = self.fmt
        if self.max_length:
            out["maxLength"] = self.max_length
        return out

    def dump(self, value):
        return str(value)

    def label(self) -> str:
        return {"uri": _("网址"), None: _("字符串")}.get(self.fmt, _("字符串"))


class Code(ValueType):
    """A stored code from a fixed list (`choices`: the codes, or a function that gives them)."""

    def __init__(self, choices):
        self.choices = choices

    def values(self) -> list[str]:
        return list(self.choices() if callable(self.choices) else self.choices)

    def schema(self) -> dict:
        return {"type": "string", "enum": self.values()}

    def dump(self, value):
        return str(value)

    def label(self) -> str:
        values = self.values()
        if len(values) > 8:
            return _("代码（见 /api/v1/reference）")
        return _("代码：%(values)s", values=" | ".join(values))


class Integer(ValueType):
    def __init__(self, minimum: int | None = None):
        self.minimum = minimum

    def schema(self) -> dict:
        return {"type": "integer"} | ({"minimum": self.minimum} if self.minimum is not None else {})

    def dump(self, value):
        return int(value)

    def label(self) -> str:
        return _("整数")


class Boolean(ValueType):
    def schema(self) -> dict:
        return {"type": "boolean"}

    def dump(self, value):
        return bool(value)

    def label(self) -> str:
        return "true | false"


class Day(ValueType):
    def schema(self) -> dict:
        return {"type": "string", "format": "date"}

    def dump(self, value: date):
        return value.isoformat()

    def label(self) -> str:
        return _("日期 YYYY-MM-DD")


class Instant(ValueType):
    """A moment, stored as naive UTC, written in RFC 3339 with its offset (Z)."""

    def schema(self) -> dict:
        return {"type": "string", "format": "date-time"}

    def dump(self, value: datetime):
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value.isoformat(timespec="seconds") + "Z"

    def label(self) -> str:
        return _("时间，RFC 3339，UTC（末尾 Z）")


class Scaled(ValueType):
    """An exact decimal as a string with exactly `scale` decimals: never a float, never rounded
    by the reader's JSON parser."""

    def __init__(self, scale: int):
        self.scale = scale
        self.quantum = Decimal(1).scaleb(-scale)

    def schema(self) -> dict:
        return {"type": "string", "pattern": rf"^-?[0-9]+\.[0-9]{{{self.scale}}}$"}

    def dump(self, value):
        return format(Decimal(value).quantize(self.quantum), "f")

    def label(self) -> str:
        return _("字符串，%(scale)s 位小数", scale=self.scale)


QUANTITY = Scaled(4)  # Numeric(18, 4): 吨标准煤 or 吨, as the record's `unit` says
MONEY = Scaled(2)  # 元 (CNY): prices per unit, amounts


class Nested(ValueType):
    def __init__(self, record: Record):
        self.record = record

    def schema(self) -> dict:
        return {"$ref": f"#/components/schemas/{self.record.name}"}

    def dump(self, value):
        return self.record.dump(value)

    def label(self) -> str:
        return self.record.name


class ListOf(ValueType):
    def __init__(self, item: ValueType):
        self.item = item

    def schema(self) -> dict:
        return {"type": "array", "items": self.item.schema()}

    def dump(self, value):
        return [self.item.dump(v) for v in value]

    def label(self) -> str:
        return _("%(item)s 的列表", item=self.item.label())


class Counts(ValueType):
    """Counts by code, e.g. {"on_time": 12, "late": 3}; a code that does not occur is 0."""

    def __init__(self, codes):
        self.codes = codes

    def schema(self) -> dict:
        names = list(self.codes)
        return {
            "type": "object",
            "properties": {code: {"type": "integer", "minimum": 0} for code in names},
            "required": names,
            "additionalProperties": False,
        }

    def dump(self, value: dict):
        return {code: int(value.get(code, 0)) for code in self.codes}

    def label(self) -> str:
        return _("对象：%(codes)s 各自的计数", codes=" | ".join(self.codes))


# ---- records --------------------------------------------------------------------------------------


@dataclass
class Field:
    """One member of a record: its name, type, meaning (Chinese, lazy) and where its value comes
    from. `nullable` fields say what null means in `description`; `unit` names the unit."""

    name: str
    type: ValueType
    description: object
    get: Callable
    nullable: bool = False
    unit: str | None = None
    example: object = None

    def schema(self) -> dict:
        schema = self.type.schema()
        if self.nullable:
            if isinstance(schema.get("type"), str):
                schema = {**schema, "type": [schema["type"], "null"]}
                if "enum" in schema:
                    schema["enum"] = [*schema["enum"], None]
            else:
                schema = {"anyOf": [schema, {"type": "null"}]}
        text = str(self.description)
        if self.unit:
            text = f"{text}（{self.unit}）"
        if "$ref" in schema:  # a sibling of $ref is allowed in 3.1, but keep refs plain
            return schema
        return {**schema, "description": text}

    def dump(self, row):
        value = self.get(row)
        if value is None:
            if not self.nullable:
                raise ValueError(f"{self.name} is null but the contract says it never is")
            return None
        return self.type.dump(value)


@dataclass
class Record:
    name: str
    description: object
    fields: list[Field]
    example: dict | None = None

    def dump(self, row) -> dict:
        return {f.name: f.dump(row) for f in self.fields}

    def schema(self) -> dict:
        return {
            "type": "object",
            "description": str(self.description),
            "properties": {f.name: f.schema() for f in self.fields},
            "required": [f.name for f in self.fields],
            # A member the code adds without declaring it here fails the contract tests.
            "additionalProperties": False,
        }

    def extend(self, name: str, description, *more: Field) -> Record:
        return Record(name, description, [*self.fields, *more])

    def nested(self) -> list[Record]:
        """The records this one refers to, for components/schemas."""
        found = []
        for f in self.fields:
            kind = f.type.item if isinstance(f.type, ListOf) else f.type
            if isinstance(kind, Nested):
                found += [kind.record, *kind.record.nested()]
        return found


def attr(*path: str) -> Callable:
    """A getter that follows attributes, stopping at None: attr("listing", "number")."""
    if len(path) == 1:
        # One attribute: C-speed for rows, a lookup for the dicts some services return.
        name, fetch = path[0], attrgetter(path[0])
        return lambda row: row[name] if isinstance(row, dict) else fetch(row)

    def get(row):
        for name in path:
            if row is None:
                return None
            row = row[name] if isinstance(row, dict) else getattr(row, name)
        return row

    return get


# ---- query parameters -----------------------------------------------------------------------------


@dataclass
class Parameter:
    name: str
    where: str  # "query" or "path"
    schema: dict
    description: object
    required: bool = False

    def openapi(self) -> dict:
        return {
            "name": self.name,
            "in": self.where,
            "required": self.required or self.where == "path",
            "description": str(self.description),
            "schema": self.schema,
        }


EMPTY = {"type": "string", "maxLength": 0}


def absent_or(schema: dict) -> dict:
    """A query parameter whose empty value means "not given", as an HTML form sends it."""
    return {"anyOf": [schema, EMPTY]}


# portal.forms.FlaskForm refuses control characters (Unicode Cc) in a one-line field.
ONE_LINE = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"


def form_parameters(form_class) -> list[Parameter]:
    """The query parameters of a GET filter form, with the choices it offers in this request.

    An empty value is the same as no value: the pages' filter forms send every field, and the
    API takes the same query strings."""
    form = form_class(MultiDict())
    out = []
    for f in form:
        text = str(f.label.text)
        if isinstance(f, SelectField):
            values = [value for value, _label in f.choices if value != ""]
            schema = {"type": "string", "enum": [*values, ""]}
            labels = "；".join(f"{value}={label}" for value, label in f.choices if value != "")
            text = f"{text}。{labels}" if len(values) <= 12 else text
        elif isinstance(f, DateField):
            schema = absent_or({"type": "string", "format": "date"})
        elif isinstance(f, BooleanField):
            schema = absent_or({"type": "boolean"})
        elif isinstance(f, IntegerField):
            schema = absent_or({"type": "integer", "minimum": f.minimum, "maximum": f.maximum})
        elif isinstance(f, StringField):
            longest = max((v.max for v in f.validators if getattr(v, "max", -1) > 0), default=None)
            schema = {"type": "string", "pattern": ONE_LINE}
            schema |= {"maxLength": longest} if longest else {}
        else:  # pragma: no cover - a new field type must be described here first
            raise TypeError(f"no OpenAPI description for {type(f).__name__}")
        out.append(Parameter(f.name, "query", schema, text))
    return out


# ---- endpoints ------------------------------------------------------------------------------------


@dataclass
class Endpoint:
    """One GET operation: what the document says about it and what the human page shows."""

    endpoint: str  # Flask endpoint, e.g. "opendata.listings"
    rule: str  # the Flask rule, e.g. "/listings/<number>"
    tag: str
    summary: object
    description: object
    response: Record | None  # the record of a list's results, or of a single object
    paged: bool = False
    parameters: Callable[[], list[Parameter]] = list
    path_parameters: list[Parameter] = field(default_factory=list)
    errors: tuple[int, ...] = (400, 429, 500)
    examples: list[str] = field(default_factory=list)
    conditional: bool = True  # ETag and 304
    takes_parameters: bool = True  # False: the operation reads no parameter at all
    raw_schema: dict | None = None  # for the few answers that are not records (the document)

    @property
    def operation_id(self) -> str:
        return self.endpoint.split(".", 1)[1]

    @property
    def path(self) -> str:
        """The OpenAPI path: <int:year> becomes {year}."""
        out = self.rule
        for p in self.path_parameters:
            for converter in ("int:", "string:", ""):
                out = out.replace(f"<{converter}{p.name}>", f"{{{p.name}}}")
        return out


ENDPOINTS: list[Endpoint] = []


def register(endpoint: Endpoint) -> Endpoint:
    ENDPOINTS.append(endpoint)
    return endpoint
