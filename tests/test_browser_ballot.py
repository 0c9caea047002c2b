"""The fan's ballot in real Chromium: vote by tapping, by dragging (touch on a phone, mouse on
a desktop), by keyboard alone and with JavaScript off, on a 390×844 phone and a desktop; each
ballot must arrive with the ranking the fan built. Spoilers stay folded until opened, and
this browser remembers the ones it opened.

Set SCREENSHOT_DIR to keep the screenshots used in the README.
"""
import re

import pytest

from sqlalchemy import select

from polls.extensions import db
from polls.models import Ballot, Poll
from test_browser import browser, demo, live_server, pytestmark, shot  # noqa: F401 (fixtures)

DEVICES = {
    "phone": {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True,
              "device_scale_factor": 2},
    "desktop": {"viewport": {"width": 1280, "height": 800}},
}
POLL = "/p/best-kiss-2014"


@pytest.fixture(params=sorted(DEVICES))
def device(request, browser):  # noqa: F811 (fixture)
    context = browser.new_context(**DEVICES[request.param])
    context.name = request.param
    yield context
    context.close()


def stored_rankings(app) -> list[str]:
    """The rankings cast in the poll under test, oldest first (the demo has other polls' ballots)."""
    with app.app_context():
        poll_id = db.session.scalar(select(Poll.id).where(Poll.slug == POLL.rsplit("/", 1)[-1]))
        return list(db.session.scalars(select(Ballot.ranking).where(Ballot.poll_id == poll_id).order_by(Ballot.id)))


def card(page, title):
    # By data-title: a spoiler scene's title is folded away until the fan opens it.
    return page.locator(f'.candidate[data-title="{title}"]')


def ranking_panel(page):
    return page.locator(".my-ranking .ranking-title")


def expected(demo, *titles):  # noqa: F811 (fixture value)
    return ",".join(str(demo[title]) for title in titles)


def review_and_cast(page, titles):
    """Review shows exactly this ranking; casting it lands on the receipt."""
    page.get_by_role("button", name="Review my ballot").click()
    review = page.locator("#ballot-review")
    review.wait_for()
    assert review.locator(".review-list li").all_inner_texts() == list(titles)
    review.get_by_role("button", name="Cast my ballot").click()
    page.wait_for_url(re.compile(r"/p/best-kiss-2014/receipt/[A-Za-z0-9_-]{16}$"))
    page.get_by_text("This ballot is in the count").wait_for()


def tap(page, locator):
    if page.context.name == "phone":
        locator.tap()
    else:
        locator.click()


def test_vote_by_tapping_cards(app, live_server, device, demo):  # noqa: F811
    page = device.new_page()
    page.goto(live_server + POLL)
    for title in ("Waterfall kiss", "Bus stop kiss", "Hand-to-mouth kiss", "First kiss"):
        tap(page, card(page, title).locator("h3"))
    tap(page, card(page, "Bus stop kiss").locator(".description"))  # tap again: off the ranking
    assert ranking_panel(page).all_inner_texts() == ["Waterfall kiss", "Hand-to-mouth kiss", "First kiss"]
    assert card(page, "First kiss").get_by_role("button", name="#3 · Remove: First kiss").is_visible()
    assert page.locator(".candidate.ranked").count() == 3
    # A phone's whole ballot is many screens long: its first screen shows the ranking and cards.
    page.evaluate("window.scrollTo(0, 0)")
    whole = device.name != "phone"
    shot(page, f"poll-{device.name}-light", full_page=whole)
    page.emulate_media(color_scheme="dark")
    shot(page, f"poll-{device.name}-dark", full_page=whole)
    review_and_cast(page, ["Waterfall kiss", "Hand-to-mouth kiss", "First kiss"])
    assert stored_rankings(app) == [expected(demo, "Waterfall kiss", "Hand-to-mouth kiss", "First kiss")]


