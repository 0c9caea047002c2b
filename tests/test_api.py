"""The JSON API: poll description, casting ballots and every way a ballot can be wrong."""
import hashlib
import hmac
import json
import sqlite3

import pytest
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select

from helpers import open_page, post_ballot
from polls.extensions import db
from polls.models import Ballot


def ballot_count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ballot))


def test_poll_json_describes_the_poll(client, make_poll):
    poll = make_poll()
    body = client.get("/api/v1/polls/test-poll").get_json()
    assert body["slug"] == "test-poll"
    assert body["status"] == "open"
    assert body["method"] == "irv"
    assert body["max_ranks"] == 3
    assert [c["id"] for c in body["candidates"]] == poll["ids"]
    assert body["candidates"][0]["title"] == "Alpha"
    assert body["candidates"][0]["drama"] == "Drama Alpha"


def test_unknown_poll_is_a_json_404(client):
    response = client.get("/api/v1/polls/nope")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
    assert "nope" in response.get_json()["message"]


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_cast_ballot_returns_receipt_and_counts(app, client, make_poll):
    poll = make_poll()
    token = open_page(client)
    response = post_ballot(client, token, {"ranking": [poll["ids"][1], poll["ids"][0]]})
    assert response.status_code == 201
    receipt = response.get_json()["receipt"]
    assert len(receipt) >= 12
    results = client.get("/api/v1/polls/test-poll/results").get_json()
    assert results["winners"] == ["Bravo"]
    assert results["total_ballots"] == 1
    assert results["summary"]["totalNumBallots"] == "1"
    assert results["rounds"][0]["tally"]["Bravo"] == "1"
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert ballot.receipt == receipt
        assert ballot.ranking == f"{poll['ids'][1]},{poll['ids'][0]}"
        # The row holds HMAC-SHA256(key, token) of the browser's token, never the token itself.
        token = URLSafeSerializer(app.config["SECRET_KEY"], salt="kissPoll-voter").loads(
            client.get_cookie("kp_voter").value)
        key = f"{app.config['SECRET_KEY']}:voter".encode()
        assert ballot.voter_hash == hmac.new(key, token.encode(), hashlib.sha256).hexdigest()
        assert token not in ballot.voter_hash


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_same_browser_cannot_vote_twice(app, client, make_poll):
    poll = make_poll()
    token = open_page(client)
    assert post_ballot(client, token, {"ranking": [poll["ids"][0]]}).status_code == 201
    again = post_ballot(client, token, {"ranking": [poll["ids"][1]]})
    assert again.status_code == 409
    assert again.get_json()["error"] == "already_voted"
    assert ballot_count(app) == 1


