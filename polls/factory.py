"""The application factory: configuration, extensions, blueprints."""
import os
import secrets
import sqlite3
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.middleware.proxy_fix import ProxyFix

from polls.config import Config
from polls.widgets import WidgetFastPath


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app from `Config` (environment) overlaid with `test_config`."""
    root = Path(__file__).resolve().parent.parent
    app = Flask(
        __name__,
        instance_path=os.environ.get("INSTANCE_PATH", str(root / "instance")),
        template_folder=str(root / "templates"),
        static_folder=str(root / "static"),
    )
    app.config.from_object(Config)
    if test_config:
        app.config.from_mapping(test_config)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _settle_secret_key(app)
    app.config["SQLALCHEMY_DATABASE_URI"] = _database_url(app)
    app.config.setdefault("RATELIMIT_STORAGE_URI", app.config["REDIS_URL"] or "memory://")
    app.wsgi_app = WidgetFastPath(app.wsgi_app, app.config)  # inside ProxyFix: sees the real host
    if app.config["TRUSTED_PROXY_HOPS"]:
        hops = app.config["TRUSTED_PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)

    from polls.extensions import babel, csrf, db, limiter, login_manager, migrate, redis_store
    from polls.i18n import select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(root / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)
    redis_store.init_app(app)
    app.config.setdefault("BABEL_TRANSLATION_DIRECTORIES", str(root / "translations"))
    babel.init_app(app, locale_selector=select_locale)

    from polls import api, cli, embed, errors, forms, health, lifecycle, manage, public, security, timezones, voters
    from polls import language, media, nominate

    app.register_blueprint(public.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(manage.bp)
    app.register_blueprint(embed.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(nominate.bp)
    app.register_blueprint(media.bp)
    app.after_request(voters.send_new_voter_cookie)
    app.add_template_filter(forms.format_start_time, "start_time")
    app.add_template_filter(timezones.format_local, "local_time")
    language.init_app(app)  # the language switch, Vary, and the template helpers
    lifecycle.init_app(app)
    errors.init_app(app)
    security.init_app(app)
    cli.init_app(app)
    return app


def _settle_secret_key(app: Flask) -> None:
    """Production must be given SECRET_KEY; development keeps one in instance/."""
    if app.config.get("SECRET_KEY"):
        return
    if app.config["PRODUCTION"]:
        raise RuntimeError("SECRET_KEY must be set when KISSPOLL_ENV=production")
    key_file = Path(app.instance_path) / "secret_key"
    if not key_file.exists():
        # Created private (0600) from the start, never world-readable for a moment.
        with os.fdopen(os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as out:
            out.write(secrets.token_hex(32))
    app.config["SECRET_KEY"] = key_file.read_text().strip()


def _database_url(app: Flask) -> str:
    url = app.config.get("SQLALCHEMY_DATABASE_URI") or (
        "sqlite:///" + str(Path(app.instance_path) / "kisspoll.db")
    )
    # psycopg 3 is the PostgreSQL driver; accept the common postgres:// spellings.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


@event.listens_for(Engine, "connect")
def _tune_sqlite(dbapi_connection, _record) -> None:
    """WAL and a busy timeout so several gunicorn workers can share one SQLite file."""
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()