def pointer_drag(page, handle, target, above=True):
    """Drag `handle` onto `target` (just above its middle, or below), by touch on the phone
    and by mouse on the desktop, scrolling the way a fan would: holding near the edge."""
    handle.scroll_into_view_if_needed()
    box = handle.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    touch = page.context.name == "phone"
    cdp = page.context.new_cdp_session(page) if touch else None

    def send(kind, px, py):
        if touch:
            points = [] if kind == "touchEnd" else [{"x": px, "y": py}]
            cdp.send("Input.dispatchTouchEvent", {"type": kind, "touchPoints": points})
        else:
            {"touchStart": page.mouse.down, "touchMove": lambda: page.mouse.move(px, py, steps=2),
             "touchEnd": page.mouse.up}[kind]()

    if not touch:
        page.mouse.move(x, y)
    send("touchStart", x, y)
    height = page.viewport_size["height"]

    def goal():
        box = target.bounding_box()
        return box["x"] + 40, box["y"] + box["height"] * (0.3 if above else 0.8)

    for _ in range(400):
        gy = goal()[1]
        if gy < 100:  # above the window: hold near the top edge, which scrolls the page
            y = 20
        elif gy > height - 100:
            y = height - 20
        else:
            break
        send("touchMove", x, y)
    # Out of the edge zones (which would scroll on), then onto the target, wherever it now is.
    y = min(max(y, 80), height - 80)
    send("touchMove", x, y)
    for step in range(1, 6):
        gx, gy = goal()
        x, y = x + (gx - x) * step / 5, y + (gy - y) * step / 5
        send("touchMove", x, y)
    send("touchEnd", 0, 0)


def test_vote_by_dragging(app, live_server, device, demo):  # noqa: F811
    page = device.new_page()
    page.goto(live_server + POLL)
    panel = page.locator(".my-ranking")
    # Drag three scenes into the ranking (the first onto the empty list), then reorder it.
    pointer_drag(page, card(page, "Reunion kiss").locator(".card-handle"), panel.locator(".ranking-count"))
    pointer_drag(page, card(page, "First kiss").locator(".card-handle"), panel.locator(".ranking-count"))
    pointer_drag(page, card(page, "Toast kiss").locator(".card-handle"), panel.locator(".ranking-count"))
    assert ranking_panel(page).all_inner_texts() == ["Reunion kiss", "First kiss", "A spoiler scene from Pinocchio"]
    items = panel.locator(".ranking-item")
    pointer_drag(page, items.nth(2).locator(".drag-handle"), items.nth(0), above=True)
    assert ranking_panel(page).all_inner_texts() == ["A spoiler scene from Pinocchio", "Reunion kiss", "First kiss"]
    pointer_drag(page, items.nth(1).locator(".drag-handle"), items.nth(2), above=False)
    assert ranking_panel(page).all_inner_texts() == ["A spoiler scene from Pinocchio", "First kiss", "Reunion kiss"]
    review_and_cast(page, ["A spoiler scene from Pinocchio", "First kiss", "Reunion kiss"])
    assert stored_rankings(app) == [expected(demo, "Toast kiss", "First kiss", "Reunion kiss")]


def focused(page) -> str:
    return page.evaluate("document.activeElement.getAttribute('aria-label') || document.activeElement.textContent")


