"""Result widgets inside someone else's blog, in real Chromium (Debian's, driven by Playwright).

The blog is served from another port of 127.0.0.1 (another origin): the oEmbed snippet
with its resize script, a sandboxed iframe, WordPress's embed protocol, live refresh,
the Vote link, Korean, and the poll pages' refusal to be framed. Charts are read by
their visible text and ARIA (the svg role=img), never by their inner structure.

Set SCREENSHOT_DIR (e.g. docs/screenshots) to keep the README's embed-*.png.
"""
import http.server
import json
import re
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest
from playwright.sync_api import expect

import test_browser
from helpers import open_page, post_ballot
from services import free_port
from test_browser import shot

pytestmark = test_browser.pytestmark  # browser-marked; skipped without Debian's chromium
# test_browser's fixtures, shared: the app over HTTP, Chromium, the demo polls.
live_server, browser, demo = test_browser.live_server, test_browser.browser, test_browser.demo

ALL_TIME = "best-kiss-all-time"  # closed, 240 ballots
ALL_TIME_TITLE = "Best K-drama kiss of all time"
WINNER = "Stalled elevator kiss"
OPEN = "best-kiss-2014"  # open, no ballots in the demo
WAIT_MS = 15_000

BLOG_STYLE = """
:root { color-scheme: light dark; font: 16px/1.5 Georgia, "Noto Serif", serif; }
body { margin: 0; background: #fbf8f4; color: #2a2326; }
header { background: #7a1f3d; color: #fff; padding: 10px 16px; font: 700 17px system-ui, sans-serif; }
.page { max-width: 760px; margin: 0 auto; }
@media (min-width: 600px) { .page { display: grid; grid-template-columns: minmax(0, 1fr) 210px; } }
@media (max-width: 599px) { aside { display: none; } }
article, aside { padding: 4px 16px 12px; }
aside { font-size: 14px; color: #6b5d64; }
aside h2 { font: 700 14px system-ui, sans-serif; margin: 1.2em 0 .3em; color: inherit; }
aside ul { margin: 0; padding-left: 1.1em; }
h1 { font-size: 1.35rem; line-height: 1.25; margin: .5em 0 .3em; }
p { margin: .4em 0; }
iframe { display: block; margin: .7em 0 1em; }
@media (prefers-color-scheme: dark) {
  body { background: #121014; color: #e9e2e6; }
  header { background: #3b1426; }
  aside { color: #b9a9b3; }
}
"""
SIDEBAR = ("<h2>About</h2><p>Notes on K-dramas, one kiss scene at a time.</p>"
           "<h2>Recent posts</h2><ul><li>Toast, but make it romantic</li><li>Ten umbrellas of 2015</li>"
           "<li>Why the elevator always wins</li></ul>")


class Blog:
    """A static blog on its own port: ``publish`` writes a page and returns its URL."""

    def __init__(self, directory: Path, origin: str):
        self.directory, self.origin = directory, origin

    def publish(self, name: str, body: str, sidebar: str = "") -> str:
        (self.directory / name).write_text(
            '<!doctype html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link rel="icon" href="data:,"><title>Drama Notes</title><style>{BLOG_STYLE}</style></head>'
            f'<body><header>Drama Notes</header><div class="page"><article>{body}</article>'
            f'{f"<aside>{sidebar}</aside>" if sidebar else ""}</div></body></html>',
            encoding="utf-8")
        return f"{self.origin}/{name}"


