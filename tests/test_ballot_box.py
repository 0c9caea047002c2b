"""The honest ballot box: honeypot, too-fast flag, Redis claim, closed lists, receipts, limits."""
import pytest
import redis
from sqlalchemy import func, select

from helpers import form_vote, open_page, post_ballot
from polls.ballots import CLAIM_KEY
from polls.extensions import db
from polls.models import Ballot, BotHit, InviteCode, Poll
from polls.voters import voter_hash, voter_token_from_request


def count(app, model=Ballot, *where) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model).where(*where))


def only_ballot(app) -> Ballot:
    with app.app_context():
        return db.session.scalars(select(Ballot)).one()


def test_honeypot_filled_is_refused_and_recorded_with_nothing_stored(app, client, make_poll):
    poll = make_poll()
    token = open_page(client)
    response = post_ballot(client, token, {"ranking": [poll["ids"][0]], "website": "http://spam.example"})
    assert response.status_code == 400
    assert response.get_json()["error"] == "rejected"
    assert count(app) == 0
    assert count(app, BotHit) == 1
    # The same browser, with the field left empty, votes normally.
    assert post_ballot(client, token, {"ranking": [poll["ids"][0]], "website": ""}).status_code == 201


def test_honeypot_on_the_form_path(app, client, make_poll):
    poll = make_poll()
    response = form_vote(client, {poll["ids"][0]: 1}, website="x")
    assert response.status_code == 400
    assert "could not be accepted" in response.get_data(as_text=True)
    assert count(app) == 0 and count(app, BotHit) == 1


def test_poll_page_carries_the_hidden_honeypot(client, make_poll):
    make_poll()
    html = client.get("/p/test-poll").get_data(as_text=True)
    assert 'class="hp" aria-hidden="true"' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html


@pytest.mark.parametrize(("min_seconds", "flagged"), [(3600, True), (0, False)])
def test_ballot_sooner_than_the_minimum_is_counted_but_flagged(app, client, make_poll, min_seconds, flagged):
    poll = make_poll()
    app.config["BALLOT_MIN_SECONDS"] = min_seconds
    assert post_ballot(client, open_page(client), {"ranking": [poll["ids"][0]]}).status_code == 201
    assert only_ballot(app).too_fast is flagged
    assert client.get("/api/v1/polls/test-poll/results").get_json()["total_ballots"] == 1


def test_a_claim_is_a_hint_the_database_decides(app, client, make_poll, redis_url):
    poll = make_poll()
    token = open_page(client)
    with app.test_request_context(headers={"Cookie": f"kp_voter={client.get_cookie('kp_voter').value}"}):
        key = CLAIM_KEY.format(poll_id=poll["id"], voter=voter_hash(voter_token_from_request()))
    store = redis.Redis.from_url(redis_url)
    store.set(key, 1)  # a claim whose holder died (or a timed-out SET NX that landed late)
    assert post_ballot(client, token, {"ranking": [poll["ids"][0]]}).status_code == 201
    store.delete(key)
    assert post_ballot(client, token, {"ranking": [poll["ids"][1]]}).status_code == 409
    assert store.ttl(key) > 0  # the claim stays (expiring): repeats are a read, not a failed insert
    repeat = post_ballot(client, token, {"ranking": [poll["ids"][1]]})
    assert repeat.status_code == 409 and repeat.get_json()["error"] == "already_voted"
    assert count(app) == 1


def test_database_alone_keeps_one_ballot_when_redis_forgets(app, client, make_poll, redis_url):
    poll = make_poll()
    token = open_page(client)
    assert post_ballot(client, token, {"ranking": [poll["ids"][0]]}).status_code == 201
    redis.Redis.from_url(redis_url).flushdb()
    response = post_ballot(client, token, {"ranking": [poll["ids"][1]]})
    assert response.status_code == 409 and response.get_json()["error"] == "already_voted"
    assert count(app) == 1


# -- closed lists -------------------------------------------------------------------


