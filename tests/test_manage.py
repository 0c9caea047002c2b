"""The host's desk: accounts, the poll builder, status changes and who may touch what."""
import json
import re

import pytest
from sqlalchemy import select

from helpers import (
    OTHER, OWNER, PASSWORD, add_ballot, csrf_token_from, get_poll, login, open_page, post_ballot, scene,
    snapshot, token, with_token,
)
from polls.extensions import db
from polls.forms import format_start_time, parse_start_time, slugify
from polls.models import Host


# --- create-host CLI -------------------------------------------------------------


def test_create_host_creates_then_updates_password(app, runner, client):
    result = runner.invoke(args=["polls", "create-host", "Fan.Blog@Example.com", "--password", "first-password"])
    assert result.exit_code == 0, result.output
    assert "created host fan.blog@example.com" in result.output
    assert login(client, "fan.blog@example.com", "first-password").status_code == 303

    result = runner.invoke(args=["polls", "create-host", "fan.blog@example.com", "--password", "second-password"])
    assert result.exit_code == 0, result.output
    assert "updated password" in result.output
    with app.app_context():
        hosts = list(db.session.scalars(select(Host)))
        assert len(hosts) == 1
        assert hosts[0].check_password("second-password")
        assert not hosts[0].check_password("first-password")


@pytest.mark.parametrize(
    ("email", "password", "message"),
    [
        ("host@example.com", "short", "at least 8 characters"),
        ("not-an-email", "long enough password", "is not an email address"),
    ],
)
def test_create_host_rejects_bad_input(app, runner, email, password, message):
    result = runner.invoke(args=["polls", "create-host", email, "--password", password])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and message in lines[0], result.output
    assert "Traceback" not in result.output
    assert snapshot(app)["Host"] == []


# --- login -----------------------------------------------------------------------


def test_login_success_and_failure(client, make_host):
    make_host(email=OWNER, password=PASSWORD)
    assert client.get("/manage/").status_code == 302

    bad = login(client, OWNER, "wrong password")
    assert bad.status_code == 400
    assert "Wrong email or password." in bad.get_data(as_text=True)
    unknown = login(client, "nobody@example.com", PASSWORD)
    assert unknown.status_code == 400
    assert "Wrong email or password." in unknown.get_data(as_text=True)
    assert client.get("/manage/").status_code == 302

    good = login(client, OWNER.upper(), PASSWORD)
    assert good.status_code == 303
    assert good.headers["Location"] == "/manage/"
    assert client.get("/manage/").status_code == 200

    page = client.get("/manage/")
    out = client.post("/manage/logout", data={"csrf_token": csrf_token_from(page.get_data(as_text=True))})
    assert out.status_code == 303
    assert client.get("/manage/").status_code == 302


