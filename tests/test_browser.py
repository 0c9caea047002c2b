"""Real Chromium (Debian's, driven by Playwright): vote with and without JavaScript (widgets
embedded in a blog: test_browser_embed.py, which shares these fixtures).

Set SCREENSHOT_DIR to keep the screenshots used in the README.
"""
import os
import re
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from services import free_port
from polls.extensions import db
from polls.models import Ballot

CHROMIUM = "/usr/bin/chromium"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not shutil.which(CHROMIUM), reason="Debian chromium is not installed (make test installs it)"),
]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def live_server(app):
    """The app served over real HTTP on a free port."""
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    thread.join()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def shot(page, name: str) -> None:
    target = os.environ.get("SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=True)


def stored_rankings(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(select(Ballot.ranking).order_by(Ballot.id)))


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["polls", "demo"]).exit_code == 0
    with app.app_context():
        from polls.models import Poll
        poll = db.session.scalar(select(Poll).where(Poll.slug == "best-kiss-2014"))
        return {c.title: c.id for c in poll.candidates}


def test_vote_by_tapping_with_javascript(app, live_server, browser, demo):
    page = browser.new_page(viewport={"width": 390, "height": 844})
    page.goto(f"{live_server}/p/best-kiss-2014")
    page.locator(".candidate", has_text="Waterfall kiss").locator("h3").click()
    page.locator(".candidate", has_text="Bus stop kiss").locator("h3").click()
    page.locator(".candidate", has_text="Hand-to-mouth kiss").locator("h3").click()
    assert page.locator(".candidate.ranked").count() == 3
    shot(page, "poll-phone")
    page.get_by_role("button", name="Cast my ballot").click()
    page.get_by_text("Your ballot is in").wait_for()
    receipt = page.locator("a.receipt").inner_text()
    assert re.fullmatch(r"[A-Za-z0-9_-]{16}", receipt)
    expected = ",".join(str(demo[t]) for t in ("Waterfall kiss", "Bus stop kiss", "Hand-to-mouth kiss"))
    assert stored_rankings(app)[-1] == expected
    page.get_by_role("link", name="See the live standings").click()
    page.get_by_text("Waterfall kiss").first.wait_for()
    assert "is leading" in page.content()
    page.goto(f"{live_server}/p/best-kiss-2014")
    assert page.get_by_text("You already voted").is_visible()
    page.locator("a.receipt").click()
    page.get_by_text("This ballot is in the count").wait_for()
    assert page.locator("ol li").all_inner_texts()[0].startswith("Waterfall kiss")
    page.close()


def test_vote_with_javascript_disabled(app, live_server, browser, demo):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 1000, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/p/best-kiss-2014")
    page.get_by_label("Rank for Toast kiss").select_option("1")
    page.get_by_label("Rank for Final kiss").select_option("2")
    shot(page, "poll-desktop")
    page.get_by_role("button", name="Cast my ballot").click()
    page.get_by_text("Your ballot is in. Receipt:").wait_for()
    assert re.search(r"/p/best-kiss-2014/receipt/[A-Za-z0-9_-]{16}$", page.url)
    assert [t.split(" (")[0] for t in page.locator("ol li").all_inner_texts()] == ["Toast kiss", "Final kiss"]
    assert stored_rankings(app)[-1] == f"{demo['Toast kiss']},{demo['Final kiss']}"
    context.close()


def test_results_page_screenshot(live_server, browser, demo):
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(f"{live_server}/p/best-kiss-all-time/results")
    assert page.locator("table tbody tr").count() >= 11
    assert page.get_by_text("wins").first.is_visible()
    shot(page, "results")
    page.close()


def test_host_builds_and_opens_a_poll_then_a_fan_votes(app, live_server, browser, runner):
    """The whole skeleton in one browser: create-host, log in, build, open, vote, close."""
    assert runner.invoke(args=["polls", "create-host", "host@example.com", "--password", "correct horse battery"]).exit_code == 0
    page = browser.new_page(viewport={"width": 1000, "height": 900})
    page.goto(f"{live_server}/manage/login")
    page.get_by_label("Email").fill("host@example.com")
    page.get_by_label("Password").fill("correct horse battery")
    page.locator("main").get_by_role("button", name="Log in").click()
    page.get_by_role("link", name="New poll").first.click()
    page.get_by_label("Title", exact=True).fill("Best K-drama kiss of 2015")
    page.get_by_label("Year").fill("2015")
    page.locator("main").get_by_role("button", name="Create").click()
    for title, drama in (("Umbrella kiss", "Oh My Venus"), ("Office kiss", "She Was Pretty")):
        add = page.locator("#add-scene")
        add.get_by_label("Title", exact=True).fill(title)
        add.get_by_label("Drama", exact=True).fill(drama)
        add.get_by_label("Clip starts at").fill("6:00")
        add.get_by_role("button", name="Add scene").click()
        page.get_by_text(f"{title}").first.wait_for()
    page.get_by_role("button", name="Open voting").click()
    page.locator(".flash", has_text="Voting is open.").wait_for()
    shot(page, "desk")
    slug = page.url.rstrip("/").rsplit("/", 1)[-1]

    fan = browser.new_page()
    fan.goto(f"{live_server}/p/{slug}")
    fan.get_by_label("Rank for Office kiss").select_option("1")
    fan.get_by_role("button", name="Cast my ballot").click()
    fan.get_by_text("Your ballot is in").wait_for()
    fan.goto(f"{live_server}/p/{slug}/results")
    assert "Office kiss</strong> is leading" in fan.content()

    page.get_by_role("button", name="Close voting").click()
    fan.goto(f"{live_server}/p/{slug}/results")
    assert "Office kiss</strong> wins" in fan.content()
    page.close()
    fan.close()
