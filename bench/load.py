"""Ballot load benchmark (design.md "Performance targets"): ballots/s under gunicorn
against a bare Flask "hello" app (bench/hello_app.py) in the same run, with no ballot lost.

In a temporary directory: a real redis-server, a fresh SQLite file (`flask polls
init-db` and `polls demo`, which opens the poll best-kiss-2014), then the app under
gunicorn with TRUSTED_PROXY_HOPS=1 and the ballot rate limits raised for the run.
Before the timed phase, N simulated voters each GET /p/best-kiss-2014 from their own
X-Forwarded-For address, keeping their voter and session cookies and the page's CSRF
token; a few extra voters warm up every worker.  Timed: each voter POSTs one JSON
ballot to /api/v1/polls/best-kiss-2014/ballots, sent by wrk (C connections, one wrk
thread each) until every voter has voted or --duration runs out.  Then the hello app,
under the same gunicorn settings, gets the very same requests from the same wrk for
--duration.  Prints both rates, their ratio against the target, the ballots' p50/p99
latency, and checks that the new ballot rows equal the 201 answers; for each run also
how the CPUs were used (gunicorn, Redis, wrk, everything else: the machine may be shared).

Needs wrk (Debian package `wrk`; installed with apt-get when missing and run as root).
Exits non-zero when a ballot is lost or any ballot is not answered 201, never on timing.
Usage: python bench/load.py [--voters N] [--duration S] [--concurrency C]
       [--workers W] [--threads T] [--worker-class K]
"""
import argparse
import http.client
import json
import os
import random
import re
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from services import (ServiceUnavailable, app_environment, flask_command,  # noqa: E402
                      gunicorn_server, redis_server)

SLUG = "best-kiss-2014"
POLL_PAGE = f"/p/{SLUG}"
BALLOTS = f"/api/v1/polls/{SLUG}/ballots"
TARGET, AIM = 0.30, 0.40  # ballots/s as a share of hello req/s
HIGH_LIMIT = "1000000 per minute"
CSRF_META = re.compile(rb'<meta name="csrf-token" content="([^"]+)"')
PREP_THREADS = 8  # client threads preparing voters (untimed; the server is the bottleneck)

# The wrk script, written to the temporary directory.  Every wrk thread gets exactly
# one connection (-t C -c C), so request() and response() alternate on it and the time
# between them is that request's own latency.  (wrk's own histogram is "corrected" for
# coordinated omission with synthetic samples; we report what the voters saw.)
# Requests are formatted once in init(), so the timed loop does almost no Lua work.
WRK_SCRIPT = r"""
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } kp_timespec;
int clock_gettime(int clock, kp_timespec *tp);
]]
local ts = ffi.new("kp_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + tonumber(ts.tv_nsec) / 1000
end

local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local nthreads = tonumber(os.getenv("KP_THREADS"))
  wrap = os.getenv("KP_MODE") == "wrap"
  queue, lat, codes = {}, {}, {}
  local i = 0
  for line in io.lines(os.getenv("KP_VOTERS")) do
    if i % nthreads == id then
      local path, cookie, token, xff, body = line:match("^(.-)\t(.-)\t(.-)\t(.-)\t(.*)$")
      queue[#queue + 1] = wrk.format("POST", path, {
        ["Cookie"] = cookie, ["X-CSRFToken"] = token, ["X-Forwarded-For"] = xff,
        ["Content-Type"] = "application/json"}, body)
    end
    i = i + 1
  end
  sent, served, t0 = 0, 0, 0
  duration_us = tonumber(os.getenv("KP_DURATION_US"))
end

function request()
  sent = sent + 1
  t0 = now_us()
  if first == nil then first = t0 end
  return queue[(sent - 1) % #queue + 1]  -- wraps only in the hello run
end

function response(status, headers, body)
  local t = now_us()
  served = served + 1
  lat[served] = t - t0
  codes[served] = status
  last = t
  -- Stop on a response, never mid-request, so that no ballot is left in flight:
  -- once every voter of this thread has voted, or when the duration is over.
  if (not wrap and served == #queue) or t - first >= duration_us then
    assert(io.open(os.getenv("KP_DONE") .. "/" .. id, "w")):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local out = assert(io.open(os.getenv("KP_RESULT"), "w"))
  local e = summary.errors
  out:write(string.format("errors %d %d %d %d\n", e.connect, e.read, e.write, e.timeout))
  for _, t in ipairs(threads) do
    local lat, codes = t:get("lat"), t:get("codes")
    out:write(string.format("thread %.1f %.1f %d\n", t:get("first") or -1, t:get("last") or -1, #lat))
    for i = 1, #lat do out:write(codes[i], " ", string.format("%.1f", lat[i]), "\n") end
  end
  out:close()
end
"""


