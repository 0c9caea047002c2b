"""Scene clips: which links become a click-to-load player (polls.clips), how a scene card
renders one (public/_clip.html), and the CSP that lets only the ballot pages frame the players.
In a real browser: test_browser_clips.py."""
from html.parser import HTMLParser

import pytest
from flask import render_template
from sqlalchemy import select

from helpers import csrf_token_from, login, open_page, post_ballot
from polls.clips import PLAYER_ORIGINS, player_for
from polls.extensions import db
from polls.models import Candidate
from test_headers_and_cookies import OWNER, every_get_url

YT = "dQw4w9WgXcQ"
NOCOOKIE = f"https://www.youtube-nocookie.com/embed/{YT}"


@pytest.mark.parametrize("url, start, provider, src", [
    (f"https://www.youtube.com/watch?v={YT}", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"https://youtube.com/watch?v={YT}&t=5s&list=PL123", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"https://www.youtube.com/watch?feature=share&v={YT}", 75, "YouTube", f"{NOCOOKIE}?start=75&autoplay=1&rel=0"),
    (f"https://m.youtube.com/watch?v={YT}", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"http://www.youtube.com/watch/?v={YT}", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"https://youtu.be/{YT}", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"https://youtu.be/{YT}?si=AbCdEf&t=12", 3723, "YouTube", f"{NOCOOKIE}?start=3723&autoplay=1&rel=0"),
    (f"https://www.youtube.com/shorts/{YT}", 4, "YouTube", f"{NOCOOKIE}?start=4&autoplay=1&rel=0"),
    (f"https://www.youtube.com/embed/{YT}?start=9", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"https://www.youtube.com/live/{YT}?feature=shared", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"https://www.youtube-nocookie.com/embed/{YT}", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"HTTPS://WWW.YOUTUBE.COM/watch?v={YT}", 360, "YouTube", f"{NOCOOKIE}?start=360&autoplay=1&rel=0"),
    (f"https://www.youtube.com/watch?v={YT}", 0, "YouTube", f"{NOCOOKIE}?autoplay=1&rel=0"),
    ("https://vimeo.com/76979871", 360, "Vimeo", "https://player.vimeo.com/video/76979871?autoplay=1#t=360s"),
    ("https://www.vimeo.com/76979871#t=5s", 42, "Vimeo", "https://player.vimeo.com/video/76979871?autoplay=1#t=42s"),
    ("https://vimeo.com/channels/staffpicks/76979871", 360, "Vimeo",
     "https://player.vimeo.com/video/76979871?autoplay=1#t=360s"),
    ("https://vimeo.com/76979871/8272103f6e", 360, "Vimeo",
     "https://player.vimeo.com/video/76979871?h=8272103f6e&autoplay=1#t=360s"),
    ("https://player.vimeo.com/video/76979871?h=8272103f6e", 0, "Vimeo",
     "https://player.vimeo.com/video/76979871?h=8272103f6e&autoplay=1"),
    ("https://www.dailymotion.com/video/x8abc12", 360, "Dailymotion",
     "https://www.dailymotion.com/embed/video/x8abc12?autoplay=1&start=360"),
    ("https://www.dailymotion.com/video/x2b4z5f_the-elevator-kiss_shortfilms", 95, "Dailymotion",
     "https://www.dailymotion.com/embed/video/x2b4z5f?autoplay=1&start=95"),
    ("https://dai.ly/x8abc12", 360, "Dailymotion", "https://www.dailymotion.com/embed/video/x8abc12?autoplay=1&start=360"),
    ("https://www.dailymotion.com/embed/video/x8abc12", 0, "Dailymotion",
     "https://www.dailymotion.com/embed/video/x8abc12?autoplay=1"),
])
def test_embeddable_links_get_a_player_at_the_kiss(url, start, provider, src):
    player = player_for(url, start)
    assert (player.provider, player.src) == (provider, src)
    assert player.src.startswith(tuple(origin + "/" for origin in PLAYER_ORIGINS))


@pytest.mark.parametrize("url", [
    "", "https://www.viki.com/videos/1054212v-kill-me-heal-me-episode-8",
    "https://www.netflix.com/watch/80097594?t=360",
    "https://www.youtube.com/results?search_query=kill+me+heal+me+elevator+kiss",
    "https://www.youtube.com/@MBCdrama", "https://www.youtube.com/playlist?list=PL123",
    "https://www.youtube.com/watch?v=abc",                      # not an 11-character id
    f"https://www.youtube.com/watch?v={YT}x",
    "https://www.youtube.com/watch?v=dQw4w9WgX%22",            # a quote where the id should be
    f"https://youtu.be/{YT}/extra", "https://youtu.be/",
    f"https://youtube.com.evil.example/watch?v={YT}", f"https://evilyoutube.com/watch?v={YT}",
    f"https://www.youtube.com@evil.example/watch?v={YT}", f"https://youtu.be.evil.example/{YT}",
    "https://vimeo.com.evil.example/76979871", "https://vimeo.com/about", "https://vimeo.com/76979871/<script>",
    "https://dailymotion.com.evil.example/video/x8abc12", "https://www.dailymotion.com/user/kdrama",
    "https://dai.ly/x8abc12/../../evil",
    f"javascript:alert(1)//www.youtube.com/watch?v={YT}", f"data:text/html,https://youtu.be/{YT}",
    f"ftp://www.youtube.com/watch?v={YT}", f"//www.youtube.com/watch?v={YT}", "http://[::1", "not a url",
])
def test_other_links_get_no_player(url):
    assert player_for(url, 360) is None


