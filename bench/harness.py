"""What the gunicorn benchmarks share (bench/load.py, bench/widget.py); no benchmark itself.

The set-up (``demo_services``: a temporary directory with a real redis-server and a
fresh SQLite file holding ``flask polls init-db`` + ``polls demo``; ``served``: an app
under gunicorn via tests/services.py), the simulated voters (``prepare_voters``), the
requests (``Request``, written one a line for the wrk script), ``run_wrk``, which sends
them from C wrk connections (one wrk thread each) and keeps every response's status
and latency, ``cpu_seconds`` (how the CPUs were used during a run) and ``describe``
(one result line).  The command-line options every benchmark takes come from
``add_server_arguments`` and ``server_settings``.

Imported, never run: ``make bench`` runs every bench/*.py, so as a script it only says so.
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
from dataclasses import dataclass, field, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
from services import (ServiceUnavailable, app_environment, flask_command,  # noqa: E402
                      gunicorn_server, redis_server)

CSRF_META = re.compile(rb'<meta name="csrf-token" content="([^"]+)"')
PREP_THREADS = 8  # client threads preparing voters (untimed; the server is the bottleneck)
HELLO_APP = "bench.hello_app:app"
APP = "app:create_app()"

# The wrk script, written to the temporary directory.  Every wrk thread gets exactly
# one connection (-t C -c C), so request() and response() alternate on it and the time
# between them is that request's own latency.  (wrk's own histogram is "corrected" for
# coordinated omission with synthetic samples; we report what the clients saw.)
# Requests are formatted once in init(), so the timed loop does almost no Lua work.
# The requests file has one request a line: method, path, body (may be empty), then
# header names and values, all separated by tabs.  With KP_SPLIT=1 each thread takes
# every C-th line (each request goes out once, from one connection: the ballots);
# otherwise every thread takes them all, each starting at another line, so that a mix
# of requests is mixed from the first second.  Each response is kept with the line of
# its request.
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
  local split = os.getenv("KP_SPLIT") == "1"
  wrap = os.getenv("KP_MODE") == "wrap"
  queue, lines, lat, codes, kinds = {}, {}, {}, {}, {}
  local i = 0
  for line in io.lines(os.getenv("KP_REQUESTS")) do
    if not split or i % nthreads == id then
      local f = {}
      for part in (line .. "\t"):gmatch("([^\t]*)\t") do f[#f + 1] = part end
      local headers = {}
      for k = 4, #f - 1, 2 do headers[f[k]] = f[k + 1] end
      queue[#queue + 1] = wrk.format(f[1], f[2], headers, f[3] ~= "" and f[3] or nil)
      lines[#queue] = i
    end
    i = i + 1
  end
  offset = split and 0 or id
  sent, served, t0, current = 0, 0, 0, 1
  duration_us = tonumber(os.getenv("KP_DURATION_US"))
end

function request()
  sent = sent + 1
  t0 = now_us()
  if first == nil then first = t0 end
  current = (sent - 1 + offset) % #queue + 1  -- wraps only with KP_MODE=wrap
  return queue[current]
end

function response(status, headers, body)
  local t = now_us()
  served = served + 1
  lat[served] = t - t0
  codes[served] = status
  kinds[served] = lines[current]
  last = t
  -- Stop on a response, never mid-request, so that no request is left in flight:
  -- once every request of this thread has gone out (KP_MODE=once), or when the
  -- duration is over.
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
    local lat, codes, kinds = t:get("lat"), t:get("codes"), t:get("kinds")
    out:write(string.format("thread %.1f %.1f %d\n", t:get("first") or -1, t:get("last") or -1, #lat))
    for i = 1, #lat do out:write(codes[i], " ", string.format("%.1f", lat[i]), " ", kinds[i], "\n") end
  end
  out:close()
end
"""


@dataclass(frozen=True)
class Request:
    """One HTTP request as wrk sends it (and as the untimed helpers send it)."""

    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: str = ""

    def line(self) -> str:
        parts = [self.method, self.path, self.body, *(x for pair in self.headers.items() for x in pair)]
        if any("\t" in p or "\n" in p for p in parts):
            raise ValueError(f"a tab or newline in {self}")
        return "\t".join(parts) + "\n"


def write_requests(path: Path, requests: list[Request]) -> None:
    with open(path, "w") as out:
        out.writelines(r.line() for r in requests)


