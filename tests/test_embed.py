"""The result widgets (/embed/<slug>, /embed/<slug>.svg) and oEmbed: options, caching
(per process, checked against the Redis results version), ETag/304, headers, escaping."""
import json
import xml.etree.ElementTree as ET

import pytest
from sqlalchemy import text

from helpers import app_on, csrf_token_from, login, open_page, post_ballot
from polls.extensions import db
from polls.models import Candidate, Host, Poll

HOSTILE = ["<script>alert(1)</script>", '"><svg onload=alert(1)>', "'single' & \"double\"",
           "قبلة المطر", "💋 Kiss 🌧️"]


def vote(client, poll, ranking, slug="test-poll"):
    fan = client.application.test_client()  # a new browser per ballot
    response = post_ballot(fan, open_page(fan, slug), {"ranking": ranking}, slug=slug)
    assert response.status_code == 201, response.get_json()
    return response


# -- options ---------------------------------------------------------------------


@pytest.mark.parametrize("query", ["view=pie", "top=x", "top=-", "round=0", "theme=blue",
                                   "accent=red", "accent=%2312345", "lang=fr", "inactive=maybe",
                                   "refresh=2", "refresh=-1"])
def test_bad_options_get_a_400_page_that_says_what_to_fix(client, make_poll, query):
    make_poll()
    for path in ("/embed/test-poll", "/embed/test-poll.svg"):
        response = client.get(f"{path}?{query}")
        assert response.status_code == 400
        assert query.split("=")[0] in response.get_data(as_text=True)


def test_top_out_of_range_is_clamped_as_the_first_widgets_did():
    from polls.widgets import widget_options
    assert widget_options({"top": "0"}).top == 1
    assert widget_options({"top": "100"}).top == 50
    assert widget_options({"top": "-3"}).top == 1


def test_equivalent_options_share_one_canonical_query():
    from polls.widgets import widget_options
    a = widget_options({"view": "BARS", "accent": "C2185B", "inactive": "hide", "top": "5"})
    b = widget_options({"view": "bars", "accent": "#c2185b", "inactive": "0"})
    assert a == b
    assert a.query() == {"view": "bars", "accent": "c2185b", "inactive": "hide"}
    assert widget_options({"accent": "f0a"}).accent == "#ff00aa"


@pytest.mark.parametrize("view", ["board", "bars", "flow", "badge"])
def test_every_view_renders_html_and_svg(client, make_poll, view):
    poll = make_poll()
    for ranking in ([1, 2], [2, 1], [3], [1, 3]):
        vote(client, poll, [poll["ids"][i - 1] for i in ranking])
    html = client.get(f"/embed/test-poll?view={view}")
    assert html.status_code == 200 and html.mimetype == "text/html"
    assert "<svg" in html.get_data(as_text=True)
    svg = client.get(f"/embed/test-poll.svg?view={view}")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    root = ET.fromstring(svg.get_data())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"


def test_bars_view_links_every_round_and_marks_the_shown_one(client, make_poll):
    poll = make_poll()
    for ranking in ([0, 1], [1, 0], [2, 0], [0], [1]):
        vote(client, poll, [poll["ids"][i] for i in ranking])
    rounds = len(client.get("/api/v1/polls/test-poll/results").get_json()["rounds"])
    assert rounds == 2
    page = client.get("/embed/test-poll?view=bars&round=1&theme=dark").get_data(as_text=True)
    assert 'href="/embed/test-poll?view=bars&amp;round=1&amp;theme=dark"' in page
    assert 'aria-current="true" href="/embed/test-poll?view=bars&amp;round=1&amp;theme=dark"' in page
    assert 'href="/embed/test-poll?view=bars&amp;round=2&amp;theme=dark"' in page


def test_vote_link_opens_the_poll_in_a_new_tab_only_while_open(client, make_poll):
    make_poll()
    make_poll(slug="closed-poll", status="closed")
    page = client.get("/embed/test-poll").get_data(as_text=True)
    assert '<a class="vote" href="/p/test-poll" target="_blank" rel="noopener">' in page
    assert 'class="vote"' not in client.get("/embed/closed-poll").get_data(as_text=True)


