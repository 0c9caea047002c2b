"""Security headers on every route, and the flags of every cookie the app sets.

(Moved here from test_security.py: framing is denied everywhere but the embed routes.)
"""
import io
from html.parser import HTMLParser

import pytest
from flask import url_for

from helpers import csrf_token_from, login, open_page, post_ballot
from polls.demo import demo_picture
from polls.extensions import db
from polls.factory import create_app
from polls.models import Candidate
from polls.thumbnails import store_thumbnail

# The only endpoints other sites may frame. A new embed route must be added here on purpose.
FRAMEABLE = {"embed.widget", "embed.widget_svg", "embed.oembed"}
OWNER = "owner-test-poll@example.com"
# GET routes whose answer is a redirect (the language switch).
REDIRECTS = {"language.choose"}


def route_args(poll, receipt) -> dict:
    """A value for every URL variable the app's routes use."""
    return {"slug": poll["slug"], "year": 2014, "cid": poll["ids"][0], "filename": "css/site.css",
            "code": receipt, "digest": poll.get("digest")}


def every_get_url(app, poll, receipt) -> list[tuple[str, str]]:
    """(endpoint, URL) for every GET route; a route with an unknown variable fails here."""
    args = route_args(poll, receipt)
    urls = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            values = {name: args[name] for name in rule.arguments}
            if rule.endpoint == "embed.oembed":
                values.update(url=f"http://localhost/p/{poll['slug']}", format="json")
            if rule.endpoint == "language.choose":
                values.update(code="ko")  # not a receipt: a language code
            urls.append((rule.endpoint, url_for(rule.endpoint, **values)))
    return urls


def assert_framing(response, frameable: bool) -> None:
    csp = response.headers.get("Content-Security-Policy", "")
    if frameable:
        assert "frame-ancestors *" in csp
        assert "X-Frame-Options" not in response.headers
    else:
        assert "frame-ancestors 'none'" in csp
        assert response.headers.get("X-Frame-Options") == "DENY"