@pytest.fixture
def blog_site(tmp_path):
    """Someone else's site on another port (another origin than the app's)."""
    root = tmp_path / "blog"
    root.mkdir()
    handler = lambda *a, **kw: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **kw)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield Blog(root, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def blog(blog_site, live_server):
    """A blog post embedding the widget and (wrongly) a poll page."""
    return blog_site.publish(
        "index.html",
        f'<h1>My 2014 kiss list</h1>'
        f'<iframe id="widget" src="{live_server}/embed/{ALL_TIME}" width="480" height="360"></iframe>'
        f'<iframe id="page" src="{live_server}/p/{ALL_TIME}" width="480" height="200"></iframe>')


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class Watch:
    """Everything a blog page's browser context asks for, and what goes wrong on it."""

    def __init__(self, context, page, app: str, blog: str):
        self.app, self.blog = app, blog
        self.requests: list = []  # (frame or None, url)
        self.failed: list[str] = []
        self.console_errors: list[str] = []
        context.on("request", self._request)
        context.on("requestfailed", lambda r: self.failed.append(f"{r.url}: {r.failure}"))
        context.on("response", lambda r: r.status >= 400 and self.failed.append(f"{r.url}: {r.status}"))
        page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        page.on("pageerror", lambda e: self.console_errors.append(f"uncaught: {e}"))

    def _request(self, request) -> None:
        try:
            frame = request.frame
        except Exception:  # a service worker's request has no frame (we register none)
            frame = None
        self.requests.append((frame, request.url))

    def assert_clean(self) -> None:
        """No failed request and no console error anywhere on the page, its frames included."""
        assert self.failed == []
        assert self.console_errors == []

    def assert_only_our_origins(self) -> None:
        """Nothing but the app and the blog was asked for; the widget frames asked only the app."""
        asked = {origin(url) for _, url in self.requests if not url.startswith("data:")}
        assert asked <= {self.app, self.blog}, asked
        from_widgets = [url for frame, url in self.requests
                        if frame is not None and "/embed/" in frame.url]
        assert from_widgets, "no request came from a widget frame"
        assert {origin(url) for url in from_widgets} == {self.app}, from_widgets


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 800, "height": 900}, color_scheme="light")
    yield context
    context.close()


def open_blog(context, url: str, live_server: str, blog_site: Blog):
    page = context.new_page()
    watch = Watch(context, page, live_server, blog_site.origin)
    page.goto(url)
    return page, watch


def widget_frame(page, selector: str):
    frame = page.locator(selector).element_handle().content_frame()
    assert frame is not None, selector
    return frame


def widget_frame_when_attached(page, selector: str):
    page.locator(selector).wait_for(state="attached", timeout=WAIT_MS)
    return widget_frame(page, selector)


def shows_text(frame_locator, text: str):
    """The visible element(s) with this text (an SVG's <title> tooltips are not visible)."""
    return frame_locator.get_by_text(text, exact=True).filter(visible=True)


def wait_in_frame(frame, predicate: str) -> bool:
    """Poll ``predicate`` (a JS function) in a widget frame until it holds, up to WAIT_MS.

    Not frame.wait_for_function: Playwright evaluates its predicate with eval inside the
    page, which the widget's CSP (script-src 'self') refuses; evaluate() is exempt."""
    deadline = time.monotonic() + WAIT_MS / 1000
    while not frame.evaluate(predicate):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def assert_sized_to_content(page, selector: str) -> int:
    """The iframe is as tall as the widget's document, which has nothing left to scroll."""
    frame = widget_frame(page, selector)
    # Inside the frame innerHeight is the iframe's height: wait until the host page's
    # script (embed.js, or the WordPress listener) made it the document's own height.
    # If it never does, the assertions below say by how much it is off.
    wait_in_frame(frame, "() => Math.abs(innerHeight - document.documentElement.getBoundingClientRect().height) <= 2")
    iframe_height = page.locator(selector).evaluate("el => el.clientHeight")
    content_height, scroll_height, client_height, scroll_width, client_width = frame.evaluate(
        "() => { const d = document.documentElement;"
        " return [d.getBoundingClientRect().height, d.scrollHeight, d.clientHeight, d.scrollWidth, d.clientWidth] }")
    assert abs(iframe_height - content_height) <= 2, f"iframe {iframe_height} px, widget {content_height} px"
    assert abs(iframe_height - scroll_height) <= 2, (iframe_height, scroll_height)
    assert scroll_height <= client_height + 1, (scroll_height, client_height)  # no vertical scroll bar
    assert scroll_width <= client_width + 1, (scroll_width, client_width)  # nor a horizontal one
    return iframe_height


