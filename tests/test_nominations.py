"""Reader nominations: fans suggest a missing scene (form and API) with the ballot's protections;
the host groups, merges, accepts into the scenes (or a category's) and declines on the desk."""
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from helpers import OTHER, OWNER, PASSWORD, add_ballot, csrf_token_from, login, open_page, token
from polls.extensions import db
from polls.models import BotHit, Candidate, Host, Nomination, Poll
from polls.nominations import (
    DecisionRefused, NominationRejected, accept, drama_key, group_nominations, merge, submit_nomination,
)

SLUG = "test-poll"
KISS = {"drama": "Kill Me, Heal Me", "episode": "10", "scene": "the piggyback kiss",
        "why": "Seven personalities and one kiss."}
UNLIMITED = "1000000 per minute"


# --- helpers ---------------------------------------------------------------------------


def suggest_form(client, slug=SLUG, **fields):
    """Suggest through the poll page's form, the way a browser without JavaScript does."""
    data = {"csrf_token": open_page(client, slug), **fields}
    return client.post(f"/p/{slug}/nominate", data=data)


def suggest_api(client, body, slug=SLUG, csrf=None):
    csrf = open_page(client, slug) if csrf is None else csrf
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    headers = {"X-CSRFToken": csrf} if csrf else {}
    return client.post(f"/api/v1/polls/{slug}/nominations", data=data, content_type="application/json",
                       headers=headers)


def nominations(app) -> list[dict]:
    with app.app_context():
        return [{"id": n.id, "poll_id": n.poll_id, "drama": n.drama, "episode": n.episode, "scene": n.scene,
                 "why": n.why, "status": n.status, "merged_into_id": n.merged_into_id,
                 "candidate_id": n.candidate_id, "voter_hash": n.voter_hash, "address_hash": n.address_hash,
                 "decided_at": n.decided_at}
                for n in db.session.scalars(select(Nomination).order_by(Nomination.id))]


def candidates(app, slug=SLUG) -> list[tuple]:
    with app.app_context():
        poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
        return [(c.position, c.title, c.drama, c.episode, c.nickname, c.description) for c in poll.candidates]


def add_nomination(app, poll_id, drama, voter, **fields) -> int:
    with app.app_context():
        nomination = Nomination(poll_id=poll_id, drama=drama, voter_hash=voter, **fields)
        db.session.add(nomination)
        db.session.commit()
        return nomination.id


def host_id(app, email=OWNER) -> int:
    with app.app_context():
        return db.session.scalar(select(Host.id).where(Host.email == email))


def page_text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def nominating(make_poll):
    return make_poll(titles=("Wall kiss", "Rain kiss"), status="nominations")


@pytest.fixture
def desk(app, owner, make_poll):
    """The owner's poll taking nominations, with three waiting suggestions; the owner's client."""
    poll = make_poll(titles=("Wall kiss", "Rain kiss"), status="nominations", host_id=host_id(app))
    ids = {
        "kmhm": add_nomination(app, poll["id"], "Kill Me, Heal Me", "v1", episode="10", scene="the piggyback kiss",
                               why="Seven personalities, one kiss."),
        "kmhm2": add_nomination(app, poll["id"], "kill me  heal me", "v2", scene="piggyback"),
        "healer": add_nomination(app, poll["id"], "Healer", "v3", episode="8"),
    }
    return {**poll, "client": owner, "n": ids}


def desk_post(client, slug, nid, action, **data):
    return client.post(f"/manage/polls/{slug}/nominations/{nid}/{action}",
                       data={"csrf_token": token(client), **data})


# --- fans suggesting --------------------------------------------------------------------


def test_form_suggestion_is_stored_and_thanked(app, client, nominating):
    page = page_text(client.get(f"/p/{SLUG}"))
    assert 'action="/p/test-poll/nominate"' in page and "Wall kiss" in page  # the list fans need not repeat
    response = suggest_form(client, **KISS)
    assert response.status_code == 303 and response.headers["Location"] == f"/p/{SLUG}"
    [row] = nominations(app)
    assert {k: row[k] for k in KISS} == KISS
    assert row["status"] == "pending" and row["poll_id"] == nominating["id"]
    assert len(row["voter_hash"]) == 64 and row["address_hash"]
    after = page_text(client.get(f"/p/{SLUG}"))
    assert "Thanks! The host will review your suggestion." in after
    assert "You suggested:" in after and "Kill Me, Heal Me" in after
    assert 'action="/p/test-poll/nominate"' not in after  # no second form for this browser