@dataclass
class Voter:
    address: str
    cookie: str
    token: str
    body: str

    def ballot(self, path: str) -> Request:
        """This voter's JSON ballot POST, to `path`."""
        return Request("POST", path, {"Cookie": self.cookie, "X-CSRFToken": self.token,
                                      "X-Forwarded-For": self.address, "Content-Type": "application/json"},
                       self.body)


@dataclass
class Run:
    """One wrk run: every response's status and latency (ms), over the active window."""

    codes: Counter
    latencies_ms: list[float]
    seconds: float
    socket_errors: dict[str, int]
    cpus: dict[str, float]  # average CPUs busy during the run: machine, server, redis, wrk ("reaped"), others
    statuses: list[int] = field(default_factory=list)  # each response's, in the order of latencies_ms
    lines: list[int] = field(default_factory=list)  # each response's request: its line in the requests file
    wall: float = 0.0  # seconds the CPUs were measured over (wrk's whole life)
    splits: list[list[int]] = field(default_factory=list)  # connections per server process, if sampled

    @classmethod
    def combine(cls, runs: list["Run"]) -> "Run":
        """Several runs of the same requests as one: their responses, windows and CPU time."""
        wall = sum(r.wall for r in runs)
        return cls(sum((r.codes for r in runs), Counter()), [x for r in runs for x in r.latencies_ms],
                   sum(r.seconds for r in runs),
                   {k: sum(r.socket_errors[k] for r in runs) for k in runs[0].socket_errors},
                   {k: sum(r.cpus[k] * r.wall for r in runs) / wall for k in runs[0].cpus},
                   [x for r in runs for x in r.statuses], [x for r in runs for x in r.lines], wall,
                   [s for r in runs for s in r.splits])

    def server_ms(self) -> float:
        """The server's CPU time per response (ms): less sensitive than req/s to a busy machine."""
        return self.cpus["server"] * self.wall / self.responses * 1000

    @property
    def responses(self) -> int:
        return len(self.latencies_ms)

    def rate(self, status: int) -> float:
        """Responses with `status` per second."""
        return self.codes[status] / self.seconds

    def percentile(self, p: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))] if ordered else float("nan")

    def only(self, line: int) -> "Run":
        """The responses to the request on `line` of the requests file (same window and CPUs)."""
        kept = [i for i, n in enumerate(self.lines) if n == line]
        statuses = [self.statuses[i] for i in kept]
        return replace(self, codes=Counter(statuses), latencies_ms=[self.latencies_ms[i] for i in kept],
                       statuses=statuses, lines=[line] * len(kept))


# -- tools, services, servers -------------------------------------------------------


def script_name() -> str:
    return f"bench/{Path(sys.argv[0]).name}"


def require_wrk() -> str:
    """wrk's path, installing the Debian package when missing and we are root."""
    if shutil.which("wrk") is None:
        if os.geteuid() == 0 and shutil.which("apt-get"):
            print("wrk is not installed: apt-get install wrk", flush=True)
            subprocess.run(["apt-get", "update", "-qq"], check=True)
            subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True,
                           env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}, stdout=subprocess.DEVNULL)
        if shutil.which("wrk") is None:
            sys.exit(f"{script_name()} needs wrk: apt-get install wrk (Debian package)")
    return shutil.which("wrk")


def wrk_version(wrk: str) -> str:
    return subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split(" [")[0]


def fetch(port: int, request: Request, timeout: float = 5.0) -> http.client.HTTPResponse:
    """`request` on a connection of its own; the response, its body read (``.data``)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request(request.method, request.path, body=request.body or None, headers=request.headers)
        response = conn.getresponse()
        response.data = response.read()
        return response
    finally:
        conn.close()


def get(port: int, path: str, timeout: float = 5.0) -> tuple[int, bytes]:
    response = fetch(port, Request("GET", path), timeout)
    return response.status, response.data


@contextmanager
def demo_services(prefix: str, secret: str, **settings: str) -> Iterator[tuple[Path, dict, Path]]:
    """A temporary directory with a redis-server and a fresh SQLite file holding the demo
    polls (`flask polls init-db`, `polls demo`); yields it, the app's environment (with
    TRUSTED_PROXY_HOPS=1 and `settings`) and the database file."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp_dir, ExitStack() as stack:
        tmp = Path(tmp_dir)
        try:
            redis_url = stack.enter_context(redis_server(tmp / "redis"))
        except ServiceUnavailable as error:
            sys.exit(f"{script_name()} needs redis-server: {error}")
        database = tmp / "kisspoll.db"
        env = app_environment(tmp, KISSPOLL_ENV="production", SECRET_KEY=secret, DATABASE_URL=f"sqlite:///{database}",
                              REDIS_URL=redis_url, TRUSTED_PROXY_HOPS="1", **settings)
        flask_command(env, "polls", "init-db")
        flask_command(env, "polls", "demo")
        yield tmp, env, database


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