def test_login_goes_back_to_next_but_never_off_site(client, make_host):
    make_host(email=OWNER, password=PASSWORD)
    bounced = client.get("/manage/polls/new")
    assert bounced.status_code == 302
    assert bounced.headers["Location"].startswith("/manage/login?next=")

    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example/", "/\t/[::1"):
        page = client.get("/manage/login")
        response = client.post(
            "/manage/login", query_string={"next": target},
            data={"email": OWNER, "password": PASSWORD, "csrf_token": csrf_token_from(page.get_data(as_text=True))},
        )
        assert response.status_code == 303
        assert response.headers["Location"] == "/manage/"

    page = client.get("/manage/login")
    response = client.post(
        "/manage/login", query_string={"next": "/manage/polls/new"},
        data={"email": OWNER, "password": PASSWORD, "csrf_token": csrf_token_from(page.get_data(as_text=True))},
    )
    assert response.headers["Location"] == "/manage/polls/new"


def test_login_form_errors_are_400_not_500(client):
    page = client.get("/manage/login")
    response = client.post("/manage/login", data={"csrf_token": csrf_token_from(page.get_data(as_text=True)),
                                                  "email": "a\x00b@example.com", "password": ""})
    assert response.status_code == 400


def test_login_rate_limit(app, client, make_host):
    app.config["RATELIMIT_LOGIN"] = "3 per minute"
    make_host(email=OWNER, password=PASSWORD)
    page = client.get("/manage/login")  # viewing the form does not count
    csrf = csrf_token_from(page.get_data(as_text=True))
    statuses = [
        client.post("/manage/login", data={"email": OWNER, "password": "guess", "csrf_token": csrf}).status_code
        for _ in range(4)
    ]
    assert statuses == [400, 400, 400, 429]
    limited = client.post("/manage/login", data={"email": OWNER, "password": PASSWORD, "csrf_token": csrf})
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert client.get("/manage/").status_code == 302  # still not logged in
    assert client.get("/manage/login").status_code == 200


# --- the poll's whole life ----------------------------------------------------------


def test_full_life_of_a_poll(app, owner):
    dashboard = owner.get("/manage/")
    assert dashboard.status_code == 200
    assert "New poll" in dashboard.get_data(as_text=True)

    assert owner.get("/manage/polls/new").status_code == 200
    created = owner.post("/manage/polls/new", data=with_token(owner, {
        "title": "Best kiss of 2014", "year": "2014", "slug": "best-kiss-2014",
        "description": "Readers rank the year's kisses.", "max_ranks": "3",
    }))
    assert created.status_code == 303
    assert created.headers["Location"] == "/manage/polls/best-kiss-2014"
    poll = get_poll(app, "best-kiss-2014")
    assert (poll.status, poll.year, poll.max_ranks, poll.title) == ("draft", 2014, 3, "Best kiss of 2014")

    edit_url = "/manage/polls/best-kiss-2014"
    for title, extra in [
        ("Wall kiss", {"video_url": "https://www.youtube.com/watch?v=abc", "video_start": "6:00", "spoiler": "y"}),
        ("Rooftop kiss", {"video_start": "95"}),
        ("Rain kiss", {}),
    ]:
        response = owner.post(f"{edit_url}/candidates", data=with_token(owner, scene(title, **extra)))
        assert response.status_code == 303, response.get_data(as_text=True)
        assert response.headers["Location"] == edit_url

    poll = get_poll(app, "best-kiss-2014")
    wall, rooftop, rain = poll.candidates
    assert [c.title for c in poll.candidates] == ["Wall kiss", "Rooftop kiss", "Rain kiss"]
    assert [c.position for c in poll.candidates] == [0, 1, 2]
    assert (wall.video_url, wall.video_start, wall.spoiler) == ("https://www.youtube.com/watch?v=abc", 360, True)
    assert (rooftop.video_start, rooftop.spoiler) == (95, False)
    assert (wall.drama, wall.couple, wall.episode, wall.nickname) == (
        "Healer", "Jung-hoo & Young-shin", "8", "the rooftop")

    page = owner.get(edit_url)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Wall kiss" in html and "Rain kiss" in html and "Add scene" in html

    # Edit one: the form shows 6:00 back, and a new start time is parsed.
    form_page = owner.get(f"{edit_url}/candidates/{wall.id}")
    assert form_page.status_code == 200
    assert 'value="6:00"' in form_page.get_data(as_text=True)
    edited = owner.post(f"{edit_url}/candidates/{wall.id}", data=with_token(owner, scene(
        "Wall kiss (ep. 8)", video_url="https://www.youtube.com/watch?v=abc", video_start="1:02:03")))
    assert edited.status_code == 303
    wall = get_poll(app, "best-kiss-2014").candidates[0]
    assert (wall.title, wall.video_start, wall.spoiler) == ("Wall kiss (ep. 8)", 3723, False)

    # Delete one.
    deleted = owner.post(f"{edit_url}/candidates/{rain.id}/delete", data=with_token(owner))
    assert deleted.status_code == 303
    assert [c.title for c in get_poll(app, "best-kiss-2014").candidates] == ["Wall kiss (ep. 8)", "Rooftop kiss"]

    # Settings.
    saved = owner.post(edit_url, data=with_token(owner, {"title": "Readers' best kiss of 2014", "year": "2014",
                                                         "description": "", "max_ranks": ""}))
    assert saved.status_code == 303
    poll = get_poll(app, "best-kiss-2014")
    assert (poll.title, poll.max_ranks, poll.slug) == ("Readers' best kiss of 2014", None, "best-kiss-2014")

    # Open, close, reopen.
    for action, status in [("open", "open"), ("close", "closed"), ("reopen", "open")]:
        response = owner.post(f"{edit_url}/status", data=with_token(owner, {"action": action}))
        assert response.status_code == 303
        assert get_poll(app, "best-kiss-2014").status == status

    dashboard = owner.get("/manage/").get_data(as_text=True)
    assert "Readers&#39; best kiss of 2014" in dashboard
    assert 'badge-open' in dashboard
    assert "/p/best-kiss-2014/results" in dashboard


def test_blank_slug_is_made_from_the_title(app, owner, make_poll):
    make_poll(slug="best-k-drama-kiss-2014")
    response = owner.post("/manage/polls/new", data=with_token(owner, {"title": "Best K-drama Kiss 2014!", "slug": ""}))
    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/polls/best-k-drama-kiss-2014-2"
    response = owner.post("/manage/polls/new", data=with_token(owner, {"title": "키스", "year": "2015", "slug": ""}))
    assert response.headers["Location"] == "/manage/polls/poll-2015"
    response = owner.post("/manage/polls/new", data=with_token(owner, {"title": "New", "slug": ""}))
    assert response.headers["Location"] == "/manage/polls/poll"


def test_open_needs_two_candidates(app, owner):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Tiny", "slug": "tiny"}))
    for count in (0, 1):
        before = snapshot(app)
        response = owner.post("/manage/polls/tiny/status", data=with_token(owner, {"action": "open"}), follow_redirects=True)
        assert response.status_code == 200
        assert "Add at least 2 scenes to the poll before voting opens." in response.get_data(as_text=True)
        assert snapshot(app) == before
        assert get_poll(app, "tiny").status == "draft"
        owner.post("/manage/polls/tiny/candidates", data=with_token(owner, scene(f"Scene {count}")))
    response = owner.post("/manage/polls/tiny/status", data=with_token(owner, {"action": "open"}))
    assert response.status_code == 303
    assert get_poll(app, "tiny").status == "open"


def test_wrong_transitions_and_unknown_actions_change_nothing(app, owner, make_host, make_poll):
    host_id = make_host(email="second@example.com")
    with app.app_context():
        owner_id = db.session.scalar(select(Host.id).where(Host.email == OWNER))
    assert host_id != owner_id
    make_poll(slug="drafty", status="draft", host_id=owner_id)
    before = snapshot(app)
    for action in ("close", "reopen"):
        response = owner.post("/manage/polls/drafty/status", data=with_token(owner, {"action": action}),
                              follow_redirects=True)
        assert "so it cannot do that now" in response.get_data(as_text=True)
    for action in ("delete", "", "open; drop table poll"):
        response = owner.post("/manage/polls/drafty/status", data=with_token(owner, {"action": action}))
        assert response.status_code == 400
    assert owner.post("/manage/polls/drafty/status", data=with_token(owner)).status_code == 400
    assert snapshot(app) == before


def test_open_poll_keeps_two_scenes(app, owner, make_poll):
    with app.app_context():
        owner_id = db.session.scalar(select(Host.id).where(Host.email == OWNER))
    poll = make_poll(titles=("A", "B"), slug="pair", status="open", host_id=owner_id)
    before = snapshot(app)
    response = owner.post(f"/manage/polls/pair/candidates/{poll['ids'][0]}/delete", data=with_token(owner),
                          follow_redirects=True)
    assert "An open poll needs at least 2 scenes" in response.get_data(as_text=True)
    assert snapshot(app) == before


# --- validation ---------------------------------------------------------------------


@pytest.mark.parametrize("url", [
    "javascript:alert(1)", "JavaScript:alert(1)", " javascript:alert(1)", "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox", "ftp://example.com/clip.mp4", "//example.com/clip", "/relative/clip", "https://",
    "https://exa mple.com/", "https://example.com:99999/", "java\tscript:alert(1)", "http:\\\\evil.example",
])
def test_only_web_video_links_are_accepted(app, owner, make_poll, url):
    with app.app_context():
        owner_id = db.session.scalar(select(Host.id).where(Host.email == OWNER))
    make_poll(slug="links", status="draft", host_id=owner_id)
    before = snapshot(app)
    response = owner.post("/manage/polls/links/candidates", data=with_token(owner, scene(video_url=url)))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert 'class="field-error" id="scene-video_url-error"' in html
    assert snapshot(app) == before


def test_duplicate_slug_is_a_friendly_error(app, owner, make_poll):
    make_poll(slug="best-kiss-2014")
    before = snapshot(app)
    for slug in ("best-kiss-2014", "BEST-KISS-2014"):
        response = owner.post("/manage/polls/new", data=with_token(owner, {"title": "Mine", "slug": slug}))
        assert response.status_code == 400
        assert "The slug “best-kiss-2014” is already taken; pick another." in response.get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize(("data", "message"), [
    ({"title": "", "slug": "ok-slug"}, "This field is required."),
    ({"title": "X", "slug": "ab"}, "3 to 80 characters"),
    ({"title": "X", "slug": "a" * 81}, "3 to 80 characters"),
    ({"title": "X", "slug": "best_kiss"}, "lowercase letters, digits and hyphens"),
    ({"title": "X", "slug": "-kiss"}, "lowercase letters, digits and hyphens"),
    ({"title": "X", "slug": "kiss/../x"}, "lowercase letters, digits and hyphens"),
    ({"title": "X", "slug": "new"}, "reserved"),
    ({"title": "X", "year": "1989"}, "1990 to 2100"),
    ({"title": "X", "year": "2101"}, "1990 to 2100"),
    ({"title": "X", "year": "twenty"}, "Not a valid integer value."),
    ({"title": "X", "max_ranks": "0"}, "from 1 to 1000"),
    ({"title": "X", "max_ranks": "99999999999999999999999"}, "from 1 to 1000"),
    ({"title": "X" * 201}, "Field cannot be longer than 200 characters."),
    ({"title": "X", "method": "dictator"}, "Not a valid choice."),
    ({"title": "X", "method": "irv", "seats": "3"}, "Only single transferable vote fills more than one place."),
    ({"title": "X", "method": "stv", "seats": "0"}, "from 1 to 100"),
])
def test_bad_poll_forms_rerender_with_errors(app, owner, data, message):
    response = owner.post("/manage/polls/new", data=with_token(owner, data))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app)["Poll"] == []


