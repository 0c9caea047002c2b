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

The set-up, wrk and its Lua script, and the CPU accounting are bench/harness.py's, shared
with bench/widget.py.
Needs wrk (Debian package `wrk`; installed with apt-get when missing and run as root).
Exits non-zero when a ballot is lost or any ballot is not answered 201, never on timing.
Usage: python bench/load.py [--voters N] [--duration S] [--concurrency C]
       [--workers W] [--threads T] [--worker-class K]
"""
import argparse
import json
import sqlite3
import sys
import time
from pathlib import Path

from harness import (APP, HELLO_APP, Request, Voter, add_server_arguments, demo_services, describe, get,
                     prepare_voters, print_server_logs, print_setup, require_wrk, run_wrk, served,
                     server_settings, warm_up, write_requests)

SLUG = "best-kiss-2014"
BALLOTS = f"/api/v1/polls/{SLUG}/ballots"
TARGET, AIM = 0.30, 0.40  # ballots/s as a share of hello req/s
HIGH_LIMIT = "1000000 per minute"


def ballot_rows(database: Path) -> int:
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT count(*) FROM ballot JOIN poll ON poll.id = ballot.poll_id "
                            "WHERE poll.slug = ?", (SLUG,)).fetchone()[0]


def counted_ballots(database: Path) -> int:
    """The poll's ballots as the ranking counts (kept by triggers) have them."""
    with sqlite3.connect(database) as conn:
        return conn.execute("SELECT coalesce(sum(ballots), 0) FROM ranking_count JOIN poll "
                            "ON poll.id = ranking_count.poll_id WHERE poll.slug = ?", (SLUG,)).fetchone()[0]


def ballot_requests(voters: list[Voter]) -> list[Request]:
    return [v.ballot(BALLOTS) for v in voters]


# -- the run ----------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=5000, metavar="N", help="timed voters (default 5000)")
    parser.add_argument("--duration", type=float, default=30.0, metavar="S",
                        help="longest ballot run, and the hello run's length (default 30)")
    add_server_arguments(parser)
    args = parser.parse_args()
    if args.voters < args.concurrency:
        parser.error("--voters must be at least --concurrency (each wrk connection needs its own voters)")
    settings = server_settings(args)
    wrk = require_wrk()

    with demo_services("kisspoll-load-", "bench-load-secret", RATELIMIT_BALLOT=HIGH_LIMIT,
                       RATELIMIT_BALLOT_ADDRESS=HIGH_LIMIT, RATELIMIT_BALLOT_POLL=HIGH_LIMIT) as (tmp, env, database):
        print_setup(tmp, settings, args.concurrency, wrk)
        warm_count = 4 * args.workers * args.threads
        parallel = args.workers * args.threads

        with served(tmp, APP, env, settings) as port:
            status, body = get(port, f"/api/v1/polls/{SLUG}")
            if status != 200:
                sys.exit(f"GET /api/v1/polls/{SLUG}: {status}")
            poll = json.loads(body)
            ids = [c["id"] for c in poll["candidates"]]
            start = time.perf_counter()
            voters = prepare_voters(port, SLUG, args.voters + warm_count, ids, poll["max_ranks"] or len(ids))
            print(f"voters: {args.voters} prepared (+{warm_count} for warm-up) in "
                  f"{time.perf_counter() - start:.1f} s, untimed; {len(ids)} scenes", flush=True)
            warm_ballots = ballot_requests(voters[args.voters:])
            warm = warm_up(port, warm_ballots, parallel)
            if set(warm) != {201}:
                sys.exit(f"warm-up ballots were not all 201: {dict(warm)}")
            voters_file = tmp / "voters.tsv"
            write_requests(voters_file, ballot_requests(voters[:args.voters]))
            rows_before = ballot_rows(database)
            ballots = run_wrk(wrk, port, tmp, voters_file, args.concurrency, args.duration, wrap=False)
        rows = ballot_rows(database) - rows_before
        counted = counted_ballots(database) - rows_before
        print(f"app   ballots: {describe(ballots)}", flush=True)

        with served(tmp, HELLO_APP, env, settings) as port:
            warm_up(port, warm_ballots, parallel)
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
        print_server_logs()
        sys.exit("FAIL: " + "; ".join(failures))


if __name__ == "__main__":
    main()