def assert_shows_the_all_time_winner(frame_locator) -> None:
    chart = frame_locator.get_by_role("img", name=re.compile(re.escape(ALL_TIME_TITLE)))
    expect(chart).to_be_visible(timeout=WAIT_MS)
    expect(chart).to_have_accessible_name(re.compile(re.escape(WINNER)))  # aria-labelledby: title and desc
    expect(shows_text(frame_locator, WINNER).first).to_be_visible()


def oembed_html(live_server: str, poll_url: str) -> str:
    url = f"{live_server}/oembed?url={quote(poll_url, safe='')}&format=json"
    with urllib.request.urlopen(url, timeout=10) as response:
        assert response.status == 200
        return json.load(response)["html"]


def test_oembed_snippet_sizes_itself_to_the_widget(context, live_server, blog_site, demo):
    snippet = oembed_html(live_server, f"{live_server}/p/{ALL_TIME}")
    assert f'<script async src="{live_server}/static/js/embed.js"></script>' in snippet
    url = blog_site.publish("oembed.html", f"<h1>The all-time list is in</h1><p>Readers voted.</p>{snippet}")
    page, watch = open_blog(context, url, live_server, blog_site)
    assert_shows_the_all_time_winner(page.frame_locator("iframe.kisspoll-embed"))
    height = assert_sized_to_content(page, "iframe.kisspoll-embed")
    assert height != 360  # the snippet's advertised height: embed.js did resize it
    assert page.evaluate("window.kissPollEmbed") is True
    watch.assert_clean()
    watch.assert_only_our_origins()


def test_embed_js_that_arrives_after_the_widget_still_sizes_it(context, live_server, blog_site, demo):
    """The snippet's script is async: the widget may well be up, and have told its height
    (to nobody), before embed.js runs. Held back here until then, deterministically: embed.js
    must still get the height (ask the frames already there, or widget.js repeat it)."""
    snippet = oembed_html(live_server, f"{live_server}/p/{ALL_TIME}")
    heard = ('<script>window.heard = []; addEventListener("message", function (e) {'
             ' if (e.data && e.data.type === "kisspoll:height") heard.push(e.data.height) })</script>')
    url = blog_site.publish("late.html", f"{heard}<h1>A slow blog</h1>{snippet}")
    page = context.new_page()
    watch = Watch(context, page, live_server, blog_site.origin)
    held = []
    page.route("**/static/js/embed.js", lambda route: held.append(route))
    page.goto(url, wait_until="commit")
    frame = widget_frame_when_attached(page, "iframe.kisspoll-embed")
    assert wait_in_frame(frame, "() => document.readyState === 'complete'")
    content_height = frame.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
    page.wait_for_function("h => heard.includes(h)", arg=content_height, timeout=WAIT_MS)  # widget.js spoke
    assert len(held) == 1 and page.evaluate("window.kissPollEmbed") is None
    held[0].continue_()
    page.wait_for_function("window.kissPollEmbed === true", timeout=WAIT_MS)
    assert_sized_to_content(page, "iframe.kisspoll-embed")
    watch.assert_clean()
    watch.assert_only_our_origins()


def test_sandboxed_widget_without_cookies_sizes_itself_with_the_blogs_embed_js(context, live_server, blog_site,
                                                                              demo):
    url = blog_site.publish(
        "sandboxed.html",
        f'<script src="{live_server}/static/js/embed.js"></script>'  # listening before the widget loads
        f"<h1>How the all-time count went</h1>"
        f'<iframe id="bars" sandbox="allow-scripts" src="{live_server}/embed/{ALL_TIME}?view=bars"'
        f' title="Round by round" width="480" height="150" style="border:0;width:100%" scrolling="no"></iframe>')
    page, watch = open_blog(context, url, live_server, blog_site)
    frame = page.frame_locator("#bars")
    expect(frame.get_by_role("img", name=re.compile(re.escape(ALL_TIME_TITLE)))).to_be_visible(timeout=WAIT_MS)
    expect(shows_text(frame, WINNER).first).to_be_visible()
    assert_sized_to_content(page, "#bars")
    inside = widget_frame(page, "#bars")
    assert inside.evaluate("origin") == "null"  # opaque: no cookies, no storage
    assert inside.evaluate("() => { try { document.cookie; return 'readable' } catch (e) { return e.name } }") \
        == "SecurityError"
    watch.assert_clean()  # so nothing the widget does needed them
    watch.assert_only_our_origins()


