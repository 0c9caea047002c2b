"""Cached result widget benchmark (design.md "Performance targets"), against bare Flask.

Requests per second of the cached result widget under gunicorn against a bare Flask
"hello" app (bench/hello_app.py) in the same run; target: at least 0.80 of hello's.

The set-up is bench/load.py's (bench/harness.py): in a temporary directory a real
redis-server, a fresh SQLite file (`flask polls init-db` and `polls demo`), the app under
gunicorn with TRUSTED_PROXY_HOPS=1, and the hello app beside it under the same gunicorn
settings.  The widget is that of the demo's closed poll best-kiss-all-time (240 ballots,
10 rounds), which each process keeps rendered (polls.widgets): after an untimed warm-up
from many fresh connections, so that every worker has its copy, wrk sends the same GET
over and over from C keep-alive connections (one wrk thread each).  Timed, each against
the app and then the very same requests against the hello app:

  widget    GET /embed/best-kiss-all-time (the HTML page, default view): the headline
  304       the same GET with If-None-Match: <its ETag>, answered 304 with no body
  flow+svg  GET /embed/best-kiss-all-time?view=flow and the image
            /embed/best-kiss-all-time.svg?view=bars, in turn on every connection

Each is --rounds alternating runs of --duration/--rounds seconds per app, new connections
every run (with keep-alive, which worker holds how many of them is luck, and it moves
req/s a lot on a small machine; the report shows the spread).  Prints for each app and
requests the rate, p50/p99 latency, statuses, how the CPUs were used (gunicorn, Redis,
wrk, everything else: the machine may be shared), gunicorn's CPU time per response (which
a busy machine disturbs less than req/s), the ratios, and last a line with the headline
ratio against the target.

Live check (correctness, not timing), before and after the timed runs: one real ballot
into the open demo poll best-kiss-2014 (its page's cookies and CSRF token, a JSON POST),
right after the poll's badge widget was fetched from every worker; then
GET /embed/best-kiss-2014?view=badge on fresh connections until it shows the new count
("1 ballot", "2 ballots") on every answer, and how long that took (the widgets' cache
promises about WIDGET_FRESH_SECONDS=2).

Needs wrk (Debian package `wrk`; installed with apt-get when missing and run as root).
Exits non-zero when a status is not the expected 200 (or 304), on socket errors, when wrk
fails, or when the live check does not see its ballot within 15 s; never on timing.
Usage: python bench/widget.py [--duration S] [--rounds R] [--concurrency C]
       [--workers W] [--threads T] [--worker-class K]
"""
import argparse
import json
import re
import sqlite3
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from harness import (APP, HELLO_APP, Request, Run, demo_services, add_server_arguments, describe, fetch, get,
                     prepare_voters, print_server_logs, print_setup, require_wrk, run_wrk, served,
                     server_settings, write_requests)

SLUG = "best-kiss-all-time"  # closed: 240 ballots, 10 rounds
WIDGET = f"/embed/{SLUG}"
LIVE_SLUG = "best-kiss-2014"  # open: the live check votes in it
BADGE = f"/embed/{LIVE_SLUG}?view=badge"
TARGET = 0.80  # cached widget req/s as a share of hello req/s
PAGE_BUDGET = 15 * 1024  # design.md: a widget page under 15 KB
FRESH_SECONDS = 2  # the app's default WIDGET_FRESH_SECONDS (not set here)
LIVE_DEADLINE = 15.0  # seconds for the live check to see its ballot
LIVE_STEADY = 1.0  # ... and then on every answer for this long
LIVE_POLL = 0.02  # seconds between the live check's GETs
WARM_ROUNDS = 8  # warm-up: each request this many times per worker thread, from fresh connections
TAGS = re.compile(r"<[^>]*>")


@dataclass
class Scenario:
    name: str
    requests: list[Request]
    expected: frozenset[int]  # the app's statuses that are fine (hello answers 200 to all)
    app: Run | None = None
    hello: Run | None = None


def failure_exit(failures: list[str]) -> None:
    print_server_logs()
    sys.exit("FAIL: " + "; ".join(failures))


