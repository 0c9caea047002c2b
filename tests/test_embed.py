"""The embeddable widget and oEmbed discovery."""
import pytest


def test_oembed_returns_rich_iframe(client, make_poll):
    make_poll()
    response = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll", "format": "json"})
    body = response.get_json()
    assert response.status_code == 200
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert body["provider_name"] == "KissPoll"
    assert '<iframe src="http://localhost/embed/test-poll"' in body["html"]
    assert body["width"] == 480 and body["height"] == 360


def test_oembed_accepts_results_url_and_maxwidth(client, make_poll):
    make_poll()
    body = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll/results",
                                                "maxwidth": "300", "maxheight": "200"}).get_json()
    assert body["width"] == 300 and body["height"] == 200


@pytest.mark.parametrize("query, status", [
    ({}, 400),
    ({"url": "http://localhost/p/missing"}, 404),
    ({"url": "http://evil.example/p/test-poll"}, 404),
    ({"url": "javascript:alert(1)"}, 404),
    ({"url": "http://localhost/p/test-poll/votes"}, 404),
    ({"url": "http://localhost/p/test-poll", "format": "xml"}, 501),
    ({"url": "http://localhost/p/test-poll", "maxwidth": "abc"}, 200),
])
def test_oembed_bad_requests_are_json_errors(client, make_poll, query, status):
    make_poll()
    response = client.get("/oembed", query_string=query)
    assert response.status_code == status
    if status != 200:
        assert set(response.get_json()) == {"error", "message"}


def test_oembed_escapes_title(client, make_poll, app):
    make_poll()
    from polls.extensions import db
    from polls.models import Poll
    with app.app_context():
        db.session.get(Poll, 1).title = '"><script>alert(1)</script>'
        db.session.commit()
    html = client.get("/oembed", query_string={"url": "http://localhost/p/test-poll"}).get_json()["html"]
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_poll_pages_advertise_oembed(client, make_poll):
    make_poll()
    for path in ("/p/test-poll", "/p/test-poll/results"):
        assert 'type="application/json+oembed"' in client.get(path).get_data(as_text=True)


def test_widget_for_unknown_poll_is_404(client):
    assert client.get("/embed/nope").status_code == 404


def test_oembed_with_unparseable_url_is_404(client, make_poll):
    make_poll()
    response = client.get("/oembed", query_string={"url": "http://[::1/p/test-poll"})
    assert response.status_code == 404
    assert response.get_json()["error"] == "not_found"
