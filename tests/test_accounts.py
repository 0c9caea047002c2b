"""Host accounts: sign-up, login failure limits, the account page (password, time zone), logout."""
import importlib

import pytest
import redis
from sqlalchemy import select

from helpers import OTHER, OWNER, PASSWORD, csrf_token_from, logged_in, login, snapshot, token
from polls import config
from polls.extensions import db
from polls.models import Host

NEW_PASSWORD = "a much longer new password"


def signup(client, address="127.0.0.1", **fields):
    data = {"email": "fan.blog@example.com", "password": PASSWORD, "confirm": PASSWORD,
            "timezone": "Asia/Seoul", "csrf_token": token(client, "/manage/login")}
    data.update(fields)
    return client.post("/manage/signup", data=data, environ_base={"REMOTE_ADDR": address})


def host_row(app, email=OWNER) -> Host | None:
    with app.app_context():
        host = db.session.scalar(select(Host).where(Host.email == email))
        if host is not None:
            db.session.expunge(host)
        return host


def is_logged_in(client) -> bool:
    response = client.get("/manage/")
    assert response.status_code in (200, 302)
    return response.status_code == 200


# --- sign-up ---------------------------------------------------------------------


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_sign_up_writes_the_host_and_logs_in(app, client):
    page = client.get("/manage/signup")
    assert page.status_code == 200
    assert '<option selected value="UTC">UTC</option>' in page.get_data(as_text=True)

    response = signup(client, email="  Fan.Blog@Example.COM ")
    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/"

    host = host_row(app, "fan.blog@example.com")
    assert host is not None
    assert host.timezone == "Asia/Seoul"
    assert PASSWORD not in host.password_hash and host.check_password(PASSWORD)
    dashboard = client.get("/manage/")
    assert dashboard.status_code == 200
    html = dashboard.get_data(as_text=True)
    assert "Your host account is ready" in html
    assert 'href="/manage/account"' in html and "Log out" in html and "/manage/signup" not in html


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_sign_up_with_a_taken_email_is_refused(app, client, make_host):
    make_host(email=OWNER, password=PASSWORD)
    before = snapshot(app)
    response = signup(client, email=OWNER.upper(), password=NEW_PASSWORD, confirm=NEW_PASSWORD)
    assert response.status_code == 400
    assert "An account with that email already exists; log in instead." in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert host_row(app).check_password(PASSWORD)
    assert not is_logged_in(client)


@pytest.mark.parametrize(("fields", "message"), [
    ({"confirm": "correct horse batterY"}, "The two passwords do not match."),
    ({"password": "seven77", "confirm": "seven77"}, "Use 8 to 200 characters."),
    ({"password": "x" * 201, "confirm": "x" * 201}, "Use 8 to 200 characters."),
    ({"password": "", "confirm": ""}, "Choose a password."),
    ({"timezone": "Mars/Olympus_Mons"}, "Pick a time zone from the list."),
    ({"timezone": "asia/seoul"}, "Pick a time zone from the list."),
    ({"timezone": "Z" * 10_000}, "Pick a time zone from the list."),
    ({"email": "not-an-email"}, "That does not look like an email address."),
    ({"email": "two words@example.com"}, "That does not look like an email address."),
    ({"email": "@example.com"}, "That does not look like an email address."),
    ({"email": "fan@blog@example.com"}, "That does not look like an email address."),
    ({"email": "a" * 250 + "@example.com"}, "Field cannot be longer than 254 characters."),
    ({"email": "   "}, "Give your email address."),
])
def test_sign_up_refuses_bad_input(app, client, fields, message):
    response = signup(client, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app)["Host"] == []
    assert not is_logged_in(client)


def test_sign_up_without_the_timezone_field_is_refused(app, client):
    page = client.get("/manage/signup")
    response = client.post("/manage/signup", data={
        "email": OWNER, "password": PASSWORD, "confirm": PASSWORD,
        "csrf_token": csrf_token_from(page.get_data(as_text=True)),
    })
    assert response.status_code == 400
    assert snapshot(app)["Host"] == []