def text_of(page: bytes) -> str:
    return " ".join(TAGS.sub(" ", page.decode(errors="replace")).split())


def size_of(response) -> str:
    """The body's size, and for a page whether it keeps to the budget."""
    size = len(response.data)
    if not (response.headers.get("Content-Type") or "").startswith("text/html"):
        return f"{size} bytes"
    return f"{size} bytes ({'under' if size < PAGE_BUDGET else 'OVER'} the {PAGE_BUDGET // 1024} KB page budget)"


def probe(port: int) -> tuple[str, list[str]]:
    """Untimed checks of the widget's answers; its ETag, and notes for the report."""
    notes = []
    etags = set()
    for _ in range(8):  # fresh connections: several workers
        r = fetch(port, Request("GET", WIDGET))
        if r.status != 200:
            failure_exit([f"GET {WIDGET}: {r.status} {r.data[:300]!r}"])
        etags.add(r.headers.get("ETag"))
    etag = r.headers.get("ETag")
    if not etag:
        failure_exit([f"GET {WIDGET} carries no ETag: nothing to revalidate"])
    if len(etags) > 1:
        notes.append(f"workers answer different ETags for one widget: {sorted(map(str, etags))}")
    cookies = r.headers.get_all("Set-Cookie") or []
    if cookies:
        notes.append(f"the widget sets cookies: {cookies}")
    print(f"widget: GET {WIDGET} {r.status} {r.headers.get('Content-Type')}, {size_of(r)}, ETag {etag}, "
          f"Cache-Control: {r.headers.get('Cache-Control')}, "
          f"{'cookies: ' + str(len(cookies)) if cookies else 'no cookies'}", flush=True)
    again = fetch(port, Request("GET", WIDGET, {"If-None-Match": etag}))
    if again.status != 304 or again.data:
        failure_exit([f"GET {WIDGET} with If-None-Match {etag}: {again.status}, {len(again.data)} bytes"])
    for path in (f"{WIDGET}?view=flow", f"{WIDGET}.svg?view=bars"):
        r = fetch(port, Request("GET", path))
        if r.status != 200:
            failure_exit([f"GET {path}: {r.status} {r.data[:300]!r}"])
        print(f"        GET {path} {r.status} {r.headers.get('Content-Type')}, {size_of(r)}", flush=True)
    return etag, notes


def warm(port: int, requests: list[Request], parallel: int) -> set[int]:
    """Each request WARM_ROUNDS x `parallel` times, each on a fresh connection (so that
    every worker accepts some); the statuses answered."""
    with ThreadPoolExecutor(parallel) as pool:
        return set(pool.map(lambda r: fetch(port, r, timeout=30).status, requests * (WARM_ROUNDS * parallel)))