def test_language_is_read_as_the_option_is_so_no_spelling_poisons_the_cache(client, make_poll):
    make_poll()
    for spelling in ("KO", " ko", "Ko"):
        assert "전체 결과" in client.get(f"/embed/test-poll?lang={spelling}").get_data(as_text=True), spelling
    assert "전체 결과" in client.get("/embed/test-poll?lang=ko").get_data(as_text=True)
    assert "Leaderboard" not in client.get("/embed/test-poll.svg?lang=%20ko").get_data(as_text=True)


def test_korean_widget(client, make_poll):
    make_poll()
    page = client.get("/embed/test-poll?lang=ko").get_data(as_text=True)
    assert '<html lang="ko"' in page
    assert "투표하기" in page and "Vote<" not in page


def test_accent_colour_is_allowed_by_hash_in_the_csp(client, make_poll):
    from polls.widgets import csp_hash
    make_poll()
    response = client.get("/embed/test-poll?accent=1a73e8")
    style = ":root[data-theme]{--accent:#1a73e8}"
    assert f"<style>{style}</style>" in response.get_data(as_text=True)
    assert f"style-src 'self' {csp_hash(style)};" in response.headers["Content-Security-Policy"]
    plain = client.get("/embed/test-poll")
    assert "style-src 'self';" in plain.headers["Content-Security-Policy"]
    assert "<style>" not in plain.get_data(as_text=True)


# -- caching ---------------------------------------------------------------------