def test_api_suggestion_is_stored(app, client, nominating):
    response = suggest_api(client, {"drama": "Healer", "episode": "8", "scene": "", "why": "Rooftop!"})
    assert response.status_code == 201
    assert response.get_json() == {"nomination": {"drama": "Healer", "episode": "8", "scene": "",
                                                  "status": "pending"}}
    assert [(r["drama"], r["why"]) for r in nominations(app)] == [("Healer", "Rooftop!")]


def test_a_scene_already_on_the_ballot_can_still_be_suggested(app, client, nominating):
    assert suggest_api(client, {"drama": "Drama Wall kiss", "scene": "Wall kiss"}).status_code == 201
    assert len(nominations(app)) == 1


def test_one_suggestion_per_browser(app, client, nominating):
    assert suggest_form(client, **KISS).status_code == 303
    again = suggest_form(client, drama="Healer")
    assert again.status_code == 409
    assert "You already suggested Kill Me, Heal Me · episode 10" in page_text(again)
    by_api = suggest_api(client, {"drama": "Healer"})
    assert by_api.status_code == 409 and by_api.get_json()["error"] == "already_suggested"
    assert len(nominations(app)) == 1
    assert suggest_api(app.test_client(), {"drama": "Healer"}).status_code == 201  # another browser may


def test_honeypot_refuses_the_suggestion(app, client, nominating):
    by_form = suggest_form(client, drama="Spam", website="http://spam.example")
    assert by_form.status_code == 400 and "could not be accepted" in page_text(by_form)
    by_api = suggest_api(app.test_client(), {"drama": "Spam", "website": "x"})
    assert by_api.status_code == 400 and by_api.get_json()["error"] == "rejected"
    assert nominations(app) == []
    with app.app_context():
        assert db.session.scalars(select(BotHit.kind)).all() == ["nomination_honeypot"] * 2


@pytest.mark.parametrize("status", ["open", "closed"])
def test_only_while_nominations_are_open(app, client, make_poll, status):
    make_poll(status=status)
    by_form = suggest_form(client, **KISS)
    assert by_form.status_code == 409 and "Nominations are not open for this poll." in page_text(by_form)
    by_api = suggest_api(client, KISS)
    assert by_api.status_code == 409 and by_api.get_json()["error"] == "nominations_closed"
    assert nominations(app) == []


def test_a_draft_is_not_found_and_refused_below_the_views(app, client, make_poll):
    poll = make_poll(status="draft")
    csrf = csrf_token_from(page_text(client.get("/")))  # a draft has no public page to read one from
    assert client.post(f"/p/{SLUG}/nominate", data={"csrf_token": csrf, **KISS}).status_code == 404
    assert suggest_api(client, KISS, csrf=csrf).status_code == 404
    with app.test_request_context():
        for status in ("draft", "open", "closed"):
            box = db.session.get(Poll, poll["id"])
            box.status = status
            with pytest.raises(NominationRejected) as refused:
                submit_nomination(box, KISS, "t" * 43)
            assert refused.value.status == 409
    assert nominations(app) == []


def test_missing_csrf_token_writes_nothing(app, client, nominating):
    open_page(client)
    by_form = client.post(f"/p/{SLUG}/nominate", data=KISS)
    assert by_form.status_code in (400, 403)
    by_api = suggest_api(client, KISS, csrf="")
    assert by_api.status_code in (400, 403) and by_api.get_json()["error"] == "csrf_failed"
    assert nominations(app) == []


def test_rate_limit_is_429_with_retry_after(app, nominating):
    app.config["RATELIMIT_NOMINATION"] = "2 per minute"
    statuses = [suggest_api(app.test_client(), {"drama": f"Drama {n}"}) for n in range(3)]
    assert [r.status_code for r in statuses] == [201, 201, 429]
    assert statuses[2].get_json()["error"] == "too_many_requests"
    assert int(statuses[2].headers["Retry-After"]) > 0
    # The form shares the counter; its fan gets the poll page back with their text.
    by_form = suggest_form(app.test_client(), drama="Typed by hand")
    assert by_form.status_code == 429 and int(by_form.headers["Retry-After"]) > 0
    assert "Too many suggestions" in page_text(by_form) and 'value="Typed by hand"' in page_text(by_form)
    assert len(nominations(app)) == 2


