"""CLI commands and /healthz."""
import json

from sqlalchemy import func, select

from polls.extensions import db
from polls.models import Ballot, Poll


def test_demo_loads_once(app, runner):
    first = runner.invoke(args=["polls", "demo"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["polls", "demo"])
    assert "already loaded" in second.output
    with app.app_context():
        polls = {p.slug: p for p in db.session.scalars(select(Poll))}
        assert polls["best-kiss-2014"].status == "open"
        assert len(polls["best-kiss-2014"].candidates) == 9
        assert polls["best-kiss-all-time"].status == "closed"
        ballots = db.session.scalar(select(func.count()).select_from(Ballot))
    assert ballots == 240
    rounds = json.loads(runner.invoke(args=["polls", "tally", "best-kiss-all-time"]).output)["rounds"]
    assert len(rounds) >= 3


def test_tally_unknown_slug_is_a_clean_error(runner):
    result = runner.invoke(args=["polls", "tally", "nope"])
    assert result.exit_code != 0
    assert "no poll with slug 'nope'" in result.output
    assert "Traceback" not in result.output


def test_init_db_creates_schema_with_migrations(tmp_path, redis_url):
    from polls.factory import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'fresh.db'}",
                      "SECRET_KEY": "x", "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url})
    result = app.test_cli_runner().invoke(args=["polls", "init-db"])
    assert result.exit_code == 0, result.output
    again = app.test_cli_runner().invoke(args=["polls", "init-db"])
    assert again.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Poll)) == 0
        db.engine.dispose()


def test_healthz_reports_database_and_redis(client):
    body = client.get("/healthz").get_json()
    assert body == {"status": "ok", "database": "ok", "redis": "ok"}


def test_healthz_degraded_when_redis_is_unreachable(tmp_path):
    from polls.factory import create_app
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}", "SECRET_KEY": "x",
                      "REDIS_URL": "redis://127.0.0.1:1/0", "RATELIMIT_STORAGE_URI": "memory://"})
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["redis"] == "unreachable"
    assert response.get_json()["status"] == "degraded"
