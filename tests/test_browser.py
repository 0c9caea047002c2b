"""Real Chromium (Debian's, driven by Playwright): the fixtures the browser tests share, the
results page and the skeleton's whole journey (the ballot's ways of voting:
test_browser_ballot.py; widgets embedded in a blog: test_browser_embed.py).

Set SCREENSHOT_DIR to keep the screenshots used in the README.
"""
import os
import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy import select
from werkzeug.serving import make_server

from services import free_port
from polls.extensions import db

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


def shot(page, name: str, full_page: bool = True) -> None:
    target = os.environ.get("SCREENSHOT_DIR")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(target) / f"{name}.png"), full_page=full_page)


@pytest.fixture
def demo(app, runner):
    assert runner.invoke(args=["polls", "demo"]).exit_code == 0
    with app.app_context():
        from polls.models import Poll
        poll = db.session.scalar(select(Poll).where(Poll.slug == "best-kiss-2014"))
        return {c.title: c.id for c in poll.candidates}


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
    fan.get_by_role("button", name="Add to my ranking: Office kiss").click()
    fan.get_by_role("button", name="Review my ballot").click()
    fan.get_by_role("button", name="Cast my ballot").click()
    fan.get_by_text("This ballot is in the count").wait_for()
    fan.goto(f"{live_server}/p/{slug}/results")
    assert "Office kiss</strong> is leading" in fan.content()

    page.get_by_role("button", name="Close voting").click()
    fan.goto(f"{live_server}/p/{slug}/results")
    assert "Office kiss</strong> wins" in fan.content()
    page.close()
    fan.close()
