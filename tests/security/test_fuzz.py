"""Fuzz every route: no ordinary input may cause a 5xx.

Every GET rule of app.url_map is requested with fuzzed path arguments and query parameters, and
every form that the pages offer (plus every POST rule) is posted with fuzzed values and a valid
CSRF token, as an anonymous visitor and as a logged-in enterprise, province, city and auditor user.
The values come from Hypothesis: integers past 32 and 64 bits, negatives, NaN and Infinity, NUL
and other control characters, whitespace, emoji, very long strings, raw %-sequences, and the real
ids and numbers of a small demo data set, so that requests reach the records and not only 404s.

The assertion: status < 500 for every request. The 5xx found are collected (with the exception
the error handler logged) and reported together at the end of each test.

    FUZZ_PROFILE=sample  (default) a few hundred requests, derandomized: part of the normal suite
    FUZZ_PROFILE=probe   `make probe`: FUZZ_EXAMPLES (default 1100) examples per role and kind,
                         five roles, GET and POST: over 10,000 requests per database
"""

from __future__ import annotations

import io
import logging
import os
import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urlsplit

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from portal.extensions import db

_COMMON = dict(
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)
settings.register_profile(
    "sample", max_examples=int(os.environ.get("FUZZ_EXAMPLES", 30)), derandomize=True, **_COMMON
)
settings.register_profile(
    "probe", max_examples=int(os.environ.get("FUZZ_EXAMPLES", 1100)), derandomize=False, **_COMMON
)
PROFILE = os.environ.get("FUZZ_PROFILE", "sample")
FUZZ = settings.get_profile(PROFILE)

ROLES = ("anonymous", "enterprise", "province", "city", "auditor")

# Requests the fuzzer must not send: they end its own session, so the rest would run logged out.
SELF_ENDING = {"accounts.logout", "accounts.totp_disable"}

# --- values ---------------------------------------------------------------------------------------

SPECIAL = [
    "",
    " ",
    "   ",
    "\t",
    "\n",
    "\r\n",
    "\u3000",
    "\u00a0",
    "\x00",
    "a\x00b",
    "\x01\x1f\x7f",
    "\x85",
    "\u202e",
    "\ufeff",
    "0",
    "-0",
    "1",
    "-1",
    "01",
    "1.5",
    "2147483647",
    "2147483648",
    "-2147483649",
    "4294967296",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "9" * 30,
    "9" * 400,
    "9" * 5000,
    "1e400",
    "-1e400",
    "1E+30",
    "Infinity",
    "-Infinity",
    "inf",
    "NaN",
    "sNaN",
    "-sNaN",
    "1.00001",
    "0.0001",
    "99999999999999.9999",
    "100000000000000",
    "1,000",
    "１２３",
    "²",
    "٣",
    "𐩀",
    "①",
    "😀",
    "👨‍👩‍👧‍👦",
    "𠀀",
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    '"',
    "\\",
    "../../../etc/passwd",
    "%",
    "%00",
    "%zz",
    "%ff%fe",
    "%c0%80",
    "%25",
    "null",
    "true",
    "on",
    "[]",
    "{}",
    "2024-02-30",
    "2024-13-01",
    "2025-03-01",
    "0001-01-01",
    "9999-12-31",
    "10000-01-01",
    "2025-03-01T25:61",
    "x" * 300,
    "中" * 5000,
    "a" * 70000,
    "energy",
    "coal",
    "voluntary",
    "listing",
    "province",
    "city:410100",
    "enterprise:1",
    "enterprise:99999999999999999999",
    "410100",
    "zh_Hans_CN",
    "en",
    "-date",
]

_chars = st.characters(blacklist_categories=("Cs",))
_text = st.text(alphabet=_chars, max_size=40)
_long = st.integers(min_value=200, max_value=20_000).map(lambda n: "长" * n)
_ints = st.one_of(
    st.integers(min_value=-5, max_value=60),
    st.integers(min_value=2**31 - 3, max_value=2**31 + 3),
    st.integers(min_value=2**63 - 2, max_value=2**64 + 2),
    st.integers(min_value=-(2**70), max_value=2**70),
).map(str)
_decimals = st.decimals(allow_nan=True, allow_infinity=True).map(str)