WP_LISTENER = """<script>
/* What WordPress's wp-embed.js does with a frame's height message. */
window.addEventListener("message", function (event) {
  var data = event.data;
  if (!data || data.message !== "height" || !/^[A-Za-z0-9]+$/.test(data.secret || "")) return;
  var frames = document.querySelectorAll('iframe[data-secret="' + data.secret + '"]');
  for (var i = 0; i < frames.length; i++) {
    if (frames[i].contentWindow !== event.source) continue;
    var height = Math.min(Math.max(parseInt(data.value, 10), 200), 1000);
    if (height !== +frames[i].height) frames[i].height = height;
  }
});
</script>"""


def test_embed_js_resizes_only_kisspoll_frames(context, live_server, blog_site, demo):
    """An ad frame posting our message must not get embed.js to resize it."""
    ad = ("<script>setInterval(function () { parent.postMessage({type: 'kisspoll:height', height: 4999}, '*') },"
          " 50)</script>")
    url = blog_site.publish(
        "ads.html",
        f'<script src="{live_server}/static/js/embed.js"></script><h1>Sponsored</h1>'
        f'<iframe id="ad" width="300" height="150" srcdoc="{ad}"></iframe>'
        f'<iframe id="widget" src="{live_server}/embed/{ALL_TIME}" title="Widget" width="480" height="200"'
        f' style="border:0;width:100%"></iframe>')
    page, watch = open_blog(context, url, live_server, blog_site)
    assert_shows_the_all_time_winner(page.frame_locator("#widget"))
    assert_sized_to_content(page, "#widget")
    assert page.locator("#ad").evaluate("el => el.clientHeight") == 150
    watch.assert_clean()


def test_wordpress_embed_protocol_sizes_the_widget_without_embed_js(context, live_server, blog_site, demo):
    url = blog_site.publish(
        "wordpress.html",
        f"<h1>Hello from WordPress</h1>{WP_LISTENER}"
        f'<iframe class="wp-embedded-content" data-secret="abcDEF1234" sandbox="allow-scripts"'
        f' src="{live_server}/embed/{ALL_TIME}#?secret=abcDEF1234" title="{ALL_TIME_TITLE}"'
        f' width="480" height="240" frameborder="0" scrolling="no" style="border:0"></iframe>')
    page, watch = open_blog(context, url, live_server, blog_site)
    assert_shows_the_all_time_winner(page.frame_locator("iframe.wp-embedded-content"))
    height = assert_sized_to_content(page, "iframe.wp-embedded-content")
    assert 200 < height < 1000  # the widget's own height, not one of the listener's bounds
    assert page.evaluate("window.kissPollEmbed") is None  # no embed.js on this page
    watch.assert_clean()
    watch.assert_only_our_origins()


