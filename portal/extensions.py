"""Extensions, unbound; create_app() binds each with init_app()."""

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from htmx_flask import Htmx
from sqlalchemy import MetaData, event
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)


def append_only(model, error: type[Exception], noun: str) -> None:
    """Refuse every update and delete of `model`'s rows through the ORM: a row is never changed in
    place. `error` says which row (`noun` and its id) and what was tried."""

    def refuse(verb: str):
        def listener(mapper, connection, target):
            raise error(f"{noun} {target.id} may not be {verb}")

        return listener

    event.listen(model, "before_update", refuse("updated"))
    event.listen(model, "before_delete", refuse("deleted"))


migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
htmx = Htmx()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
