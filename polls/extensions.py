"""Flask extensions, created unbound and bound in `create_app`."""
import logging

import redis
from flask import Flask
from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
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


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
csrf = CSRFProtect()
login_manager = LoginManager()
limiter = Limiter(key_func=address_key)


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
        # Short timeouts: a sick Redis must slow a request by milliseconds, not hang it.
        self.client = redis.Redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)

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