@dataclass
class Voter:
    address: str
    cookie: str
    token: str
    body: str


@dataclass
class Run:
    """One wrk run: every response's status and latency (ms), over the active window."""

    codes: Counter
    latencies_ms: list[float]
    seconds: float
    socket_errors: dict[str, int]
    cpus: dict[str, float]  # average CPUs busy during the run: machine, server, redis, wrk ("reaped"), others

    @property
    def responses(self) -> int:
        return len(self.latencies_ms)

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")


# -- tools and servers ------------------------------------------------------------


def require_wrk() -> str:
    """wrk's path, installing the Debian package when missing and we are root."""
    if shutil.which("wrk") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print("wrk is not installed: apt-get install wrk", flush=True)
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)
        if shutil.which("wrk") is None:
            sys.exit("bench/load.py needs wrk: apt-get install wrk (Debian package)")
    return shutil.which("wrk")


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


SERVER_LOGS: dict[str, str] = {}  # each server's gunicorn log, kept for a failure report


@contextmanager
def served(tmp: Path, target: str, env: dict, settings: dict) -> Iterator[int]:
    """`target` under gunicorn (tests/services.py) with `settings`; yields its port."""
    # The helper takes workers and threads; the worker class goes in through gunicorn's
    # own environment variable, which its command line does not override.
    env = {**env, "GUNICORN_CMD_ARGS": f"--worker-class {settings['worker_class']}"}
    try:
        with gunicorn_server(tmp / "gunicorn", env, workers=settings["workers"], threads=settings["threads"],
                             app=target) as base:
            yield int(base.rsplit(":", 1)[1])
    except ServiceUnavailable as error:
        sys.exit(f"gunicorn {target}: {error}")
    finally:
        for log in (tmp / "gunicorn").glob("*.log"):
            SERVER_LOGS.setdefault(log.name, f"{target}: {log.read_text(errors='replace')}")


def ballot_rows(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM ballot JOIN poll ON poll.id = ballot.poll_id "
                            "WHERE poll.slug = ?", (SLUG,)).fetchone()[0]


def counted_ballots(database: Path) -> int:
    """The poll's ballots as the ranking counts (kept by triggers) have them."""
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT coalesce(sum(ballots), 0) FROM ranking_count JOIN poll "
                            "ON poll.id = ranking_count.poll_id WHERE poll.slug = ?", (SLUG,)).fetchone()[0]


# -- the voters -------------------------------------------------------------------