def test_ballot_behind_a_long_write_is_a_clean_503_and_can_be_cast_again(app, client, make_poll):
    poll = make_poll()
    token = open_page(client)
    # Another process (a million-ballot import-ballots, say) holds SQLite's write lock
    # for longer than the app's 5 s busy timeout.
    blocker = sqlite3.connect(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///"))
    blocker.execute("BEGIN IMMEDIATE")
    try:
        busy = post_ballot(client, token, {"ranking": [poll["ids"][0]]})
    finally:
        blocker.rollback()
        blocker.close()
    assert busy.status_code == 503
    # Flask-Limiter keeps the later of this and its own window's reset.
    assert int(busy.headers["Retry-After"]) >= 5
    assert busy.get_json()["error"] == "busy"
    assert ballot_count(app) == 0
    assert post_ballot(client, token, {"ranking": [poll["ids"][0]]}).status_code == 201
    assert ballot_count(app) == 1


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_another_browser_can_vote(app, make_poll):
    poll = make_poll()
    for _ in range(2):
        fan = app.test_client()
        assert post_ballot(fan, open_page(fan), {"ranking": [poll["ids"][0]]}).status_code == 201
    assert ballot_count(app) == 2


def test_missing_csrf_token_is_403_json(app, client, make_poll):
    poll = make_poll()
    open_page(client)
    response = client.post("/api/v1/polls/test-poll/ballots", json={"ranking": [poll["ids"][0]]})
    assert response.status_code == 403
    assert response.get_json()["error"] == "csrf_failed"
    assert ballot_count(app) == 0


def test_wrong_csrf_token_is_403(app, client, make_poll):
    poll = make_poll()
    open_page(client)
    response = post_ballot(client, "forged", {"ranking": [poll["ids"][0]]})
    assert response.status_code == 403
    assert ballot_count(app) == 0


@pytest.mark.parametrize("body, status, code", [
    ("this is not json", 400, "invalid_json"),
    ("[1, 2]", 400, "invalid_json"),
    ('{"rank": [1]}', 400, "invalid_json"),
    ('{"ranking": "1,2"}', 400, "invalid_ranking"),
    ('{"ranking": {"1": 1}}', 400, "invalid_ranking"),
    ('{"ranking": [true]}', 400, "invalid_ranking"),
    ('{"ranking": [1.5]}', 400, "invalid_ranking"),
    ('{"ranking": [null]}', 400, "invalid_ranking"),
    ('{"ranking": ["abc"]}', 400, "invalid_ranking"),
    ('{"ranking": []}', 422, "empty_ranking"),
    ('{"ranking": [999999]}', 422, "unknown_candidate"),
    ("REPEATED", 422, "repeated_candidate"),
    ("TOO_LONG", 422, "too_many_ranks"),
])
def test_malformed_ballots_are_rejected_and_write_nothing(app, client, make_poll, body, status, code):
    poll = make_poll(max_ranks=2)
    ids = poll["ids"]
    body = {"REPEATED": json.dumps({"ranking": [ids[0], ids[0]]}),
            "TOO_LONG": json.dumps({"ranking": ids})}.get(body, body)
    response = post_ballot(client, open_page(client), body)
    assert response.status_code == status
    assert response.get_json()["error"] == code
    assert response.get_json()["message"]
    assert ballot_count(app) == 0


def test_deeply_nested_json_is_a_400_not_a_crash(app, client, make_poll):
    make_poll()
    response = post_ballot(client, open_page(client), "[" * 50_000)
    assert response.status_code == 400
    assert response.get_json()["error"] == "invalid_json"
    assert ballot_count(app) == 0


def test_huge_body_is_413_json(app, client, make_poll):
    make_poll()
    response = post_ballot(client, open_page(client), '{"ranking": [' + "1," * 100_000 + "1]}")
    assert response.status_code == 413
    assert response.get_json()["error"] == "request_entity_too_large"
    assert ballot_count(app) == 0


def test_closed_poll_refuses_ballots_with_409(app, client, make_poll):
    poll = make_poll(status="closed")
    response = post_ballot(client, open_page(client), {"ranking": [poll["ids"][0]]})
    assert response.status_code == 409
    assert response.get_json()["error"] == "poll_not_open"
    assert ballot_count(app) == 0


def test_ballot_to_unknown_poll_is_404(app, client, make_poll):
    make_poll()
    response = post_ballot(client, open_page(client), {"ranking": [1]}, slug="missing")
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"


def test_draft_poll_is_invisible(client, make_poll):
    make_poll(status="draft")
    assert client.get("/api/v1/polls/test-poll").status_code == 404
    assert client.get("/p/test-poll").status_code == 404


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_rapid_ballots_from_one_address_get_429_with_retry_after(app, make_poll):
    app.config["RATELIMIT_BALLOT"] = "3 per minute"
    poll = make_poll()
    statuses = []
    for _ in range(5):
        fan = app.test_client()  # new browser each time, same address
        statuses.append(post_ballot(fan, open_page(fan), {"ranking": [poll["ids"][0]]}))
    assert [r.status_code for r in statuses] == [201, 201, 201, 429, 429]
    limited = statuses[-1]
    assert limited.get_json()["error"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    assert ballot_count(app) == 3


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_rate_limit_is_per_poll(app, make_poll):
    app.config["RATELIMIT_BALLOT"] = "1 per minute"
    first = make_poll(slug="first-poll")
    second = make_poll(slug="second-poll")
    for poll in (first, second):
        fan = app.test_client()
        token = open_page(fan, poll["slug"])
        assert post_ballot(fan, token, {"ranking": [poll["ids"][0]]}, slug=poll["slug"]).status_code == 201
