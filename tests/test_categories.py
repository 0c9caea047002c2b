"""Categories: one poll, several separately counted lists, one visit fills them all."""
import pytest
from sqlalchemy import func, select

from helpers import OWNER, csrf_token_from, get_poll, open_page, post_ballot, scene, snapshot, with_token
from polls.extensions import db
from polls.models import Ballot, BotHit, Candidate, Host, Nomination, Poll


def add_category(client, slug, title):
    return client.post(f"/manage/polls/{slug}/categories", data=with_token(client, {"title": title}))


def add_scene(client, slug, title):
    response = client.post(f"/manage/polls/{slug}/candidates", data=with_token(client, scene(title)))
    assert response.status_code == 303, response.get_data(as_text=True)


@pytest.fixture
def awards_draft(app, owner):
    """A draft poll "Awards 2024" with two categories of three scenes each: {scene title: id}."""
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Awards 2024", "year": "2024",
                                                            "slug": "awards", "method": "irv",
                                                            "tiebreak": "random"}))
    for category, titles in [("Korean", ("Wall kiss", "Rain kiss", "Bus kiss")),
                             ("Taiwanese", ("Rooftop kiss", "Library kiss", "Beach kiss"))]:
        assert add_category(owner, "awards", category).status_code == 303
        for title in titles:
            add_scene(owner, f"awards-{category.lower()}", title)
    with app.app_context():
        return {c.title: c.id for c in db.session.scalars(select(Candidate))}


@pytest.fixture
def awards(owner, awards_draft):
    """The same poll, open for voting."""
    assert owner.post("/manage/polls/awards/status", data=with_token(owner, {"action": "open"})).status_code == 303
    return awards_draft


def ballots_in(app, slug) -> list[str]:
    with app.app_context():
        poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
        names = {c.id: c.title for c in poll.candidates}
        return [",".join(names[int(i)] for i in b.ranking.split(","))
                for b in db.session.scalars(select(Ballot).where(Ballot.poll_id == poll.id))]


def test_categories_follow_their_poll_and_count_separately(app, awards):
    parent, korean = get_poll(app, "awards"), get_poll(app, "awards-korean")
    assert parent.candidates == [] and parent.status == "open"
    assert (korean.status, korean.year, korean.parent_id) == ("open", 2024, parent.id)


def test_one_visit_fills_one_ballot_per_category(app, client, awards):
    page = client.get("/p/awards").get_data(as_text=True)
    assert "<legend><h2>Korean</h2></legend>" in page and "<legend><h2>Taiwanese</h2></legend>" in page
    data = {"csrf_token": csrf_token_from(page),
            f"rank_{awards['Rain kiss']}": "1", f"rank_{awards['Wall kiss']}": "2",
            f"rank_{awards['Beach kiss']}": "1"}
    response = client.post("/p/awards", data=data)
    assert response.status_code == 303 and response.headers["Location"] == "/p/awards"
    assert ballots_in(app, "awards-korean") == ["Rain kiss,Wall kiss"]
    assert ballots_in(app, "awards-taiwanese") == ["Beach kiss"]
    after = client.get("/p/awards").get_data(as_text=True)
    assert "You already voted" in after and after.count('class="receipt"') == 2

    # The results page shows each category's own winner.
    results = client.get("/p/awards/results").get_data(as_text=True)
    assert results.index("Korean") < results.index("Rain kiss") < results.index("Taiwanese") < results.index("Beach kiss")
    api = client.get("/api/v1/polls/awards/results").json
    assert [(c["slug"], c["winners"]) for c in api["categories"]] == [
        ("awards-korean", ["Rain kiss"]), ("awards-taiwanese", ["Beach kiss"])]


def test_a_category_left_blank_can_be_filled_later(app, client, awards):
    token = open_page(client, "awards")
    client.post("/p/awards", data={"csrf_token": token, f"rank_{awards['Bus kiss']}": "1"})
    response = client.get("/p/awards")
    page = response.get_data(as_text=True)
    assert "You already voted" not in page and f'name="rank_{awards["Beach kiss"]}"' in page
    # Korean's receipt is on the page now: no shared cache may keep it.
    assert 'class="receipt"' in page and response.headers["Cache-Control"] == "private, no-store"
    assert f'name="rank_{awards["Bus kiss"]}"' not in page  # Korean is done
    client.post("/p/awards", data={"csrf_token": token, f"rank_{awards['Library kiss']}": "1"})
    assert ballots_in(app, "awards-taiwanese") == ["Library kiss"]
    assert ballots_in(app, "awards-korean") == ["Bus kiss"]


