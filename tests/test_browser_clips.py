"""Real Chromium: a scene's clip loads nothing from the video site until the fan presses
"Play the clip", then plays in a youtube-nocookie iframe from the kiss's start second; without
JavaScript the fan gets the plain link. There is no internet here: the one outside site the
page may reach, the player, is answered by a stub, and every request is recorded."""
from urllib.parse import urlsplit

import pytest

from polls.extensions import db
from polls.models import Candidate
from test_browser import browser, live_server, pytestmark, shot  # noqa: F401 - fixtures and marks

YT = "dQw4w9WgXcQ"
PLAYER_HOST = "www.youtube-nocookie.com"
STUB_PLAYER = "<!doctype html><title>stub player</title><p id='stub'>stub player</p>"


@pytest.fixture
def clip_poll(app, make_poll):
    poll = make_poll(titles=("Elevator kiss", "Wall kiss"))
    with app.app_context():
        scene = db.session.get(Candidate, poll["ids"][0])
        scene.video_url, scene.video_start = f"https://www.youtube.com/watch?v={YT}", 360
        db.session.commit()
    return poll


def recording_context(chromium, server: str, **options):
    """A browser context that records every request's URL (the page's and its frames') in
    `context.requests`, answers the player's host with a stub and refuses any other outside host."""
    context = chromium.new_context(viewport={"width": 390, "height": 844}, **options)
    context.requests = []
    ours = urlsplit(server).netloc

    def route(route):
        host = urlsplit(route.request.url).netloc
        if host == ours:
            route.continue_()
        elif host == PLAYER_HOST:
            route.fulfill(status=200, content_type="text/html", body=STUB_PLAYER)
        else:
            route.abort()

    context.on("request", lambda request: context.requests.append(request.url))
    context.route("**/*", route)
    return context


def outside(requests: list[str], server: str) -> list[str]:
    return [url for url in requests if urlsplit(url).netloc != urlsplit(server).netloc]


def test_the_clip_loads_only_when_the_fan_asks_and_opens_at_the_kiss(live_server, browser, clip_poll):
    context = recording_context(browser, live_server)
    page = context.new_page()
    page.goto(f"{live_server}/p/test-poll", wait_until="networkidle")
    card = page.locator(".candidate", has_text="Elevator kiss")
    button = card.get_by_role("button", name="Play the clip")
    assert button.is_visible() and "starts at 6:00" in button.inner_text()
    assert card.get_by_role("link", name="Watch on YouTube").is_visible()
    assert card.locator(".clip-start-note").is_hidden()  # the button already says when
    assert page.locator("iframe").count() == 0
    assert context.requests and outside(context.requests, live_server) == []

    shot(page, "poll-clip")
    before_click = len(context.requests)
    button.click()
    frame = card.locator("iframe.clip-frame")
    frame.wait_for()
    assert frame.get_attribute("src") == f"https://{PLAYER_HOST}/embed/{YT}?start=360&autoplay=1&rel=0"
    assert frame.get_attribute("title") == "Clip: Elevator kiss"
    assert frame.get_attribute("allow") == "autoplay; encrypted-media; picture-in-picture; fullscreen"
    assert frame.get_attribute("allowfullscreen") == ""
    assert frame.get_attribute("referrerpolicy") == "strict-origin-when-cross-origin"
    # The CSP's frame-src let it load: the stub's text is inside the player.
    page.frame_locator("iframe.clip-frame").locator("#stub").wait_for()
    assert outside(context.requests[:before_click], live_server) == []
    assert outside(context.requests[before_click:], live_server) == [
        f"https://{PLAYER_HOST}/embed/{YT}?start=360&autoplay=1&rel=0"]

    assert card.get_by_role("button", name="Play the clip").count() == 0
    assert page.evaluate("document.activeElement.tagName") == "IFRAME"
    assert page.locator(".candidate.ranked").count() == 0  # pressing play did not rank the scene
    card.locator("h3").click()
    assert page.locator(".candidate.ranked").count() == 1  # while a tap on the card itself does
    box, clip = frame.bounding_box(), card.locator(".clip").bounding_box()
    assert box["width"] == clip["width"] and abs(box["width"] / box["height"] - 16 / 9) < 0.02
    shot(page, "poll-clip-playing")
    context.close()


def test_without_javascript_the_fan_gets_the_link_at_the_kiss(live_server, browser, clip_poll):
    context = recording_context(browser, live_server, java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/p/test-poll", wait_until="networkidle")
    card = page.locator(".candidate", has_text="Elevator kiss")
    link = card.get_by_role("link", name="Watch on YouTube")
    assert link.is_visible()
    assert link.get_attribute("href") == f"https://www.youtube.com/watch?v={YT}&t=360"
    assert card.get_by_text("(the kiss starts at 6:00)").is_visible()
    assert card.locator("button.play-clip").is_hidden()
    assert page.locator("iframe").count() == 0
    assert outside(context.requests, live_server) == []
    context.close()