def values(known: list[str]):
    """A fuzzed text value; `known` are real ids, numbers and codes of the seeded data."""
    options = [st.sampled_from(SPECIAL), _text, _ints, _decimals, _long]
    if known:
        options.insert(0, st.sampled_from(known))
    return st.one_of(*options)


# --- the world: a seeded database and one logged-in client per role -------------------------------


@dataclass
class Probe:
    requests: int = 0
    errors: list = field(default_factory=list)
    slow: list = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)


@dataclass
class World:
    app: object
    clients: dict
    tokens: dict
    own_user_ids: dict
    known: dict  # converter/argument name → real values
    keys: list  # query/form parameter names
    forms: dict  # role → list of (action, [(name, kind, options, value)], enctype)
    probe: Probe
    log: list


class _ErrorLog(logging.Handler):
    """Keep the exceptions the 500 handler logs, to show them beside the request."""

    def __init__(self, sink: list):
        super().__init__(level=logging.ERROR)
        self.sink = sink

    def emit(self, record):
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            self.sink.append(f"{type(error).__name__}: {str(error)[:200]}")


class _Forms(HTMLParser):
    """The POST forms of a page: action, fields (name, kind, option values, value), enctype."""

    def __init__(self):
        super().__init__()
        self.forms: list = []
        self.current = None
        self.select = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and (attrs.get("method") or "get").lower() == "post":
            self.current = (attrs.get("action") or "", [], attrs.get("enctype") or "")
            self.forms.append(self.current)
        elif self.current is None or not attrs.get("name"):
            return
        elif tag == "input":
            kind = (attrs.get("type") or "text").lower()
            self.current[1].append(
                (attrs["name"], kind, [attrs.get("value") or ""], attrs.get("value") or "")
            )
        elif tag == "textarea":
            self.current[1].append((attrs["name"], "textarea", [], ""))
        elif tag == "select":
            self.select = (attrs["name"], "select", [], "")
            self.current[1].append(self.select)
        if tag == "option" and self.select is not None:
            self.select[2].append(attrs.get("value") or "")

    def handle_endtag(self, tag):
        if tag == "form":
            self.current = None
        elif tag == "select":
            self.select = None


def _form_field_names() -> set[str]:
    """Every field name of every form class in the portal (the parameter names worth fuzzing)."""
    import importlib
    import pkgutil

    import portal
    from portal.forms import FlaskForm

    names = set()
    for module_info in pkgutil.walk_packages(portal.__path__, "portal."):
        if not module_info.name.endswith(".forms"):
            continue
        module = importlib.import_module(module_info.name)
        for value in vars(module).values():
            if isinstance(value, type) and issubclass(value, FlaskForm):
                for attr, unbound in vars(value).items():
                    if hasattr(unbound, "field_class"):
                        names.add(unbound.kwargs.get("name") or attr)
    return names