def print_server_logs() -> None:
    for text in SERVER_LOGS.values():
        print(f"-- gunicorn log of {text[-3000:]}")


# -- options ------------------------------------------------------------------------


def add_server_arguments(parser: argparse.ArgumentParser) -> None:
    """--concurrency, --workers, --threads, --worker-class (the same defaults everywhere)."""
    cores = os.cpu_count() or 1
    parser.add_argument("--concurrency", type=int, default=16, metavar="C", help="connections (default 16)")
    # Two workers per core: with keep-alive connections each gthread worker keeps the ones it
    # accepted, and with only one worker per core an unlucky split leaves a core idle.
    parser.add_argument("--workers", type=int, default=2 * cores, metavar="W",
                        help="gunicorn workers (default: 2 per core)")
    parser.add_argument("--threads", type=int, default=2, metavar="T", help="threads per worker (default 2)")
    parser.add_argument("--worker-class", default="gthread", metavar="K", help="gunicorn worker class (gthread)")


def server_settings(args: argparse.Namespace) -> dict:
    # gunicorn itself runs sync workers with more than one thread as gthread.
    worker_class = "gthread" if args.worker_class == "sync" and args.threads > 1 else args.worker_class
    return {"workers": args.workers, "threads": args.threads, "worker_class": worker_class}


def print_setup(tmp: Path, settings: dict, connections: int, wrk: str) -> None:
    print(f"machine: {os.cpu_count() or 1} vCPUs, load average {os.getloadavg()[0]:.2f} before the run; "
          f"{wrk_version(wrk)}; SQLite {sqlite3.sqlite_version} file in {tmp}", flush=True)
    print(f"gunicorn: {settings['workers']} workers x {settings['threads']} threads ({settings['worker_class']}), "
          f"the same for both apps; wrk: {connections} connections, one thread each", flush=True)


# -- voters ---------------------------------------------------------------------------


def address(n: int) -> str:
    """A distinct client address per voter (10.0.0.0/8 holds 16 million)."""
    return f"10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}"


