"""Helpers for tests that talk to pages the way a browser does."""
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import select

from polls.extensions import db
from polls.factory import create_app
from polls.models import Ballot, Candidate, Host, Poll


def csrf_token_from(html: str) -> str:
    match = re.search(r'<meta name="csrf-token" content="([^"]+)"', html)
    assert match, "page carries no csrf-token meta tag"
    return match.group(1)


def login(client, email="host@example.com", password="correct horse battery"):
    page = client.get("/manage/login")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/manage/login", data={"email": email, "password": password, "csrf_token": token})


def open_page(client, slug="test-poll") -> str:
    """Visit the poll page like a fan: returns the CSRF token (cookies stay in the client)."""
    return csrf_token_from(client.get(f"/p/{slug}").get_data(as_text=True))


def post_ballot(client, token, body, slug="test-poll", **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(f"/api/v1/polls/{slug}/ballots", data=data, content_type="application/json",
                       headers={"X-CSRFToken": token}, **kwargs)


def form_vote(client, ids_by_rank: dict, slug="test-poll", follow=True, **fields):
    """Vote through the no-JavaScript form: {candidate id: rank}, plus any other form fields."""
    token = csrf_token_from(client.get(f"/p/{slug}").get_data(as_text=True))
    data = {"csrf_token": token, **{f"rank_{cid}": str(rank) for cid, rank in ids_by_rank.items()}, **fields}
    return client.post(f"/p/{slug}", data=data, follow_redirects=follow)


@contextmanager
def app_on(database_uri: str, redis_url: str, **config) -> Iterator:
    """A test app on this database and Redis with its tables created; its engine closed afterwards."""
    app = create_app({
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": database_uri,
        "REDIS_URL": redis_url,
        "RATELIMIT_STORAGE_URI": redis_url,
        # A few hundred hosts per run: a fast hash (production keeps scrypt; tests/test_accounts checks it).
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        **config,
    })
    with app.app_context():
        db.create_all()
    try:
        yield app
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


# --- the host's desk -------------------------------------------------------------

OWNER = "owner@example.com"
OTHER = "other@example.com"
PASSWORD = "correct horse battery"


def token(client, path="/manage/") -> str:
    """A CSRF token for this client's session, read from a page it can see."""
    page = client.get(path)
    return csrf_token_from(page.get_data(as_text=True))


def logged_in(app, email=OWNER):
    client = app.test_client()
    response = login(client, email=email, password=PASSWORD)
    assert response.status_code == 303, response.get_data(as_text=True)
    return client


def snapshot(app) -> dict:
    """Everything a manage route could change, as plain values."""
    with app.app_context():
        def rows(model):
            return sorted(
                tuple(getattr(obj, col.key) for col in model.__table__.columns)
                for obj in db.session.scalars(select(model))
            )
        return {model.__name__: rows(model) for model in (Host, Poll, Candidate, Ballot)}


def get_poll(app, slug) -> Poll | None:
    with app.app_context():
        poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
        if poll is not None:
            poll.candidates  # noqa: B018 - load before the session closes
            db.session.expunge_all()
        return poll


def add_ballot(app, slug, voter="v1"):
    with app.app_context():
        poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
        ranking = ",".join(str(c.id) for c in poll.candidates)
        db.session.add(Ballot(poll_id=poll.id, voter_hash=voter, ranking=ranking, receipt=f"r-{voter}"))
        db.session.commit()


def scene(title="Wall kiss", **extra):
    data = {"title": title, "drama": "Healer", "couple": "Jung-hoo & Young-shin", "episode": "8",
            "nickname": "the rooftop", "description": "A short description.", "video_url": "",
            "video_start": ""}
    data.update(extra)
    return data


def with_token(client, data=None):
    data = dict(data or {})
    data["csrf_token"] = token(client)
    return data