def test_poll_ceiling_holds_across_addresses(app, nominating):
    app.config["RATELIMIT_NOMINATION_POLL"] = "2 per minute"
    statuses = []
    for n in range(3):
        fan = app.test_client()
        csrf = open_page(fan)
        statuses.append(fan.post(f"/api/v1/polls/{SLUG}/nominations", json={"drama": f"D{n}"},
                                 headers={"X-CSRFToken": csrf},
                                 environ_base={"REMOTE_ADDR": f"198.51.100.{n + 1}"}).status_code)
    assert statuses == [201, 201, 429]


def test_bad_form_fields_rerender_with_errors(app, client, nominating):
    response = suggest_form(client, drama="   ", scene="x" * 201)
    assert response.status_code == 400
    html = page_text(response)
    assert "Name the drama the scene is from." in html and "Please check the marked fields." in html
    assert nominations(app) == []


@pytest.mark.parametrize("body, status, code", [
    ([], 400, "invalid_json"),
    ("not json", 400, "invalid_json"),
    ("12", 400, "invalid_json"),
    ("null", 400, "invalid_json"),
    ('"Kill Me, Heal Me"', 400, "invalid_json"),
    ("[" * 5000 + "]" * 5000, 400, "invalid_json"),
    ({}, 422, "drama_required"),
    ({"drama": "   \t "}, 422, "drama_required"),
    ({"drama": 12}, 400, "invalid_field"),
    ({"drama": 1e308}, 400, "invalid_field"),
    ({"drama": True}, 400, "invalid_field"),
    ({"drama": ["Healer"]}, 400, "invalid_field"),
    ({"drama": {"name": "Healer"}}, 400, "invalid_field"),
    ({"drama": "Healer", "episode": 8}, 400, "invalid_field"),
    ({"drama": "Healer", "why": {"a": [{"b": []}]}}, 400, "invalid_field"),
    ({"drama": "x" * 201}, 422, "too_long"),
    ({"drama": "Healer", "episode": "9" * 41}, 422, "too_long"),
    ({"drama": "Healer", "why": "♥" * 1001}, 422, "too_long"),
    ({"drama": "x" * 70000}, 413, "request_entity_too_large"),
])
def test_odd_json_bodies_are_refused_without_a_row(app, client, nominating, body, status, code):
    response = suggest_api(client, body)
    assert response.status_code == status, page_text(response)
    assert response.get_json()["error"] == code and response.get_json()["message"]
    assert nominations(app) == []


def test_control_characters_are_dropped(app, client, nominating):
    assert suggest_api(client, {"drama": "Heal\x00er\n", "scene": "roof\ttop\nkiss", "why": "a\x07b"}).status_code == 201
    [row] = nominations(app)
    assert (row["drama"], row["scene"], row["why"]) == ("Healer", "roof top kiss", "ab")


def test_unknown_poll_is_404_json(client, nominating):
    response = suggest_api(client, KISS, slug="no-such-poll", csrf=open_page(client))
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=st.one_of(JSON_VALUES, st.fixed_dictionaries({}, optional={
    name: JSON_VALUES | st.text(max_size=1200) for name in ("drama", "episode", "scene", "why", "website")})))
def test_generated_json_bodies_never_500(app, nominating, body):
    app.config.update(RATELIMIT_NOMINATION=UNLIMITED, RATELIMIT_NOMINATION_ADDRESS=UNLIMITED,
                      RATELIMIT_NOMINATION_POLL=UNLIMITED)
    before = len(nominations(app))
    response = suggest_api(app.test_client(), body)  # a fresh browser each time
    assert response.status_code in (201, 400, 422), (body, page_text(response))
    assert set(response.get_json()) == ({"nomination"} if response.status_code == 201 else {"error", "message"})
    assert len(nominations(app)) == before + (response.status_code == 201)


def test_categories_page_lists_each_categorys_scenes_and_stores_on_the_top_poll(app, client, make_poll):
    top = make_poll(titles=(), status="nominations")
    with app.app_context():
        for n, (title, scene) in enumerate([("Korean", "Wall kiss"), ("Taiwanese", "Beach kiss")]):
            db.session.add(Poll(host_id=top["host_id"], slug=f"cat-{n}", title=title, status="nominations",
                                parent_id=top["id"], position=n,
                                candidates=[Candidate(title=scene, drama="Some drama")]))
        db.session.commit()
    page = page_text(client.get(f"/p/{SLUG}"))
    assert "<h3>Korean</h3>" in page and "Beach kiss" in page
    assert suggest_form(client, slug="cat-1", drama="Healer").status_code == 303  # from a category's page
    assert [r["poll_id"] for r in nominations(app)] == [top["id"]]
    assert "You suggested:" in page_text(client.get(f"/p/{SLUG}"))


