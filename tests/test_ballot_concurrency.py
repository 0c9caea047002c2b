"""One browser fires 100 ballots at once at gunicorn: exactly one is stored, 99 get a clean 409.

Real processes, set up with the CLI the README gives (`polls init-db`,
`polls demo`). On SQLite and on PostgreSQL without REDIS_URL, no Redis claim
stands in front, so all 100 inserts race in the database (4 workers x 8
threads), whose (poll, voter) constraint alone must keep the one ballot. In
production shape, two instances share PostgreSQL and Redis and get 50 each.
"""
from collections import Counter

import pytest
import redis
from services import (Browser, app_environment, flask_command, gunicorn_servers, postgres_database,
                      send_simultaneously, sql_scalar)

SUBMISSIONS = 100
SLUG = "best-kiss-2014"  # the open poll `polls demo` loads
# Far above 100 requests, so that only the one-ballot rule can refuse them.
NO_RATE_LIMITS = {name: "10000 per minute"
                  for name in ("RATELIMIT_BALLOT", "RATELIMIT_BALLOT_ADDRESS", "RATELIMIT_BALLOT_POLL")}
# name: (database, Redis shared by the instances?, instances, workers per instance)
SETUPS = {
    "sqlite": ("sqlite", False, 1, 4),
    "postgresql": ("postgresql", False, 1, 4),
    "postgresql-redis-2-instances": ("postgresql", True, 2, 2),
}


def poll_counts(database_url: str) -> tuple[int, int]:
    """(ballot rows, sum of the trigger-kept ranking_count) for the demo poll."""
    poll = "(SELECT id FROM poll WHERE slug = :slug)"
    return (sql_scalar(database_url, f"SELECT count(*) FROM ballot WHERE poll_id = {poll}", slug=SLUG),
            sql_scalar(database_url, f"SELECT coalesce(sum(ballots), 0) FROM ranking_count WHERE poll_id = {poll}",
                       slug=SLUG))


@pytest.fixture(params=list(SETUPS))
def setup(request) -> tuple:
    return SETUPS[request.param]


@pytest.fixture
def database_url(request, tmp_path, setup):
    if setup[0] == "sqlite":
        yield f"sqlite:///{tmp_path / 'kisspoll.db'}"
    else:
        with postgres_database(request.getfixturevalue("postgres_url")) as url:
            yield url


def test_simultaneous_ballots_from_one_browser_store_exactly_one(request, tmp_path, setup, database_url):
    _, shared_redis, instances, workers = setup
    settings = dict(SECRET_KEY="concurrency-test-secret-key", DATABASE_URL=database_url,
                    KISSPOLL_ENV="production", SESSION_COOKIE_SECURE="0",  # plain HTTP on 127.0.0.1
                    **NO_RATE_LIMITS)
    if shared_redis:
        settings["REDIS_URL"] = request.getfixturevalue("redis_url")
        with redis.Redis.from_url(settings["REDIS_URL"]) as client:
            client.flushdb()  # no claims or counters left by earlier tests
    envs = [app_environment(tmp_path / f"instance-{n}", **settings) for n in range(instances)]
    flask_command(envs[0], "polls", "init-db")
    flask_command(envs[0], "polls", "demo")
    ballots_before, counted_before = poll_counts(database_url)
    assert ballots_before == counted_before

    with gunicorn_servers(tmp_path, envs, workers=workers, threads=8) as bases:
        fan = Browser(bases[0])
        fan.open_poll(SLUG)  # one GET: the cookies and CSRF token every submission shares
        assert {cookie.name for cookie in fan.jar} >= {"kp_voter", "session"}
        candidates = fan.request(f"/api/v1/polls/{SLUG}").json()["candidates"]
        ballot = fan.ballot_request(SLUG, [c["id"] for c in candidates[:3]])
        replies = send_simultaneously([(bases[n % instances], *ballot) for n in range(SUBMISSIONS)])

    assert Counter(reply.status for reply in replies) == {201: 1, 409: SUBMISSIONS - 1}, \
        [reply for reply in replies if reply.status not in (201, 409)][:3]
    assert Counter(reply.json()["error"] for reply in replies if reply.status == 409) == {
        "already_voted": SUBMISSIONS - 1}
    receipt = next(reply.json()["receipt"] for reply in replies if reply.status == 201)
    assert sql_scalar(database_url, "SELECT count(*) FROM ballot WHERE receipt = :r", r=receipt) == 1
    # One new row, and the trigger-kept count moved by one with it (nothing for a refused insert).
    assert poll_counts(database_url) == (ballots_before + 1, counted_before + 1)
