"""Hostile text from hosts is escaped wherever fans or blog readers see it.

(Framing and CSP headers, and cookie flags, are tested in test_headers_and_cookies.py.)
"""
from helpers import open_page, post_ballot


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
