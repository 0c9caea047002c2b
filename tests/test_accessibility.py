"""Accessibility in real Chromium (Debian's, driven by Playwright): WCAG 2.2 AA.

axe-core (the npm package pinned in package-lock.json, injected into each page) checks the
fan-facing pages in light and dark, on a phone and a desktop, and fails on any serious or
critical violation of a WCAG A/AA rule. Keyboard focus must show a visible indicator, and
at 200% zoom (640×400 CSS px) and 320 px wide the pages reflow without horizontal
scrolling or clipped text, and the ballot can still be cast.

axe is injected through a browser context created with ``bypass_csp=True``: the app's
Content-Security-Policy forbids the inline scripts Playwright would otherwise need. The
bypass exists only in these test contexts; the pages under test are served unchanged.
"""
import re
import secrets
from pathlib import Path

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from polls.categories import add_category
from polls.demo import DEMO_HOST, generated_rankings
from polls.extensions import db
from polls.lifecycle import change_status
from polls.models import RANKING_SEPARATOR, Ballot, Candidate, Host, Poll
from polls.voters import voter_hash

import test_browser

pytestmark = test_browser.pytestmark  # browser-marked; skipped without Debian's chromium
# test_browser's fixtures, shared: the app over HTTP, Chromium, the demo polls.
live_server, browser, demo = test_browser.live_server, test_browser.browser, test_browser.demo

AXE = Path(__file__).resolve().parent.parent / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# Best-practice rules run too, so their findings show in the report, but only WCAG rules fail.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": WCAG_TAGS + ["best-practice"]}, "resultTypes": ["violations"]}
FAILING_IMPACTS = {"serious", "critical"}

OPEN = "best-kiss-2014"  # demo: open, spoiler scenes
CLOSED = "best-kiss-all-time"  # demo: closed, 240 ballots, several rounds
AWARDS = "kiss-awards-2014"
CATEGORIES = {
    # A clip with a click-to-load player, one as a plain link, and spoilers (folded titles).
    "Korean": [dict(title="Wall kiss", drama="Healer", episode="8",
                    video_url="https://www.youtube.com/watch?v=dQw4w9WgXcQ", video_start=75),
               dict(title="Rain kiss", drama="Pinocchio", spoiler=True, video_url="https://example.com/rain-kiss"),
               dict(title="Bus kiss", drama="Emergency Couple")],
    "Taiwanese": [dict(title="Rooftop kiss", drama="Someday or One Day"),
                  dict(title="Library kiss", drama="Our Times", spoiler=True)],
}

PHONE = dict(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True, device_scale_factor=2)
DESKTOP = dict(viewport={"width": 1280, "height": 800})
DEVICES = {"phone": PHONE, "desktop": DESKTOP}
THEMES = ("light", "dark")
# A 1280×800 desktop at 200% zoom is 640×400 CSS px; WCAG 1.4.10 asks for reflow at 320 px wide.
REFLOW_VIEWPORTS = {"zoom-200": {"width": 640, "height": 400}, "320px": {"width": 320, "height": 568}}


@pytest.fixture
def pages(app, demo):
    """The demo polls plus an open category poll with ballots: {name: URL path}."""
    with app.app_context():
        host = db.session.scalar(select(Host).where(Host.email == DEMO_HOST))
        poll = Poll(host=host, slug=AWARDS, title="KissPoll awards 2014", year=2014, status="draft")
        db.session.add(poll)
        for title, scenes in CATEGORIES.items():
            add_category(poll, title).candidates = [Candidate(position=i, **s) for i, s in enumerate(scenes)]
        change_status(poll, "open")
        db.session.flush()
        for box in poll.categories:
            db.session.add_all(
                Ballot(poll_id=box.id, voter_hash=voter_hash(f"a11y-{box.slug}-{n}"),
                       ranking=RANKING_SEPARATOR.join(map(str, ranking)), receipt=secrets.token_urlsafe(12))
                for n, ranking in enumerate(generated_rankings([c.id for c in box.candidates], 30, box.slug)))
        db.session.commit()
    return {"poll": f"/p/{OPEN}", "category poll": f"/p/{AWARDS}",
            "results": f"/p/{CLOSED}/results", "live results": f"/p/{OPEN}/results",
            "category results": f"/p/{AWARDS}/results",
            "embed": f"/embed/{CLOSED}", "embed (open poll)": f"/embed/{OPEN}"}