def test_wordpress_that_loads_after_the_widget_asks_it_with_ready(context, live_server, blog_site, demo):
    """wp-embed.js, when it arrives late, sends {message: "ready", secret} to every frame;
    the widget answers with its height even though it has told it once already."""
    url = blog_site.publish(
        "wordpress-late.html",
        f"<h1>A slow WordPress</h1>"
        f'<iframe class="wp-embedded-content" data-secret="lateSECRET9" sandbox="allow-scripts"'
        f' src="{live_server}/embed/{ALL_TIME}#?secret=lateSECRET9" title="{ALL_TIME_TITLE}"'
        f' width="480" height="240" frameborder="0" scrolling="no" style="border:0"></iframe>')
    page, watch = open_blog(context, url, live_server, blog_site)
    frame = widget_frame_when_attached(page, "iframe.wp-embedded-content")
    assert wait_in_frame(frame, "() => document.readyState === 'complete'")
    assert page.locator("iframe.wp-embedded-content").get_attribute("height") == "240"
    listener = WP_LISTENER.removeprefix("<script>").removesuffix("</script>")
    page.evaluate(listener + '; document.querySelector("iframe.wp-embedded-content").contentWindow'
                  '.postMessage({message: "ready", secret: "lateSECRET9"}, "*")')
    height = assert_sized_to_content(page, "iframe.wp-embedded-content")
    assert 200 < height < 1000
    watch.assert_clean()
    watch.assert_only_our_origins()


def test_live_widget_shows_a_new_ballot_without_reloading_the_blog(app, context, live_server, blog_site, demo):
    widget = f"{live_server}/embed/{OPEN}?view=badge&refresh=5"
    url = blog_site.publish(
        "live.html",
        f"<h1>Vote for 2014's best kiss</h1>"
        f'<iframe id="live" src="{widget}" title="Live" width="320" height="100" style="border:0"></iframe>'
        f'<iframe id="live-sandboxed" sandbox="allow-scripts" src="{widget}" title="Live too" width="320"'
        f' height="100" style="border:0"></iframe>')
    page, watch = open_blog(context, url, live_server, blog_site)
    for selector in ("#live", "#live-sandboxed"):
        expect(shows_text(page.frame_locator(selector), "No ballots yet")).to_be_visible(timeout=WAIT_MS)
    page.evaluate("window.notReloaded = true")

    fan = app.test_client()  # the live server's own app: same database and Redis
    ballot = {"ranking": [demo["Waterfall kiss"], demo["Toast kiss"]]}
    assert post_ballot(fan, open_page(fan, OPEN), ballot, slug=OPEN).status_code == 201

    for selector in ("#live", "#live-sandboxed"):
        frame = page.frame_locator(selector)
        expect(shows_text(frame, "1 ballot")).to_be_visible(timeout=WAIT_MS)
        expect(shows_text(frame, "Waterfall kiss")).to_be_visible()
        expect(frame.get_by_text("No ballots yet")).to_have_count(0)
    assert page.evaluate("window.notReloaded") is True
    watch.assert_clean()
    watch.assert_only_our_origins()


def test_vote_link_opens_the_poll_page_in_a_new_tab(context, live_server, blog_site, demo):
    url = blog_site.publish(
        "vote.html",
        f'<iframe id="open" src="{live_server}/embed/{OPEN}" title="Vote" width="480" height="300"></iframe>')
    page, watch = open_blog(context, url, live_server, blog_site)
    vote = page.frame_locator("#open").get_by_role("link", name="Vote", exact=True)
    expect(vote).to_have_attribute("target", "_blank")
    assert vote.evaluate("a => a.href") == f"{live_server}/p/{OPEN}"  # as resolved inside the frame
    with page.expect_popup() as popup_info:
        vote.click()
    popup = popup_info.value
    popup.wait_for_load_state()
    assert popup.url == f"{live_server}/p/{OPEN}"
    expect(popup.get_by_role("button", name="Review my ballot")).to_be_visible()
    assert page.url == url  # the blog stays where it was
    watch.assert_only_our_origins()


def test_korean_widget_in_a_blog(context, live_server, blog_site, demo):
    url = blog_site.publish(
        "ko.html",
        f'<iframe id="ko" src="{live_server}/embed/{ALL_TIME}?lang=ko" title="투표 결과" width="480"'
        f' height="300"></iframe>')
    page, watch = open_blog(context, url, live_server, blog_site)
    frame = page.frame_locator("#ko")
    expect(frame.get_by_role("link", name="전체 결과")).to_be_visible(timeout=WAIT_MS)
    expect(frame.get_by_text("240표 · ").first).to_be_visible()  # "240 ballots · ..."
    expect(frame.locator("html")).to_have_attribute("lang", "ko")
    expect(frame.get_by_role("link", name="Full results")).to_have_count(0)
    watch.assert_clean()
    watch.assert_only_our_origins()


