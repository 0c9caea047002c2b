"""Counting benchmarks, all in one run on the same ballots (design.md "Performance targets").

Builds N ballots (default 1,000,000) with polls.demo.generated_rankings over 12
scene titles (1-5 ranks, skewed), writes them as a counting CSV in the export
format (header ``count,rank1..rank5``, a ``0,<title>`` row per scene, then one
row per distinct ranking with its count) in a temporary directory, then times:

  tally CLI     ``python -m polls.tally FILE --json``, the whole subprocess
                (start-up, reading the CSV, counting, JSON out)
  pyrankvote    the whole subprocess ``bench/tally.py --pyrankvote FILE``: reads
                the same CSV with the csv module, one pyrankvote Ballot per ballot
                (counts expanded), pyrankvote.instant_runoff_voting
  pref_voting   only the count: pref_voting's instant_runoff on a ProfileWithTies
                (one truncated ranking per distinct ballot, with its count; the
                profile is built from the CSV beforehand, untimed)
  import        ``flask polls import-ballots`` (in process) of the CSV into a fresh
                SQLite file: reading, checking and inserting every ballot
  DB->leaderboard  compute_results(): the poll's ranking counts from the database
                (one row per distinct ranking, kept by triggers), the tally,
                the leaderboard (no cache)
  baseline      every ballot row loaded as an ORM object, grouped in Python, tallied
  GET results   the whole API request /api/v1/polls/<slug>/results right after a
                ballot bumped the poll's version (so it recounts and re-caches), and
  cached        a poll_results() cache hit; both when redis-server is installed (one
                is started on a free port in the temporary directory)

Each is the best of 3 runs, or one run when the first takes over SLOW seconds.
Checks that every path names the same winner; prints the times, the ratios and
PASS/MISS against the targets.  Exits non-zero only when a path fails or the
winners disagree, never on timing.
Usage: python bench/tally.py [--ballots N]   (e.g. --ballots 50000 for a quick run)
"""
import argparse
import csv
import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SCENES = 12
MAX_RANKS = 5
SLUG = "bench-tally"
SLOW = 5.0  # seconds: a path slower than this runs once
CLI_TARGET = 5.0  # the CLI at least this many times faster than pyrankvote
LEADERBOARD_TARGET = 0.5  # seconds from the database to a leaderboard at 1M ballots
RANK = re.compile(r"(?:rank|choice)[ _-]?([0-9]+)", re.IGNORECASE)


# -- the ballots file -------------------------------------------------------------


def demo_scenes() -> list[dict]:
    """The first 12 demo scenes.  (The app is imported lazily throughout, so that the
    pyrankvote subprocess does not pay for importing Flask.)"""
    from polls.demo import ALL_TIME, BEST_2014

    return (BEST_2014["candidates"] + ALL_TIME["candidates"])[:SCENES]


