"""The fan's poll page without JavaScript: render, vote by form, receipt, results."""
import pytest
from sqlalchemy import func, select

from helpers import csrf_token_from, form_vote
from polls.extensions import db
from polls.models import Ballot, Candidate, clip_at


def test_poll_page_lists_scenes_and_sets_voter_cookie(client, make_poll):
    make_poll()
    response = client.get("/p/test-poll")
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    for title in ("Alpha", "Bravo", "Charlie"):
        assert title in html
    assert '<meta name="csrf-token"' in html
    cookie = client.get_cookie("kp_voter")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Lax"


def test_form_vote_redirects_to_its_receipt(app, client, make_poll):
    poll = make_poll()
    response = form_vote(client, {poll["ids"][2]: 1, poll["ids"][0]: 2}, follow=False)
    assert response.status_code == 303
    with app.app_context():
        ballot = db.session.scalar(select(Ballot))
        assert ballot.ranking == f"{poll['ids'][2]},{poll['ids'][0]}"
    assert response.headers["Location"].endswith(f"/p/test-poll/receipt/{ballot.receipt}")
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f"Receipt: {ballot.receipt}" in page
    assert "This ballot is in the count" in page
    assert page.index("Charlie") < page.index("Alpha")


def test_gaps_in_ranks_close_up(app, client, make_poll):
    poll = make_poll()
    form_vote(client, {poll["ids"][1]: 3, poll["ids"][0]: 1})
    with app.app_context():
        assert db.session.scalar(select(Ballot.ranking)) == f"{poll['ids'][0]},{poll['ids'][1]}"


def test_second_form_vote_says_already_voted(app, client, make_poll):
    poll = make_poll()
    form_vote(client, {poll["ids"][0]: 1})
    assert "You already voted" in client.get("/p/test-poll").get_data(as_text=True)
    token = csrf_token_from(client.get("/p/test-poll").get_data(as_text=True))
    direct = client.post("/p/test-poll", data={"csrf_token": token, f"rank_{poll['ids'][1]}": "1"})
    assert direct.status_code == 409
    assert "already voted" in direct.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_shared_rank_is_a_friendly_error(app, client, make_poll):
    poll = make_poll()
    response = form_vote(client, {poll["ids"][0]: 1, poll["ids"][1]: 1})
    assert response.status_code == 422
    assert "share rank #1" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_empty_and_tampered_forms_are_rejected(app, client, make_poll):
    poll = make_poll()
    assert form_vote(client, {}).status_code == 422
    assert form_vote(client, {poll["ids"][0]: 99}).status_code == 400
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0


def test_form_without_csrf_is_a_friendly_403(app, client, make_poll):
    poll = make_poll()
    client.get("/p/test-poll")
    response = client.post("/p/test-poll", data={f"rank_{poll['ids'][0]}": "1"})
    assert response.status_code == 403
    assert "text/html" in response.content_type
    assert "Reload the page" in response.get_data(as_text=True)


def test_unknown_poll_page_is_a_friendly_404(client):
    response = client.get("/p/no-such-poll")
    assert response.status_code == 404
    assert "couldn't find" in response.get_data(as_text=True)


def test_index_lists_open_polls(client, make_poll):
    make_poll()
    assert "Poll test-poll" in client.get("/").get_data(as_text=True)


def test_year_leaderboard_shows_polls_of_that_year(client, make_poll):
    make_poll(status="closed")
    assert "Poll test-poll" in client.get("/leaderboard/2014").get_data(as_text=True)
    assert "No polls for 2015" in client.get("/leaderboard/2015").get_data(as_text=True)


def test_out_of_range_year_is_404_not_a_crash(client):
    assert client.get("/leaderboard/99999999999999999999").status_code == 404


@pytest.mark.parametrize("url, start, expected", [
    ("https://www.youtube.com/watch?v=abc", 360, "https://www.youtube.com/watch?v=abc&t=360"),
    ("https://youtu.be/abc?t=5", 75, "https://youtu.be/abc?t=75"),
    ("https://vimeo.com/123", 42, "https://vimeo.com/123#t=42s"),
    ("https://example.com/clip.mp4", 360, "https://example.com/clip.mp4"),
    ("https://www.youtube.com/results?search_query=kiss", 360, "https://www.youtube.com/results?search_query=kiss"),
    ("https://www.youtube.com/watch?v=abc", 0, "https://www.youtube.com/watch?v=abc"),
])
def test_clip_links_open_at_the_kiss(url, start, expected):
    assert clip_at(url, start) == expected


def test_poll_page_links_the_clip_at_its_start(app, client, make_poll):
    make_poll()
    with app.app_context():
        candidate = db.session.scalar(select(Candidate))
        candidate.video_url, candidate.video_start = "https://www.youtube.com/watch?v=abc", 360
        db.session.commit()
    html = client.get("/p/test-poll").get_data(as_text=True)
    assert 'href="https://www.youtube.com/watch?v=abc&amp;t=360"' in html
    assert "the kiss starts at 6:00" in html