def axe_context(browser, device: str, theme: str):
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` (make test does)")
    return browser.new_context(**DEVICES[device], color_scheme=theme, bypass_csp=True)


def cast_ballot_in(page, live_server: str, slug: str = OPEN) -> str:
    """Cast a ballot from this page's browser through the public API (its cookies, its CSRF token);
    the poll page then shows the already-voted state."""
    page.goto(f"{live_server}/p/{slug}")
    answer = page.evaluate("""async (slug) => {
        const poll = await (await fetch(`/api/v1/polls/${slug}`)).json();
        const response = await fetch(`/api/v1/polls/${slug}/ballots`, {method: "POST",
            headers: {"Content-Type": "application/json",
                      "X-CSRFToken": document.querySelector('meta[name="csrf-token"]').content},
            body: JSON.stringify({ranking: poll.candidates.slice(0, 3).map(c => c.id)})});
        return [response.status, await response.json()];
    }""", slug)
    assert answer[0] == 201, answer
    page.reload()
    expect(page.get_by_role("heading", name="You already voted")).to_be_visible()
    return answer[1]["receipt"]


def visit(page, url: str) -> None:
    """Open a page that must load: axe on an error page would prove nothing."""
    response = page.goto(url)
    assert response is not None and response.status == 200, f"{url}: {response and response.status}"


def axe_violations(page) -> tuple[list[dict], list[dict]]:
    """axe-core's serious and critical violations on the page: (WCAG ones, best-practice ones)."""
    page.add_script_tag(path=str(AXE))
    found = page.evaluate("options => axe.run(document, options)", AXE_OPTIONS)["violations"]
    found = [v for v in found if v["impact"] in FAILING_IMPACTS]
    wcag = [v for v in found if set(v["tags"]) & set(WCAG_TAGS)]
    return wcag, [v for v in found if v not in wcag]


def describe(where: str, violation: dict) -> str:
    nodes = violation["nodes"]
    lines = [f"{where}: {violation['id']} ({violation['impact']}): {violation['help']} — {len(nodes)} element(s)"]
    for node in nodes[:4]:
        summary = node.get("failureSummary", "").replace("\n", " ")
        lines.append(f"    {' '.join(map(str, node['target']))}  {node['html'][:160]}  [{summary[:200]}]")
    return "\n".join(lines)


def check_pages(context, live_server: str, theme: str, paths: dict[str, str]) -> list[str]:
    """Run axe on each page in this context; a readable line block per failing rule."""
    page = context.new_page()
    failures, advice = [], []
    for name, path in paths.items():
        visit(page, f"{live_server}{path}")
        wcag, best_practice = axe_violations(page)
        failures += [describe(f"{name} {path} ({theme})", v) for v in wcag]
        advice += [describe(f"{name} {path} ({theme})", v) for v in best_practice]
    if advice:
        print("axe best-practice findings (reported, not failed):\n" + "\n".join(advice))
    page.close()
    return failures


@pytest.mark.parametrize("device", DEVICES)
def test_ballot_pages_pass_axe(browser, live_server, pages, device):
    """The poll page (open; then as seen after voting), a category poll, and a receipt; light and dark."""
    failures = []
    for theme in THEMES:
        context = axe_context(browser, device, theme)
        failures += check_pages(context, live_server, theme, {name: pages[name] for name in ("poll", "category poll")})
        receipt = cast_ballot_in(context.new_page(), live_server)
        failures += check_pages(context, live_server, theme, {
            "poll, already voted": pages["poll"], "receipt": f"/p/{OPEN}/receipt/{receipt}"})
        context.close()
    assert not failures, f"axe on a {device}:\n" + "\n".join(failures)


@pytest.mark.parametrize("device", DEVICES)
def test_results_and_embed_pages_pass_axe(browser, live_server, pages, device):
    failures = []
    for theme in THEMES:
        context = axe_context(browser, device, theme)
        failures += check_pages(context, live_server, theme, {name: pages[name] for name in (
            "results", "live results", "category results", "embed", "embed (open poll)")})
        context.close()
    assert not failures, f"axe on a {device}:\n" + "\n".join(failures)


# Why an element has no visible focus indicator, or "" when it has one: an outline of at least
# 2 px (not 'none'), with at least 3:1 contrast against the background around it (WCAG 1.4.11),
# or a box-shadow.
FOCUS_PROBLEM = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const style = getComputedStyle(el);
    const label = `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : ''} "${(el.innerText || el.value || el.getAttribute('aria-label') || '').trim().slice(0, 40)}"`;
    const rgb = text => (text.match(/[\\d.]+/g) || []).map(Number);
    const luminance = ([r, g, b]) => [r, g, b].map(c => { c /= 255; return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4; })
        .reduce((sum, c, i) => sum + c * [0.2126, 0.7152, 0.0722][i], 0);
    let behind = el.parentElement, background = 'rgb(255, 255, 255)';
    for (; behind; behind = behind.parentElement) {
        const color = getComputedStyle(behind).backgroundColor;
        if (rgb(color).length === 3 || (rgb(color).length === 4 && rgb(color)[3] > 0)) { background = color; break; }
    }
    const box = el.getBoundingClientRect();
    const shown = box.width > 0 && box.height > 0 && box.right > 0 && box.left < innerWidth;
    if (!shown) return {label, problem: 'focused but not on screen'};
    if (style.boxShadow && style.boxShadow !== 'none') return {label, problem: ''};
    if (style.outlineStyle === 'none' || parseFloat(style.outlineWidth) < 2)
        return {label, problem: `outline ${style.outlineStyle} ${style.outlineWidth}, no box-shadow`};
    const [a, b] = [luminance(rgb(style.outlineColor)), luminance(rgb(background))];
    const ratio = (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
    return {label, problem: ratio < 3 ? `outline ${style.outlineColor} on ${background}: contrast ${ratio.toFixed(2)}:1 < 3:1` : ''};
}"""


def test_keyboard_focus_is_always_visible(browser, live_server, pages):
    """Tab through the poll, results and embed pages in light and dark: every stop shows its focus."""
    problems = []
    for theme in THEMES:
        context = browser.new_context(**DESKTOP, color_scheme=theme)
        page = context.new_page()
        for name in ("poll", "category poll", "results", "embed (open poll)"):
            visit(page, f"{live_server}{pages[name]}")
            stops = []
            for _ in range(120):  # far more stops than any of these pages has
                page.keyboard.press("Tab")
                found = page.evaluate(FOCUS_PROBLEM)
                if found is None or (stops and found["label"] == stops[0]):
                    break  # back to the start: every stop visited
                stops.append(found["label"])
                if found["problem"]:
                    problems.append(f"{name} ({theme}): {found['label']}: {found['problem']}")
            assert stops, f"{name}: Tab reached nothing"
        context.close()
    assert not problems, "focus not visible:\n" + "\n".join(problems)


# What keeps a page from reflowing: elements sticking out past the right edge (outside a
# scroll container of their own), and text cut off by a box too small for it.
REFLOW_PROBLEMS = """() => {
    const problems = [];
    const root = document.documentElement;
    const label = el => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\\s+/).join('.') : ''}`;
    const scrolls = el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
    const inScroller = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) if (scrolls(p)) return true; return false; };
    const hidden = el => { const b = el.getBoundingClientRect(); return b.width <= 1 || b.height <= 1 || el.closest('[aria-hidden="true"]'); };
    if (root.scrollWidth > innerWidth)
        problems.push(`the page scrolls sideways: ${root.scrollWidth} px wide in a ${innerWidth} px window`);
    for (const el of document.body.querySelectorAll('*')) {
        if (hidden(el) || inScroller(el)) continue;
        const box = el.getBoundingClientRect(), style = getComputedStyle(el);
        if (box.right > innerWidth + 1 || box.left < -1)
            problems.push(`${label(el)} sticks out: ${Math.round(box.left)}..${Math.round(box.right)} px of ${innerWidth}`);
        const text = (el.innerText || '').trim();
        const clips = ['hidden', 'clip'].includes(style.overflowX) || ['hidden', 'clip'].includes(style.overflowY);
        if (text && clips && (el.scrollWidth > el.clientWidth + 1 || el.scrollHeight > el.clientHeight + 1))
            problems.push(`${label(el)} clips its text "${text.slice(0, 40)}" (${el.scrollWidth}×${el.scrollHeight} in ${el.clientWidth}×${el.clientHeight})`);
    }
    return problems;
}"""


def test_pages_reflow_at_200_percent_zoom_and_320px(browser, live_server, pages):
    """No sideways scrolling, no clipped text (a data table may scroll in its own box), and the
    ballot is still cast with the visible controls, at each size."""
    problems = []
    for size, viewport in REFLOW_VIEWPORTS.items():
        context = browser.new_context(viewport=viewport)  # a new browser each time: a new voter
        page = context.new_page()
        for name in ("poll", "category poll", "results", "category results", "embed", "embed (open poll)"):
            visit(page, f"{live_server}{pages[name]}")
            problems += [f"{name} at {size}: {problem}" for problem in page.evaluate(REFLOW_PROBLEMS)]

        visit(page, f"{live_server}{pages['poll']}")
        for title in ("Waterfall kiss", "Bus stop kiss"):
            page.locator(f'.candidate[data-title="{title}"] h3').click()
        press_in_view(page, page.get_by_role("button", name="Review my ballot"))
        press_in_view(page, page.locator("#ballot-review").get_by_role("button", name="Cast my ballot"))
        page.wait_for_url(re.compile(rf"/p/{OPEN}/receipt/[A-Za-z0-9_-]{{16}}$"))
        expect(page.get_by_text("This ballot is in the count")).to_be_visible()
        problems += [f"receipt at {size}: {problem}" for problem in page.evaluate(REFLOW_PROBLEMS)]
        context.close()
    assert not problems, "pages that do not reflow:\n" + "\n".join(problems)


def press_in_view(page, button) -> None:
    """Click a button after checking it lies wholly inside the window's width."""
    button.scroll_into_view_if_needed()
    box, width = button.bounding_box(), page.evaluate("innerWidth")
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= width, (box, width)
    button.click()
