"""The interface languages: every string in the code and templates has a Korean translation; the
language comes from ?lang=, the switch's cookie, then Accept-Language (widgets: ?lang= only)."""
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from helpers import open_page
from sqlalchemy import select

from polls.extensions import db
from polls.i18n import localized_results
from polls.models import Ballot, Candidate, Poll
from polls.results import compute_results

ROOT = Path(__file__).resolve().parent.parent


def messages(path: Path) -> dict:
    with open(path, "rb") as catalog:
        return {message.id: message.string for message in read_po(catalog) if message.id}


def test_every_interface_string_is_translated_into_korean(tmp_path):
    pot = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "-q", "extract", "-F", "babel.cfg",
                    "--no-location", "-o", str(pot), "."], cwd=ROOT, check=True)
    wanted = messages(pot)
    korean = messages(ROOT / "translations/ko/LC_MESSAGES/messages.po")
    assert len(wanted) > 30
    def translated(msgid) -> bool:
        found = korean.get(msgid) or ""
        return all(found) if isinstance(found, tuple) else bool(found)  # plural forms are tuples

    missing = [msgid for msgid in wanted if not translated(msgid)]
    assert missing == [], "run `make messages` and translate these in translations/ko/LC_MESSAGES/messages.po"


def test_korean_catalog_is_compiled_and_used(client, make_poll):
    make_poll()
    page = client.get("/embed/test-poll?lang=ko").get_data(as_text=True)
    assert "전체 결과" in page and "Full results" not in page


# -- choosing the language -------------------------------------------------------------

KOREAN = {"Accept-Language": "ko-KR,ko;q=0.9,en;q=0.5"}


def vary(response) -> set[str]:
    return {part.strip().lower() for part in response.headers.get("Vary", "").split(",") if part.strip()}


def add_ballots(app, slug, rankings):
    """Ballots for ``slug``, each a list of candidate ids best first."""
    with app.app_context():
        poll = db.session.scalar(select(Poll).where(Poll.slug == slug))
        for n, ranking in enumerate(rankings):
            db.session.add(Ballot(poll_id=poll.id, voter_hash=f"voter-{n}", ranking=",".join(map(str, ranking)),
                                  receipt=f"receipt-{n:08d}"))
        db.session.commit()


def set_korean_title(app, candidate_id, title_ko):
    with app.app_context():
        candidate = db.session.get(Candidate, candidate_id)
        candidate.title_ko, candidate.drama = title_ko, "Healer"  # a drama that does not repeat the title
        db.session.commit()


def test_the_browser_language_picks_korean_and_caches_are_told(client, make_poll):
    make_poll()
    response = client.get("/", headers=KOREAN)
    page = response.get_data(as_text=True)
    assert '<html lang="ko">' in page
    assert "지금 투표하기" in page and "Vote now" not in page
    assert {"accept-language", "cookie"} <= vary(response)


def test_english_stays_the_default_and_still_varies(client, make_poll):
    make_poll()
    for headers in ({}, {"Accept-Language": "fr-FR, de;q=0.8"}, {"Accept-Language": "en-US,ko;q=0.5"},
                    {"Accept-Language": "ko;q=0, en"}, {"Accept-Language": "*"}):
        response = client.get("/", headers=headers)
        page = response.get_data(as_text=True)
        assert '<html lang="en">' in page and "Vote now" in page, headers
        # Another browser could get Korean from the same URL: caches must keep them apart.
        assert "accept-language" in vary(response), headers


def test_lang_query_overrides_the_browser(client, make_poll):
    make_poll()
    response = client.get("/?lang=en", headers=KOREAN)
    page = response.get_data(as_text=True)
    assert '<html lang="en">' in page and "Vote now" in page and "지금 투표하기" not in page
    assert "accept-language" not in vary(response)  # the URL alone decides
    assert '<html lang="ko">' in client.get("/?lang=ko").get_data(as_text=True)