def test_hostile_suggestion_is_escaped_for_the_fan(app, client, nominating):
    suggest_form(client, drama="<script>alert(1)</script>", scene='"><img src=x onerror=alert(2)>')
    html = page_text(client.get(f"/p/{SLUG}"))
    assert "<script>alert(1)" not in html and "<img src=x" not in html and "&lt;script&gt;" in html


# --- the host's desk: grouping -----------------------------------------------------------


@pytest.mark.parametrize("a, b", [("Kill Me, Heal Me", "kill me heal me"), ("Kill Me, Heal Me", "“Kill  Me Heal Me!”"),
                                  ("It's Okay, That's Love", "its okay thats love"), ("힐러", " 힐러 ")])
def test_drama_spellings_group_together(a, b):
    assert drama_key(a) == drama_key(b)


def test_different_dramas_stay_apart():
    assert drama_key("Healer") != drama_key("Kill Me, Heal Me")


def test_suggestions_group_by_drama_with_supporters(app, desk):
    with app.app_context():
        poll = db.session.get(Poll, desk["id"])
        merge(db.session.get(Nomination, desk["n"]["kmhm2"]), db.session.get(Nomination, desk["n"]["kmhm"]))
        [kmhm, healer] = group_nominations(poll)
        assert (kmhm.drama, kmhm.support, len(kmhm.suggestions)) == ("Kill Me, Heal Me", 2, 1)
        assert [n.id for n in kmhm.suggestions[0].supporters] == [desk["n"]["kmhm2"]]
        assert (healer.drama, healer.support) == ("Healer", 1)
    html = page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))
    assert html.count('class="card nomination-group"') == 2
    assert "2 fans" in html and "Seven personalities, one kiss." in html and "piggyback" in html


def test_same_drama_without_merging_is_two_suggestions_in_one_group(app, desk):
    html = page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))
    assert html.count('class="card nomination-group"') == 2
    assert html.count('class="nomination"') == 3
    assert re.search(r"Kill Me, Heal Me\s*<span class=\"badge\">2 fans", html)


# --- merging ------------------------------------------------------------------------------


def test_merge_through_the_desk(app, desk):
    response = desk_post(desk["client"], SLUG, desk["n"]["kmhm2"], "merge", into=str(desk["n"]["kmhm"]))
    assert response.status_code == 303
    rows = {r["id"]: r for r in nominations(app)}
    assert rows[desk["n"]["kmhm2"]]["status"] == "merged"
    assert rows[desk["n"]["kmhm2"]]["merged_into_id"] == desk["n"]["kmhm"]
    assert "now counts for" in page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))


def test_merges_never_chain(app, desk):
    n = desk["n"]
    with app.app_context():
        get = lambda key: db.session.get(Nomination, n[key])  # noqa: E731
        merge(get("kmhm2"), get("kmhm"))
        # Into a merged one: it goes to that one's target instead.
        assert merge(get("healer"), get("kmhm2")).id == n["kmhm"]
        # The target itself merged elsewhere: its supporters move along with it.
        fourth = Nomination(poll_id=desk["id"], drama="Healer", voter_hash="v4")
        db.session.add(fourth)
        db.session.commit()
        merge(get("kmhm"), fourth)
        fourth_id = fourth.id
    rows = {r["id"]: r for r in nominations(app)}
    assert {rows[n[k]]["merged_into_id"] for k in ("kmhm", "kmhm2", "healer")} == {fourth_id}
    assert rows[fourth_id]["status"] == "pending"


def test_merge_into_itself_is_refused(app, desk):
    n = desk["n"]
    before = nominations(app)
    response = desk_post(desk["client"], SLUG, n["kmhm"], "merge", into=str(n["kmhm"]))
    assert response.status_code == 400
    for into in ("x", "-1", str(2**64), ""):
        assert desk_post(desk["client"], SLUG, n["kmhm"], "merge", into=into).status_code == 400
    assert nominations(app) == before
    with app.app_context():
        first, second = db.session.get(Nomination, n["kmhm"]), db.session.get(Nomination, n["kmhm2"])
        with pytest.raises(DecisionRefused, match="into itself"):
            merge(first, first)
        merge(second, first)
        with pytest.raises(DecisionRefused, match="into itself"):
            merge(first, second)  # second counts for first: that would be first into first