def test_host_picks_how_the_ballots_are_counted(app, owner, client):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Top 3 kisses", "slug": "top-3",
                                                            "method": "stv", "seats": "3"}))
    poll = get_poll(app, "top-3")
    assert (poll.method, poll.seats) == ("stv", 3)
    page = owner.get("/manage/polls/top-3").get_data(as_text=True)
    assert '<option selected value="stv">Single transferable vote</option>' in page
    for title in ("Wall kiss", "Rain kiss"):
        owner.post("/manage/polls/top-3/candidates", data=with_token(owner, scene(title)))
    owner.post("/manage/polls/top-3/status", data=with_token(owner, {"action": "open"}))
    assert client.get("/api/v1/polls/top-3/results").get_json()["method_name"] == "single transferable vote, 3 seats"
    # Back to one winner: the settings form saves method and seats together.
    response = owner.post("/manage/polls/top-3", data=with_token(owner, {"title": "Top kiss", "method": "schulze"}))
    assert response.status_code == 303
    poll = get_poll(app, "top-3")
    assert (poll.method, poll.seats, json.loads(poll.rules)) == ("schulze", 1, {})


def test_host_picks_how_ties_are_broken_and_settles_a_tie(app, owner, make_poll, client):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Tied", "slug": "tied"}))
    for title in ("Wall kiss", "Rain kiss"):
        owner.post("/manage/polls/tied/candidates", data=with_token(owner, scene(title)))
    owner.post("/manage/polls/tied/status", data=with_token(owner, {"action": "open"}))
    ids = [c.id for c in get_poll(app, "tied").candidates]
    for first in ids:  # one vote each: a tie
        fan = app.test_client()
        assert post_ballot(fan, open_page(fan, "tied"), {"ranking": [first]}, slug="tied").status_code == 201
    settings = {"title": "Tied", "tiebreak": "stopCountingAndAsk"}
    assert owner.post("/manage/polls/tied", data=with_token(owner, settings)).status_code == 303
    assert json.loads(get_poll(app, "tied").rules) == {"tiebreakMode": "stopCountingAndAsk"}
    assert '<option selected value="stopCountingAndAsk">' in owner.get("/manage/polls/tied").get_data(as_text=True)
    page = client.get("/p/tied/results").get_data(as_text=True)
    assert "Rain kiss and Wall kiss are tied in round 1: the count waits for the poll's host" in page
    assert client.get("/api/v1/polls/tied/results").get_json()["winners"] == []
    # Settled: the scene order decides (Wall kiss was added first).
    settings["tiebreak"] = "useCandidateOrder"
    owner.post("/manage/polls/tied", data=with_token(owner, settings))
    assert client.get("/api/v1/polls/tied/results").get_json()["winners"] == ["Wall kiss"]
    assert "are tied" not in client.get("/p/tied/results").get_data(as_text=True)


