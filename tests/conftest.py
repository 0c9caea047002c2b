"""Fixtures: a real redis-server on a free port, a fresh SQLite file per test, helpers."""
import pytest
import redis
from services import ServiceUnavailable, redis_server

from polls.factory import create_app
from polls.extensions import db
from polls.models import Candidate, Host, Poll


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory):
    """A real redis-server for the whole session (no persistence)."""
    try:
        with redis_server(tmp_path_factory.mktemp("redis")) as url:
            yield url
    except ServiceUnavailable as error:
        pytest.fail(str(error))


@pytest.fixture
def app(tmp_path, redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'test.db'}",
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
    })
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def make_host(app):
    def make(email="host@example.com", password="correct horse battery"):
        with app.app_context():
            host = Host(email=email)
            host.set_password(password)
            db.session.add(host)
            db.session.commit()
            return host.id
    return make


@pytest.fixture
def make_poll(app, make_host):
    """A poll with the given candidate titles; returns its slug and candidate ids."""
    def make(titles=("Alpha", "Bravo", "Charlie"), slug="test-poll", status="open", host_id=None,
             max_ranks=None):
        host_id = host_id or make_host(email=f"owner-{slug}@example.com")
        with app.app_context():
            poll = Poll(host_id=host_id, slug=slug, title=f"Poll {slug}", year=2014, status=status,
                        max_ranks=max_ranks)
            poll.candidates = [Candidate(title=t, drama=f"Drama {t}", position=i) for i, t in enumerate(titles)]
            db.session.add(poll)
            db.session.commit()
            return {"id": poll.id, "slug": slug, "ids": [c.id for c in poll.candidates], "host_id": host_id}
    return make