def _seed(app) -> dict:
    """A small demo data set, filings in each status, an open 公示, and what the fuzzer may reuse."""
    from demo.data import load_demo
    from portal.accounts.models import AuditFirm, User
    from portal.compliance.models import CompliancePeriod
    from portal.disclosure.models import Listing, Trade
    from portal.enterprises.models import Enterprise
    from portal.news.models import Announcement
    from portal.publicity import services as publicity
    from portal.registry import services as registry
    from tests.factories import make_filing

    with app.app_context():
        load_demo(scale=5, echo=lambda *_args, **_kw: None)
        firm = db.session.scalar(select(AuditFirm).order_by(AuditFirm.id))
        enterprise = db.session.scalar(select(Enterprise).order_by(Enterprise.id))
        statuses = {
            "retrofit": [
                "draft",
                "submitted",
                "baseline_review",
                "city_filed",
                "savings_audit",
                "city_confirmed",
                "province_confirmed",
                "publicity",
                "returned",
            ],
            "closure": ["draft", "submitted", "city_review", "province_review"],
            "purchase": ["draft", "submitted", "city_review", "province_review"],
            "voluntary": ["draft", "submitted", "city_review"],
            "compliance": ["draft", "submitted", "city_review"],
        }
        for kind, kind_statuses in statuses.items():
            for status in kind_statuses:
                make_filing(kind, status, enterprise=enterprise, firm_id=firm.id)
        registry.issue_indicators(enterprise.id, "energy", 1000, "确权")
        publicity.publish_publicity("other", "fuzz", "关于某事项的公示", "正文")
        db.session.commit()
        known = {
            "uscc": list(db.session.scalars(select(Enterprise.uscc))),
            "number": list(db.session.scalars(select(Listing.number)))
            + list(db.session.scalars(select(Trade.number))),
            "year": [str(y) for y in db.session.scalars(select(CompliancePeriod.year))],
            "id": [str(i) for i in db.session.scalars(select(Announcement.id))],
            "holder_key": ["province", "city:410100", f"enterprise:{enterprise.id}"],
            "user_id": [str(i) for i in db.session.scalars(select(User.id))],
        }
        from portal.filings.models import Filing

        known["filing_id"] = [str(i) for i in db.session.scalars(select(Filing.id))]
        known["announcement_id"] = known["id"]
        return {
            "known": known,
            "enterprise_id": enterprise.id,
            "firm_id": firm.id,
            "division_code": enterprise.division_code,
        }


def _token(client) -> str:
    html = client.get("/").get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    return match.group(1) if match else ""


def _rule_parts(rule) -> list[tuple[str, str, str]]:
    """[(converter, arguments, name)] of a rule's variable parts."""
    return re.findall(r"<(?:(\w+)(?:\(([^)]*)\))?:)?(\w+)>", rule.rule)


@pytest.fixture
def world(app, client, auth) -> World:
    seeded = _seed(app)
    known = seeded["known"]
    clients, tokens, own = {}, {}, {}
    for role in ROLES:
        role_client = client if role == "anonymous" else app.test_client()
        if role != "anonymous":
            actions = type(auth)(app, role_client)
            kw = {}
            if role == "enterprise":
                kw["enterprise_id"] = seeded["enterprise_id"]
                kw["is_enterprise_admin"] = True
            if role == "auditor":
                kw["audit_firm_id"] = seeded["firm_id"]
            if role == "city":
                kw["division_code"] = seeded["division_code"]
            own[role] = actions.login(role, **kw)
        clients[role] = role_client
        tokens[role] = _token(role_client)
    # Upload forms and attachments exist once a file is on a filing; objections once filed.
    log: list[str] = []
    app.logger.addHandler(_ErrorLog(log))
    keys = sorted(
        _form_field_names()
        | {
            "page",
            "per_page",
            "q",
            "sort",
            "next",
            "from",
            "to",
            "open",
            "lang",
            "kind",
            "status",
            "token",
            "format",
        }
    )
    return World(app, clients, tokens, own, known, keys, {}, Probe(), log)


def _example_paths(rule, known) -> list[str]:
    """The rule filled with real values: every known value of its first argument (up to 30)."""
    paths = [rule.rule]
    for index, (converter, arguments, name) in enumerate(_rule_parts(rule)):
        if converter == "any":
            candidates = [c.strip() for c in arguments.split(",")]
        else:
            candidates = known.get(name) or (known["filing_id"] if converter == "int" else [])
        if not candidates:
            return []
        candidates = candidates[:30] if index == 0 else candidates[:1]
        pattern = r"<[^>]*\b" + name + ">"
        paths = [
            re.sub(pattern, quote(value, safe=""), path, count=1)
            for path in paths
            for value in candidates
        ]
    return paths


def _discover_forms(app, client, known) -> list:
    """Walk every GET rule with real arguments and keep the POST forms the pages offer."""
    found = {}
    for rule in app.url_map.iter_rules():
        if "GET" not in rule.methods or rule.endpoint.endswith("static"):
            continue
        for path in _example_paths(rule, known):
            response = client.get(path)
            body = response.get_data()  # bytes: some routes answer images, XLSX or zip files
            response.close()
            if response.status_code != 200 or "html" not in (response.content_type or ""):
                continue
            html = body.decode()
            parser = _Forms()
            parser.feed(html)
            for action, fields, enctype in parser.forms:
                target = urlsplit(action).path or path
                if not re.search(r"/(logout|totp/disable)$", target):
                    found.setdefault(target, (target, fields, enctype))
    return list(found.values())