def test_sign_up_without_a_csrf_token_writes_nothing(app, client):
    client.get("/manage/signup")
    response = client.post("/manage/signup", data={"email": OWNER, "password": PASSWORD, "confirm": PASSWORD,
                                                   "timezone": "UTC"})
    assert response.status_code == 403  # the app's CSRF answer everywhere (design: 403 CSRF)
    assert "Reload the page and try again." in response.get_data(as_text=True)
    assert snapshot(app)["Host"] == []


def test_sign_up_links_show_while_sign_up_is_open(client):
    for path in ("/", "/manage/login"):
        assert 'href="/manage/signup"' in client.get(path).get_data(as_text=True), path


def test_sign_up_closed_by_configuration(app, client):
    app.config["SIGNUP_OPEN"] = False
    page = client.get("/manage/signup")
    assert page.status_code == 404
    assert "Sign-up is closed on this site" in page.get_data(as_text=True)
    for _ in range(3):  # closed is closed: never a 429 from the sign-up limit
        response = signup(client)
        assert response.status_code == 404
    assert snapshot(app)["Host"] == []
    for path in ("/", "/manage/login"):
        html = client.get(path).get_data(as_text=True)
        assert "/manage/signup" not in html and "Sign up" not in html, path


@pytest.mark.parametrize(("value", "production", "is_open"), [
    (None, False, True), ("", False, True), ("1", False, True), ("yes", False, True), ("0", False, False),
    ("false", False, False), (" No ", False, False), ("FALSE", False, False),
    # In production a stranger's polls would show on the site-wide pages: closed unless asked.
    (None, True, False), ("", True, False), ("1", True, True),
])
def test_signup_open_comes_from_the_environment(monkeypatch, value, production, is_open):
    monkeypatch.setenv("KISSPOLL_ENV", "production" if production else "development")
    if value is None:
        monkeypatch.delenv("SIGNUP_OPEN", raising=False)
    else:
        monkeypatch.setenv("SIGNUP_OPEN", value)
    try:
        assert importlib.reload(config).Config.SIGNUP_OPEN is is_open
    finally:
        monkeypatch.undo()
        importlib.reload(config)


def test_sign_up_is_rate_limited_per_address(app, client):
    app.config["RATELIMIT_SIGNUP"] = "2 per hour"
    assert client.get("/manage/signup").status_code == 200  # viewing the form does not count
    statuses = [signup(client, email=f"fan{n}@example.com", confirm="no match").status_code for n in range(3)]
    assert statuses == [400, 400, 429]
    limited = signup(client, email="fan9@example.com")
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many sign-ups from your address" in limited.get_data(as_text=True)
    assert snapshot(app)["Host"] == []
    # Another address may still sign up.
    assert signup(app.test_client(), address="203.0.113.7").status_code == 303
    assert host_row(app, "fan.blog@example.com") is not None


# --- login failure limits ----------------------------------------------------------------


def post_login(client, email, password, address="127.0.0.1"):
    return client.post("/manage/login", data={"email": email, "password": password,
                                              "csrf_token": token(client, "/manage/login")},
                       environ_base={"REMOTE_ADDR": address})


def test_failed_logins_are_limited_per_address(app, client, make_host):
    app.config.update(RATELIMIT_LOGIN="3 per minute", RATELIMIT_LOGIN_ACCOUNT="100 per hour")
    make_host(email=OWNER, password=PASSWORD)
    # Guesses at different accounts from one address share the address's budget.
    statuses = [post_login(client, f"guess{n}@example.com", "guess").status_code for n in range(3)]
    assert statuses == [400, 400, 400]
    limited = post_login(client, OWNER, PASSWORD)
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert not is_logged_in(client)
    assert post_login(client, OWNER, PASSWORD, address="198.51.100.2").status_code == 303