def live_check(port: int, database: Path, parallel: int, number: int) -> tuple[float | None, float, int, str]:
    """One real ballot into LIVE_SLUG, then the badge widget until it shows the new count on
    every answer: (seconds after the ballot until first shown, or None; seconds from which
    every answer showed it; the GETs made; a failure, or "")."""
    status, body = get(port, f"/api/v1/polls/{LIVE_SLUG}")
    if status != 200:
        return None, 0.0, 0, f"GET /api/v1/polls/{LIVE_SLUG}: {status}"
    poll = json.loads(body)
    ids = [c["id"] for c in poll["candidates"]]
    with sqlite3.connect(database) as conn:
        count = conn.execute("SELECT count(*) FROM ballot JOIN poll ON poll.id = ballot.poll_id "
                             "WHERE poll.slug = ?", (LIVE_SLUG,)).fetchone()[0] + 1
    shows = re.compile(rf"\b{count} ballots?\b")
    # The voter numbers 1000000+ keep these addresses apart from any other bench's.
    voter = prepare_voters(port, LIVE_SLUG, 1, ids, poll["max_ranks"] or len(ids), first=1_000_000 + number)[0]
    badge = Request("GET", BADGE)
    with ThreadPoolExecutor(parallel) as pool:  # every worker keeps the badge as it is now
        before = list(pool.map(lambda r: fetch(port, r, timeout=30), [badge] * (WARM_ROUNDS * parallel)))
    if any(r.status != 200 for r in before):
        return None, 0.0, 0, f"GET {BADGE}: {sorted({r.status for r in before})}"
    if any(shows.search(text_of(r.data)) for r in before):
        return None, 0.0, 0, f"GET {BADGE} shows {count} ballots before the ballot: {text_of(before[0].data)[:200]!r}"
    answer = fetch(port, voter.ballot(f"/api/v1/polls/{LIVE_SLUG}/ballots"), timeout=30)
    cast = time.monotonic()
    if answer.status != 201:
        return None, 0.0, 0, f"live ballot: {answer.status} {answer.data[:300]!r}"
    # Until the new count has been on every answer for LIVE_STEADY seconds, and for long
    # enough that every worker's copy from before the ballot is past its fresh period.
    first_seen = steady_from = last_stale = None
    polls, last_text = 0, ""
    while True:
        r = fetch(port, badge)
        elapsed = time.monotonic() - cast
        polls += 1
        if r.status != 200:
            return first_seen, steady_from or 0.0, polls, f"GET {BADGE}: {r.status}"
        last_text = text_of(r.data)
        if shows.search(last_text):
            first_seen = elapsed if first_seen is None else first_seen
            steady_from = elapsed if steady_from is None else steady_from
        else:
            last_stale, steady_from = elapsed, None
        if (steady_from is not None and elapsed - steady_from >= LIVE_STEADY
                and elapsed >= FRESH_SECONDS + LIVE_STEADY):
            return first_seen, steady_from, polls, ""
        if elapsed > LIVE_DEADLINE:
            seen = (f"first shown after {first_seen:.2f} s, but an answer at {last_stale or 0:.2f} s was still old"
                    if first_seen is not None else f"never shown; it says {last_text[:200]!r}")
            return first_seen, steady_from or 0.0, polls, (
                f"live check: {BADGE} did not show {count} ballot(s) on every answer within {LIVE_DEADLINE:g} s "
                f"({seen})")
        time.sleep(LIVE_POLL)


def live(port: int, database: Path, parallel: int, number: int, failures: list[str]) -> float | None:
    first, steady, polls, failure = live_check(port, database, parallel, number)
    if failure:
        failures.append(failure)
        print(f"live {number}: {failure}", flush=True)
        return None
    print(f"live {number}: ballot into {LIVE_SLUG} answered 201; {BADGE} showed it after {first:.2f} s, "
          f"on every answer from {steady:.2f} s on ({polls} GETs on fresh connections; "
          f"WIDGET_FRESH_SECONDS={FRESH_SECONDS} by default)", flush=True)
    return steady


def spread(run: Run) -> str:
    return ", ".join("/".join(map(str, s)) for s in run.splits) or "not seen"