def write_ballots_csv(path: Path, titles: list[str], n: int) -> Counter:
    """N generated ballots as a counting CSV in the export format; returns the profile."""
    from polls.demo import generated_rankings

    profile = Counter(tuple(titles[i] for i in ranking)
                      for ranking in generated_rankings(list(range(len(titles))), n, "bench"))
    with open(path, "w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["count", *(f"rank{i}" for i in range(1, MAX_RANKS + 1))])
        writer.writerows(["0", title] + [""] * (MAX_RANKS - 1) for title in titles)
        for ballot, count in profile.most_common():
            writer.writerow([count, *ballot] + [""] * (MAX_RANKS - len(ballot)))
    return profile


def read_counting_csv(path: str) -> Iterator[tuple[list[str], int]]:
    """The rows of a counting CSV as (names best first, count), read with the csv
    module as the tally reads them by default: skipped ranks and overvote marks
    move on to the next rank, a repeated name counts once."""
    with open(path, encoding="utf-8-sig", newline="") as stream:
        rows = csv.reader(stream)
        header = [cell.strip() for cell in next(rows)]
        ranks = sorted((int(m.group(1)), i) for i, h in enumerate(header) if (m := RANK.fullmatch(h)))
        columns = [i for _, i in ranks]
        count_column = next((i for i, h in enumerate(header) if h.lower() == "count"), None)
        for row in rows:
            if not row:
                continue
            names: list[str] = []
            for i in columns:
                name = row[i].strip() if i < len(row) else ""
                if name and name != "overvote" and name not in names:
                    names.append(name)
            yield names, int(row[count_column]) if count_column is not None else 1


# -- the other counters -----------------------------------------------------------


def pyrankvote_winner(path: str) -> str:
    """Read and count the file with pyrankvote's instant runoff (the subprocess's job)."""
    import pyrankvote

    candidates: dict[str, pyrankvote.Candidate] = {}
    ballots = []
    for names, count in read_counting_csv(path):
        ranked = [candidates.setdefault(name, pyrankvote.Candidate(name)) for name in names]
        ballots.extend(pyrankvote.Ballot(ranked_candidates=ranked) for _ in range(count))
    return pyrankvote.instant_runoff_voting(list(candidates.values()), ballots).get_winners()[0].name


def pref_voting_profile(path: str):
    """The file as a pref_voting ProfileWithTies: each distinct (truncated) ranking once, with its count."""
    from pref_voting.profiles_with_ties import ProfileWithTies

    profile: dict[tuple[str, ...], int] = {}
    for names, count in read_counting_csv(path):
        profile[tuple(names)] = profile.get(tuple(names), 0) + count
    candidates = list(dict.fromkeys(name for ballot in profile for name in ballot))
    ballots = [ballot for ballot in profile if ballot]  # blank ballots rank nobody
    return ProfileWithTies([{name: rank for rank, name in enumerate(b, start=1)} for b in ballots],
                           rcounts=[profile[b] for b in ballots], candidates=candidates)


def time_pref_voting(path: str) -> tuple[float, str, list[str]]:
    """Time pref_voting's instant runoff on the file's profile, built first (untimed).

    pref_voting's ``instant_runoff`` on a ProfileWithTies (its only input type for
    truncated ballots) eliminates by first-choice counts among the continuing
    candidates until one is left; ``instant_runoff_for_truncated_linear_orders``
    (stops at a majority of continuing ballots) names the same winner but
    rebuilds the profile every round and is about twice as slow."""
    from pref_voting.iterative_methods import instant_runoff

    profile = pref_voting_profile(path)
    return best_of(lambda: instant_runoff(profile))


# -- timing -----------------------------------------------------------------------


def best_of(fn: Callable, repeat: int = 3, before: Callable = lambda: None) -> tuple[float, str, object]:
    """(fastest time, how it was run, the last result): `repeat` runs, or one when the first is slow."""
    times, result = [], None
    for _ in range(repeat):
        before()
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
        if times[0] > SLOW:
            break
    runs = f"best of {len(times)}" if len(times) > 1 else f"once (over {SLOW:.0f}s)"
    return min(times), runs, result


def run(command: list[str]) -> str:
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed: {result.stderr.strip()}")
    return result.stdout


# -- the app's path ---------------------------------------------------------------


@contextmanager
def optional_redis(directory: Path) -> Iterator[str | None]:
    """A throwaway redis-server's URL, or None (and no cache timing) without one."""
    sys.path.insert(0, str(ROOT / "tests"))
    from services import ServiceUnavailable, redis_server

    try:
        with redis_server(directory) as url:
            yield url
    except ServiceUnavailable as error:
        print(f"{error}: no cache timing")
        yield None


def bench_app(tmp: Path, redis_url: str | None):
    """The app on a fresh SQLite file in `tmp` (schema by `init-db`), with a 12-scene poll."""
    from polls.extensions import db
    from polls.factory import create_app
    from polls.models import Candidate, Host, Poll

    os.environ["INSTANCE_PATH"] = str(tmp)
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp / 'bench.db'}", "SECRET_KEY": "bench",
                      "REDIS_URL": redis_url, "RATELIMIT_STORAGE_URI": "memory://"})
    flask_command(app, "init-db")
    with app.app_context():
        host = Host(email="bench@kisspoll.invalid")
        host.set_password(secrets.token_urlsafe(24))
        poll = Poll(host=host, slug=SLUG, title="Bench poll", year=2014, status="open")
        poll.candidates = [Candidate(position=i, **spec) for i, spec in enumerate(demo_scenes())]
        db.session.add(poll)
        db.session.commit()
    return app


def flask_command(app, *args: str) -> str:
    """`flask --app app polls ARGS`, run in process; exits on failure."""
    result = app.test_cli_runner().invoke(args=["polls", *args])
    if result.exit_code != 0:
        sys.exit(f"polls {' '.join(args)} failed: {result.output.strip()} {result.exception or ''}")
    return result.output.strip()


def load_every_ballot_and_count(poll) -> dict:
    """The naive way: one ORM object per ballot, grouped in Python, then the same tally."""
    from sqlalchemy import select

    from polls.extensions import db
    from polls.models import RANKING_SEPARATOR, Ballot
    from polls.results import poll_rules
    from polls.tally import tabulate

    titles = {str(c.id): c.title for c in poll.candidates}
    grouped = Counter(b.ranking for b in db.session.scalars(select(Ballot).where(Ballot.poll_id == poll.id)))
    profile = {tuple(titles[i] for i in ranking.split(RANKING_SEPARATOR)): n for ranking, n in grouped.items()}
    return tabulate(profile, list(titles.values()), poll_rules(poll))


