"""The results cache: counted once per new ballot, invalidated by ballots, status, method and
rules, never stale after a 201, and never in the way when Redis is missing or down."""
import logging

import pytest
import redis

from services import free_port
from helpers import open_page, post_ballot
from polls import results as results_module
from polls.extensions import db, redis_store
from polls.models import Ballot, Poll
from polls.results import VERSION_KEY, ballots_changed


@pytest.fixture
def counts(monkeypatch):
    """How many times the engine has been asked to count."""
    calls = []
    real = results_module.tabulate

    def counting(*args, **kwargs):
        calls.append(args[2].method)
        return real(*args, **kwargs)

    monkeypatch.setattr(results_module, "tabulate", counting)
    return calls


@pytest.fixture(autouse=True)
def fresh_health(monkeypatch):
    """Each test starts with Redis considered healthy and nothing pending."""
    monkeypatch.setattr(results_module, "redis_health", results_module._RedisHealth())


@pytest.fixture
def poll(app, make_poll):
    poll = make_poll(titles=("Alpha", "Bravo", "Charlie"))
    add(app, poll, [0, 1], [0, 1], [1, 2])
    return poll


def add(app, poll, *rankings, notify=True):
    """Store ballots straight in the database (positions into the poll's candidates)."""
    with app.app_context():
        start = db.session.query(Ballot).count()
        db.session.add_all(
            Ballot(poll_id=poll["id"], voter_hash=f"{start + n:064d}", receipt=f"c{start + n}",
                   ranking=",".join(str(poll["ids"][i]) for i in ranking))
            for n, ranking in enumerate(rankings)
        )
        db.session.commit()
    if notify:
        with app.app_context():
            ballots_changed(poll["id"])


def update(app, poll, **values):
    with app.app_context():
        row = db.session.get(Poll, poll["id"])
        for name, value in values.items():
            setattr(row, name, value)
        db.session.commit()


def api(client):
    response = client.get("/api/v1/polls/test-poll/results")
    assert response.status_code == 200
    return response.get_json()


def test_second_view_does_not_recount(client, poll, counts):
    first = api(client)
    assert counts == ["irv"]
    assert api(client) == first
    assert client.get("/p/test-poll/results").status_code == 200
    assert client.get("/embed/test-poll").status_code == 200
    assert client.get("/leaderboard/2014").status_code == 200
    assert counts == ["irv"]
    assert first["total_ballots"] == 3 and first["winners"] == ["Alpha"]


def test_a_new_ballot_shows_right_after_its_201(client, poll, counts):
    assert api(client)["total_ballots"] == 3
    token = open_page(client)
    response = post_ballot(client, token, {"ranking": [poll["ids"][2]]})
    assert response.status_code == 201
    body = api(client)
    assert body["total_ballots"] == 4
    assert body["rounds"][0]["tally"]["Charlie"] == "1"
    page = client.get("/p/test-poll/results").get_data(as_text=True)
    assert "4 ballots" in page
    assert counts == ["irv", "irv"]


def test_a_form_ballot_invalidates_too(client, poll, counts):
    from helpers import csrf_token_from

    api(client)
    html = client.get("/p/test-poll").get_data(as_text=True)
    form = {"csrf_token": csrf_token_from(html), f"rank_{poll['ids'][1]}": "1"}
    response = client.post("/p/test-poll", data=form)
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert api(client)["total_ballots"] == 4


def test_status_method_seats_and_rules_changes_invalidate(app, client, poll, counts):
    assert "live standings" in client.get("/p/test-poll/results").get_data(as_text=True)
    update(app, poll, status="closed")
    assert "final results" in client.get("/p/test-poll/results").get_data(as_text=True)
    assert api(client)["status"] == "closed"
    update(app, poll, method="borda")
    assert api(client)["method"] == "borda"
    update(app, poll, method="stv", seats=2)
    assert api(client)["winners"] == ["Alpha", "Bravo"]
    update(app, poll, rules='{"excluded": ["Alpha"]}')
    assert "Alpha" not in api(client)["ranking"]
    update(app, poll, rules="{}")
    assert api(client)["winners"] == ["Alpha", "Bravo"]
    # Back to the earlier rules: counted again, as every committed edit of a poll moves its
    # results version (so that widgets kept by other processes see the edit).
    assert counts == ["irv", "irv", "borda", "stv", "stv", "stv"]