def test_the_korean_results_page(client, app, make_poll):
    poll = make_poll()
    a, b, c = poll["ids"]
    add_ballots(app, "test-poll", [[a, b], [a, c], [b, a]])
    response = client.get("/p/test-poll/results", headers=KOREAN)
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and '<html lang="ko">' in page
    assert "실시간 순위" in page and "3표" in page and "즉석 결선 투표 방식으로 집계" in page
    assert "라운드별 개표" in page and "Round by round" not in page and "live standings" not in page
    assert "accept-language" in vary(response)
    english = client.get("/p/test-poll/results").get_data(as_text=True)
    assert "live standings" in english and "3 ballots · counted by instant runoff" in english


def test_the_switch_sets_a_cookie_that_wins_over_the_browser(client, make_poll):
    make_poll()
    response = client.get("/language/ko?next=/p/test-poll/results")
    assert response.status_code == 303
    assert response.headers["Location"] == "/p/test-poll/results"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("lang=ko;")
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Max-Age=31536000" in cookie
    assert "Secure" not in cookie  # plain http (development): a Secure cookie would never come back
    assert "no-store" in response.headers["Cache-Control"]

    page = client.get("/", headers={"Accept-Language": "en-US,en"}).get_data(as_text=True)
    assert '<html lang="ko">' in page and "지금 투표하기" in page
    response = client.get("/language/en?next=/")
    assert response.headers["Location"] == "/"
    assert "Vote now" in client.get("/", headers=KOREAN).get_data(as_text=True)


def test_the_switch_cookie_is_secure_over_https(client, make_poll):
    response = client.get("/language/ko", base_url="https://localhost")
    assert response.status_code == 303 and "Secure" in response.headers["Set-Cookie"]


@pytest.mark.parametrize("target", ["//evil.example", "https://evil.example", "/\\evil.example",
                                    "http:/evil.example", "javascript:alert(1)", "",
                                    "/\r\nSet-Cookie: a=b", "/\nx", "/p/x\ty"])
def test_the_switch_never_leaves_the_site(client, target):
    response = client.get("/language/ko", query_string={"next": target})
    assert response.status_code == 303
    location = response.headers["Location"]
    assert location == "/", target


def test_an_unknown_language_is_a_friendly_404(client):
    response = client.get("/language/fr?next=/", headers=KOREAN)
    page = response.get_data(as_text=True)
    assert response.status_code == 404 and "lang=" not in response.headers.get("Set-Cookie", "")
    assert "페이지를 찾을 수 없어요" in page and "그 언어는 아직 준비되지 않았어요" in page


def test_the_switch_links_in_the_page_header(client, make_poll):
    make_poll()
    page = client.get("/p/test-poll/results?lang=ko&x=1").get_data(as_text=True)
    # Back to this page without ?lang=, which would outrank the choice; each link names its language.
    assert ('<a href="/language/en?next=/p/test-poll/results?x%3D1" lang="en" hreflang="en">English</a>'
            in page)
    assert ('<a href="/language/ko?next=/p/test-poll/results?x%3D1" lang="ko" hreflang="ko" '
            'aria-current="true">한국어</a>' in page)


def test_the_switch_on_a_page_that_answered_a_post_goes_back_to_a_get_page(client, make_poll):
    from helpers import csrf_token_from

    poll = make_poll()
    token = csrf_token_from(client.get("/p/test-poll").get_data(as_text=True))
    reviewed = client.post("/p/test-poll/review", data={"csrf_token": token, f"rank_{poll['ids'][0]}": "1"})
    assert '<a href="/language/ko?next=/p/test-poll" lang="ko"' in reviewed.get_data(as_text=True)
    refused = client.post("/p/test-poll", data={"csrf_token": token, f"rank_{poll['ids'][0]}": "9"})
    assert refused.status_code == 400  # the poll page answers GET too: the switch comes back to it
    assert '<a href="/language/ko?next=/p/test-poll" lang="ko"' in refused.get_data(as_text=True)