def rounds_line(runs: list[Run], combined: Run) -> str:
    rates = ", ".join(f"{r.responses / r.seconds:.0f}/s [{spread(r)}]" for r in runs)
    return f"        rounds (connections per worker): {rates}; gunicorn CPU {combined.server_ms():.3f} ms/response"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15.0, metavar="S",
                        help="timed seconds per app and requests, over all rounds (default 15)")
    parser.add_argument("--rounds", type=int, default=3, metavar="R",
                        help="alternating app/hello runs the duration is split into (default 3)")
    add_server_arguments(parser)
    args = parser.parse_args()
    if args.rounds < 1 or args.duration / args.rounds < 1:
        parser.error("each round needs at least a second (--duration / --rounds >= 1)")
    settings = server_settings(args)
    wrk = require_wrk()
    failures: list[str] = []
    parallel = args.workers * args.threads
    run_seconds = args.duration / args.rounds

    with demo_services("kisspoll-widget-", "bench-widget-secret") as (tmp, env, database):
        print_setup(tmp, settings, args.concurrency, wrk)
        with served(tmp, APP, env, settings) as port, served(tmp, HELLO_APP, env, settings) as hello_port:
            etag, notes = probe(port)
            live_before = live(port, database, parallel, 1, failures)
            scenarios = [
                Scenario("widget", [Request("GET", WIDGET)], frozenset({200})),
                Scenario("304", [Request("GET", WIDGET, {"If-None-Match": etag})], frozenset({200, 304})),
                Scenario("flow+svg", [Request("GET", f"{WIDGET}?view=flow"),
                                      Request("GET", f"{WIDGET}.svg?view=bars")], frozenset({200})),
            ]
            everything = [r for s in scenarios for r in s.requests]
            for target, expected in ((port, {200, 304}), (hello_port, {200})):
                statuses = warm(target, everything, parallel)
                if not statuses <= expected:
                    failure_exit([f"warm-up answered {sorted(statuses)}"])
            print(f"warm-up: each of {len(everything)} requests {WARM_ROUNDS * parallel} times on fresh connections, "
                  f"both apps; timed: {args.rounds} x {run_seconds:g} s per app and requests, alternating", flush=True)
            for n, scenario in enumerate(scenarios):
                requests_file = tmp / f"requests-{n}.tsv"
                write_requests(requests_file, scenario.requests)
                runs: dict[int, list[Run]] = {port: [], hello_port: []}
                for _ in range(args.rounds):
                    for target in runs:
                        runs[target].append(run_wrk(wrk, target, tmp, requests_file, args.concurrency, run_seconds,
                                                    wrap=True, split=False, sample_split=True))
                scenario.app, scenario.hello = Run.combine(runs[port]), Run.combine(runs[hello_port])
                label = " + ".join(r.path + (" (If-None-Match)" if r.headers else "") for r in scenario.requests)
                print(f"{scenario.name:8s} GET {label}:\n  app   {describe(scenario.app)}", flush=True)
                print(rounds_line(runs[port], scenario.app), flush=True)
                if len(scenario.requests) > 1:
                    for line, request in enumerate(scenario.requests):
                        part = scenario.app.only(line)
                        print(f"        {request.path}: {part.responses} responses, p50 {part.percentile(50):.1f} ms, "
                              f"p99 {part.percentile(99):.1f} ms", flush=True)
                print(f"  hello (same requests): {describe(scenario.hello)}", flush=True)
                print(rounds_line(runs[hello_port], scenario.hello), flush=True)
                app_rate, hello_rate = (run.responses / run.seconds for run in (scenario.app, scenario.hello))
                print(f"  ratio {app_rate / hello_rate:.2f} in req/s, "
                      f"{scenario.hello.server_ms() / scenario.app.server_ms():.2f} in gunicorn CPU per response "
                      f"(hello's / the app's)", flush=True)
                for name, run, expected in (("app", scenario.app, scenario.expected),
                                            ("hello", scenario.hello, frozenset({200}))):
                    if not set(run.codes) <= expected:
                        failures.append(f"{scenario.name}: the {name} answered {dict(run.codes)}")
                    if any(run.socket_errors.values()):
                        failures.append(f"{scenario.name}: socket errors talking to the {name}: {run.socket_errors}")
                if scenario.name == "304" and scenario.app.codes[200]:
                    notes.append(f"{scenario.app.codes[200]} of the revalidations were answered 200, not 304")
            live_after = live(port, database, parallel, 2, failures)

    widget, revalidated, mixed = scenarios
    hello_rate = widget.hello.rate(200)
    ratio = widget.app.rate(200) / hello_rate
    ratio_304 = revalidated.app.rate(304) / revalidated.hello.rate(200)
    ratio_mixed = mixed.app.rate(200) / mixed.hello.rate(200)
    lives = "/".join(f"{s:.2f}" if s is not None else "FAIL" for s in (live_before, live_after))
    for note in notes:
        print(f"note: {note}")
    print(f"widget req/s {widget.app.rate(200):.0f}  hello req/s {hello_rate:.0f}  ratio {ratio:.2f} "
          f"(target >= {TARGET:.2f}) {'PASS' if ratio >= TARGET else 'MISS'}  p50 {widget.app.percentile(50):.1f} ms  "
          f"p99 {widget.app.percentile(99):.1f} ms  304 ratio {ratio_304:.2f}  flow+svg ratio {ratio_mixed:.2f}  "
          f"live {lives} s")
    if failures:
        failure_exit(failures)


if __name__ == "__main__":
    main()
