"""The one mail module: SMTP when MAIL_SERVER is set, otherwise an outbox folder a developer can read.

Services call `queue_mail()`; the message leaves only after the database transaction commits, so a
rolled-back registration never sends a verification link: side effects (mail, files, index updates)
happen only after the commit that makes them true. Outbox files are written as 8-bit UTF-8, so
`cat instance/outbox/*.eml` shows the Chinese text; in debug mode, in tests, or under `make run`
(MAIL_OUTBOX_PAGE) the outbox is also shown at /accounts/dev/outbox (accounts.outbox, see
`outbox_page_open()`).

Every link in a mail comes from `absolute_url()`, which starts from the PUBLIC_BASE_URL setting and
never from the request's Host header: a forged Host must not put its own address into a
password-reset mail. Every header goes through `_header_value()`, so a line break in a user's name
cannot end a header early or add one.
"""

from __future__ import annotations

import copy
import re
import smtplib
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import make_msgid
from pathlib import Path

from flask import current_app
from sqlalchemy import event

from portal.config import under_gunicorn
from portal.extensions import db
from portal.urls import public_url

_PENDING = "portal_mail_pending"


# Line breaks of every kind, and the other control characters, never belong in a header value.
_HEADER_BREAKS = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]+")


def absolute_url(endpoint: str, **values) -> str:
    """The full address of `endpoint` under PUBLIC_BASE_URL, for links that leave the site."""
    return public_url(endpoint, **values)


def _header_value(value: str) -> str:
    """Fold line breaks and control characters into single spaces (header injection)."""
    return " ".join(_HEADER_BREAKS.sub(" ", str(value or "")).split())


def build_message(
    to: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    """A plain-text message; `headers` adds more (List-Unsubscribe…), each value folded the same."""
    message = EmailMessage()
    message["From"] = _header_value(current_app.config["MAIL_SENDER"])
    message["To"] = _header_value(to)
    message["Subject"] = _header_value(subject)
    message["Date"] = datetime.now(UTC).strftime("%a, %d %b %Y %H:%M:%S +0000")
    message["Message-ID"] = make_msgid(domain="ynq.local")
    for name, value in (headers or {}).items():
        message[_header_value(name).replace(" ", "").replace(":", "")] = _header_value(value)
    message.set_content(body)
    return message


def queue_mail(
    to: str, subject: str, body: str, headers: dict[str, str] | None = None
) -> EmailMessage:
    """Send this message once the current transaction commits (dropped on rollback)."""
    message = build_message(to, subject, body, headers)
    db.session.info.setdefault(_PENDING, []).append(message)
    return message


def send_now(message: EmailMessage) -> None:
    """Deliver one message: by SMTP when configured, else into the outbox folder."""
    config = current_app.config
    if config.get("MAIL_SERVER"):
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=10) as smtp:
            if config.get("MAIL_USE_TLS"):
                smtp.starttls()
            if config.get("MAIL_USERNAME"):
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
        return
    outbox = Path(config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    token = message["Message-ID"].strip("<>").split("@")[0][-12:]
    (outbox / f"{stamp}-{token}.eml").write_bytes(_readable_bytes(message))


# RFC 5322: a line is at most 998 bytes; a longer body line keeps the default (base64) encoding.
_MAX_LINE_BYTES = 998


def _readable_bytes(message: EmailMessage) -> bytes:
    """The message as a file a developer can read: UTF-8 headers and an 8-bit UTF-8 body."""
    body = message.get_content()
    if any(len(line.encode("utf-8")) > _MAX_LINE_BYTES for line in body.splitlines()):
        return bytes(message)
    readable = copy.deepcopy(message)
    readable.set_content(body, cte="8bit")
    return readable.as_bytes(policy=readable.policy.clone(utf8=True))


def outbox_page_open(app) -> bool:
    """Whether /accounts/dev/outbox may show the outbox folder: never when SMTP is configured, never
    under gunicorn (production), and otherwise only in debug mode, in tests, or when the setting
    MAIL_OUTBOX_PAGE is on (`make run` turns it on; it is off by default)."""
    if app.config.get("MAIL_SERVER") or under_gunicorn():
        return False
    return bool(app.debug or app.testing or app.config.get("MAIL_OUTBOX_PAGE"))


def read_outbox(limit: int = 50) -> list[dict]:
    """The newest messages in the outbox folder (development only), newest first."""
    outbox = Path(current_app.config["MAIL_OUTBOX_DIR"])
    if not outbox.is_dir():
        return []
    messages = []
    for path in sorted(outbox.glob("*.eml"), reverse=True)[:limit]:
        parsed = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
        messages.append(
            {
                "name": path.name,
                "to": parsed["To"],
                "subject": parsed["Subject"],
                "date": parsed["Date"],
                "body": parsed.get_body(preferencelist=("plain",)).get_content(),
            }
        )
    return messages


def _after_commit(session) -> None:
    pending = session.info.pop(_PENDING, [])
    for message in pending:
        try:
            send_now(message)
        except (OSError, smtplib.SMTPException):
            # The change is committed; a mail server that is down must not turn it into a 500.
            current_app.logger.exception("Could not send mail to %s", message["To"])


def _after_rollback(session, _previous_transaction=None) -> None:
    session.info.pop(_PENDING, None)


def init_app(app) -> None:
    if not event.contains(db.session, "after_commit", _after_commit):
        event.listen(db.session, "after_commit", _after_commit)
        event.listen(db.session, "after_soft_rollback", _after_rollback)