def test_widgets_ignore_the_readers_headers_and_cookie(client, make_poll):
    make_poll()
    client.set_cookie("lang", "ko")
    for path in ("/embed/test-poll", "/embed/test-poll.svg"):
        response = client.get(path, headers=KOREAN)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, path
        assert "전체 결과" not in body and "순위표" not in body, path
        assert "accept-language" not in vary(response) and "cookie" not in vary(response), path
    assert "전체 결과" in client.get("/embed/test-poll?lang=ko").get_data(as_text=True)
    oembed = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll"}, headers=KOREAN)
    assert oembed.status_code == 200 and "accept-language" not in vary(oembed)


def test_korean_scene_titles_on_korean_pages(client, app, make_poll):
    poll = make_poll(titles=("Rain kiss", "Wall kiss"))
    rain, wall = poll["ids"]
    set_korean_title(app, rain, "빗속 키스")
    add_ballots(app, "test-poll", [[rain, wall], [rain], [wall, rain]])
    korean = client.get("/p/test-poll/results", headers=KOREAN).get_data(as_text=True)
    assert "<strong>빗속 키스</strong> 장면이 선두를 달리고 있어요" in korean
    assert "Rain kiss" not in korean
    assert "<strong>Wall kiss</strong>" in korean  # no Korean title: the English one
    english = client.get("/p/test-poll/results").get_data(as_text=True)
    assert "<strong>Rain kiss</strong> is leading" in english and "빗속 키스" not in english
    for path in ("/embed/test-poll?lang=ko", "/embed/test-poll.svg?lang=ko", "/embed/test-poll?lang=ko&view=bars"):
        widget = client.get(path).get_data(as_text=True)
        assert "빗속 키스" in widget and "Rain kiss" not in widget, path
    assert "Rain kiss" in client.get("/embed/test-poll").get_data(as_text=True)


def test_korean_titles_that_clash_keep_their_english_ones(app, make_poll):
    poll = make_poll(titles=("Rain kiss", "Wall kiss", "Bus kiss"))
    rain, wall, bus = poll["ids"]
    set_korean_title(app, rain, "키스")
    set_korean_title(app, wall, "키스")
    set_korean_title(app, bus, "exhausted")  # a word of the count's report
    add_ballots(app, "test-poll", [[rain, wall], [wall, bus]])
    with app.test_request_context("/", headers=KOREAN):
        candidates = db.session.scalar(select(Poll).where(Poll.slug == "test-poll")).candidates
        results = localized_results(compute_results(candidates[0].poll), candidates)
    assert sorted(results["ranking"]) == ["Bus kiss", "Rain kiss", "Wall kiss"]


def test_api_errors_speak_korean_but_keep_their_codes(client, make_poll):
    make_poll()
    token = open_page(client)
    response = client.post("/api/v1/polls/test-poll/ballots", data="[]", content_type="application/json",
                           headers={"X-CSRFToken": token, **KOREAN})
    assert response.status_code == 400
    assert response.get_json() == {"error": "invalid_json",
                                   "message": '{"ranking": [3, 1, 2]} 같은 JSON 객체를 보내 주세요.'}
    response = client.post("/api/v1/polls/test-poll/ballots", json={"ranking": []},
                           headers={"X-CSRFToken": token, **KOREAN})
    assert response.status_code == 422 and response.get_json()["error"] == "empty_ranking"
    assert response.get_json()["message"] == "장면을 하나 이상 골라 순위를 매겨 주세요."
    english = client.post("/api/v1/polls/test-poll/ballots", json={"ranking": []}, headers={"X-CSRFToken": token})
    assert english.get_json()["message"] == "Rank at least one scene."


def test_an_already_voted_refusal_is_read_in_the_fans_language(client, make_poll):
    poll = make_poll()
    token = open_page(client)
    body = {"ranking": [poll["ids"][0]]}
    assert client.post("/api/v1/polls/test-poll/ballots", json=body, headers={"X-CSRFToken": token}).status_code == 201
    again = client.post("/api/v1/polls/test-poll/ballots", json=body, headers={"X-CSRFToken": token, **KOREAN})
    assert again.status_code == 409 and again.get_json() == {
        "error": "already_voted", "message": "이 브라우저에서는 이미 이 투표에 참여했어요."}