# --- sending ----------------------------------------------------------------------------------------


def _send(world: World, role: str, method: str, url: str, **kwargs):
    client = world.clients[role]
    before = len(world.log)
    started = time.monotonic()
    response = client.open(url, method=method, **kwargs)
    try:
        response.get_data()  # a streamed body (CSV export) runs only when read
    except Exception as error:  # noqa: BLE001 — a body that fails half-way is a 5xx too
        world.log.append(f"{type(error).__name__} while streaming: {str(error)[:200]}")
        response.status_code = 500
    finally:
        response.close()
    elapsed = time.monotonic() - started
    world.probe.requests += 1
    world.probe.statuses[response.status_code // 100] += 1
    if elapsed > 2:
        world.probe.slow.append((round(elapsed, 1), role, method, url[:120]))
    if response.status_code >= 500:
        cause = world.log[before:] or ["(no exception logged)"]
        data = kwargs.get("data") or {}
        summary = {key: "<file>" if isinstance(v, tuple) else v[:80] for key, v in data.items()}
        world.probe.errors.append(
            (role, method, url[:300], summary, response.status_code, cause[-1])
        )
    return response


def _quoted(value: str, raw: bool) -> str:
    return value if raw else quote(value, safe="")


@st.composite
def get_requests(draw, world: World, role: str):
    rules = [r for r in world.app.url_map.iter_rules() if "GET" in r.methods]
    rule = draw(st.sampled_from(sorted(rules, key=lambda r: r.rule)))
    path = rule.rule
    for converter, arguments, name in _rule_parts(rule):
        if converter == "int":
            known = world.known.get(name) or world.known["filing_id"]
            value = draw(st.one_of(st.sampled_from(known), _ints, values([])))
        elif converter == "any":
            choices = [c.strip() for c in arguments.split(",")]
            value = draw(st.one_of(st.sampled_from(choices), values([])))
        else:
            value = draw(values(world.known.get(name, []) + ["x.csv", "css/portal.css"]))
        raw = draw(st.booleans()) and re.fullmatch(r"%[%0-9A-Za-z]*", value) is not None
        path = re.sub(
            r"<[^>]*\b" + name + ">", lambda _m, v=value, r=raw: _quoted(v, r), path, count=1
        )
    params = draw(
        st.lists(st.tuples(st.one_of(st.sampled_from(world.keys), _text), values([])), max_size=4)
    )
    raw_query = draw(
        st.one_of(st.just(""), st.sampled_from(["%", "%zz=1", "page=%00", "a=%ff%fe", "&&=&"]))
    )
    headers = {"HX-Request": "true"} if draw(st.booleans()) else {}
    return path, params, raw_query, headers


@st.composite
def post_requests(draw, world: World, role: str):
    forms = world.forms[role]
    rules = [
        r
        for r in world.app.url_map.iter_rules()
        if "POST" in r.methods and r.endpoint not in SELF_ENDING
    ]
    data = MultiDict()
    use_form = forms and draw(st.integers(0, 3)) > 0
    if use_form:
        action, fields, _enctype = draw(st.sampled_from(forms))
        url = action
        for name, kind, options, original in fields:
            if name == "csrf_token":
                continue
            choice = draw(st.integers(0, 5))
            if choice == 0:
                continue  # left out
            if kind == "file":
                data.add(name, (io.BytesIO(draw(_file_bodies)), draw(_file_names)))
            elif choice <= 2 and (options or original):
                data.add(name, draw(st.sampled_from(options or [original])))
            else:
                data.add(name, draw(values(world.known.get(name, []))))
    else:
        rule = draw(st.sampled_from(sorted(rules, key=lambda r: r.rule)))
        url = rule.rule
        for converter, arguments, name in _rule_parts(rule):
            if converter == "int":
                value = draw(
                    st.one_of(
                        st.sampled_from(world.known.get(name) or world.known["filing_id"]), _ints
                    )
                )
            elif converter == "any":
                value = draw(st.sampled_from([c.strip() for c in arguments.split(",")]))
            else:
                value = draw(values(world.known.get(name, [])))
            url = re.sub(r"<[^>]*\b" + name + ">", quote(value, safe=""), url, count=1)
        for key in draw(st.lists(st.sampled_from(world.keys), max_size=6)):
            data.add(key, draw(values([])))
    if not re.search(r"/(logout|totp/disable)$", url):
        data["csrf_token"] = world.tokens[role]
    headers = {"HX-Request": "true"} if draw(st.booleans()) else {}
    return url, data, headers


_file_names = st.sampled_from(
    ["a.csv", "a.json", "a.xlsx", "a.pdf", "a.png", "a.txt", "", "\u202e.pdf", "x" * 300 + ".csv"]
)
_file_bodies = st.one_of(
    st.sampled_from(
        [
            b"",
            b"%PDF-1.4\n%%EOF\n",
            "成交编号,成交数量,成交单价\nCJ-F,Infinity,1e400\n".encode(),
            "挂牌编号,挂牌数量\nGP-F,NaN\n".encode(),
            b"[" * 5000 + b"]" * 5000,
            b'{"records": [{"number": "CJ-J", "quantity": 1e999}]}',
            b"PK\x03\x04garbage",
            "\ufeff成交编号\n\x00\n".encode(),
        ]
    ),
    st.binary(max_size=300),
)


def _run(world: World, role: str, method: str):
    fuzzers = "|".join(str(i) for i in world.own_user_ids.values())

    @FUZZ
    @given(request=(get_requests if method == "GET" else post_requests)(world, role))
    def fuzz(request):
        if method == "GET":
            path, params, raw_query, headers = request
            query = "&".join(filter(None, [raw_query, urlencode(params)]))
            _send(world, role, "GET", f"{path}?{query}" if query else path, headers=headers)
        else:
            url, data, headers = request
            if re.search(rf"/(users|colleagues)/({fuzzers})/", url):
                return  # would end the session of one of the fuzzing users
            _send(
                world,
                role,
                "POST",
                url,
                data=data,
                headers=headers,
                content_type="multipart/form-data",
            )

    fuzz()


_TOTALS: Counter = Counter()


def _report(request, capsys, world: World, what: str):
    probe = world.probe
    _TOTALS["requests"] += probe.requests
    _TOTALS["5xx"] += len(probe.errors)
    reporter = request.config.pluginmanager.get_plugin("terminalreporter")
    database = world.app.config["SQLALCHEMY_DATABASE_URI"].split(":", 1)[0]
    lines = [
        f"fuzz {what} [{PROFILE}, {database}]: {probe.requests} requests, "
        f"{len(probe.errors)} 5xx; by class {dict(sorted(probe.statuses.items()))}; "
        f"total so far {_TOTALS['requests']} requests, {_TOTALS['5xx']} 5xx"
    ]
    lines += [f"  slow: {s}" for s in sorted(probe.slow, reverse=True)[:5]]
    if reporter is not None:
        with capsys.disabled():
            reporter.write_line("")
            for line in lines:
                reporter.write_line(line)
    distinct = {}
    for role, method, url, data, status, cause in probe.errors:
        distinct.setdefault(
            (method, re.sub(r"\d+", "N", urlsplit(url).path)[:60], cause[:60]),
            (role, method, url, data, status, cause),
        )
    assert not probe.errors, "5xx answers:\n" + "\n".join(
        f"{status} {role} {method} {url} {data or ''}\n    {cause}"
        for role, method, url, data, status, cause in list(distinct.values())[:25]
    )


def test_every_get_route_answers_below_500(world, request, capsys):
    for role in ROLES:
        _run(world, role, "GET")
    _report(request, capsys, world, "GET")


def test_every_form_post_answers_below_500(world, request, capsys):
    for role in ROLES:
        world.forms[role] = _discover_forms(world.app, world.clients[role], world.known)
    for role in ROLES:
        _run(world, role, "POST")
    _report(request, capsys, world, "POST")