def address(n: int) -> str:
    """A distinct client address per voter (10.0.0.0/8 holds 16 million)."""
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def prepare_voters(port: int, count: int, ids: list[int], max_ranks: int) -> list[Voter]:
    """`count` voters, each from one GET of the poll page: cookies, CSRF token, a ranking."""
    voters: list[Voter | None] = [None] * count
    errors: list[str] = []

    def work(part: range) -> None:
        rng = random.Random(part.start)  # the same rankings for the same --voters
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for i in part:
                xff = address(i)
                conn.request("GET", POLL_PAGE, headers={"X-Forwarded-For": xff})
                response = conn.getresponse()
                page = response.read()
                cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
                token = CSRF_META.search(page)
                if response.status != 200 or token is None or len(cookies) < 2:
                    errors.append(f"GET {POLL_PAGE}: {response.status}, cookies {cookies}, token {bool(token)}")
                    return
                ranking = rng.sample(ids, rng.randint(1, max_ranks))
                voters[i] = Voter(xff, "; ".join(cookies), token.group(1).decode(),
                                  json.dumps({"ranking": ranking}, separators=(",", ":")))
        finally:
            conn.close()

    step = -(-count // PREP_THREADS)
    threads = [threading.Thread(target=work, args=(range(s, min(s + step, count)),))
               for s in range(0, count, step)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        sys.exit(f"preparing voters failed: {errors[0]}")
    return voters  # type: ignore[return-value]


def write_voters(path: Path, voters: list[Voter]) -> None:
    with open(path, "w") as out:
        for v in voters:
            out.write(f"{BALLOTS}\t{v.cookie}\t{v.token}\t{v.address}\t{v.body}\n")


def warm_up(port: int, voters: list[Voter], parallel: int) -> Counter:
    """Untimed ballots from `parallel` keep-alive connections, so that every worker thread
    has opened its database and Redis connections before timing; the statuses answered."""
    counts = [Counter() for _ in range(parallel)]  # one per thread: += on a shared one could race

    def work(share: list[Voter], codes: Counter) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for v in share:
                conn.request("POST", BALLOTS, body=v.body, headers={
                    "Cookie": v.cookie, "X-CSRFToken": v.token, "X-Forwarded-For": v.address,
                    "Content-Type": "application/json"})
                response = conn.getresponse()
                response.read()
                codes[response.status] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(voters[i::parallel], counts[i])) for i in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts, Counter())


# -- wrk --------------------------------------------------------------------------


def cpu_seconds() -> dict[str, float]:
    """CPU seconds so far: the whole machine's busy time ("busy"); this process and its
    descendants, with the descendants it has reaped ("ours"); its redis-server ("redis");
    the children it has reaped, i.e. wrk once waited for ("reaped"); itself ("self").
    Differences over a run tell what the server, Redis, wrk and other processes took."""
    ticks = os.sysconf("SC_CLK_TCK")
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq = map(int, stat.readline().split()[1:8])
    parent, used, own, name = {}, {}, {}, {}
    for pid in map(int, filter(str.isdigit, os.listdir("/proc"))):
        try:
            with open(f"/proc/{pid}/stat") as stat:
                head, fields = stat.read().rsplit(")", 1)
        except OSError:
            continue  # gone meanwhile
        fields = fields.split()
        name[pid], parent[pid] = head.split("(", 1)[1], int(fields[1])
        own[pid] = int(fields[11]) + int(fields[12])  # utime stime
        used[pid] = own[pid] + int(fields[13]) + int(fields[14])  # + cutime cstime

    def ours(pid: int) -> bool:
        while pid > 1:
            if pid == os.getpid():
                return True
            pid = parent.get(pid, 0)
        return False

    tree = [pid for pid in used if ours(pid)]
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"busy": (user + nice + system + irq + softirq) / ticks,
            "ours": sum(used[pid] for pid in tree) / ticks,
            "redis": sum(own[pid] for pid in tree if name[pid] == "redis-server") / ticks,
            "reaped": children.ru_utime + children.ru_stime,
            "self": own[os.getpid()] / ticks}