def test_a_mistake_in_one_category_casts_nothing(app, client, awards):
    token = open_page(client, "awards")
    before = snapshot(app)
    response = client.post("/p/awards", data={
        "csrf_token": token, f"rank_{awards['Bus kiss']}": "1",
        f"rank_{awards['Beach kiss']}": "1", f"rank_{awards['Library kiss']}": "1"})
    assert response.status_code == 422 and "share rank #1" in response.get_data(as_text=True)
    empty = client.post("/p/awards", data={"csrf_token": token})
    assert empty.status_code == 422 and "Rank at least one scene" in empty.get_data(as_text=True)
    assert snapshot(app) == before


def test_the_api_votes_category_by_category(app, client, awards):
    token = open_page(client, "awards")
    described = client.get("/api/v1/polls/awards").json
    assert [c["slug"] for c in described["categories"]] == ["awards-korean", "awards-taiwanese"]
    assert described["categories"][0]["parent"] == "awards"
    refused = post_ballot(client, token, {"ranking": [awards["Wall kiss"]]}, slug="awards")
    assert refused.status_code == 422 and refused.json["error"] == "has_categories"
    assert "awards-korean" in refused.json["message"]
    cast = post_ballot(client, token, {"ranking": [awards["Wall kiss"]]}, slug="awards-korean")
    assert cast.status_code == 201
    # A scene of the other category is not on this ballot.
    wrong = post_ballot(client, token, {"ranking": [awards["Wall kiss"]]}, slug="awards-taiwanese")
    assert wrong.status_code == 422 and wrong.json["error"] == "unknown_candidate"


def test_first_category_takes_the_polls_scenes(app, owner):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Plain", "slug": "plain", "method": "irv",
                                                            "tiebreak": "random"}))
    add_scene(owner, "plain", "Wall kiss")
    add_scene(owner, "plain", "Rain kiss")
    assert add_category(owner, "plain", "Best kiss").status_code == 303
    assert [c.title for c in get_poll(app, "plain-best-kiss").candidates] == ["Wall kiss", "Rain kiss"]
    assert get_poll(app, "plain").candidates == []


def test_categories_the_poll_cannot_take_are_refused(app, owner, awards_draft):
    before = snapshot(app)
    duplicate = add_category(owner, "awards", "korean")
    assert duplicate.status_code == 400 and "already has a category" in duplicate.get_data(as_text=True)
    nested = add_category(owner, "awards-korean", "Sub")
    assert nested.status_code == 400 and "cannot have categories" in nested.get_data(as_text=True)
    blank = add_category(owner, "awards", "  ")
    assert blank.status_code == 400
    # A category is opened and closed with its poll.
    owner.post("/manage/polls/awards-korean/status", data=with_token(owner, {"action": "open"}))
    assert snapshot(app) == before


def test_categories_stay_as_announced_once_voting_opens(app, owner, awards):
    before = snapshot(app)
    late = add_category(owner, "awards", "Japanese")
    assert late.status_code == 400 and "only before voting opens" in late.get_data(as_text=True)
    owner.post("/manage/polls/awards-korean/remove-category", data=with_token(owner))
    assert snapshot(app) == before and get_poll(app, "awards-korean") is not None
    # Closing and reopening does not open the door either; nor do ballots ever leave.
    client = app.test_client()
    post_ballot(client, open_page(client, "awards"), {"ranking": [awards["Wall kiss"]]}, slug="awards-korean")
    owner.post("/manage/polls/awards/status", data=with_token(owner, {"action": "close"}))
    with_ballots = snapshot(app)
    owner.post("/manage/polls/awards-korean/remove-category", data=with_token(owner))
    assert snapshot(app) == with_ballots


