"""Fixtures: real redis-server and PostgreSQL on free ports, a fresh database per test, helpers.

``app`` uses a fresh SQLite file; a test parametrized with
``@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)``
also runs on a fresh PostgreSQL database (the server starts on first use).
"""
from contextlib import ExitStack

import pytest
import redis
from helpers import OTHER, OWNER, PASSWORD, app_on, logged_in
from services import ServiceUnavailable, postgres_database, postgres_server, redis_server

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


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory):
    """A throwaway PostgreSQL cluster for the whole session, started only if a test asks."""
    try:
        with postgres_server(tmp_path_factory.mktemp("postgres")) as url:
            yield url
    except ServiceUnavailable as error:
        pytest.fail(str(error))


def database_url(request, tmp_path, stack: ExitStack) -> str:
    """A fresh database for one test on the backend it asks for (``app``'s param)."""
    backend = getattr(request, "param", "sqlite")
    if backend == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    if backend == "postgresql":
        return stack.enter_context(postgres_database(request.getfixturevalue("postgres_url")))
    raise ValueError(f"unknown database backend {backend!r}")


@pytest.fixture
def app(request, tmp_path, redis_url):
    redis.Redis.from_url(redis_url).flushdb()
    with ExitStack() as stack:  # drops a PostgreSQL database after its engine is closed
        # postgresql://: the factory itself picks psycopg 3 (postgresql+psycopg).
        yield stack.enter_context(app_on(database_url(request, tmp_path, stack), redis_url))


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


@pytest.fixture
def owner(app, make_host):
    make_host(email=OWNER, password=PASSWORD)
    return logged_in(app, OWNER)


@pytest.fixture
def other(app, make_host):
    make_host(email=OTHER, password=PASSWORD)
    return logged_in(app, OTHER)