# -- the run ----------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000, metavar="N")
    parser.add_argument("--pyrankvote", metavar="FILE", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.pyrankvote:
        print(pyrankvote_winner(args.pyrankvote))
        return
    n = args.ballots
    times: dict[str, tuple[float, str]] = {}
    winners: dict[str, list[str]] = {}

    def record(label: str, timing: tuple[float, str, object], winner: list[str]) -> None:
        times[label] = timing[:2]
        winners[label] = list(winner)
        print(f"{label:<34} {timing[0]:9.4f}s  {timing[1]:<16} winner {winners[label]}", flush=True)

    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        ballots_csv = tmp / "ballots.csv"
        titles = [scene["title"] for scene in demo_scenes()]
        start = time.perf_counter()
        profile = write_ballots_csv(ballots_csv, titles, n)
        ranked = len({name for ballot in profile for name in ballot})
        print(f"{n:,} ballots, {len(titles)} scenes ({ranked} ever ranked), {len(profile):,} distinct rankings: "
              f"{ballots_csv.stat().st_size / 1e6:.1f} MB counting CSV, built in {time.perf_counter() - start:.1f}s")

        cli = best_of(lambda: json.loads(run([sys.executable, "-m", "polls.tally", str(ballots_csv), "--json"])))
        record("tally CLI (whole process)", cli, cli[2]["winners"])
        prv = best_of(lambda: run([sys.executable, __file__, "--pyrankvote", str(ballots_csv)]).strip())
        record("pyrankvote (whole process)", prv, [prv[2]])
        pv = time_pref_voting(str(ballots_csv))
        record("pref_voting instant_runoff (count)", pv, pv[2])

        with optional_redis(tmp / "redis") as redis_url:
            from polls.extensions import db
            from polls.models import Poll
            from polls.results import compute_results, poll_results
            from sqlalchemy import select

            app = bench_app(tmp, redis_url)
            imported = best_of(lambda: flask_command(app, "import-ballots", SLUG, str(ballots_csv)), repeat=1)
            print(f"{'import ' + format(n, ',') + ' ballots':<34} {imported[0]:9.4f}s  {'once':<16} {imported[2]}")
            with app.app_context():
                poll = db.session.scalar(select(Poll).where(Poll.slug == SLUG))
                fresh = db.session.expire_all
                grouped = best_of(lambda: compute_results(poll), before=fresh)
                record("DB->leaderboard (compute_results)", grouped, grouped[2]["winners"])
                baseline = best_of(lambda: load_every_ballot_and_count(poll), before=fresh)
                record("baseline: load every row + tally", baseline, baseline[2]["winners"])
                if redis_url:
                    from polls.results import ballots_changed

                    # A whole request after a ballot arrived: version bumped, so it recounts.
                    api = app.test_client()
                    url = f"/api/v1/polls/{SLUG}/results"
                    recount = best_of(lambda: api.get(url).get_json(), before=lambda: ballots_changed(poll.id))
                    record("GET results after a new ballot", recount, recount[2]["winners"])
                    poll_results(poll)  # the miss that fills the cache
                    cached = best_of(lambda: poll_results(poll), before=fresh)
                    record("cached poll_results hit", cached, cached[2]["winners"])
                else:
                    print("cached poll_results hit: skipped (redis-server is not installed)")
                db.session.remove()
                db.engine.dispose()

    cli_time = times["tally CLI (whole process)"][0]
    prv_ratio = times["pyrankvote (whole process)"][0] / cli_time
    db_time = times["DB->leaderboard (compute_results)"][0]
    size_note = f"; this run has {n:,}" if n != 1_000_000 else ""
    print(f"CLI vs pyrankvote:   {prv_ratio:.1f}x faster  (target >= {CLI_TARGET:.0f}x at 1,000,000 ballots"
          f"{size_note}) {verdict(prv_ratio >= CLI_TARGET)}")
    print(f"CLI vs pref_voting:  {times['pref_voting instant_runoff (count)'][0] / cli_time:.1f}x faster "
          f"(the CLI's whole process against pref_voting's count alone)")
    print(f"DB->leaderboard:     {db_time:.3f}s  (target < {LEADERBOARD_TARGET}s at 1,000,000 ballots"
          f"{size_note}) {verdict(db_time < LEADERBOARD_TARGET)}")
    print(f"DB->leaderboard vs load-every-row baseline: "
          f"{times['baseline: load every row + tally'][0] / db_time:.1f}x faster")
    if "GET results after a new ballot" in times:
        request_time = times["GET results after a new ballot"][0]
        print(f"results request that recounts: {request_time:.3f}s  (target < {LEADERBOARD_TARGET}s at 1,000,000 "
              f"ballots{size_note}) {verdict(request_time < LEADERBOARD_TARGET)}")
    if "cached poll_results hit" in times:
        print(f"cached hit vs compute_results: {db_time / times['cached poll_results hit'][0]:.0f}x faster")
    if len({tuple(w) for w in winners.values()}) != 1:
        sys.exit(f"the winners disagree: {winners}")
    print(f"every path names the same winner: {next(iter(winners.values()))}")


if __name__ == "__main__":
    main()
