"""Real services started for a test session or a benchmark run, on free ports.

redis-server, a throwaway PostgreSQL cluster, a database in it, the app
itself under gunicorn (plus its `flask polls ...` commands in a subprocess),
and ``Browser``, a fan talking to such a server over real HTTP.
"""
import http.client
import http.cookiejar
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import redis
import sqlalchemy

PROJECT = Path(__file__).resolve().parent.parent
POSTGRES_LIB = Path("/usr/lib/postgresql")


class ServiceUnavailable(Exception):
    """The service is not installed, or did not start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A throwaway redis-server (no persistence) working in ``directory``; yields its URL."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise ServiceUnavailable("redis-server is not installed: run `make test`, which installs it")
    port = free_port()
    directory.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
         "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port)
    try:
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        else:
            raise ServiceUnavailable("redis-server did not start")
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=10)


def postgres_bin() -> Path | None:
    """The bin/ folder of the newest PostgreSQL Debian installed (/usr/lib/postgresql/N/bin)."""
    def version(path: Path) -> tuple:
        return tuple(int(part) for part in path.parent.name.split(".") if part.isdigit())
    found = [path for path in POSTGRES_LIB.glob("*/bin") if (path / "initdb").exists()]
    return max(found, key=version) if found else None


@contextmanager
def postgres_server(directory: Path) -> Iterator[str]:
    """A throwaway PostgreSQL cluster on a free port of 127.0.0.1; yields the superuser's URL.

    Trust authentication, no durability (fsync and friends off: the data dies
    with the test run), its socket inside its own folder, so it never meets a
    system cluster on 5432. Nothing else needs to be running.
    """
    bin_dir = postgres_bin()
    if bin_dir is None:
        raise ServiceUnavailable(
            "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb): "
            "run `make test`, which installs it")
    as_root = os.geteuid() == 0
    if as_root:
        # initdb refuses to run as root, and the postgres user cannot reach into
        # pytest's private (0700) temporary folders: use a folder of its own.
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            raise ServiceUnavailable("running as root needs the `postgres` user "
                                     "(Debian's postgresql package creates it)") from None
        workdir = Path(tempfile.mkdtemp(prefix="kisspoll-pg-"))
        workdir.chmod(0o755)
        os.chown(workdir, owner.pw_uid, owner.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    else:
        directory.mkdir(parents=True, exist_ok=True)
        workdir = directory
        prefix = []
    data, log = workdir / "data", workdir / "postgres.log"
    port = free_port()

    def run(*command: str) -> None:
        result = subprocess.run([*prefix, *command], cwd=workdir, stdin=subprocess.DEVNULL,
                                capture_output=True, text=True, timeout=120)
        if result.returncode != 0:
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise ServiceUnavailable(
                f"PostgreSQL did not start: {Path(command[0]).name} failed:\n"
                f"{result.stdout}{result.stderr}{tail}")

    started = False
    try:
        run(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust", "-E", "UTF8",
            "--locale", "C", "--no-sync")
        options = (f"-p {port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={workdir} "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")
        started = True  # from here a half-started server must be stopped too
        run(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(log), "-o", options, "-w", "-t", "60",
            "start")
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        if started:
            subprocess.run([*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w",
                            "stop"], cwd=workdir, stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
        if as_root:
            shutil.rmtree(workdir, ignore_errors=True)


@contextmanager
def postgres_database(server_url: str) -> Iterator[str]:
    """A fresh, empty database on the server at ``server_url``; yields its URL, drops it after.

    Close every connection to it first (``engine.dispose()``); FORCE ends any left over.
    """
    name = f"kisspoll_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


APP_SETTINGS = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "KISSPOLL_ENV", "TRUSTED_PROXY_HOPS", "TRUSTED_HOSTS",
                "SESSION_COOKIE_SECURE", "INSTANCE_PATH")


def app_environment(directory: Path, **settings: str) -> dict[str, str]:
    """Environment for an app process (gunicorn or the flask CLI): ours, plus ``settings``.

    Its instance folder is inside ``directory``, never the project's own.
    """
    # The caller's own app settings (a developer's shell, `make`) must not leak in.
    env = {name: value for name, value in os.environ.items()
           if name not in APP_SETTINGS and not name.startswith("RATELIMIT_")}
    env["INSTANCE_PATH"] = str(directory / "instance")
    env.update(settings)
    return env


def flask_command(env: dict[str, str], *args: str) -> str:
    """Run ``flask --app app ARGS`` (e.g. ``polls init-db``) in the project; return its output."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "app", *args], cwd=PROJECT, env=env,
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=300)
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed ({result.returncode}):\n{result.stdout}{result.stderr}")
    return result.stdout