def test_failed_logins_are_limited_per_account_and_network(app, client, make_host, redis_url):
    app.config.update(RATELIMIT_LOGIN="100 per minute", RATELIMIT_LOGIN_ACCOUNT="3 per hour")
    make_host(email=OWNER, password=PASSWORD)
    make_host(email=OTHER, password=PASSWORD)
    # Spelled differently each time, from a new address of one network each time: one budget.
    spellings = [OWNER, OWNER.upper(), f"  {OWNER}\t"]
    statuses = [post_login(client, email, "guess", address=f"203.0.113.{n}").status_code
                for n, email in enumerate(spellings)]
    assert statuses == [400, 400, 400]

    limited = post_login(client, OWNER, PASSWORD, address="203.0.113.9")  # even the right password
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    html = limited.get_data(as_text=True)
    assert "Too many failed logins for this account" in html and 'href="/manage/login"' in html
    assert not is_logged_in(client)
    assert redis.Redis.from_url(redis_url).keys("*login-account*"), "the limit lives in the real Redis"

    # Other accounts are untouched, and the host on another network still gets in.
    assert post_login(client, OTHER, PASSWORD, address="203.0.113.1").status_code == 303
    client.post("/manage/logout", data={"csrf_token": token(client)})
    assert post_login(client, OWNER, PASSWORD, address="198.51.100.9").status_code == 303


def test_successful_logins_do_not_use_up_the_account_limit(app, make_host):
    app.config.update(RATELIMIT_LOGIN="100 per minute", RATELIMIT_LOGIN_ACCOUNT="2 per hour")
    make_host(email=OWNER, password=PASSWORD)
    client = app.test_client()
    for _ in range(4):
        assert post_login(client, OWNER, PASSWORD).status_code == 303
        client.post("/manage/logout", data={"csrf_token": token(client)})
    assert post_login(client, OWNER, "guess").status_code == 400
    assert post_login(client, OWNER, PASSWORD).status_code == 303


# --- the account page: password ---------------------------------------------------------


def change_password(client, current=PASSWORD, new=NEW_PASSWORD, confirm=None):
    return client.post("/manage/account/password", data={
        "current_password": current, "new_password": new, "confirm": new if confirm is None else confirm,
        "csrf_token": token(client, "/manage/account"),
    })


def test_account_page_shows_both_forms(owner):
    page = owner.get("/manage/account")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'action="/manage/account/password"' in html and 'action="/manage/account/timezone"' in html
    assert '<option selected value="UTC">UTC</option>' in html
    assert OWNER in html


def test_account_page_needs_a_login(client):
    data = {"csrf_token": token(client, "/manage/login"), "timezone": "Asia/Seoul"}
    for method, path in (("get", "/manage/account"), ("post", "/manage/account/password"),
                         ("post", "/manage/account/timezone")):
        response = getattr(client, method)(path, data=data if method == "post" else None)
        assert response.status_code == 302 and response.headers["Location"].startswith("/manage/login")


@pytest.mark.parametrize(("current", "new", "confirm", "message"), [
    ("wrong password", NEW_PASSWORD, None, "That is not your current password."),
    ("", NEW_PASSWORD, None, "Give your current password."),
    (PASSWORD, NEW_PASSWORD, "another new password", "The two passwords do not match."),
    (PASSWORD, "short", None, "Use 8 to 200 characters."),
    (PASSWORD, "x" * 10_000, None, "Use 8 to 200 characters."),
])
def test_password_change_refusals_change_nothing(app, owner, current, new, confirm, message):
    before = snapshot(app)
    response = change_password(owner, current, new, confirm)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert snapshot(app) == before
    assert is_logged_in(owner)


def test_password_change_logs_out_other_sessions_only(app, owner):
    elsewhere = logged_in(app, OWNER)  # the same host in another browser
    assert is_logged_in(elsewhere)

    response = change_password(owner)
    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/account"
    assert "Password changed." in owner.get("/manage/account").get_data(as_text=True)

    assert is_logged_in(owner)
    assert not is_logged_in(elsewhere)
    host = host_row(app)
    assert host.check_password(NEW_PASSWORD) and not host.check_password(PASSWORD)
    fresh = app.test_client()
    assert login(fresh, OWNER, PASSWORD).status_code == 400
    assert login(fresh, OWNER, NEW_PASSWORD).status_code == 303


