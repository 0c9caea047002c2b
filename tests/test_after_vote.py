"""The ballot's review step without JavaScript, and what a fan sees after voting: the receipt,
"my ballot" for this browser only, the live standings when the host shows them, share links."""
import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

from sqlalchemy import func, select

from helpers import csrf_token_from, form_vote
from polls.extensions import db
from polls.models import Ballot, Candidate, Poll


def ballots(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Ballot.ranking).order_by(Ballot.id)))


def review(client, ids_by_rank: dict, slug="test-poll", **fields):
    token = csrf_token_from(client.get(f"/p/{slug}").get_data(as_text=True))
    data = {"csrf_token": token, **{f"rank_{cid}": str(rank) for cid, rank in ids_by_rank.items()}, **fields}
    return client.post(f"/p/{slug}/review", data=data)


def listed(html: str) -> list[str]:
    return [unescape(item).split(" <span")[0] for item in re.findall(r'<li>(.*?)</li>', html.split('class="review-list"')[1].split("</ol>")[0])]


def test_review_shows_the_ballot_to_cast_and_stores_nothing(app, client, make_poll):
    poll = make_poll()
    alpha, bravo, charlie = poll["ids"]
    page = review(client, {charlie: 1, alpha: 3})
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert listed(html) == ["Charlie", "Alpha"]
    assert ballots(app) == []
    # Its form carries the ranking as it was chosen; posting it casts exactly that.
    hidden = dict(re.findall(r'<input type="hidden" name="(rank_\d+)" value="(\d+)">', html))
    assert hidden == {f"rank_{charlie}": "1", f"rank_{alpha}": "3"}
    cast = client.post("/p/test-poll", data={"csrf_token": csrf_token_from(html), **hidden})
    assert cast.status_code == 303 and "/receipt/" in cast.headers["Location"]
    assert ballots(app) == [f"{charlie},{alpha}"]


def test_change_goes_back_to_the_ballot_with_the_ranks_kept(app, client, make_poll):
    poll = make_poll()
    alpha, bravo, _ = poll["ids"]
    page = review(client, {bravo: 1, alpha: 2}, change="1").get_data(as_text=True)
    assert 'id="ballot"' in page
    assert re.search(rf'name="rank_{bravo}"[^>]*>.*?<option selected value="1">', page, re.S)
    assert ballots(app) == []


def test_review_refuses_what_casting_would_refuse(app, client, make_poll):
    poll = make_poll()
    alpha, bravo, _ = poll["ids"]
    empty = review(client, {})
    assert empty.status_code == 422 and "Rank at least one scene." in empty.get_data(as_text=True)
    shared = review(client, {alpha: 1, bravo: 1})
    assert shared.status_code == 422 and "share rank #1" in shared.get_data(as_text=True)
    forged = client.post("/p/test-poll/review", data={f"rank_{alpha}": "1"})
    assert forged.status_code == 403  # no CSRF token
    token = csrf_token_from(client.get("/p/test-poll").get_data(as_text=True))
    assert client.post("/p/no-such-poll/review", data={"csrf_token": token}).status_code == 404
    assert ballots(app) == []


def test_a_closed_poll_reviews_nothing(app, client, make_poll):
    poll = make_poll(status="closed")
    page = review(client, {poll["ids"][0]: 1}).get_data(as_text=True)
    assert "Voting is closed" in page and "review-list" not in page


def test_my_ballot_is_this_browsers_alone(app, client, make_poll):
    poll = make_poll()
    alpha, bravo, charlie = poll["ids"]
    nothing = client.get("/p/test-poll/my-ballot")
    assert nothing.status_code == 200 and "This browser has not voted in this poll." in nothing.get_data(as_text=True)
    form_vote(client, {bravo: 1, charlie: 2})
    mine = client.get("/p/test-poll/my-ballot")
    assert mine.headers["Cache-Control"] == "private, no-store" and "Cookie" in mine.headers["Vary"]
    assert listed(mine.get_data(as_text=True)) == ["Bravo", "Charlie"]
    stranger = app.test_client()
    assert "This browser has not voted" in stranger.get("/p/test-poll/my-ballot").get_data(as_text=True)
    assert client.get("/p/nope/my-ballot").status_code == 404


def test_after_voting_the_fan_sees_the_live_standings_and_share_links(app, client, make_poll):
    poll = make_poll()
    alpha, bravo, charlie = poll["ids"]
    for ranking in ({bravo: 1}, {bravo: 1, alpha: 2}, {charlie: 1}):
        form_vote(app.test_client(), ranking)
    receipt = form_vote(client, {alpha: 1}).get_data(as_text=True)
    standings = receipt.split('class="standings-top"')[1].split("</ol>")[0]
    assert re.findall(r"<strong>(\w+)</strong>", standings)[0] == "Bravo"
    assert "4 ballots counted so far." in receipt
    links = {urlsplit(unescape(href)).hostname: parse_qs(urlsplit(unescape(href)).query)
             for href in re.findall(r'class="share-links">(.*?)</ul>', receipt, re.S)[0].split('href="')[1:]
             for href in [href.split('"')[0]]}
    assert links["x.com"]["url"] == ["http://localhost/p/test-poll"]
    assert links["www.facebook.com"]["u"] == ["http://localhost/p/test-poll"]
    assert "<script" not in receipt.split('class="share"')[1]
    # The poll page, visited again, says so and shows the same.
    again = client.get("/p/test-poll").get_data(as_text=True)
    assert "You already voted" in again and 'class="standings-top"' in again and "/p/test-poll/my-ballot" in again


def vote_in_poll_with(app, client, make_poll, **settings) -> str:
    """The receipt page after voting in a poll with these settings."""
    first = make_poll()["ids"][0]
    with app.app_context():
        poll = db.session.scalar(select(Poll))
        for name, value in settings.items():
            setattr(poll, name, value)
        db.session.commit()
    return form_vote(client, {first: 1}).get_data(as_text=True)


def test_hidden_standings_stay_hidden_after_voting(app, client, make_poll):
    page = vote_in_poll_with(app, client, make_poll, results_visibility="hidden")
    assert "This ballot is in the count" in page
    assert "standings-top" not in page and "/p/test-poll/results" not in page
    assert 'class="share-links"' in page


def test_share_text_is_escaped(app, client, make_poll):
    page = vote_in_poll_with(app, client, make_poll, title='Kisses "2014" <script>alert(1)</script>')
    assert "<script>alert" not in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 1


def test_spoiler_scenes_are_named_by_their_drama_on_the_review_and_in_the_standings(app, client, make_poll):
    poll = make_poll(titles=("Secret ending", "Bravo"))
    with app.app_context():
        db.session.get(Candidate, poll["ids"][0]).spoiler = True
        db.session.commit()
    reviewed = review(client, {poll["ids"][0]: 1}).get_data(as_text=True)
    assert listed(reviewed) == ["A spoiler scene from Drama Secret ending"]
    receipt = form_vote(client, {poll["ids"][0]: 1}).get_data(as_text=True)
    assert "Secret ending" not in receipt.replace("Drama Secret ending", "")