def test_merge_into_another_polls_suggestion_is_404(app, desk, make_poll):
    other = make_poll(slug="other-poll", status="nominations", host_id=host_id(app))
    foreign = add_nomination(app, other["id"], "Healer", "v9")
    before = nominations(app)
    assert desk_post(desk["client"], SLUG, desk["n"]["kmhm"], "merge", into=str(foreign)).status_code == 400
    assert desk_post(desk["client"], SLUG, foreign, "merge", into=str(desk["n"]["kmhm"])).status_code == 404
    assert nominations(app) == before


# --- accepting and declining -----------------------------------------------------------------


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_suggest_then_accept_into_the_scenes(app, owner, make_poll):
    poll = make_poll(titles=("Wall kiss", "Rain kiss"), status="nominations", host_id=host_id(app))
    fans = [app.test_client() for _ in range(2)]
    assert suggest_api(fans[0], KISS).status_code == 201
    assert suggest_form(fans[1], drama="kill me heal me", scene="piggyback").status_code == 303
    first, second = (r["id"] for r in nominations(app))
    assert desk_post(owner, SLUG, second, "merge", into=str(first)).status_code == 303
    response = desk_post(owner, SLUG, first, "accept", title="The piggyback kiss")
    assert response.status_code == 303
    assert candidates(app)[-1] == (2, "The piggyback kiss", "Kill Me, Heal Me", "10", "the piggyback kiss",
                                   "Seven personalities and one kiss.")
    with app.app_context():
        cid = db.session.scalar(select(Candidate.id).where(Candidate.title == "The piggyback kiss"))
    rows = nominations(app)
    assert [(r["status"], r["candidate_id"]) for r in rows] == [("accepted", cid)] * 2
    assert all(r["decided_at"] for r in rows) and {r["poll_id"] for r in rows} == {poll["id"]}
    html = page_text(owner.get(f"/manage/polls/{SLUG}/nominations"))
    assert "Added “The piggyback kiss” to the scenes." in html and "Decided (2)" in html
    assert "The host added it to the list." in page_text(fans[0].get(f"/p/{SLUG}"))


def test_default_title_is_the_scene_or_drama_and_episode(app, desk):
    assert desk_post(desk["client"], SLUG, desk["n"]["healer"], "accept", title="").status_code == 400
    with app.app_context():
        accept(db.session.get(Nomination, desk["n"]["healer"]), db.session.get(Poll, desk["id"]))
    assert candidates(app)[-1][1] == "Healer ep 8"


def test_accept_into_the_chosen_category(app, owner, make_poll):
    top = make_poll(titles=(), status="nominations", host_id=host_id(app))
    with app.app_context():
        categories = [Poll(host_id=top["host_id"], slug=f"cat-{n}", title=title, status="nominations",
                           parent_id=top["id"], position=n) for n, title in enumerate(["Korean", "Taiwanese"])]
        db.session.add_all(categories)
        db.session.commit()
        taiwanese = categories[1].id
    nid = add_nomination(app, top["id"], "Fated to Love You", "v1", scene="the umbrella kiss")
    page = page_text(owner.get(f"/manage/polls/{SLUG}/nominations"))
    assert f'<option value="{taiwanese}">Taiwanese</option>' in page
    assert desk_post(owner, SLUG, nid, "accept", title="Umbrella").status_code == 400  # no category picked
    assert desk_post(owner, SLUG, nid, "accept", title="Umbrella", category=str(top["id"])).status_code == 400
    assert nominations(app)[0]["status"] == "pending"
    assert desk_post(owner, SLUG, nid, "accept", title="Umbrella", category=str(taiwanese)).status_code == 303
    assert candidates(app, "cat-1") == [(0, "Umbrella", "Fated to Love You", "", "the umbrella kiss", "")]
    assert candidates(app, "cat-0") == [] and candidates(app) == []


def test_accept_refused_once_the_target_has_ballots(app, desk):
    add_ballot(app, SLUG)
    before = (candidates(app), nominations(app))
    response = desk_post(desk["client"], SLUG, desk["n"]["kmhm"], "accept", title="Piggyback")
    assert response.status_code == 303
    assert "Fans have already voted" in page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))
    assert (candidates(app), nominations(app)) == before