def prepare_voters(port: int, slug: str, count: int, ids: list[int], max_ranks: int, first: int = 0) -> list[Voter]:
    """`count` voters (numbered from `first`, which gives each its address), each from one
    GET of the poll page /p/`slug`: cookies, CSRF token, a ranking."""
    poll_page = f"/p/{slug}"
    voters: list[Voter | None] = [None] * count
    errors: list[str] = []

    def work(part: range) -> None:
        rng = random.Random(first + part.start)  # the same rankings for the same voters
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for i in part:
                xff = address(first + i)
                conn.request("GET", poll_page, headers={"X-Forwarded-For": xff})
                response = conn.getresponse()
                page = response.read()
                cookies = [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
                token = CSRF_META.search(page)
                if response.status != 200 or token is None or len(cookies) < 2:
                    errors.append(f"GET {poll_page}: {response.status}, cookies {cookies}, token {bool(token)}")
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


def warm_up(port: int, requests: list[Request], parallel: int) -> Counter:
    """Untimed `requests` from `parallel` keep-alive connections, so that every worker thread
    has opened its database and Redis connections (and filled its caches) before timing;
    the statuses answered."""
    counts = [Counter() for _ in range(parallel)]  # one per thread: += on a shared one could race

    def work(share: list[Request], codes: Counter) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            for r in share:
                conn.request(r.method, r.path, body=r.body or None, headers=r.headers)
                response = conn.getresponse()
                response.read()
                codes[response.status] += 1
        finally:
            conn.close()

    threads = [threading.Thread(target=work, args=(requests[i::parallel], counts[i])) for i in range(parallel)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(counts, Counter())


# -- wrk ------------------------------------------------------------------------------


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


def connections_per_process(port: int) -> list[int]:
    """How the established connections to our server on `port` are spread over its
    processes (the gunicorn workers), most first.  With keep-alive, a gthread worker
    keeps each connection it accepted, and which one wins each accept is luck: one
    worker holding most of them is one CPU-bound process, the other cores idle."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as rows:
                next(rows)
                for row in rows:
                    fields = row.split()
                    if fields[3] == "01" and int(fields[1].rsplit(":", 1)[1], 16) == port:  # ESTABLISHED
                        inodes.add(f"socket:[{fields[9]}]")
        except OSError:
            continue
    held = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            links = [os.readlink(f"/proc/{pid}/fd/{fd}") for fd in os.listdir(f"/proc/{pid}/fd")]
        except OSError:
            continue  # gone meanwhile, or not ours to see
        count = sum(link in inodes for link in links)
        if count:
            held.append(count)
    return sorted(held, reverse=True)


def run_wrk(wrk: str, port: int, tmp: Path, requests_file: Path, connections: int, duration: float,
            wrap: bool, split: bool = True, sample_split: bool = False) -> Run:
    """The requests of `requests_file` from `connections` wrk connections: with `split`,
    each connection sends its share (every C-th line), else every connection all of them,
    in turn; each request once (until all have gone or `duration` is over) or, with
    `wrap`, over and over for `duration`.  With `sample_split`, how the connections were
    spread over the server's processes, looked at once a little into the run."""
    label = "wrap" if wrap else "once"
    work = Path(tempfile.mkdtemp(prefix=f"wrk-{label}-{port}-", dir=tmp))
    done_dir = work / "done"
    done_dir.mkdir()
    result = work / "result.txt"
    script = tmp / "requests.lua"
    script.write_text(WRK_SCRIPT)
    env = {**os.environ, "KP_THREADS": str(connections), "KP_MODE": label, "KP_SPLIT": "1" if split else "0",
           "KP_REQUESTS": str(requests_file), "KP_DONE": str(done_dir), "KP_RESULT": str(result),
           "KP_DURATION_US": str(int(duration * 1e6))}
    # The script stops each wrk thread itself (see WRK_SCRIPT); wrk's own -d is only a
    # backstop, as it always sleeps for all of it: once every thread has stopped,
    # SIGINT cuts that short (wrk then joins its threads and runs done() as usual).
    cpu_before = cpu_seconds()
    wall_before = time.monotonic()
    proc = subprocess.Popen(
        [wrk, "-t", str(connections), "-c", str(connections), "-d", f"{round(duration) + 60}s",
         "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}/"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    splits = []
    while proc.poll() is None:
        if sample_split and not splits and time.monotonic() - wall_before >= min(1.0, duration / 2):
            splits.append(connections_per_process(port))
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
    statuses: list[int] = []
    latencies: list[float] = []
    lines: list[int] = []
    starts, ends = [], []
    rows = result.read_text().splitlines()
    connect, read, write, timeout = map(int, rows[0].split()[1:])
    for row in rows[1:]:
        if row.startswith("thread"):
            _, start, end, n = row.split()
            if int(n):
                starts.append(float(start))
                ends.append(float(end))
            continue
        status, micros, line = row.split()
        statuses.append(int(status))
        latencies.append(float(micros) / 1000)
        lines.append(int(line))
    seconds = (max(ends) - min(starts)) / 1e6 if starts else float("nan")
    return Run(Counter(statuses), latencies, seconds,
               {"connect": connect, "read": read, "write": write, "timeout": timeout}, cpus, statuses, lines,
               wall, splits)


def describe(run: Run) -> str:
    codes = ", ".join(f"{n} x {status}" for status, n in sorted(run.codes.items()))
    errors = ", ".join(f"{k} {v}" for k, v in run.socket_errors.items() if v)
    return (f"{run.responses} responses in {run.seconds:.2f} s: {run.responses / run.seconds:.0f}/s, "
            f"p50 {run.percentile(50):.1f} ms, p99 {run.percentile(99):.1f} ms, max {max(run.latencies_ms):.0f} ms "
            f"({codes}{'; socket errors: ' + errors if errors else ''}); "
            f"CPUs busy {run.cpus['busy']:.2f}: gunicorn {run.cpus['server']:.2f}, redis {run.cpus['redis']:.2f}, "
            f"wrk {run.cpus['reaped']:.2f}, everything else {run.cpus['others']:.2f}")


if __name__ == "__main__":
    print("bench/harness.py holds what bench/load.py and bench/widget.py share; nothing to run on its own")