class Tags(HTMLParser):
    """Every start tag as (tag, attributes), with attribute values unescaped."""

    def __init__(self, html: str):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def find(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def render_clip(app, path="/", **scene) -> str:
    with app.test_request_context(path):
        return render_template("public/_clip.html", candidate=Candidate(
            **{"title": "Elevator kiss", "title_ko": "", "drama": "Kill Me, Heal Me", **scene}))


def test_a_youtube_scene_renders_a_hidden_play_button_and_the_link(app):
    html = render_clip(app, video_url=f"https://www.youtube.com/watch?v={YT}", video_start=360)
    [button] = Tags(html).find("button")
    assert button["type"] == "button" and button["class"] == "play-clip" and "hidden" in button
    assert button["data-player-src"] == f"{NOCOOKIE}?start=360&autoplay=1&rel=0"
    assert button["data-player-title"] == "Clip: Elevator kiss"
    assert "Play the clip" in html and "starts at 6:00" in html
    [link] = Tags(html).find("a")
    assert link == {"href": f"https://www.youtube.com/watch?v={YT}&t=360", "target": "_blank",
                    "rel": "noopener noreferrer nofollow"}
    assert ">Watch on YouTube</a>" in html and "(the kiss starts at 6:00)" in html
    assert "<iframe" not in html


def test_a_site_we_do_not_embed_gets_only_the_link(app):
    html = render_clip(app, video_url="https://www.viki.com/videos/1054212v", video_start=360)
    assert Tags(html).find("button") == []
    assert [a["href"] for a in Tags(html).find("a")] == ["https://www.viki.com/videos/1054212v"]
    assert ">Watch the clip</a>" in html and "(the kiss starts at 6:00)" in html


def test_a_scene_without_a_clip_renders_nothing(app):
    assert render_clip(app, video_url="").strip() == ""


def test_a_hostile_title_is_escaped_in_the_player_title(app):
    title = 'The "elevator" kiss</button><script>alert(1)</script>'
    html = render_clip(app, title=title, video_url=f"https://youtu.be/{YT}", video_start=360)
    assert "<script>" not in html and "</button><" not in html
    [button] = Tags(html).find("button")
    assert button["data-player-title"] == f"Clip: {title}"


def test_the_player_title_is_the_korean_title_on_korean_pages(app):
    html = render_clip(app, "/?lang=ko", title_ko="엘리베이터 키스", video_url=f"https://youtu.be/{YT}")
    [button] = Tags(html).find("button")
    assert "엘리베이터 키스" in button["data-player-title"]


def csp(response) -> dict[str, str]:
    """The response's Content-Security-Policy as {directive: sources}."""
    directives = (part.strip().split(" ", 1) for part in response.headers["Content-Security-Policy"].split(";"))
    return {d[0]: d[1] if len(d) > 1 else "" for d in directives}


@pytest.fixture
def clip_poll(app, make_poll):
    poll = make_poll()
    with app.app_context():
        scene = db.session.get(Candidate, poll["ids"][0])
        scene.video_url, scene.video_start = f"https://www.youtube.com/watch?v={YT}", 360
        db.session.commit()
    return poll


def test_the_ballot_pages_may_frame_exactly_the_players(client, clip_poll):
    expected = " ".join(PLAYER_ORIGINS)
    page = client.get("/p/test-poll")
    assert 'class="play-clip"' in page.get_data(as_text=True)
    assert csp(page)["frame-src"] == expected
    assert csp(page)["default-src"] == "'self'" and csp(page)["frame-ancestors"] == "'none'"
    token = csrf_token_from(page.get_data(as_text=True))
    for path in ("/p/test-poll", "/p/test-poll/review"):  # an unreadable form shows the ballot again
        again = client.post(path, data={"csrf_token": token, f"rank_{clip_poll['ids'][0]}": "99"})
        assert again.status_code == 400 and 'class="play-clip"' in again.get_data(as_text=True)
        assert csp(again)["frame-src"] == expected


def test_a_refused_suggestion_shows_the_ballot_with_its_players(client, clip_poll):
    token = csrf_token_from(client.get("/p/test-poll").get_data(as_text=True))
    refused = client.post("/p/test-poll/nominate", data={"csrf_token": token, "drama": "Healer"})
    assert refused.status_code >= 400 and 'class="play-clip"' in refused.get_data(as_text=True)
    assert csp(refused)["frame-src"] == " ".join(PLAYER_ORIGINS)


def test_no_other_page_may_frame_anything_but_itself(app, client, clip_poll):
    receipt = post_ballot(client, open_page(client), {"ranking": clip_poll["ids"]}).get_json()["receipt"]
    assert login(client, email=OWNER).status_code == 303
    checked = set()
    # Any thumbnail digest will do: a missing picture's 404 carries the same CSP.
    for endpoint, url in every_get_url(app, {**clip_poll, "digest": "0123456789abcdef"}, receipt):
        response = client.get(url)
        if endpoint != "public.poll_page":  # the one GET page showing the ballot
            assert "frame-src" not in csp(response), url  # falls back to default-src 'self'
            assert csp(response)["default-src"] == "'self'"
            checked.add(endpoint)
        response.close()
    assert {"public.index", "public.results_page", "public.receipt_page", "embed.widget"} <= checked


def test_the_api_still_gives_the_outward_clip_link(client, clip_poll):
    scene = client.get("/api/v1/polls/test-poll").get_json()["candidates"][0]
    assert scene["clip_url"] == f"https://www.youtube.com/watch?v={YT}&t=360"


def test_the_candidate_knows_its_player(app, clip_poll):
    with app.app_context():
        scene = db.session.scalars(select(Candidate).where(Candidate.id == clip_poll["ids"][0])).one()
        assert scene.clip_player.src == f"{NOCOOKIE}?start=360&autoplay=1&rel=0"
        assert db.session.get(Candidate, clip_poll["ids"][1]).clip_player is None