class InlineCode(HTMLParser):
    """Collects what `script-src 'self'; style-src 'self'` would block in a page."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        names = {name for name, _ in attrs}
        if tag == "style":
            self.found.append("<style>")
        if tag == "script" and "src" not in names:
            self._in_script = True
        self.found += [f"{tag} {name}=" for name in names if name == "style" or name.startswith("on")]
        self.found += [f"{tag} {name}=javascript:" for name, value in attrs
                       if name in ("href", "src", "action") and (value or "").lower().startswith("javascript:")]

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script and data.strip():
            self.found.append("inline <script>")


def assert_csp_safe_html(response) -> None:
    parser = InlineCode()
    parser.feed(response.get_data(as_text=True))
    assert parser.found == [], f"{response.request.path}: the CSP would block {parser.found}"


def test_every_route_has_csp_and_the_right_framing(app, client, make_poll):
    poll = make_poll()
    with app.app_context():  # a thumbnail for the first scene, so that its address answers too
        scene = db.session.get(Candidate, poll["ids"][0])
        poll["digest"] = store_thumbnail(scene, io.BytesIO(demo_picture(scene.drama))).digest
        db.session.commit()
    # A ballot, so that results have rounds to render and there is a receipt to show.
    receipt = post_ballot(client, open_page(client), {"ranking": poll["ids"]}).get_json()["receipt"]
    assert login(client, email=OWNER).status_code == 303
    seen = set()
    for endpoint, url in every_get_url(app, poll, receipt):
        response = client.get(url)
        assert response.status_code == (303 if endpoint in REDIRECTS else 200), (url, response.status_code)
        assert "Content-Security-Policy" in response.headers, url
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert_framing(response, endpoint in FRAMEABLE)
        if response.mimetype == "text/html":
            assert_csp_safe_html(response)
        seen.add(endpoint)
        response.close()  # static files are streamed from an open file
    assert {"public.index", "public.poll_page", "manage.edit_candidate", "embed.widget", "embed.oembed",
            "health.healthz", "media.scene_thumbnail"} <= seen


@pytest.mark.parametrize("method, path, status, frameable", [
    ("GET", "/no-such-page", 404, False),
    ("GET", "/p/missing", 404, False),
    ("GET", "/p/missing/results", 404, False),
    ("GET", "/api/v1/polls/missing", 404, False),
    ("POST", "/p/test-poll", 403, False),           # no CSRF token
    ("DELETE", "/p/test-poll", 405, False),
    ("GET", "/manage/", 302, False),                # login redirect
    ("GET", "/embed/missing", 404, True),           # an iframe shows its own error
    ("GET", "/oembed", 400, True),
])
def test_error_pages_carry_the_same_headers(client, make_poll, method, path, status, frameable):
    make_poll()
    response = client.open(path, method=method)
    assert response.status_code == status
    assert "Content-Security-Policy" in response.headers
    assert_framing(response, frameable)
    if response.mimetype == "text/html":
        assert_csp_safe_html(response)


def test_embed_sets_no_cookies(client, make_poll):
    make_poll()
    assert "Set-Cookie" not in client.get("/embed/test-poll").headers
    assert "Set-Cookie" not in client.get("/oembed?url=http://localhost/p/test-poll").headers


# -- cookies ------------------------------------------------------------------


def cookies_set_by(responses) -> dict[str, set[str]]:
    """Cookie name -> its attributes (lowercase, values dropped) from the Set-Cookie headers."""
    cookies = {}
    for response in responses:
        for header in response.headers.getlist("Set-Cookie"):
            name_value, *attributes = (part.strip() for part in header.split(";"))
            flags = {attr.split("=", 1)[0].lower() for attr in attributes}
            flags |= {attr.lower() for attr in attributes if attr.lower().startswith("samesite=")}
            cookies[name_value.split("=", 1)[0]] = flags
    return cookies


def fan_and_host_visit(client, poll, origin="http://localhost", headers=None, **request_kwargs) -> list:
    """Every response that sets a cookie: a fan opens the poll and votes by form, a host logs in.

    Posts carry the Referer a browser sends (Flask-WTF checks it over HTTPS)."""
    headers = headers or {}
    posting = {"headers": {**headers, "Referer": f"{origin}/p/test-poll"}, **request_kwargs}
    page = client.get("/p/test-poll", headers=headers, **request_kwargs)
    token = csrf_token_from(page.get_data(as_text=True))
    vote = client.post("/p/test-poll", data={"csrf_token": token, f"rank_{poll['ids'][0]}": "1"}, **posting)
    assert vote.status_code == 303, vote.get_data(as_text=True)
    login_page = client.get("/manage/login", headers=headers, **request_kwargs)
    logged_in = client.post("/manage/login", data={
        "email": OWNER, "password": "correct horse battery",
        "csrf_token": csrf_token_from(login_page.get_data(as_text=True)),
    }, **posting)
    assert logged_in.status_code == 303
    language = client.get("/language/ko?next=/p/test-poll", headers=headers, **request_kwargs)
    assert language.status_code == 303
    return [page, vote, login_page, logged_in, language]


def assert_cookie_flags(cookies: dict[str, set[str]], secure: bool) -> None:
    assert {"session", "kp_voter", "lang"} <= set(cookies)
    for name, flags in cookies.items():
        assert "httponly" in flags, name
        assert "samesite=lax" in flags, name
        assert ("secure" in flags) is secure, name


def test_cookies_over_plain_http_are_httponly_lax_and_not_secure(client, make_poll):
    responses = fan_and_host_visit(client, make_poll())
    assert_cookie_flags(cookies_set_by(responses), secure=False)
    assert all("Strict-Transport-Security" not in r.headers for r in responses)


def test_cookies_over_https_are_secure(client, make_poll):
    responses = fan_and_host_visit(client, make_poll(), origin="https://localhost",
                                   base_url="https://localhost")
    assert_cookie_flags(cookies_set_by(responses), secure=True)
    assert all(r.headers["Strict-Transport-Security"].startswith("max-age=") for r in responses)


def test_forwarded_proto_is_ignored_without_trusted_proxy_hops(client, make_poll):
    responses = fan_and_host_visit(client, make_poll(), headers={"X-Forwarded-Proto": "https"})
    assert_cookie_flags(cookies_set_by(responses), secure=False)
    assert all("Strict-Transport-Security" not in r.headers for r in responses)


def test_session_cookie_secure_setting_forces_secure_over_http(app, client, make_poll):
    app.config["SESSION_COOKIE_SECURE"] = True  # e.g. production behind a proxy not yet trusted
    responses = fan_and_host_visit(client, make_poll())
    assert_cookie_flags(cookies_set_by(responses), secure=True)


def test_voter_cookie_is_long_lived(client, make_poll):
    make_poll()
    response = client.get("/p/test-poll")
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("kp_voter="))
    assert "Max-Age=34560000" in header  # 400 days, the longest browsers keep


class TestBehindOneTrustedProxy:
    """TRUSTED_PROXY_HOPS=1: the proxy's X-Forwarded-Proto decides whether the request was HTTPS."""

    @pytest.fixture
    def app(self, app):
        # The same database and Redis as the shared fixture, built by the factory with ProxyFix on.
        keys = ("TESTING", "SECRET_KEY", "SQLALCHEMY_DATABASE_URI", "REDIS_URL", "RATELIMIT_STORAGE_URI")
        proxied = create_app({**{key: app.config[key] for key in keys}, "TRUSTED_PROXY_HOPS": 1})
        yield proxied
        with proxied.app_context():
            from polls.extensions import db
            db.engine.dispose()

    def test_forwarded_https_makes_cookies_secure(self, client, make_poll):
        responses = fan_and_host_visit(client, make_poll(), origin="https://localhost",
                                       headers={"X-Forwarded-Proto": "https"})
        assert_cookie_flags(cookies_set_by(responses), secure=True)
        assert all("Strict-Transport-Security" in r.headers for r in responses)

    def test_forwarded_http_keeps_cookies_plain(self, client, make_poll):
        responses = fan_and_host_visit(client, make_poll(), headers={"X-Forwarded-Proto": "http"})
        assert_cookie_flags(cookies_set_by(responses), secure=False)


@pytest.mark.parametrize("path", ["/", "/p/test-poll", "/embed/test-poll", "/api/v1/polls/test-poll"])
def test_a_host_header_that_cannot_be_routed_is_a_400_not_a_500(client, make_poll, path):
    make_poll()
    response = client.get(path, headers={"Host": "x" * 64})  # a DNS label is at most 63 characters
    assert response.status_code == 400