@pytest.mark.parametrize("title", ["overvote", "Exhausted", "residual surplus"])
def test_titles_the_count_reserves_are_refused(app, owner, title):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Words", "slug": "words"}))
    before = snapshot(app)
    response = owner.post("/manage/polls/words/candidates", data=with_token(owner, scene(title)))
    assert response.status_code == 400
    assert "a word the vote count uses" in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_one_line_fields_lose_line_breaks(app, owner):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Two\r\nlines", "slug": "lines"}))
    data = scene("Wall\rkiss")
    data["drama"] = "Secret\n\tGarden"
    assert owner.post("/manage/polls/lines/candidates", data=with_token(owner, data)).status_code == 303
    poll = get_poll(app, "lines")
    assert (poll.title, poll.candidates[0].title, poll.candidates[0].drama) == ("Two lines", "Wall kiss", "Secret Garden")


def test_duplicate_candidate_title_is_a_friendly_error(app, owner):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Dupes", "slug": "dupes"}))
    assert owner.post("/manage/polls/dupes/candidates", data=with_token(owner, scene("Wall kiss"))).status_code == 303
    assert owner.post("/manage/polls/dupes/candidates", data=with_token(owner, scene("Rain kiss"))).status_code == 303
    before = snapshot(app)
    for title in ("Wall kiss", "  wall KISS "):
        response = owner.post("/manage/polls/dupes/candidates", data=with_token(owner, scene(title)))
        assert response.status_code == 400
        assert "This poll already has a scene called" in response.get_data(as_text=True)
    rain = get_poll(app, "dupes").candidates[1]
    response = owner.post(f"/manage/polls/dupes/candidates/{rain.id}", data=with_token(owner, scene("Wall kiss")))
    assert response.status_code == 400
    assert "This poll already has a scene called “Wall kiss”." in response.get_data(as_text=True)
    assert snapshot(app) == before  # nothing added, nothing renamed
    # Keeping its own title is fine.
    assert owner.post(f"/manage/polls/dupes/candidates/{rain.id}",
                      data=with_token(owner, scene("Rain kiss"))).status_code == 303
    assert [c.title for c in get_poll(app, "dupes").candidates] == ["Wall kiss", "Rain kiss"]