@pytest.mark.parametrize("title", ["wall KISS", "overvote"])
def test_accept_refused_for_a_taken_or_reserved_title(app, desk, title):
    before = (candidates(app), nominations(app))
    assert desk_post(desk["client"], SLUG, desk["n"]["kmhm"], "accept", title=title).status_code == 303
    html = page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))
    assert "already has a scene called" in html or "a word the vote count uses" in html
    assert (candidates(app), nominations(app)) == before


def test_decline_takes_the_merged_ones_along(app, desk):
    n = desk["n"]
    assert desk_post(desk["client"], SLUG, n["kmhm2"], "merge", into=str(n["kmhm"])).status_code == 303
    assert desk_post(desk["client"], SLUG, n["kmhm"], "decline").status_code == 303
    rows = {r["id"]: r for r in nominations(app)}
    assert rows[n["kmhm"]]["status"] == rows[n["kmhm2"]]["status"] == "declined"
    assert rows[n["healer"]]["status"] == "pending"
    html = page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))
    assert "(2 fans)" in html and "Decided (2)" in html and html.count('class="nomination"') == 1


def test_decided_suggestions_cannot_be_decided_again(app, desk):
    n = desk["n"]
    desk_post(desk["client"], SLUG, n["healer"], "decline")
    before = (candidates(app), nominations(app))
    assert desk_post(desk["client"], SLUG, n["healer"], "accept", title="Roof").status_code == 303
    assert desk_post(desk["client"], SLUG, n["healer"], "decline").status_code == 303
    assert desk_post(desk["client"], SLUG, n["healer"], "merge", into=str(n["kmhm"])).status_code == 303
    assert "already declined" in page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))
    assert (candidates(app), nominations(app)) == before


# --- who may --------------------------------------------------------------------------------


def desk_requests(nid):
    return [("GET", f"/manage/polls/{SLUG}/nominations", {}),
            ("POST", f"/manage/polls/{SLUG}/nominations/{nid}/accept", {"title": "Stolen"}),
            ("POST", f"/manage/polls/{SLUG}/nominations/{nid}/decline", {}),
            ("POST", f"/manage/polls/{SLUG}/nominations/{nid}/merge", {"into": str(nid)})]


@pytest.mark.parametrize("who", ["other", "anonymous"])
def test_nobody_but_the_owner_reaches_the_desk(app, desk, make_host, who):
    client = app.test_client()
    if who == "other":
        make_host(email=OTHER, password=PASSWORD)
        assert login(client, email=OTHER, password=PASSWORD).status_code == 303
    before = (candidates(app), nominations(app))
    csrf = csrf_token_from(page_text(client.get("/")))
    for method, url, data in desk_requests(desk["n"]["kmhm"]):
        response = client.get(url) if method == "GET" else client.post(url, data={"csrf_token": csrf, **data})
        if who == "anonymous":
            assert response.status_code == 302 and response.headers["Location"].startswith("/manage/login"), url
        else:
            assert response.status_code == 404, url
        assert "Kill Me, Heal Me" not in page_text(response)
    assert (candidates(app), nominations(app)) == before


def test_another_polls_or_unknown_nomination_is_404(app, desk, make_poll):
    other = make_poll(slug="other-poll", status="nominations", host_id=host_id(app))
    foreign = add_nomination(app, other["id"], "Healer", "v9")
    before = nominations(app)
    for nid in (foreign, 999999, 2**63, 2**70):
        for _, url, data in desk_requests(nid)[1:]:
            assert desk_post(desk["client"], SLUG, nid, url.rsplit("/", 1)[1], **data).status_code == 404, (nid, url)
    assert nominations(app) == before


def test_a_categorys_desk_sends_the_host_to_the_poll(app, desk):
    with app.app_context():
        db.session.add(Poll(host_id=desk["host_id"], slug="cat-a", title="Korean", status="nominations",
                            parent_id=desk["id"]))
        db.session.commit()
    response = desk["client"].get("/manage/polls/cat-a/nominations")
    assert response.status_code == 303 and response.headers["Location"] == f"/manage/polls/{SLUG}/nominations"


def test_hostile_suggestions_are_escaped_on_the_desk(app, desk):
    add_nomination(app, desk["id"], "<script>alert(1)</script>", "v5", scene='"><img src=x onerror=alert(2)>',
                   why="<b>bold</b> & <iframe src=//evil>", episode="<i>")
    html = page_text(desk["client"].get(f"/manage/polls/{SLUG}/nominations"))
    for raw in ("<script>alert(1)", "<img src=x", "<b>bold", "<iframe", "<i>"):
        assert raw not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "&lt;b&gt;bold&lt;/b&gt; &amp;" in html