@contextmanager
def gunicorn_servers(directory: Path, envs: list[dict[str, str]], *, workers: int = 4, threads: int = 8,
                     app: str = "app:create_app()", timeout: float = 60) -> Iterator[list[str]]:
    """One gunicorn instance of the app per environment, each on a free port; yields their base URLs.

    They boot side by side and are handed over once every one answers
    GET /healthz with 200. ``envs`` are whole environments (see
    ``app_environment``). Each log is ``directory/gunicorn-PORT.log``, quoted in
    the error if that instance does not come up.
    """
    directory.mkdir(parents=True, exist_ok=True)
    started: list[tuple[subprocess.Popen, str, Path]] = []
    try:
        for env in envs:
            port = free_port()
            log_path = directory / f"gunicorn-{port}.log"
            with open(log_path, "wb") as log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "gunicorn", "-w", str(workers), "--threads", str(threads),
                     "-b", f"127.0.0.1:{port}", "--graceful-timeout", "5",
                     # Instances would share (and unlink) one ~/.gunicorn/gunicorn.ctl otherwise.
                     "--no-control-socket", app],
                    cwd=PROJECT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                )
            started.append((proc, f"http://127.0.0.1:{port}", log_path))
        deadline = time.monotonic() + timeout
        for proc, base, log_path in started:
            _wait_for_health(proc, base, log_path, deadline)
        yield [base for _, base, _ in started]
    finally:
        for proc, _, _ in started:
            proc.terminate()  # SIGTERM: gunicorn's graceful shutdown
        for proc, _, _ in started:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)


@contextmanager
def gunicorn_server(directory: Path, env: dict[str, str], **options) -> Iterator[str]:
    """The app under gunicorn on a free port, once GET /healthz answers 200; yields its base URL."""
    with gunicorn_servers(directory, [env], **options) as (base,):
        yield base


def _wait_for_health(proc: subprocess.Popen, base: str, log_path: Path, deadline: float) -> None:
    while True:
        if proc.poll() is not None:
            raise ServiceUnavailable(f"gunicorn exited with {proc.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as error:
            error.close()  # 503: the database is not answering yet
        except (urllib.error.URLError, OSError):
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise ServiceUnavailable(f"gunicorn did not answer {base}/healthz in time:\n"
                                     f"{log_path.read_text()[-3000:]}")
        time.sleep(0.1)


def sql_scalar(database_url: str, sql: str, **params):
    """One value read straight from the app's database (a ``DATABASE_URL``), outside the app."""
    url = database_url.replace("postgres://", "postgresql://", 1).replace("postgresql://", "postgresql+psycopg://", 1)
    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.scalar(sqlalchemy.text(sql), params)
    finally:
        engine.dispose()


@dataclass
class Reply:
    status: int
    headers: Message  # looked up without regard to case
    body: bytes

    def json(self):
        return json.loads(self.body)


class Browser:
    """One fan's browser: a cookie jar, and the CSRF token of the last poll page it opened.

    Cookies go by host, not port (as in real browsers), so one Browser can
    visit several app instances on 127.0.0.1.
    """

    def __init__(self, base: str):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))
        self.csrf_token: str | None = None

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None,
                base: str | None = None) -> Reply:
        req = urllib.request.Request((base or self.base) + path, data=data, headers=headers or {})
        try:
            with self.opener.open(req, timeout=60) as response:
                return Reply(response.status, response.headers, response.read())
        except urllib.error.HTTPError as error:
            with error:
                return Reply(error.code, error.headers, error.read())

    def open_poll(self, slug: str, base: str | None = None) -> str:
        """GET the poll page: keeps its cookies and CSRF token; returns the token."""
        reply = self.request(f"/p/{slug}", base=base)
        assert reply.status == 200, reply
        match = re.search(r'<meta name="csrf-token" content="([^"]+)"', reply.body.decode())
        assert match, "poll page carries no csrf-token meta tag"
        self.csrf_token = match.group(1)
        return self.csrf_token

    def ballot_request(self, slug: str, ranking: list[int]) -> tuple[str, bytes, dict[str, str]]:
        """Path, body and headers of this browser's JSON ballot, to send with any HTTP client."""
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.csrf_token or ""}
        cookies = "; ".join(f"{cookie.name}={cookie.value}" for cookie in self.jar)
        if cookies:
            headers["Cookie"] = cookies
        return f"/api/v1/polls/{slug}/ballots", json.dumps({"ranking": ranking}).encode(), headers

    def cast(self, slug: str, ranking: list[int], base: str | None = None) -> Reply:
        """POST a JSON ballot (cookies from the jar, CSRF token from the last poll page)."""
        body = json.dumps({"ranking": ranking}).encode()
        return self.request(f"/api/v1/polls/{slug}/ballots", body,
                            {"Content-Type": "application/json", "X-CSRFToken": self.csrf_token or ""},
                            base=base)


def send_simultaneously(requests: list[tuple[str, str, bytes, dict[str, str]]]) -> list[Reply]:
    """POST each (base URL, path, body, headers) on its own connection, all released at once.

    Every connection is open before a barrier lets the requests go, so they
    really overlap. A request that gets no answer comes back with status 0.
    """
    barrier = threading.Barrier(len(requests))
    replies: list[Reply] = [Reply(0, Message(), b"not sent")] * len(requests)

    def send(n: int, base: str, path: str, body: bytes, headers: dict[str, str]) -> None:
        address = urlsplit(base)
        conn = http.client.HTTPConnection(address.hostname, address.port, timeout=120)
        try:
            conn.connect()
            barrier.wait(timeout=60)
            conn.request("POST", path, body, headers)
            response = conn.getresponse()
            replies[n] = Reply(response.status, response.headers, response.read())
        except Exception as error:  # kept, for the caller's assertion to show
            replies[n] = Reply(0, Message(), repr(error).encode())
        finally:
            conn.close()

    threads = [threading.Thread(target=send, args=(n, *request)) for n, request in enumerate(requests)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return replies