@pytest.mark.parametrize(("data", "message"), [
    (scene(title=""), "This field is required."),
    (scene(drama=""), "This field is required."),
    (scene(description="x" * 1001), "Keep the description under 1000 characters."),
    (scene(video_start="6:75"), "minutes:seconds"),
    (scene(video_start="-5"), "minutes:seconds"),
    (scene(video_start="six"), "minutes:seconds"),
    (scene(video_start="1:99:00"), "minutes under 60"),
    (scene(video_start="999999"), "first 24 hours"),
    (scene(video_start="9" * 40), "minutes:seconds"),
    (scene(episode="e" * 41), "Field cannot be longer than 40 characters."),
])
def test_bad_candidate_forms_rerender_with_errors(app, owner, data, message):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Checks", "slug": "checks"}))
    before = snapshot(app)
    response = owner.post("/manage/polls/checks/candidates", data=with_token(owner, data))
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before


def test_start_time_parsing():
    assert [parse_start_time(s) for s in ("", "0", "360", "6:00", "0:45", "1:02:03", "90:00")] == [
        0, 0, 360, 360, 45, 3723, 5400]
    assert [format_start_time(s) for s in (0, 45, 360, 3723)] == ["", "0:45", "6:00", "1:02:03"]
    for bad in ("6:0", "6:60", "a:00", "1:2:3:4", "6.5", "-1"):
        with pytest.raises(ValueError):
            parse_start_time(bad)