def test_widget_displays_inside_another_site_and_pages_refuse_framing(browser, blog, demo):
    page = browser.new_page()
    page.goto(blog)
    assert_shows_the_all_time_winner(page.frame_locator("#widget"))
    refused = page.locator("#page").element_handle().content_frame()
    assert ALL_TIME_TITLE not in refused.content()
    expect(page.frame_locator("#page").get_by_role("button", name="Cast my ballot")).to_have_count(0)
    page.close()


# -- the README's screenshots ------------------------------------------------------------


def screenshot_blog(blog_site: Blog, live_server: str) -> str:
    """A post with a leaderboard and a round's bars, as a blogger pastes them (full width)."""
    frame = '<iframe id="{id}" src="{src}" title="{title}" width="480" height="300" scrolling="no"' \
            ' style="border:0;width:100%"></iframe>'
    return blog_site.publish(
        "readme.html",
        f'<script src="{live_server}/static/js/embed.js"></script>'
        "<h1>Your favourite K-drama kiss of all time</h1>"
        "<p>240 of you ranked the scenes. The elevator won, of course:</p>"
        + frame.format(id="board", src=f"{live_server}/embed/{ALL_TIME}", title="Leaderboard")
        + "<p>And here is the last round of the count:</p>"
        + frame.format(id="bars", src=f"{live_server}/embed/{ALL_TIME}?view=bars", title="Last round"),
        sidebar=SIDEBAR)


@pytest.mark.parametrize("width, scheme, name", [(320, "light", "embed-320"), (720, "light", "embed-720"),
                                                 (720, "dark", "embed-dark")])
def test_widgets_fill_the_blogs_column(browser, live_server, blog_site, demo, width, scheme, name):
    # Tall enough for every frame to be painted (a full-page screenshot leaves out
    # cross-origin frames below the viewport); cut to the page's height before the shot.
    context = browser.new_context(viewport={"width": width, "height": 1600}, color_scheme=scheme)
    page = context.new_page()
    watch = Watch(context, page, live_server, blog_site.origin)
    page.goto(screenshot_blog(blog_site, live_server))
    column = page.locator("article").evaluate(
        "el => { const style = getComputedStyle(el);"
        " return el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) }")
    for selector in ("#board", "#bars"):
        expect(page.frame_locator(selector).get_by_role("img")).to_be_visible(timeout=WAIT_MS)
        assert_sized_to_content(page, selector)
        assert abs(page.locator(selector).evaluate("el => el.clientWidth") - column) <= 1
        frame = widget_frame(page, selector)
        # The chart fills the widget's box, and its text stays readable at 320 px.
        chart_width, box_width = frame.evaluate(
            "() => { const main = document.querySelector('main'), style = getComputedStyle(main);"
            " const svg = main.querySelector('svg[role=img]');"
            " return [svg.getBoundingClientRect().width,"
            "         main.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight)] }")
        assert abs(chart_width - box_width) <= 1, (chart_width, box_width)
        smallest_text = frame.evaluate(  # in CSS pixels on screen
            "() => Math.min(...[...document.querySelectorAll('svg text')].filter(t => t.textContent.trim())"
            ".map(t => parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a))")
        assert smallest_text >= 9, smallest_text
        dark = frame.evaluate("() => matchMedia('(prefers-color-scheme: dark)').matches")
        assert dark is (scheme == "dark")
    watch.assert_clean()
    watch.assert_only_our_origins()
    height = page.evaluate("Math.ceil(document.documentElement.getBoundingClientRect().height)")
    page.set_viewport_size({"width": width, "height": height})
    shot(page, name)
    context.close()
