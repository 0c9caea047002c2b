"""Two gunicorn instances sharing one PostgreSQL and one Redis behave as one site.

A browser sent to the other instance is still the same voter, and the rate
limits count requests to both. Each instance has its own instance folder;
they share SECRET_KEY (the signed cookies and CSRF token must verify on both).
Simultaneous ballots to both instances are in test_ballot_concurrency.py.
"""
import pytest
import redis
from services import Browser, app_environment, flask_command, gunicorn_servers, postgres_database, sql_scalar

SLUG = "best-kiss-2014"  # the open poll `polls demo` loads
BALLOTS_PER_ADDRESS = 3


@pytest.fixture(scope="module")
def site(tmp_path_factory, postgres_url, redis_url):
    """The base URLs of the two instances, and the database URL."""
    directory = tmp_path_factory.mktemp("scale-out")
    with postgres_database(postgres_url) as database_url:
        envs = [app_environment(directory / name, SECRET_KEY="scale-out-test-secret-key",
                                DATABASE_URL=database_url, REDIS_URL=redis_url, KISSPOLL_ENV="production",
                                SESSION_COOKIE_SECURE="0",  # plain HTTP on 127.0.0.1
                                RATELIMIT_BALLOT=f"{BALLOTS_PER_ADDRESS} per minute",
                                RATELIMIT_BALLOT_ADDRESS="10000 per minute",
                                RATELIMIT_BALLOT_POLL="10000 per minute")
                for name in ("one", "two")]
        flask_command(envs[0], "polls", "init-db")
        flask_command(envs[0], "polls", "demo")
        with gunicorn_servers(directory, envs, workers=2, threads=4) as (one, two):
            for base in (one, two):
                assert Browser(base).request("/healthz").json() == {"status": "ok", "database": "ok",
                                                                    "redis": "ok"}
            yield {"one": one, "two": two, "database_url": database_url}


@pytest.fixture
def fresh_redis(redis_url):
    """No rate-limit counters or locks left by the other test (the ballots stay)."""
    with redis.Redis.from_url(redis_url) as client:
        client.flushdb()


def ranking(base: str) -> list[int]:
    return [c["id"] for c in Browser(base).request(f"/api/v1/polls/{SLUG}").json()["candidates"]]


def ballots(site) -> int:
    return sql_scalar(site["database_url"],
                      "SELECT count(*) FROM ballot WHERE poll_id = (SELECT id FROM poll WHERE slug = :s)", s=SLUG)


def test_a_browser_that_voted_on_one_instance_is_refused_on_the_other(site, fresh_redis):
    before = ballots(site)
    ids = ranking(site["one"])
    fan = Browser(site["one"])
    fan.open_poll(SLUG)
    first = fan.cast(SLUG, ids[:2])
    assert first.status == 201, first
    # The load balancer sends the same browser (cookies, and the CSRF token of the page
    # instance one served) to instance two, with another ranking.
    again = fan.cast(SLUG, ids[2:4], base=site["two"])
    assert again.status == 409, again
    assert again.json()["error"] == "already_voted"
    assert ballots(site) == before + 1


def test_rate_limits_count_requests_to_both_instances(site, fresh_redis):
    before = ballots(site)
    ids = ranking(site["one"])
    replies = []
    # Alternating: neither instance alone sees more than the limit.
    for base in [site["one"], site["two"]] * 2:
        fan = Browser(base)  # a new voter each time, from the same address (127.0.0.1)
        fan.open_poll(SLUG)
        replies.append(fan.cast(SLUG, ids[:1]))
    assert [reply.status for reply in replies] == [201] * BALLOTS_PER_ADDRESS + [429], replies
    limited = replies[-1]
    assert limited.json()["error"] == "too_many_requests"
    assert int(limited.headers["Retry-After"]) > 0
    assert ballots(site) == before + BALLOTS_PER_ADDRESS