def run_wrk(wrk: str, port: int, tmp: Path, voters_file: Path, connections: int, duration: float,
            wrap: bool) -> Run:
    """The requests of `voters_file` from `connections` wrk connections, each voter once
    (until all have voted or `duration` is over) or, with `wrap`, over and over for `duration`."""
    label = "wrap" if wrap else "once"
    done_dir = tmp / f"wrk-done-{label}-{port}"
    done_dir.mkdir()
    result = tmp / f"wrk-{label}-{port}.txt"
    script = tmp / "ballots.lua"
    script.write_text(WRK_SCRIPT)
    env = {**os.environ, "KP_THREADS": str(connections), "KP_MODE": label, "KP_VOTERS": str(voters_file),
           "KP_DONE": str(done_dir), "KP_RESULT": str(result), "KP_DURATION_US": str(int(duration * 1e6))}
    # The script stops each wrk thread itself (see WRK_SCRIPT); wrk's own -d is only a
    # backstop, as it always sleeps for all of it: once every thread has stopped,
    # SIGINT cuts that short (wrk then joins its threads and runs done() as usual).
    cpu_before = cpu_seconds()
    wall_before = time.monotonic()
    proc = subprocess.Popen(
        [wrk, "-t", str(connections), "-c", str(connections), "-d", f"{round(duration) + 60}s",
         "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}/"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    while proc.poll() is None:
        if len(list(done_dir.iterdir())) == connections:
            proc.send_signal(signal.SIGINT)  # again until it exits: wrk ignores SIGINT while starting
        time.sleep(0.05)
    output = proc.communicate(timeout=60)[0]
    wall = time.monotonic() - wall_before
    cpu_after = cpu_seconds()
    cpus = {key: (cpu_after[key] - cpu_before[key]) / wall for key in cpu_after}
    # The server is what our tree used besides Redis, wrk (reaped by now) and this script.
    cpus["server"] = cpus["ours"] - cpus["redis"] - cpus["reaped"] - cpus["self"]
    cpus["others"] = max(0.0, cpus["busy"] - cpus["ours"])
    if proc.returncode != 0 or not result.exists():
        sys.exit(f"wrk failed ({proc.returncode}):\n{output}")
    codes: Counter = Counter()
    latencies: list[float] = []
    starts, ends = [], []
    lines = result.read_text().splitlines()
    connect, read, write, timeout = map(int, lines[0].split()[1:])
    for line in lines[1:]:
        if line.startswith("thread"):
            _, start, end, n = line.split()
            if int(n):
                starts.append(float(start))
                ends.append(float(end))
            continue
        status, micros = line.split()
        codes[int(status)] += 1
        latencies.append(float(micros) / 1000)
    seconds = (max(ends) - min(starts)) / 1e6 if starts else float("nan")
    return Run(codes, latencies, seconds, {"connect": connect, "read": read, "write": write, "timeout": timeout},
               cpus)


def describe(run: Run) -> str:
    codes = ", ".join(f"{n} x {status}" for status, n in sorted(run.codes.items()))
    errors = ", ".join(f"{k} {v}" for k, v in run.socket_errors.items() if v)
    return (f"{run.responses} responses in {run.seconds:.2f} s: {run.responses / run.seconds:.0f}/s, "
            f"p50 {run.percentile(50):.1f} ms, p99 {run.percentile(99):.1f} ms, max {max(run.latencies_ms):.0f} ms "
            f"({codes}{'; socket errors: ' + errors if errors else ''}); "
            f"CPUs busy {run.cpus['busy']:.2f}: gunicorn {run.cpus['server']:.2f}, redis {run.cpus['redis']:.2f}, "
            f"wrk {run.cpus['reaped']:.2f}, everything else {run.cpus['others']:.2f}")


# -- the run ----------------------------------------------------------------------


def main() -> None:
    cores = os.cpu_count() or 1
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=5000, metavar="N", help="timed voters (default 5000)")
    parser.add_argument("--duration", type=float, default=30.0, metavar="S",
                        help="longest ballot run, and the hello run's length (default 30)")
    parser.add_argument("--concurrency", type=int, default=16, metavar="C", help="connections (default 16)")
    # Two workers per core: with keep-alive connections each gthread worker keeps the ones it
    # accepted, and with only one worker per core an unlucky split leaves a core idle.
    parser.add_argument("--workers", type=int, default=2 * cores, metavar="W",
                        help="gunicorn workers (default: 2 per core)")
    parser.add_argument("--threads", type=int, default=2, metavar="T", help="threads per worker (default 2)")
    parser.add_argument("--worker-class", default="gthread", metavar="K", help="gunicorn worker class (gthread)")
    args = parser.parse_args()
    if args.voters < args.concurrency:
        parser.error("--voters must be at least --concurrency (each wrk connection needs its own voters)")
    # gunicorn itself runs sync workers with more than one thread as gthread.
    worker_class = "gthread" if args.worker_class == "sync" and args.threads > 1 else args.worker_class
    settings = {"workers": args.workers, "threads": args.threads, "worker_class": worker_class}
    wrk = require_wrk()
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split(" [")[0]

    with tempfile.TemporaryDirectory(prefix="kisspoll-load-") as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        try:
            redis_url = stack.enter_context(redis_server(tmp / "redis"))
        except ServiceUnavailable as error:
            sys.exit(f"bench/load.py needs redis-server: {error}")
        database = tmp / "kisspoll.db"
        env = app_environment(
            tmp, KISSPOLL_ENV="production", SECRET_KEY="bench-load-secret", DATABASE_URL=f"sqlite:///{database}",
            REDIS_URL=redis_url, TRUSTED_PROXY_HOPS="1", RATELIMIT_BALLOT=HIGH_LIMIT,
            RATELIMIT_BALLOT_ADDRESS=HIGH_LIMIT, RATELIMIT_BALLOT_POLL=HIGH_LIMIT)
        flask_command(env, "polls", "init-db")
        flask_command(env, "polls", "demo")
        print(f"machine: {cores} vCPUs, load average {os.getloadavg()[0]:.2f} before the run; "
              f"{wrk_version}; SQLite {sqlite3.sqlite_version} file in {tmp}", flush=True)
        print(f"gunicorn: {args.workers} workers x {args.threads} threads ({worker_class}), the same for both apps; "
              f"wrk: {args.concurrency} connections, one thread each", flush=True)
        warm_count = 4 * args.workers * args.threads
        parallel = args.workers * args.threads

        with served(tmp, "app:create_app()", env, settings) as port:
            status, body = get(port, f"/api/v1/polls/{SLUG}")
            if status != 200:
                sys.exit(f"GET /api/v1/polls/{SLUG}: {status}")
            poll = json.loads(body)
            ids = [c["id"] for c in poll["candidates"]]
            start = time.perf_counter()
            voters = prepare_voters(port, args.voters + warm_count, ids, poll["max_ranks"] or len(ids))
            print(f"voters: {args.voters} prepared (+{warm_count} for warm-up) in "
                  f"{time.perf_counter() - start:.1f} s, untimed; {len(ids)} scenes", flush=True)
            warm = warm_up(port, voters[args.voters:], parallel)
            if set(warm) != {201}:
                sys.exit(f"warm-up ballots were not all 201: {dict(warm)}")
            voters_file = tmp / "voters.tsv"
            write_voters(voters_file, voters[:args.voters])
            rows_before = ballot_rows(database)
            ballots = run_wrk(wrk, port, tmp, voters_file, args.concurrency, args.duration, wrap=False)
        rows = ballot_rows(database) - rows_before
        counted = counted_ballots(database) - rows_before
        print(f"app   ballots: {describe(ballots)}", flush=True)

        with served(tmp, "bench.hello_app:app", env, settings) as port:
            warm_up(port, voters[args.voters:], parallel)
            hello = run_wrk(wrk, port, tmp, voters_file, args.concurrency, args.duration, wrap=True)
        print(f"hello (same requests): {describe(hello)}", flush=True)

    created = ballots.codes[201]
    ballot_rate = created / ballots.seconds
    hello_rate = hello.codes[200] / hello.seconds
    ratio = ballot_rate / hello_rate
    lost = created - rows
    verdict = "PASS" if ratio >= TARGET else "MISS"
    print(f"ballots/s {ballot_rate:.0f}  hello req/s {hello_rate:.0f}  ratio {ratio:.2f} "
          f"(target >= {TARGET:.2f}, aim {AIM:.2f}) {verdict}  p50 {ballots.percentile(50):.1f} ms  "
          f"p99 {ballots.percentile(99):.1f} ms  201s {created}  rows {rows}  lost {lost}")
    if ballots.responses < args.voters:
        print(f"note: {ballots.responses} of {args.voters} voters voted within {args.duration:g} s; "
              f"the rate is over those")
    failures = []
    if created != ballots.responses:
        failures.append(f"not every ballot was answered 201: {dict(ballots.codes)}")
    if rows != created:
        failures.append(f"{created} ballots answered 201 but {rows} new rows in the database")
    if counted != rows:
        failures.append(f"the ranking counts hold {counted} new ballots, the ballot table {rows}")
    if failures:
        for text in SERVER_LOGS.values():
            print(f"-- gunicorn log of {text[-3000:]}")
        sys.exit("FAIL: " + "; ".join(failures))


if __name__ == "__main__":
    main()