def test_slugify():
    assert slugify("Best K-drama Kiss of 2014!") == "best-k-drama-kiss-of-2014"
    assert slugify("Café  kisses — 2015") == "cafe-kisses-2015"
    assert slugify("키스") == ""


def test_control_characters_are_dropped(app, owner):
    response = owner.post("/manage/polls/new", data=with_token(owner, {"title": "Null\x00 poll", "slug": "nul\x00ls"}))
    assert response.status_code == 303
    assert get_poll(app, "nulls").title == "Null poll"


def test_user_text_is_escaped(app, owner):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "<b>bold</b>", "slug": "xss"}))
    owner.post("/manage/polls/xss/candidates", data=with_token(owner, scene(
        '<script>alert("x")</script>', nickname='"><img src=x onerror=alert(1)>',
        video_url='https://example.com/"><script>x</script>')))
    for path in ("/manage/", "/manage/polls/xss"):
        html = owner.get(path).get_data(as_text=True)
        assert "<script>alert" not in html and "<b>bold</b>" not in html and "<img src=x" not in html
        assert "&lt;b&gt;bold&lt;/b&gt;" in html
    html = owner.get("/manage/polls/xss").get_data(as_text=True)
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html


# --- ballots freeze the list of scenes --------------------------------------------------


def test_scenes_cannot_be_added_or_removed_once_ballots_exist(app, owner):
    owner.post("/manage/polls/new", data=with_token(owner, {"title": "Voted", "slug": "voted"}))
    for title in ("A", "B", "C"):
        owner.post("/manage/polls/voted/candidates", data=with_token(owner, scene(title)))
    owner.post("/manage/polls/voted/status", data=with_token(owner, {"action": "open"}))
    add_ballot(app, "voted")
    first = get_poll(app, "voted").candidates[0]

    page = owner.get("/manage/polls/voted").get_data(as_text=True)
    assert "scenes can no longer be added or removed" in page
    assert "Add scene" not in page and "/delete" not in page

    before = snapshot(app)
    added = owner.post("/manage/polls/voted/candidates", data=with_token(owner, scene("D")), follow_redirects=True)
    assert "scenes can no longer be added" in added.get_data(as_text=True)
    removed = owner.post(f"/manage/polls/voted/candidates/{first.id}/delete", data=with_token(owner),
                         follow_redirects=True)
    assert "scenes can no longer be removed" in removed.get_data(as_text=True)
    assert snapshot(app) == before

    # Fixing the text of a scene is still fine.
    fixed = owner.post(f"/manage/polls/voted/candidates/{first.id}", data=with_token(owner, scene("A, fixed")))
    assert fixed.status_code == 303
    assert get_poll(app, "voted").candidates[0].title == "A, fixed"
    dashboard = owner.get("/manage/").get_data(as_text=True)
    assert re.search(r'<td class="num">1</td>', dashboard)


# --- who may touch what -----------------------------------------------------------------


@pytest.fixture
def two_polls(app, owner, other):
    """The owner's draft poll with three scenes, and another host's poll."""
    with app.app_context():
        owner_id = db.session.scalar(select(Host.id).where(Host.email == OWNER))
        other_id = db.session.scalar(select(Host.id).where(Host.email == OTHER))
    mine = owner.post("/manage/polls/new", data=with_token(owner, {"title": "Mine", "slug": "mine"}))
    assert mine.status_code == 303
    for title in ("A", "B", "C"):
        owner.post("/manage/polls/mine/candidates", data=with_token(owner, scene(title)))
    theirs = other.post("/manage/polls/new", data=with_token(other, {"title": "Theirs", "slug": "theirs"}))
    assert theirs.status_code == 303
    other.post("/manage/polls/theirs/candidates", data=with_token(other, scene("Z")))
    return {
        "owner_id": owner_id, "other_id": other_id,
        "mine": [c.id for c in get_poll(app, "mine").candidates],
        "theirs": [c.id for c in get_poll(app, "theirs").candidates],
    }


