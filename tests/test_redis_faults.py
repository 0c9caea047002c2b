"""Redis dies (SIGKILL) or hangs (SIGSTOP) under a stream of ballots, then comes back.

The database is the record: every 201 is a ballot row and is counted, nothing
is a 5xx, pages still render, /healthz says "degraded", rate limits fall back
to process memory (and still bite), and everything returns to Redis after.

Each test has its own redis-server (``RedisProcess``), so killing it touches
no other test; ``app`` is overridden here to point at it.
"""
import json
import logging
import shutil
import signal
import subprocess
import time
from itertools import count

import pytest
import redis
from services import free_port
from sqlalchemy import select

from helpers import app_on, csrf_token_from
from polls.extensions import db
from polls.models import Ballot, InviteCode, Poll

UNLIMITED = "1000000 per minute"
# Seconds to wait for something that happens on its own (a restart, the limiter's
# backend check, which Flask-Limiter spaces 1, 2, 4... s apart); never a measurement.
PATIENCE = 60


class RedisProcess:
    """A redis-server on a fixed free port that a test may SIGKILL, SIGSTOP and start again.

    (A candidate for tests/services.py; redis_server there cannot be killed mid-test.)
    """

    def __init__(self, directory):
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            pytest.fail("redis-server is not installed: run `make test`, which installs it")
        self.directory = directory
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = None

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        probe = redis.Redis(port=self.port, socket_timeout=1)
        deadline = time.monotonic() + PATIENCE
        try:
            while True:
                try:
                    probe.ping()
                    return
                except redis.ConnectionError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"redis-server did not start on port {self.port}")
                    time.sleep(0.05)
        finally:
            probe.close()

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def pause(self) -> None:
        self.proc.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)

    def client(self) -> redis.Redis:
        return redis.Redis.from_url(self.url, socket_timeout=1)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
            self.proc.terminate()
            self.proc.wait(timeout=10)


@pytest.fixture
def flaky_redis(tmp_path):
    server = RedisProcess(tmp_path / "redis")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def app(tmp_path, flaky_redis):
    """The shared fixture's app, but on this test's own redis-server."""
    unlimited = dict.fromkeys(("RATELIMIT_BALLOT", "RATELIMIT_BALLOT_ADDRESS", "RATELIMIT_BALLOT_POLL"), UNLIMITED)
    with app_on(f"sqlite:///{tmp_path / 'test.db'}", flaky_redis.url, **unlimited) as app:
        yield app


class Crowd:
    """Fans, each a fresh browser on its own address; remembers every answer to a ballot."""

    def __init__(self, app, slug="test-poll"):
        self.app, self.slug = app, slug
        self.numbers = count(1)
        self.answers = []  # (fan, response)

    def fan(self, address=None):
        n = next(self.numbers)
        client = self.app.test_client()
        client.environ_base["REMOTE_ADDR"] = address or f"10.0.{n // 250}.{n % 250 + 1}"
        page = client.get(f"/p/{self.slug}")
        assert page.status_code == 200, page.status_code
        client.token = csrf_token_from(page.get_data(as_text=True))
        return client

    def cast(self, fan, ranking, **extra):
        response = fan.post(f"/api/v1/polls/{self.slug}/ballots", data=json.dumps({"ranking": ranking, **extra}),
                            content_type="application/json", headers={"X-CSRFToken": fan.token})
        assert response.status_code < 500, (response.status_code, response.get_data(as_text=True)[:500])
        self.answers.append((fan, response))
        return response

    def receipts(self) -> set[str]:
        return {r.get_json()["receipt"] for _, r in self.answers if r.status_code == 201}


def stored_receipts(app, slug="test-poll") -> set[str]:
    with app.app_context():
        poll_id = db.session.scalar(select(Poll.id).where(Poll.slug == slug))
        return set(db.session.scalars(select(Ballot.receipt).where(Ballot.poll_id == poll_id)))


def assert_pages_render(app, slug="test-poll"):
    reader = app.test_client()
    for path in ("/", f"/p/{slug}", f"/p/{slug}/results", f"/embed/{slug}", "/leaderboard/2014",
                 f"/api/v1/polls/{slug}"):
        response = reader.get(path)
        assert response.status_code == 200, (path, response.status_code)


def counted(app, slug="test-poll") -> int:
    results = app.test_client().get(f"/api/v1/polls/{slug}/results")
    assert results.status_code == 200
    return results.get_json()["total_ballots"]


def limiter_keys(server: RedisProcess) -> list:
    with server.client() as client:
        return client.keys("*LIMITER*")


def wait_until_limits_are_in_redis(crowd: Crowd, server: RedisProcess, ranking) -> None:
    """Cast ballots until Flask-Limiter counts them in Redis again (it re-checks a dead
    backend only now and then), so that a test starts and ends on Redis."""
    with server.client() as client:
        client.delete(*client.keys("*LIMITER*") or ["none"])
    deadline = time.monotonic() + PATIENCE
    while not limiter_keys(server):
        assert time.monotonic() < deadline, "the rate limiter never went back to Redis"
        assert crowd.cast(crowd.fan(), ranking).status_code == 201
        time.sleep(0.2)


