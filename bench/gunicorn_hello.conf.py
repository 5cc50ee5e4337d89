"""deploy/gunicorn.conf.py's settings for the hello-world baseline, without its portal warm-up."""

from pathlib import Path

_deploy = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn.conf.py"
exec(compile(_deploy.read_text(encoding="utf-8"), str(_deploy), "exec"))  # noqa: S102
del post_fork  # noqa: F821 — defined by the file above; it warms the portal's database pool