@pytest.fixture
def closed_poll(app, make_poll):
    poll = make_poll()
    with app.app_context():
        db.session.get(Poll, poll["id"]).invite_only = True
        db.session.add_all(InviteCode(poll_id=poll["id"], code=code) for code in ("GOODCODE01", "GOODCODE02"))
        db.session.commit()
    return poll


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_closed_list_takes_each_code_once(app, closed_poll):
    ids = closed_poll["ids"]
    fan, other, third = app.test_client(), app.test_client(), app.test_client()
    token = open_page(fan)
    missing = post_ballot(fan, token, {"ranking": [ids[0]]})
    assert missing.status_code == 403 and missing.get_json()["error"] == "invite_required"
    wrong = post_ballot(fan, token, {"ranking": [ids[0]], "invite": "NOTACODE99"})
    assert wrong.status_code == 403 and wrong.get_json()["error"] == "invite_invalid"
    # The rejected tries left no claim behind: the same browser can vote at once with a good code.
    assert post_ballot(fan, token, {"ranking": [ids[0]], "invite": " goodcode-01 "}).status_code == 201
    reused = post_ballot(other, open_page(other), {"ranking": [ids[1]], "invite": "GOODCODE01"})
    assert reused.status_code == 409 and reused.get_json()["error"] == "invite_used"
    assert form_vote(third, {ids[2]: 1}, invite="GOODCODE02").status_code == 200
    assert count(app) == 2
    assert count(app, InviteCode, InviteCode.used_at.is_not(None)) == 2


def test_closed_list_poll_page_asks_for_the_code(client, closed_poll):
    html = client.get("/p/test-poll").get_data(as_text=True)
    assert 'name="invite"' in html and "invited fans" in html


def test_open_poll_ignores_an_invite_code(app, client, make_poll):
    poll = make_poll()
    assert post_ballot(client, open_page(client), {"ranking": [poll["ids"][0]], "invite": "ANY"}).status_code == 201


# -- receipts -----------------------------------------------------------------------


def test_receipt_confirms_the_count_and_shows_the_ranking_only_to_its_browser(app, client, make_poll):
    poll = make_poll()
    body = post_ballot(client, open_page(client), {"ranking": [poll["ids"][2], poll["ids"][0]]}).get_json()
    assert body["receipt_url"] == f"/p/test-poll/receipt/{body['receipt']}"
    response = client.get(body["receipt_url"])
    assert response.headers["Cache-Control"] == "private, no-store"
    own = response.get_data(as_text=True)
    assert "This ballot is in the count" in own
    assert "Your ranking" in own and own.index("Charlie") < own.index("Alpha")
    stranger = app.test_client().get(body["receipt_url"])
    assert stranger.status_code == 200
    page = stranger.get_data(as_text=True)
    assert "This ballot is in the count" in page
    # The public standings show (they are on the results page too), the ballot's ranking does not.
    assert "Your ranking" not in page and 'class="review-list"' not in page
    assert "Charlie" not in page.split('class="standings"')[0]


@pytest.mark.parametrize("code", ["nope", "x" * 200, "%3Cscript%3E"])
def test_unknown_receipt_is_a_friendly_404(client, make_poll, code):
    make_poll()
    response = client.get(f"/p/test-poll/receipt/{code}")
    assert response.status_code == 404
    assert "No ballot in this poll has that receipt" in response.get_data(as_text=True)


def test_receipt_of_another_poll_is_not_found_here(app, client, make_poll):
    first, _ = make_poll(slug="first-poll"), make_poll(slug="second-poll")
    receipt = post_ballot(client, open_page(client, "first-poll"), {"ranking": [first["ids"][0]]},
                          slug="first-poll").get_json()["receipt"]
    assert client.get(f"/p/second-poll/receipt/{receipt}").status_code == 404


# -- rate limits ---------------------------------------------------------------------