def test_etag_revalidation_answers_304_without_a_body(client, make_poll):
    make_poll()
    first = client.get("/embed/test-poll")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=5, s-maxage=5, stale-while-revalidate=30"
    again = client.get("/embed/test-poll", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""
    assert again.headers["ETag"] == etag
    other = client.get("/embed/test-poll", headers={"If-None-Match": '"something-else"'})
    assert other.status_code == 200 and other.data == first.data


def test_widget_needs_and_sets_no_cookies_and_allows_any_origin(client, make_poll):
    make_poll()
    for path in ("/embed/test-poll", "/embed/test-poll.svg", "/oembed?url=http://localhost/p/test-poll"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
    assert client.get("/embed/test-poll").headers["Access-Control-Allow-Origin"] == "*"


@pytest.fixture
def two_processes(tmp_path, redis_url):
    """Two app instances ("processes") on one SQLite file and one Redis, keeping widget
    copies for an hour unless the version moves; the second sees ballots cast on the first."""
    database = f"sqlite:///{tmp_path / 'shared.db'}"
    with app_on(database, redis_url, WIDGET_FRESH_SECONDS=0, WIDGET_MAX_AGE=3600) as first, \
            app_on(database, redis_url, WIDGET_FRESH_SECONDS=0, WIDGET_MAX_AGE=3600) as second:
        yield first, second


def add_poll(app, title="Shared", titles=("Alpha", "Bravo")) -> tuple[int, list[int]]:
    with app.app_context():
        host = Host(email="h@example.com", password_hash="x")
        poll = Poll(host=host, slug="test-poll", title=title, year=2014, status="open")
        poll.candidates = [Candidate(title=t, drama="D", position=i) for i, t in enumerate(titles)]
        db.session.add(poll)
        db.session.commit()
        return poll.id, [c.id for c in poll.candidates]


def test_a_ballot_on_one_process_shows_in_the_widget_kept_by_another(two_processes):
    first, second = two_processes
    _, ids = add_poll(first)
    reader = second.test_client()
    before = reader.get("/embed/test-poll")
    assert "No ballots yet" in before.get_data(as_text=True)
    fan = first.test_client()
    assert post_ballot(fan, open_page(fan), {"ranking": [ids[1]]}).status_code == 201
    after = reader.get("/embed/test-poll")
    assert after.headers["ETag"] != before.headers["ETag"]
    assert "Bravo" in after.get_data(as_text=True) and "No ballots yet" not in after.get_data(as_text=True)


def test_copy_is_served_without_the_database_until_the_version_moves(two_processes):
    first, _ = two_processes
    poll_id, _ = add_poll(first, title="Old title")
    reader = first.test_client()
    assert "Old title" in reader.get("/embed/test-poll").get_data(as_text=True)
    with first.app_context():  # behind the app's back: no session event, no version bump
        db.session.execute(text("UPDATE poll SET title = 'New title'"))
        db.session.commit()
    assert "Old title" in reader.get("/embed/test-poll").get_data(as_text=True)
    with first.app_context():
        from polls.results import ballots_changed
        ballots_changed(poll_id)
    assert "New title" in reader.get("/embed/test-poll").get_data(as_text=True)


def test_an_edit_landing_while_a_widget_renders_is_not_filed_under_its_version(app, client, make_poll,
                                                                              monkeypatch):
    from sqlalchemy import update
    from polls import embed
    from polls.results import ballots_changed, results_version
    app.config.update(WIDGET_FRESH_SECONDS=0, WIDGET_MAX_AGE=3600)
    poll = make_poll()
    edits = []

    def edit_then_read(poll_id):
        if not edits:  # a host renames the poll just as the widget reads the version
            with db.engine.begin() as connection:
                connection.execute(update(Poll).values(title="Renamed poll"))
            ballots_changed(poll_id)
            edits.append(poll_id)
        return results_version(poll_id)

    monkeypatch.setattr(embed, "results_version", edit_then_read)
    client.get("/embed/test-poll")
    assert edits == [poll["id"]]
    assert "Renamed poll" in client.get("/embed/test-poll").get_data(as_text=True)


def test_a_hosts_edit_shows_in_kept_widgets(app, client, make_poll):
    app.config.update(WIDGET_FRESH_SECONDS=0, WIDGET_MAX_AGE=3600)
    poll = make_poll()
    assert "Alpha" in client.get("/embed/test-poll").get_data(as_text=True)
    with app.app_context():  # an ORM edit, as every manage view makes
        db.session.get(Candidate, poll["ids"][0]).title = "Renamed scene"
        db.session.commit()
    page = client.get("/embed/test-poll").get_data(as_text=True)
    assert "Renamed scene (Drama Alpha)" in page and "Alpha (Drama Alpha)" not in page


def test_without_redis_copies_live_only_briefly(tmp_path):
    with app_on(f"sqlite:///{tmp_path / 'solo.db'}", None, RATELIMIT_STORAGE_URI="memory://",
                WIDGET_FRESH_SECONDS=0, WIDGET_MAX_AGE=3600) as solo:
        add_poll(solo, title="Before")
        reader = solo.test_client()
        assert "Before" in reader.get("/embed/test-poll").get_data(as_text=True)
        with solo.app_context():
            db.session.execute(text("UPDATE poll SET title = 'After'"))
            db.session.commit()
        # No Redis to ask: a copy older than WIDGET_FRESH_SECONDS is rendered again.
        assert "After" in reader.get("/embed/test-poll").get_data(as_text=True)


# -- escaping --------------------------------------------------------------------


@pytest.fixture
def hostile_poll(app, client, make_poll):
    poll = make_poll(titles=HOSTILE)
    with app.app_context():
        row = db.session.get(Poll, poll["id"])
        row.title = '"><script>alert("title")</script>'
        for candidate in row.candidates:
            candidate.drama = '<img src=x onerror=alert(1)>'
        db.session.commit()
    for ranking in ([0, 1], [1, 2], [2, 3], [3, 4], [4, 0], [0, 2]):
        vote(client, poll, [poll["ids"][i] for i in ranking])
    return poll


def assert_no_markup_injected(body: str) -> None:
    for needle in ("<script>alert", "<svg onload", "<img src=x", "onload=alert(1)>"):
        assert needle not in body


@pytest.mark.parametrize("view", ["board", "bars", "flow", "badge"])
def test_hostile_names_are_escaped_in_widget_html_and_svg(client, hostile_poll, view):
    html = client.get(f"/embed/test-poll?view={view}").get_data(as_text=True)
    assert_no_markup_injected(html)
    svg = client.get(f"/embed/test-poll.svg?view={view}").get_data(as_text=True)
    assert_no_markup_injected(svg)
    root = ET.fromstring(svg)
    names = {el.tag.split("}")[1] for el in root.iter()}
    assert not names & {"script", "style", "foreignObject", "img", "iframe"}
    assert not [name for el in root.iter() for name in el.attrib if name.startswith("on") or name == "style"]
    all_text = " ".join(root.itertext())
    assert '"><script>alert("title")</script>' in all_text  # shown as text, intact


def test_hostile_names_are_escaped_in_oembed_json(client, hostile_poll):
    response = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll"})
    body = json.loads(response.get_data(as_text=True))
    assert body["title"] == '"><script>alert("title")</script>'  # JSON carries the text itself
    assert "<script>alert" not in body["html"]
    assert 'title="&#34;&gt;&lt;script&gt;alert(&#34;title&#34;)&lt;/script&gt;"' in body["html"]
    assert response.mimetype == "application/json" and response.headers["X-Content-Type-Options"] == "nosniff"


# -- oEmbed ----------------------------------------------------------------------


def test_oembed_returns_rich_iframe_with_the_resize_script(client, make_poll):
    make_poll()
    response = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll", "format": "json"})
    body = response.get_json()
    assert response.status_code == 200
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_name"] == "KissPoll" and body["title"] == "Poll test-poll"
    assert body["html"].startswith('<iframe src="http://localhost/embed/test-poll"')
    assert '<script async src="http://localhost/static/js/embed.js"></script>' in body["html"]
    assert body["width"] == 480 and body["height"] == 360


def test_oembed_passes_widget_options_from_the_pasted_url(client, make_poll):
    make_poll()
    url = "http://localhost/p/test-poll/results?view=flow&theme=dark&utm_source=x"
    body = client.get("/oembed", query_string={"url": url}).get_json()
    assert 'src="http://localhost/embed/test-poll?view=flow&amp;theme=dark"' in body["html"]


def test_oembed_respects_maxwidth_and_maxheight(client, make_poll):
    make_poll()
    body = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll/results",
                                                "maxwidth": "300", "maxheight": "200"}).get_json()
    assert body["width"] == 300 and body["height"] == 200
    assert 'width="300" height="200"' in body["html"]
    tiny = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll", "maxwidth": "50"}).get_json()
    assert tiny["width"] == 50  # oEmbed: never wider than maxwidth