def test_a_long_poll_address_still_gives_categories_valid_addresses(app, owner):
    slug = "a" * 80
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Long", "slug": slug, "method": "irv",
                                                            "tiebreak": "random"}))
    # Both names make the same 77-character base: the second needs a "-2" and still fits.
    assert add_category(owner, slug, "Best first kiss").status_code == 303
    assert add_category(owner, slug, "Best first kiss!").status_code == 303
    with app.app_context():
        parent = db.session.scalar(select(Poll).where(Poll.slug == slug))
        children = [c.slug for c in parent.categories]
    assert len(children) == 2 and all(len(s) <= 80 for s in children) and len(set(children)) == 2


def test_closing_the_poll_closes_its_categories_and_fills_the_leaderboard(app, client, owner, awards):
    client.post("/p/awards", data={"csrf_token": open_page(client, "awards"),
                                   f"rank_{awards['Wall kiss']}": "1", f"rank_{awards['Beach kiss']}": "1"})
    owner.post("/manage/polls/awards/status", data=with_token(owner, {"action": "close"}))
    assert {get_poll(app, s).status for s in ("awards", "awards-korean", "awards-taiwanese")} == {"closed"}
    year = client.get("/leaderboard/2024").get_data(as_text=True)
    assert "Awards 2024: Korean" in year and "Awards 2024: Taiwanese" in year
    fame = client.get("/leaderboard").get_data(as_text=True)
    assert "Wall kiss" in fame and "Beach kiss" in fame
    assert "Wall kiss" in client.get("/leaderboard/2025").get_data(as_text=True)  # past years' hall of fame
    assert "Wall kiss" not in client.get("/leaderboard/2024").get_data(as_text=True).split("Hall of fame")[1]


def test_a_category_is_removed_with_its_scenes_while_no_one_voted(app, owner, awards_draft):
    with app.app_context():
        taiwanese = db.session.scalar(select(Poll).where(Poll.slug == "awards-taiwanese"))
        parent_id, beach = taiwanese.parent_id, awards_draft["Beach kiss"]
        # A bot's visit and a fan's accepted suggestion both point at it.
        db.session.add(BotHit(poll_id=taiwanese.id, kind="honeypot"))
        db.session.add(Nomination(poll_id=parent_id, drama="Our Times", voter_hash="n1", status="accepted",
                                  candidate_id=beach))
        db.session.commit()
    response = owner.post("/manage/polls/awards-taiwanese/remove-category", data=with_token(owner))
    assert response.status_code == 303 and response.headers["Location"] == "/manage/polls/awards"
    assert get_poll(app, "awards-taiwanese") is None
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Candidate)) == 3
        suggestion = db.session.scalar(select(Nomination))
        assert (suggestion.status, suggestion.candidate_id) == ("pending", None)  # back on the host's list


def test_other_hosts_cannot_touch_categories(app, owner, other, awards):
    before = snapshot(app)
    assert add_category(other, "awards", "Mine now").status_code == 404
    assert other.post("/manage/polls/awards-korean/remove-category", data=with_token(other)).status_code == 404
    assert other.get("/manage/polls/awards-korean").status_code == 404
    assert snapshot(app) == before


def test_closed_lists_and_categories_do_not_mix(app, owner, awards):
    with app.app_context():
        assert db.session.scalar(select(Host.id).where(Host.email == OWNER))
    response = owner.post("/manage/polls/awards", data=with_token(owner, {
        "title": "Awards 2024", "method": "irv", "tiebreak": "random", "invite_only": "y",
        "results_visibility": "live"}))
    assert response.status_code == 400 and "cannot have categories" in response.get_data(as_text=True)
    assert get_poll(app, "awards").invite_only is False


def test_widgets_and_the_count_are_per_category(app, client, runner, awards):
    parent = client.get("/embed/awards")
    assert parent.status_code == 404 and "/embed/awards-korean" in parent.get_data(as_text=True)
    assert client.get("/embed/awards-korean").status_code == 200
    assert "application/json+oembed" not in client.get("/p/awards").get_data(as_text=True)
    result = runner.invoke(args=["polls", "tally", "awards"])
    assert result.exit_code != 0 and "awards-korean" in result.output and "Traceback" not in result.output
    assert runner.invoke(args=["polls", "tally", "awards-korean"]).exit_code == 0


def test_invite_codes_belong_to_whole_polls(app, owner, awards):
    assert owner.get("/manage/polls/awards-korean/invites").status_code == 404
    assert owner.post("/manage/polls/awards-korean/invites", data=with_token(owner, {"how_many": "3"})).status_code == 404