def tab_to(page, label_start: str, limit: int = 200) -> None:
    """Press Tab until the focused control's name starts with `label_start`."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if focused(page).strip().startswith(label_start):
            return
    raise AssertionError(f"Tab never reached {label_start!r}")


def announced(page) -> str:
    for _ in range(50):
        text = page.locator("#ballot-live").inner_text()
        if text:
            return text
        page.wait_for_timeout(20)
    return ""


def test_vote_by_keyboard_alone(app, live_server, device, demo):  # noqa: F811
    page = device.new_page()
    page.goto(live_server + POLL)
    tab_to(page, "Add to my ranking: Mall proposal kiss")
    page.keyboard.press("Enter")
    assert announced(page) == "“Mall proposal kiss” ranked #1 of 1."
    tab_to(page, "Add to my ranking: Bubble gum kiss")
    page.keyboard.press("Space")
    assert announced(page) == "“Bubble gum kiss” ranked #2 of 2."
    tab_to(page, "Add to my ranking: Waterfall kiss")
    page.keyboard.press("1")  # a digit puts the scene at that rank
    assert announced(page) == "“Waterfall kiss” ranked #1 of 3."
    assert ranking_panel(page).all_inner_texts() == ["Waterfall kiss", "Mall proposal kiss", "Bubble gum kiss"]
    # Back up to the ranking: move Bubble gum kiss up one, and take Waterfall kiss off.
    page.keyboard.press("Shift+Tab")
    for _ in range(60):
        if focused(page).startswith("Move “Bubble gum kiss” up"):
            break
        page.keyboard.press("Shift+Tab")
    page.keyboard.press("Enter")
    assert announced(page) == "“Bubble gum kiss” moved to #2."
    assert focused(page).startswith("Move “Bubble gum kiss” up")  # the focus stays on the button
    page.keyboard.press("Shift+Tab")  # the row above: its remove button (its up button is disabled)
    assert focused(page) == "Remove “Waterfall kiss”"
    page.keyboard.press("Enter")
    assert announced(page) == "“Waterfall kiss” taken off your ranking; 2 ranked."
    assert ranking_panel(page).all_inner_texts() == ["Bubble gum kiss", "Mall proposal kiss"]
    tab_to(page, "Review my ballot")
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "review-heading"
    assert page.locator("#ballot-review .review-list li").all_inner_texts() == ["Bubble gum kiss", "Mall proposal kiss"]
    tab_to(page, "Cast my ballot", limit=5)
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/receipt/"))
    assert stored_rankings(app) == [expected(demo, "Bubble gum kiss", "Mall proposal kiss")]


def test_vote_with_javascript_off(app, live_server, browser, demo, request):  # noqa: F811
    for name, options in DEVICES.items():
        context = browser.new_context(java_script_enabled=False, **options)
        page = context.new_page()
        page.goto(live_server + POLL)
        assert page.locator(".my-ranking").is_hidden()
        page.get_by_label("Rank for Reunion kiss").select_option("1")
        page.get_by_label("Rank for A spoiler scene from Pinocchio").first.select_option("3")
        page.get_by_label("Rank for Bus stop kiss").select_option("2")
        page.get_by_role("button", name="Review my ballot").click()
        # The review page, served by the app: change, then cast.
        assert [t.split(" (")[0] for t in page.locator(".review-list li").all_inner_texts()] == [
            "Reunion kiss", "Bus stop kiss", "A spoiler scene from Pinocchio"]
        page.get_by_role("button", name="Change my ranking").click()
        assert page.get_by_label("Rank for Bus stop kiss").input_value() == "2"
        page.get_by_label("Rank for Bus stop kiss").select_option("")
        page.get_by_role("button", name="Review my ballot").click()
        page.get_by_role("button", name="Cast my ballot").click()
        page.wait_for_url(re.compile(r"/receipt/"))
        assert [t.split(" (")[0] for t in page.locator(".review-list li").all_inner_texts()] == [
            "Reunion kiss", "A spoiler scene from Pinocchio"]
        assert stored_rankings(app)[-1] == expected(demo, "Reunion kiss", "Toast kiss")
        context.close()
    assert len(stored_rankings(app)) == 2


def test_the_ranking_stops_at_the_polls_limit_and_says_so(app, live_server, device, demo):  # noqa: F811
    with app.app_context():
        db.session.scalar(select(Poll).where(Poll.slug == "best-kiss-2014")).max_ranks = 2
        db.session.commit()
    page = device.new_page()
    page.goto(live_server + POLL)
    for title in ("Waterfall kiss", "Bus stop kiss", "First kiss"):
        tap(page, card(page, title).locator(".rank-toggle"))
    error = page.locator("#ballot-error")
    assert error.inner_text() == "You can rank at most 2 scenes here. Take one off first (tap it again) to rank another."
    assert ranking_panel(page).all_inner_texts() == ["Waterfall kiss", "Bus stop kiss"]
    tap(page, card(page, "Waterfall kiss").locator(".rank-toggle"))
    tap(page, card(page, "First kiss").locator(".rank-toggle"))
    assert error.is_hidden()
    assert ranking_panel(page).all_inner_texts() == ["Bus stop kiss", "First kiss"]


def test_spoilers_stay_folded_until_opened_and_the_browser_remembers(live_server, device, demo):  # noqa: F811
    page = device.new_page()
    page.goto(live_server + POLL)
    toast = card(page, "Toast kiss")
    assert toast.locator("h3").is_hidden()
    assert "blur" in toast.locator(".card-media").evaluate("el => getComputedStyle(el).filter")
    tap(page, toast.get_by_text("Show spoiler"))
    assert toast.locator("h3").inner_text() == "Toast kiss"
    assert toast.locator(".card-media").evaluate("el => getComputedStyle(el).filter") == "none"
    assert not toast.evaluate("el => el.classList.contains('ranked')")  # opening it did not rank it
    page.reload()
    assert card(page, "Toast kiss").locator("h3").is_visible()
    assert card(page, "Final kiss").locator("h3").is_hidden()  # only the one opened


PAGE_WEIGHT_BUDGET = 150_000  # bytes on the wire before any clip is opened


def photo_like(seed: int) -> bytes:
    """A 1600×900 JPEG with a photo's texture (blurred noise over a gradient)."""
    import io
    import random

    from PIL import Image, ImageFilter

    rng = random.Random(seed)
    noise = Image.effect_noise((1600, 900), 60).convert("RGB")
    tint = Image.new("RGB", (1600, 900), (rng.randrange(256), rng.randrange(256), rng.randrange(256)))
    image = Image.blend(noise, tint, 0.6).filter(ImageFilter.GaussianBlur(2))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue()


