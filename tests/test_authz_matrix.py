"""Every desk route x {owner, another host, anonymous}: the expected answer, and nothing
written by anyone but the owner.

The routes come from the app's URL map, so a new desk route is in the matrix
the day it is added (and fails here if it takes a parameter this file cannot fill).
"""
import pytest
from helpers import csrf_token_from, login
from polls.extensions import db
from polls.models import Ballot, Candidate, Nomination, Poll, Quarantine

PASSWORD = "correct horse battery"
# Desk routes anyone may reach: the doors themselves.
OPEN_DOORS = {"manage.login", "manage.signup", "manage.logout"}


def every_row(app) -> dict:
    with app.app_context():
        return {table.name: sorted(map(tuple, db.session.execute(table.select()).all()), key=repr)
                for table in db.metadata.sorted_tables}


@pytest.fixture
def world(app, make_host):
    """The owner's open poll with a scene, a ballot, a quarantine and a nomination; another host."""
    owner_id = make_host(email="owner@example.com", password=PASSWORD)
    make_host(email="other@example.com", password=PASSWORD)
    with app.app_context():
        poll = Poll(host_id=owner_id, slug="mine", title="Mine", year=2024, status="open")
        poll.candidates = [Candidate(title="Wall kiss", drama="Healer"), Candidate(title="Rain kiss", drama="Healer")]
        db.session.add(poll)
        db.session.flush()
        held = Quarantine(poll_id=poll.id, reason="from one address")
        db.session.add(held)
        db.session.flush()
        db.session.add(Ballot(poll_id=poll.id, voter_hash="v1", ranking=str(poll.candidates[0].id),
                              receipt="receipt-1", quarantine_id=held.id))
        nomination = Nomination(poll_id=poll.id, drama="Kill Me, Heal Me", voter_hash="n1")
        db.session.add(nomination)
        db.session.commit()
        return {"slug": "mine", "cid": poll.candidates[0].id, "qid": held.id, "nid": nomination.id}


def desk_routes(app, values) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every desk route, filled with the owner's ids; a poll's
    routes are those under /manage/polls/<slug>."""
    routes = []
    with app.test_request_context():
        from flask import url_for
        for rule in app.url_map.iter_rules():
            if not rule.endpoint.startswith("manage.") or rule.endpoint in OPEN_DOORS:
                continue
            unknown = set(rule.arguments) - set(values)
            assert not unknown, f"{rule.endpoint}: teach the matrix a value for {unknown}"
            url = url_for(rule.endpoint, **{name: values[name] for name in rule.arguments})
            routes += [(rule.endpoint, method, url) for method in sorted(rule.methods & {"GET", "POST"})]
    return routes


def client_as(app, email):
    client = app.test_client()
    if email:
        assert login(client, email=email, password=PASSWORD).status_code == 303
    return client


def call(client, method, url):
    if method == "GET":
        return client.get(url)
    # A valid CSRF token: what refuses the request must be the ownership check itself.
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return client.post(url, data={"csrf_token": token})


def test_the_matrix_covers_the_desk(app, world):
    endpoints = {endpoint for endpoint, _, _ in desk_routes(app, world)}
    # The parts of issue 7's desk, each reachable only through this matrix's checks.
    for expected in ("manage.edit_poll", "manage.change_status", "manage.schedule", "manage.new_category",
                     "manage.delete_category", "manage.add_candidate", "manage.delete_candidate",
                     "manage.integrity", "manage.invites", "manage.dashboard", "manage.account",
                     "manage.nominations"):
        assert expected in endpoints


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_nobody_but_the_owner_reads_or_writes(app, world, who):
    client = client_as(app, "other@example.com" if who == "other" else None)
    before = every_row(app)
    for endpoint, method, url in desk_routes(app, world):
        response = call(client, method, url)
        poll_route = url.startswith(f"/manage/polls/{world['slug']}")
        if who == "anonymous":
            assert response.status_code == 302, (endpoint, method, response.status_code)
            assert response.headers["Location"].startswith("/manage/login"), endpoint
        elif poll_route:
            assert response.status_code == 404, (endpoint, method, response.status_code)
        else:  # the other host's own dashboard, account, new poll form
            assert response.status_code < 500, (endpoint, method, response.status_code)
        assert "Wall kiss" not in response.get_data(as_text=True), (endpoint, method)
    # Empty "new poll" and account forms from the other host write nothing either.
    assert every_row(app) == before


def test_the_owner_reaches_every_route_without_an_error(app, world):
    client = client_as(app, "owner@example.com")
    for endpoint, method, url in desk_routes(app, world):
        response = call(client, method, url)
        assert response.status_code < 500, (endpoint, method, response.status_code)
        if method == "GET":
            assert response.status_code in (200, 303), (endpoint, response.status_code)


def test_the_owner_sees_the_poll_others_do_not(app, world):
    owner, other = client_as(app, "owner@example.com"), client_as(app, "other@example.com")
    assert "Wall kiss" in owner.get("/manage/polls/mine").get_data(as_text=True)
    assert "Mine" not in other.get("/manage/").get_data(as_text=True)
