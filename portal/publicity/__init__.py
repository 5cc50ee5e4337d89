"""公示 and objections (异议). `flask tick` (portal/cli.py) finalizes what is due."""

from flask import Blueprint

from portal.publicity.services import withdrawal_of
from portal.text import escape_markdown

bp = Blueprint("publicity", __name__)

from portal.publicity import todo, views  # noqa: E402,F401


def init_app(app):
    # Generated Markdown (公示 bodies) passes every value through this filter.
    app.jinja_env.filters["escape_markdown"] = escape_markdown
    # The public pages say when and why a 公示 was withdrawn.
    app.jinja_env.globals["publicity_withdrawal"] = withdrawal_of
