"""Real Chromium: a host builds a poll with two categories on the desk and opens it; a fan
on a phone fills both categories in one visit. Screenshots of the desk for the README
(set SCREENSHOT_DIR)."""
from sqlalchemy import select

from polls.extensions import db
from polls.models import Ballot, Poll
from test_browser import browser, live_server, pytestmark, shot  # noqa: F401 - fixtures and marks

SCENES = {
    "Korean": [("Elevator kiss", "Kill Me, Heal Me"), ("Wall kiss", "Healer")],
    "Taiwanese": [("Rooftop kiss", "Someday or One Day"), ("Library kiss", "Our Times")],
}


def ballots_by_category(app) -> dict[str, list[str]]:
    with app.app_context():
        parent = db.session.scalar(select(Poll).where(Poll.slug == "best-kisses-of-2026"))
        found = {}
        for category in parent.categories:
            titles = {c.id: c.title for c in category.candidates}
            found[category.title] = [
                ",".join(titles[int(i)] for i in ranking.split(","))
                for ranking in db.session.scalars(select(Ballot.ranking).where(Ballot.poll_id == category.id))]
        return found


def test_host_builds_a_two_category_poll_and_a_fan_votes_in_both(app, live_server, browser, make_host):
    make_host(email="blogger@example.com", password="correct horse battery")
    desk = browser.new_page(viewport={"width": 1280, "height": 900})
    desk.goto(f"{live_server}/manage/login")
    desk.get_by_label("Email").fill("blogger@example.com")
    desk.get_by_label("Password").fill("correct horse battery")
    desk.get_by_role("button", name="Log in").click()
    desk.get_by_role("link", name="New poll").first.click()
    desk.get_by_label("Title", exact=True).fill("Best kisses of 2026")
    desk.get_by_label("Year").fill("2026")
    desk.get_by_role("button", name="Create draft").click()
    assert desk.url.endswith("/manage/polls/best-kisses-of-2026")

    for category, scenes in SCENES.items():
        desk.get_by_label("New category").fill(category)
        desk.get_by_role("button", name="Add category").click()
        desk.get_by_role("link", name=category, exact=True).click()
        for title, drama in scenes:
            desk.locator("#scene-title").fill(title)
            desk.locator("#scene-drama").fill(drama)
            desk.get_by_role("button", name="Add scene").click()
            assert desk.locator(".flash", has_text=f"Added “{title}”").count() == 1
        if category == "Korean":
            shot(desk, "desk-category")
        desk.get_by_role("link", name="← Best kisses of 2026").click()

    desk.get_by_role("button", name="Open voting").click()
    assert desk.locator(".flash", has_text="Voting is open.").count() == 1
    assert desk.locator(".lifecycle .current").inner_text() == "voting open"
    shot(desk, "desk-poll")

    fan = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    fan.goto(f"{live_server}/p/best-kisses-of-2026")
    assert fan.locator("fieldset.ballot-box legend").all_inner_texts() == ["Korean", "Taiwanese"]
    # Tap to rank, within each category on its own.
    fan.locator(".candidate", has_text="Wall kiss").locator("h3").click()
    fan.locator(".candidate", has_text="Elevator kiss").locator("h3").click()
    fan.locator(".candidate", has_text="Library kiss").locator("h3").click()
    assert fan.locator("#category-best-kisses-of-2026-taiwanese .candidate.ranked select").input_value() == "1"
    shot(fan, "poll-categories-phone")
    fan.get_by_role("button", name="Review my ballot").click()
    assert fan.locator("#ballot-review h3").all_inner_texts() == ["Korean", "Taiwanese"]
    assert fan.locator("#ballot-review .review-list li").all_inner_texts() == ["Wall kiss", "Elevator kiss", "Library kiss"]
    fan.get_by_role("button", name="Cast my ballot").click()
    fan.wait_for_url(f"{live_server}/p/best-kisses-of-2026")
    assert fan.get_by_role("heading", name="You already voted").count() == 1
    assert ballots_by_category(app) == {"Korean": ["Wall kiss,Elevator kiss"], "Taiwanese": ["Library kiss"]}