def test_candidate_edits_invalidate(app, client, poll, counts):
    api(client)
    with app.app_context():
        db.session.get(Poll, poll["id"]).candidates[0].title = "Alpha (the rooftop kiss)"
        db.session.commit()
    assert api(client)["winners"] == ["Alpha (the rooftop kiss)"]


def test_cached_and_fresh_results_are_identical(app, client, poll, counts):
    update(app, poll, method="stv", seats=2)
    fresh = api(client)
    cached = api(client)
    assert cached == fresh and len(counts) == 1
    page_fresh = client.get("/p/test-poll/results").get_data(as_text=True)
    assert client.get("/p/test-poll/results").get_data(as_text=True) == page_fresh


def test_lost_version_key_never_serves_old_results(app, client, poll, counts, redis_url):
    assert api(client)["total_ballots"] == 3
    # The version key is evicted and a ballot arrives without the hook (say, a manual import).
    redis.Redis.from_url(redis_url).delete(VERSION_KEY.format(poll_id=poll["id"]))
    add(app, poll, [2], notify=False)
    assert api(client)["total_ballots"] == 4
    assert len(counts) == 2


def test_unreadable_cache_entry_is_recounted(app, client, poll, counts, redis_url):
    api(client)
    store = redis.Redis.from_url(redis_url)
    for key in store.scan_iter("kisspoll:results:*"):
        store.set(key, b"{not json")
    assert api(client)["total_ballots"] == 3
    assert len(counts) == 2


def test_entries_expire(app, client, poll, redis_url):
    app.config["RESULTS_CACHE_TTL"] = 120
    api(client)
    store = redis.Redis.from_url(redis_url)
    keys = list(store.scan_iter("kisspoll:results:*"))
    assert len(keys) == 1 and 0 < store.ttl(keys[0]) <= 120
    assert store.ttl(VERSION_KEY.format(poll_id=poll["id"])) == -1  # the version stays


def dead_redis() -> redis.Redis:
    """A client made as the app makes its own, for a port nobody listens on."""
    return redis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0",
                                socket_timeout=0.5, socket_connect_timeout=0.5)


@pytest.fixture
def redis_down(monkeypatch):
    monkeypatch.setattr(redis_store, "client", dead_redis())


def test_redis_down_still_serves_results_and_logs_once(app, client, poll, counts, redis_down, caplog):
    with caplog.at_level(logging.WARNING, logger="polls.results"):
        for path in ("/p/test-poll/results", "/embed/test-poll", "/api/v1/polls/test-poll/results"):
            assert client.get(path).status_code == 200
        assert api(client)["total_ballots"] == 3
        add(app, poll, [2])  # ballots_changed with Redis down: no exception
        assert api(client)["total_ballots"] == 4
    assert len(counts) == 5  # recounted every time
    outage = [r for r in caplog.records if "Redis is unreachable" in r.getMessage()]
    assert len(outage) == 1


def test_ballot_during_an_outage_is_not_lost_when_redis_returns(app, client, poll, counts, monkeypatch):
    assert api(client)["total_ballots"] == 3  # cached with Redis up
    live = redis_store.client
    monkeypatch.setattr(redis_store, "client", dead_redis())
    add(app, poll, [2])  # the version bump fails...
    monkeypatch.setattr(redis_store, "client", live)
    assert api(client)["total_ballots"] == 4  # ...and is made before the next lookup


def test_without_redis_every_view_recounts(client, poll, counts, monkeypatch):
    monkeypatch.setattr(redis_store, "client", None)
    assert api(client)["total_ballots"] == 3
    assert client.get("/p/test-poll/results").status_code == 200
    ballots_changed(poll["id"])  # a no-op
    assert len(counts) == 2


def test_cast_through_the_api_with_redis_down_still_counts(client, poll, redis_down):
    token = open_page(client)
    assert post_ballot(client, token, {"ranking": [poll["ids"][2]]}).status_code == 201
    assert api(client)["total_ballots"] == 4