def poll_routes(cids):
    """(method, path, form data) for every route that works on one poll."""
    a, b, c = cids
    return [
        ("GET", "/manage/polls/mine", None),
        ("POST", "/manage/polls/mine", {"title": "Renamed", "year": "2015"}),
        ("POST", "/manage/polls/mine/candidates", scene("New scene")),
        ("GET", f"/manage/polls/mine/candidates/{a}", None),
        ("POST", f"/manage/polls/mine/candidates/{a}", scene("A renamed")),
        ("POST", "/manage/polls/mine/status", {"action": "open"}),
        ("POST", f"/manage/polls/mine/candidates/{c}/delete", {}),
    ]


def send(client, method, path, data):
    if method == "GET":
        return client.get(path)
    return client.post(path, data=with_token(client, data))


def test_anonymous_visitors_are_sent_to_login(app, two_polls):
    anonymous = app.test_client()
    before = snapshot(app)
    routes = [("GET", "/manage/", None), ("GET", "/manage/polls/new", None),
              ("POST", "/manage/polls/new", {"title": "Sneaky", "slug": "sneaky"})] + poll_routes(two_polls["mine"])
    csrf = token(anonymous, "/manage/login")  # a real token, so it is the login check that refuses
    for method, path, data in routes:
        if method == "GET":
            response = anonymous.get(path)
        else:
            response = anonymous.post(path, data={**data, "csrf_token": csrf})
        assert response.status_code == 302, (method, path)
        assert response.headers["Location"].startswith("/manage/login?next="), (method, path)
    assert snapshot(app) == before


def test_other_hosts_get_404_and_change_nothing(app, other, two_polls):
    before = snapshot(app)
    for method, path, data in poll_routes(two_polls["mine"]):
        response = send(other, method, path, data)
        assert response.status_code == 404, (method, path)
        assert "Mine" not in response.get_data(as_text=True)
    dashboard = other.get("/manage/").get_data(as_text=True)
    assert "Theirs" in dashboard and "Mine" not in dashboard and "/manage/polls/mine" not in dashboard
    assert snapshot(app) == before


def test_owner_reaches_every_route(app, owner, two_polls):
    assert owner.get("/manage/").status_code == 200
    assert owner.get("/manage/polls/new").status_code == 200
    for method, path, data in poll_routes(two_polls["mine"]):
        response = send(owner, method, path, data)
        assert response.status_code == (200 if method == "GET" else 303), (method, path, response.get_data(as_text=True))
    poll = get_poll(app, "mine")
    assert (poll.title, poll.year, poll.status) == ("Renamed", 2015, "open")
    assert [c.title for c in poll.candidates] == ["A renamed", "B", "New scene"]
    assert owner.post("/manage/polls/new", data=with_token(owner, {"title": "Another"})).status_code == 303


def test_candidates_of_another_poll_are_404(app, owner, make_poll, two_polls):
    """A scene id from someone else's poll (or another of my polls) under my poll's address."""
    make_poll(slug="mine-too", status="draft", host_id=two_polls["owner_id"])
    my_other = [c.id for c in get_poll(app, "mine-too").candidates]
    before = snapshot(app)
    for cid in (two_polls["theirs"][0], my_other[0], 999999, 2**64):
        assert owner.get(f"/manage/polls/mine/candidates/{cid}").status_code == 404
        assert send(owner, "POST", f"/manage/polls/mine/candidates/{cid}", scene("Stolen")).status_code == 404
        assert send(owner, "POST", f"/manage/polls/mine/candidates/{cid}/delete", {}).status_code == 404
    assert owner.get("/manage/polls/no-such-poll").status_code == 404
    assert snapshot(app) == before


def test_missing_csrf_token_is_403_and_writes_nothing(app, owner, two_polls):
    before = snapshot(app)
    a = two_polls["mine"][0]
    for path, data in [
        ("/manage/polls/new", {"title": "No token", "slug": "no-token"}),
        ("/manage/polls/mine", {"title": "No token"}),
        ("/manage/polls/mine/candidates", scene("No token")),
        (f"/manage/polls/mine/candidates/{a}", scene("No token")),
        (f"/manage/polls/mine/candidates/{a}/delete", {}),
        ("/manage/polls/mine/status", {"action": "open"}),
    ]:
        assert owner.post(path, data=data).status_code == 403, path
        assert owner.post(path, data={**data, "csrf_token": "forged"}).status_code == 403, path
    assert snapshot(app) == before
