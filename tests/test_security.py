"""Framing is denied everywhere except the embed routes; a CSP on every page."""
import pytest

from helpers import open_page, post_ballot


@pytest.mark.parametrize("path", ["/", "/p/test-poll", "/p/test-poll/results", "/manage/login",
                                  "/leaderboard/2014", "/api/v1/polls/test-poll", "/p/missing"])
def test_ordinary_pages_refuse_framing(client, make_poll, path):
    make_poll()
    response = client.get(path)
    assert response.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]


def test_embed_allows_any_ancestor(client, make_poll):
    make_poll()
    response = client.get("/embed/test-poll")
    assert response.status_code == 200
    assert "X-Frame-Options" not in response.headers
    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_embed_sets_no_cookies(client, make_poll):
    make_poll()
    assert "Set-Cookie" not in client.get("/embed/test-poll").headers


def test_hostile_candidate_names_are_escaped(app, client, make_poll):
    poll = make_poll(titles=('<script>alert(1)</script>', '"><svg onload=alert(2)>', "정상 ❤️"))
    assert post_ballot(client, open_page(client), {"ranking": poll["ids"]}).status_code == 201
    reader = app.test_client()  # has not voted, so the poll page still lists the scenes
    for path in ("/p/test-poll", "/p/test-poll/results", "/embed/test-poll"):
        html = reader.get(path).get_data(as_text=True)
        assert "<script>alert(1)" not in html
        assert "<svg onload" not in html
        assert "&lt;script&gt;" in html
    assert client.get("/api/v1/polls/test-poll").get_json()["candidates"][0]["title"] == "<script>alert(1)</script>"