@pytest.fixture
def full_ballot(app, make_poll):
    """Ten scenes, each with an uploaded thumbnail and a YouTube clip, one a spoiler."""
    import io

    from polls.thumbnails import store_thumbnail

    poll = make_poll(titles=[f"Kiss number {n}" for n in range(1, 11)], slug="heavy")
    with app.app_context():
        for n, candidate in enumerate(db.session.get(Poll, poll["id"]).candidates):
            candidate.description = "A long look, a step closer, and the kiss the whole drama waited for. " * 2
            candidate.video_url = f"https://www.youtube.com/watch?v=dQw4w9WgX{n}c"
            candidate.video_start = 360
            candidate.spoiler = n == 4
            store_thumbnail(candidate, io.BytesIO(photo_like(n)))
        db.session.commit()
    return "/p/heavy"


def test_the_poll_page_is_light_and_asks_no_other_site(live_server, device, full_ballot):  # noqa: F811
    page = device.new_page()
    requests, sizes = [], []
    page.on("request", lambda request: requests.append(request.url))
    page.on("requestfinished", lambda request: sizes.append(
        (request.url, request.sizes()["responseBodySize"] + request.sizes()["responseHeadersSize"])))
    page.goto(live_server + full_ballot, wait_until="networkidle")
    # Scroll through the whole ballot so that every lazy thumbnail loads too.
    for _ in range(30):
        page.mouse.wheel(0, 600)
        page.wait_for_timeout(50)
    page.wait_for_load_state("networkidle")
    thumbnails = [url for url, _ in sizes if "/media/scenes/" in url]
    assert len(thumbnails) == 10
    assert [url for url in requests if not url.startswith(live_server)] == []
    total = sum(size for _, size in sizes)
    print(f"\n{device.name}: {len(sizes)} responses, {total} bytes; thumbnails {sum(s for u, s in sizes if u in thumbnails)}")
    assert total < PAGE_WEIGHT_BUDGET, sorted(sizes, key=lambda item: -item[1])
