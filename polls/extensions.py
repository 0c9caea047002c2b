"""Flask extensions, created unbound and bound in `create_app`."""
import logging

import redis
from flask import Flask, current_app, request
from flask_babel import Babel
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect as _FlaskWTFCSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

from polls.voters import address_key


class Base(DeclarativeBase):
    # Named constraints, so that later migrations can alter them on SQLite too.
    metadata = MetaData(naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    })


class CSRFProtect(_FlaskWTFCSRFProtect):
    """Flask-WTF's CSRF protection, minus a 500 on a multipart part without a name.

    Werkzeug files such a part under the form key None, and Flask-WTF's search
    for a prefixed ``<prefix>-csrf_token`` field calls ``key.endswith`` on every
    key, so any POST carrying one crashed before the view (even with a good
    X-CSRFToken header). The lookup is the same, skipping keys that are not text.
    """

    def _get_csrf_token(self):
        if all(isinstance(key, str) for key in request.form):
            return super()._get_csrf_token()
        field_name = current_app.config["WTF_CSRF_FIELD_NAME"]
        if request.form.get(field_name):
            return request.form[field_name]
        for key, value in request.form.items():
            if isinstance(key, str) and key.endswith(field_name) and value:
                return value
        for header in current_app.config["WTF_CSRF_HEADERS"]:
            if request.headers.get(header):
                return request.headers[header]
        return None


db = SQLAlchemy(model_class=Base)
babel = Babel()
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
# Short timeouts: a sick Redis must slow a request by milliseconds, not hang it. Without
# them the limiter's own Redis client (limits builds it from RATELIMIT_STORAGE_URI)
# waited about 5 s per call on a hung Redis before falling back to memory.
# RATELIMIT_STORAGE_OPTIONS in the config still overrides these; memory:// ignores them.
REDIS_TIMEOUTS = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
limiter = Limiter(key_func=address_key, storage_options=dict(REDIS_TIMEOUTS))


class RedisConnection:
    """The app's Redis client, or None when REDIS_URL is unset (development)."""

    def __init__(self) -> None:
        self.client: redis.Redis | None = None

    def init_app(self, app: Flask) -> None:
        url = app.config.get("REDIS_URL")
        if not url:
            logging.getLogger("polls").warning(
                "REDIS_URL is not set: rate limits are kept in process memory only"
            )
            self.client = None
            return
        self.client = redis.Redis.from_url(url, **REDIS_TIMEOUTS)

    def ping(self) -> str:
        """'ok', 'not configured' or 'unreachable'."""
        if self.client is None:
            return "not configured"
        try:
            self.client.ping()
        except redis.RedisError:
            return "unreachable"
        return "ok"


redis_store = RedisConnection()