def test_ballots_survive_redis_being_killed_and_restarted(app, make_poll, flaky_redis, caplog):
    caplog.set_level(logging.INFO)
    poll = make_poll()
    ids = poll["ids"]
    crowd = Crowd(app)
    wait_until_limits_are_in_redis(crowd, flaky_redis, ids[:1])

    before = [crowd.fan() for _ in range(12)]
    for i, fan in enumerate(before):
        assert crowd.cast(fan, [ids[i % 3], ids[(i + 1) % 3]]).status_code == 201
    assert counted(app) == len(crowd.receipts())  # cached in Redis from here on
    with flaky_redis.client() as client:
        assert client.keys("kisspoll:voted:*")  # the one-ballot claims are in Redis

    flaky_redis.kill()
    during = [crowd.fan() for _ in range(12)]
    for i, fan in enumerate(during):
        assert crowd.cast(fan, [ids[(i + 2) % 3]]).status_code == 201
    # The claims died with Redis: the database alone still refuses a second ballot.
    for fan in before[:4] + during[:4]:
        again = crowd.cast(fan, [ids[0]])
        assert again.status_code == 409 and again.get_json()["error"] == "already_voted"
    health = app.test_client().get("/healthz")
    assert health.status_code == 200
    assert health.get_json() == {"status": "degraded", "database": "ok", "redis": "unreachable"}
    assert_pages_render(app)
    assert counted(app) == len(crowd.receipts()) == len(stored_receipts(app))
    assert any("Rate limit storage unreachable - falling back to in-memory storage" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)
    assert any(r.name == "polls.results" and "Redis is unreachable" in r.getMessage()
               for r in caplog.records if r.levelno == logging.WARNING)

    flaky_redis.start()  # same port, empty (no persistence)
    assert app.test_client().get("/healthz").get_json() == {"status": "ok", "database": "ok", "redis": "ok"}
    after = [crowd.fan() for _ in range(12)]
    for i, fan in enumerate(after):
        assert crowd.cast(fan, [ids[i % 3]]).status_code == 201
    for fan in before[4:6] + during[4:6] + after[:2]:
        assert crowd.cast(fan, [ids[1]]).status_code == 409
    wait_until_limits_are_in_redis(crowd, flaky_redis, ids[:1])
    with flaky_redis.client() as client:
        assert client.keys("kisspoll:voted:*")  # claims are taken in Redis again

    assert_pages_render(app)
    receipts = crowd.receipts()
    assert receipts == stored_receipts(app)  # every 201 is a row, and every row was a 201
    assert counted(app) == len(receipts)
    assert counted(app) == len(receipts)  # the second read comes from the cache: the same


def test_rate_limits_still_bite_in_memory_while_redis_is_down(app, make_poll, flaky_redis, caplog):
    poll = make_poll()
    crowd = Crowd(app)
    wait_until_limits_are_in_redis(crowd, flaky_redis, poll["ids"][:1])
    app.config["RATELIMIT_BALLOT"] = "3 per minute"  # per address in this poll

    flaky_redis.kill()
    with caplog.at_level(logging.WARNING):
        answers = [crowd.cast(crowd.fan(address="192.0.2.7"), poll["ids"][:1]) for _ in range(6)]
    assert [r.status_code for r in answers] == [201, 201, 201, 429, 429, 429]
    refused = answers[-1]
    assert refused.get_json()["error"] == "too_many_requests"
    assert int(refused.headers["Retry-After"]) > 0
    # Another address is not held up by that one's limit.
    assert crowd.cast(crowd.fan(address="192.0.2.8"), poll["ids"][:1]).status_code == 201
    assert any("falling back to in-memory storage" in r.getMessage() for r in caplog.records)
    assert len(stored_receipts(app)) == len(crowd.receipts())

    flaky_redis.start()
    app.config["RATELIMIT_BALLOT"] = UNLIMITED
    wait_until_limits_are_in_redis(crowd, flaky_redis, poll["ids"][:1])
    assert len(stored_receipts(app)) == len(crowd.receipts())


def test_results_are_not_stale_after_redis_hangs_and_resumes(app, make_poll, flaky_redis):
    """A hung Redis (SIGSTOP: connections open, no answers) costs timeouts, not ballots; the
    version bumps it missed are made once it answers, so the cached count is not served stale."""
    poll = make_poll()
    crowd = Crowd(app)
    for i in range(3):
        assert crowd.cast(crowd.fan(), [poll["ids"][i]]).status_code == 201
    assert counted(app) == 3  # now cached under the current version

    flaky_redis.pause()
    try:
        assert crowd.cast(crowd.fan(), [poll["ids"][0]]).status_code == 201
        assert counted(app) == 4
        health = app.test_client().get("/healthz").get_json()
        assert health["status"] == "degraded" and health["redis"] == "unreachable"
    finally:
        flaky_redis.resume()
    assert counted(app) == 4
    assert crowd.cast(crowd.fan(), [poll["ids"][1]]).status_code == 201
    assert counted(app) == 5 == len(stored_receipts(app))


def test_a_ballot_refused_while_redis_hangs_does_not_lock_the_browser_out(app, make_poll, flaky_redis):
    """A SET NX that timed out may still land when Redis wakes: a browser whose ballot was
    then refused (a wrong invite code) must be able to vote with the right one."""
    poll = make_poll(slug="closed-list")
    with app.app_context():
        db.session.get(Poll, poll["id"]).invite_only = True
        db.session.add(InviteCode(poll_id=poll["id"], code="GOODCODE23"))
        db.session.commit()
    crowd = Crowd(app, slug="closed-list")
    fan = crowd.fan()
    counted(app, "closed-list")  # leaves an open connection in the pool, as a busy server has

    flaky_redis.pause()
    try:
        wrong = crowd.cast(fan, poll["ids"][:1], invite="WRONGCODE2")
        assert wrong.status_code == 403 and wrong.get_json()["error"] == "invite_invalid"
    finally:
        flaky_redis.resume()
    right = crowd.cast(fan, poll["ids"][:1], invite="GOODCODE23")
    assert right.status_code == 201, right.get_json()
    assert stored_receipts(app, "closed-list") == crowd.receipts()