@pytest.mark.parametrize("query, status", [
    ({}, 400),
    ({"url": "http://localhost/p/missing"}, 404),
    ({"url": "http://evil.example/p/test-poll"}, 404),
    ({"url": "javascript:alert(1)"}, 404),
    ({"url": "http://localhost/p/test-poll/votes"}, 404),
    ({"url": "http://localhost/p/test-poll?view=pie"}, 400),
    ({"url": "http://localhost/p/test-poll", "format": "xml"}, 501),
    ({"url": "http://[::1/p/test-poll"}, 404),
    ({"url": "http://localhost/p/test-poll", "maxwidth": "abc"}, 200),
    ({"url": "http://localhost/p/test-poll?view=pie&view=bars"}, 400),  # the first wins, as on /embed
])
def test_oembed_bad_requests_are_json_errors(client, make_poll, query, status):
    make_poll()
    response = client.get("/oembed", query_string=query)
    assert response.status_code == status
    if status != 200:
        assert set(response.get_json()) == {"error", "message"}


def test_poll_and_results_pages_advertise_oembed(client, make_poll):
    make_poll()
    for path in ("/p/test-poll", "/p/test-poll/results"):
        page = client.get(path).get_data(as_text=True)
        assert ('<link rel="alternate" type="application/json+oembed" href="http://localhost/oembed?url='
                f'http://localhost{path}&amp;format=json"') in page


def test_widget_for_unknown_poll_is_404(client):
    assert client.get("/embed/nope").status_code == 404
    assert client.get("/embed/nope.svg").status_code == 404