def test_address_limit_spans_polls(app, make_poll):
    app.config["RATELIMIT_BALLOT_ADDRESS"] = "2 per minute"
    polls = [make_poll(slug="poll-one"), make_poll(slug="poll-two")]
    statuses = []
    for n in range(4):
        fan, poll = app.test_client(), polls[n % 2]
        statuses.append(post_ballot(fan, open_page(fan, poll["slug"]), {"ranking": [poll["ids"][0]]},
                                    slug=poll["slug"]))
    assert [r.status_code for r in statuses] == [201, 201, 429, 429]
    assert int(statuses[2].headers["Retry-After"]) > 0
    assert statuses[2].get_json()["error"] == "too_many_requests"
    assert count(app) == 2


def test_poll_ceiling_holds_across_addresses(app, make_poll):
    app.config["RATELIMIT_BALLOT_POLL"] = "3 per minute"
    poll = make_poll()
    statuses = []
    for n in range(5):
        fan = app.test_client()
        address = {"REMOTE_ADDR": f"198.51.100.{n + 1}"}
        token = open_page(fan)
        statuses.append(post_ballot(fan, token, {"ranking": [poll["ids"][0]]}, environ_base=address).status_code)
    assert statuses == [201, 201, 201, 429, 429]
    assert count(app) == 3


def test_addresses_have_their_own_limit_in_one_poll(app, make_poll):
    app.config["RATELIMIT_BALLOT"] = "1 per minute"
    poll = make_poll()
    statuses = []
    for address in ("198.51.100.1", "198.51.100.1", "198.51.100.2"):
        fan = app.test_client()
        statuses.append(post_ballot(fan, open_page(fan), {"ranking": [poll["ids"][0]]},
                                    environ_base={"REMOTE_ADDR": address}).status_code)
    assert statuses == [201, 429, 201]


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("path", ["/p/test-poll/receipt/ab%00cd", "/p/te%00st", "/p/te%00st/results",
                                  "/api/v1/polls/te%00st", "/manage/polls/te%00st/integrity"])
def test_nul_in_a_path_is_a_404(app, client, make_poll, path):
    make_poll()
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
@pytest.mark.parametrize("invite", ["GOOD\u0000", "x" * 5000, "코드", ["GOODCODE01"], 12])
def test_malformed_invite_is_refused_and_leaves_no_claim(app, closed_poll, invite):
    fan = app.test_client()
    token = open_page(fan)
    refused = post_ballot(fan, token, {"ranking": [closed_poll["ids"][0]], "invite": invite})
    assert refused.status_code == 403
    assert refused.get_json()["error"] in ("invite_invalid", "invite_required")
    assert post_ballot(fan, token, {"ranking": [closed_poll["ids"][0]], "invite": "GOODCODE01"}).status_code == 201
    assert count(app) == 1


def test_ipv4_mapped_addresses_are_their_own_networks(app):
    from polls.voters import address_key, network_key
    keys = []
    for address in ("::ffff:198.51.100.7", "198.51.100.7", "::ffff:203.0.113.9"):
        with app.test_request_context(environ_base={"REMOTE_ADDR": address}):
            keys.append((address_key(), network_key()))
    assert keys[0] == keys[1]
    assert keys[2][1] != keys[0][1]


def test_one_page_session_reused_for_many_ballots_is_one_session(app, make_poll):
    poll = make_poll()
    fan = app.test_client()
    token = open_page(fan)
    for _ in range(3):  # a script keeps the page session and drops the voter cookie
        assert post_ballot(fan, token, {"ranking": [poll["ids"][0]]}).status_code == 201
        fan.delete_cookie("kp_voter")
    with app.app_context():
        sessions = db.session.scalars(select(Ballot.session_hash)).all()
    assert len(sessions) == 3 and len(set(sessions)) == 1 and sessions[0]


def test_accepted_ballot_carries_no_retry_after(app, client, make_poll):
    poll = make_poll()
    response = post_ballot(client, open_page(client), {"ranking": [poll["ids"][0]]})
    assert response.status_code == 201 and "Retry-After" not in response.headers