def test_wrong_current_passwords_are_limited(app, owner):
    app.config["RATELIMIT_LOGIN_ACCOUNT"] = "2 per hour"
    assert [change_password(owner, current="guess").status_code for _ in range(2)] == [400, 400]
    before = snapshot(app)
    limited = change_password(owner)  # even the right one, for now
    assert limited.status_code == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert snapshot(app) == before


@pytest.mark.parametrize("session_id", [
    "abc", "", "-1", "1", "1:", "-1:0123456789abcdef", "0:0123456789abcdef", "1:0123456789abcdef",
    f"{2**63}:0123456789abcdef", f"{2**63 - 1}:0123456789abcdef", "9" * 5000 + ":0123456789abcdef",
    "1:" + "f" * 5000, "١:0123456789abcdef", "²", "1:ＡＢ", 1, -5, 2**70, None, ["1"], {"id": 1},
])
def test_odd_session_ids_are_anonymous_not_errors(app, make_host, session_id):
    make_host(email=OWNER, password=PASSWORD)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = session_id
    assert client.get("/manage/").status_code == 302
    assert client.get("/").status_code == 200


def test_a_session_from_before_session_fingerprints_is_logged_out(app, make_host):
    host_id = make_host(email=OWNER, password=PASSWORD)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = str(host_id)  # what Flask-Login stored before Host.get_id
    assert not is_logged_in(client)


# --- the account page: time zone ----------------------------------------------------------


def change_timezone(client, **data):
    return client.post("/manage/account/timezone", data={"csrf_token": token(client, "/manage/account"), **data})


def test_time_zone_change_is_stored(app, owner):
    response = change_timezone(owner, timezone="America/New_York")
    assert response.status_code == 303
    assert response.headers["Location"] == "/manage/account"
    assert host_row(app).timezone == "America/New_York"
    page = owner.get("/manage/account").get_data(as_text=True)
    assert "Time zone set to America/New_York." in page
    assert '<option selected value="America/New_York">' in page


@pytest.mark.parametrize("data", [
    {"timezone": "Mars/Olympus_Mons"}, {"timezone": ""}, {"timezone": "UTC" * 10_000}, {"timezone": "EST5EDT\x00"},
    {},
])
def test_an_unknown_time_zone_is_refused(app, owner, data):
    change_timezone(owner, timezone="Asia/Seoul")
    before = snapshot(app)
    response = change_timezone(owner, **data)
    assert response.status_code == 400
    assert "Pick a time zone from the list." in response.get_data(as_text=True)
    assert snapshot(app) == before


# --- logout and the nav ------------------------------------------------------------


def test_logout(owner):
    assert owner.post("/manage/logout").status_code == 403  # no CSRF token: still logged in
    assert is_logged_in(owner)
    response = owner.post("/manage/logout", data={"csrf_token": token(owner)})
    assert response.status_code == 303
    assert response.headers["Location"] == "/"
    page = owner.get("/").get_data(as_text=True)
    assert "You are logged out." in page
    assert 'href="/manage/login"' in page and 'href="/manage/account"' not in page
    assert not is_logged_in(owner)


def test_nav_for_a_host(owner):
    html = owner.get("/").get_data(as_text=True)
    nav = html[html.index("<nav>"):html.index("</nav>")]
    assert ">My polls<" in nav and ">Account<" in nav
    assert 'action="/manage/logout"' in nav and 'name="csrf_token"' in nav and "Log out" in nav
    assert "Log in" not in nav and "Sign up" not in nav


def test_nav_for_a_visitor(client):
    html = client.get("/").get_data(as_text=True)
    nav = html[html.index("<nav>"):html.index("</nav>")]
    assert 'href="/manage/login">Log in<' in nav and 'href="/manage/signup">Sign up<' in nav
    assert "Account" not in nav and "Log out" not in nav


def test_real_hosts_get_scrypt_hashes(tmp_path, redis_url):
    """The tests' quick hash is theirs alone: the app as configured hashes with scrypt."""
    from polls.factory import create_app
    from polls.models import Host

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'h.db'}", "SECRET_KEY": "x",
                      "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": redis_url})
    with app.app_context():
        host = Host(email="real@example.com")
        host.set_password(PASSWORD)
        assert host.password_hash.startswith("scrypt:") and host.check_password(PASSWORD)