def size_of(client, path: str) -> int:
    with client.get(path) as response:  # static files are streamed from an open file
        assert response.status_code == 200
        return len(response.data)


def test_widget_page_weighs_under_15_kb_with_its_css_and_script(client, hostile_poll):
    """Uncompressed, with every scene of a 5-scene poll and long hostile names."""
    assets = size_of(client, "/static/css/widget.css") + size_of(client, "/static/js/widget.js")
    for view in ("board", "bars", "flow", "badge"):
        page = size_of(client, f"/embed/test-poll?view={view}&top=50")
        assert page + assets < 15 * 1024, (view, page, assets)


def test_widget_is_sent_compressed_to_browsers_that_take_gzip(client, hostile_poll):
    import gzip
    plain = client.get("/embed/test-poll?view=flow")
    packed = client.get("/embed/test-poll?view=flow", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert packed.headers["ETag"] != plain.headers["ETag"]
    again = client.get("/embed/test-poll?view=flow", headers={"Accept-Encoding": "gzip",
                                                               "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304


# -- the host's Share & embed panel ----------------------------------------------


def test_share_panel_offers_snippets_for_the_chosen_widget(client, make_poll):
    make_poll()
    assert login(client, email="owner-test-poll@example.com").status_code == 303
    page = client.get("/manage/polls/test-poll?view=bars&theme=dark&accent=%231a73e8").get_data(as_text=True)
    # The iframe code as a textarea shows it: its own &amp; escaped once more.
    widget = "http://localhost/embed/test-poll?view=bars&amp;amp;theme=dark&amp;amp;accent=1a73e8"
    assert f"&lt;iframe src=&#34;{widget}&#34;" in page
    assert 'value="http://localhost/p/test-poll?view=bars&amp;theme=dark&amp;accent=1a73e8"' in page
    assert 'value="http://localhost/embed/test-poll.svg?view=bars&amp;theme=dark&amp;accent=1a73e8"' in page
    assert "wp_oembed_add_provider( 'http://localhost/p/*', 'http://localhost/oembed' );" in page
    assert '<iframe class="share-preview" src="/embed/test-poll?view=bars&amp;theme=dark&amp;accent=1a73e8"' in page


def test_share_panel_explains_bad_options_and_drafts(client, make_poll):
    make_poll()
    make_poll(slug="draft-poll", status="draft")
    assert login(client, email="owner-test-poll@example.com").status_code == 303
    page = client.get("/manage/polls/test-poll?view=pie").get_data(as_text=True)
    assert "view must be one of board, bars, flow, badge" in page
    assert 'src="/embed/test-poll"' in page
    client.post("/manage/logout", data={"csrf_token": csrf_token_from(page)})
    assert login(client, email="owner-draft-poll@example.com").status_code == 303
    draft = client.get("/manage/polls/draft-poll").get_data(as_text=True)
    assert "work once the poll is open" in draft and "share-preview" not in draft


def test_any_widget_or_oembed_query_is_answered_200_or_400_never_500(client, hostile_poll):
    from hypothesis import given, settings, strategies as st
    names = st.sampled_from(["view", "top", "round", "theme", "accent", "lang", "inactive", "refresh", "x"])
    values = st.one_of(st.text(max_size=12), st.integers(-5, 2000).map(str),
                       st.sampled_from(["bars", "flow", "badge", "dark", "ko", "hide", "fff", "#c2185b"]))

    @settings(max_examples=120, deadline=None)
    @given(query=st.dictionaries(names, values, max_size=5), svg=st.booleans())
    def check(query, svg):
        response = client.get("/embed/test-poll" + (".svg" if svg else ""), query_string=query)
        assert response.status_code in (200, 400), (query, response.status_code)
        pasted = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll?"
                                                            + "&".join(f"{k}={v}" for k, v in query.items())})
        assert pasted.status_code in (200, 400, 404), (query, pasted.status_code)

    check()


# -- the fast path (polls.widgets.WidgetFastPath) ----------------------------------


@pytest.fixture
def kept(app, make_poll):
    """Widgets kept for an hour: repeat requests are answered by the fast path."""
    app.config.update(WIDGET_FRESH_SECONDS=3600, WIDGET_MAX_AGE=3600)
    return make_poll()


def test_fast_path_answers_exactly_as_flask_did(app, client, kept, monkeypatch):
    first = client.get("/embed/test-poll?view=bars", headers={"Accept-Encoding": "gzip"})
    calls = []
    monkeypatch.setattr(app, "full_dispatch_request", lambda: calls.append(1))  # Flask is not entered
    again = client.get("/embed/test-poll?view=bars", headers={"Accept-Encoding": "gzip"})
    assert calls == []
    assert again.data == first.data and again.status_code == 200
    assert sorted(again.headers.items()) == sorted(first.headers.items())
    not_modified = client.get("/embed/test-poll?view=bars", headers={"Accept-Encoding": "gzip",
                                                                     "If-None-Match": first.headers["ETag"]})
    assert not_modified.status_code == 304 and not_modified.data == b""
    assert not_modified.headers["ETag"] == first.headers["ETag"]
    assert not_modified.headers["Content-Security-Policy"] == first.headers["Content-Security-Policy"]
    head = client.head("/embed/test-poll?view=bars", headers={"Accept-Encoding": "gzip"})
    assert head.data == b"" and head.headers["Content-Length"] == first.headers["Content-Length"]
    assert calls == []


def test_fast_path_keeps_hosts_schemes_and_encodings_apart(client, kept, monkeypatch):
    from polls import embed
    renders = []
    real = embed._render
    monkeypatch.setattr(embed, "_render", lambda *args: renders.append(args) or real(*args))
    assert client.get("/embed/test-poll", headers={"Host": "evil.example"}).status_code == 200
    mine = client.get("/embed/test-poll")
    assert len(renders) == 2  # one copy per host, never evil.example's for localhost
    client.get("/embed/test-poll")
    assert len(renders) == 2
    packed = client.get("/embed/test-poll", headers={"Accept-Encoding": "gzip"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Content-Encoding" not in mine.headers
    secure = client.get("/embed/test-poll", base_url="https://localhost")
    assert "Strict-Transport-Security" in secure.headers
    assert "Strict-Transport-Security" not in client.get("/embed/test-poll").headers


def test_fast_path_never_answers_for_other_routes_or_methods(client, kept):
    assert client.post("/embed/test-poll").status_code == 405
    assert client.get("/embed/missing").status_code == 404
    assert client.get("/embed/missing").status_code == 404  # errors are never kept
    assert client.get("/embed/test-poll?view=pie").status_code == 400


def test_fast_path_compares_etags_weakly_as_flask_does(client, kept):
    etag = client.get("/embed/test-poll").headers["ETag"]
    client.get("/embed/test-poll")  # now kept by the fast path
    assert client.get("/embed/test-poll", headers={"If-None-Match": f"W/{etag}"}).status_code == 304


def test_gzip_refused_with_q_0_is_not_sent(client, make_poll):
    make_poll()
    response = client.get("/embed/test-poll", headers={"Accept-Encoding": "gzip;q=0, identity"})
    assert "Content-Encoding" not in response.headers


def test_frameable_error_pages_are_never_cached(client, make_poll):
    make_poll(slug="draft-poll", status="draft")
    for path in ("/embed/draft-poll.svg", "/embed/draft-poll?view=pie", "/oembed"):
        assert client.get(path).headers["Cache-Control"] == "no-store", path


def test_widget_never_varies_by_cookie_even_for_a_logged_in_host(client, make_poll):
    make_poll()
    assert login(client, email="owner-test-poll@example.com").status_code == 303
    for path in ("/embed/test-poll", "/embed/test-poll.svg", "/oembed?url=http://localhost/p/test-poll"):
        response = client.get(path)
        assert "Set-Cookie" not in response.headers, path
        assert "Cookie" not in response.headers.get("Vary", ""), path
    assert client.get("/manage/").status_code == 200  # the session itself is untouched
