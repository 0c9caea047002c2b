"""How fast a poll's results come out of the database, against loading every ballot.

Fills a fresh SQLite file with N ballots (default 1,000,000) for the demo 2014 poll,
then times, in the same run:
  baseline  - every ballot row loaded as an ORM object and grouped in Python
  grouped   - poll_results(): GROUP BY ranking in SQLite, then the pure tally
and prints the ratio. Absolute times depend on the machine; the ratio is the point.
Usage: python bench/count_from_db.py [N]
"""
import os
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select  # noqa: E402

from polls.demo import generated_rankings  # noqa: E402
from polls.extensions import db  # noqa: E402
from polls.factory import create_app  # noqa: E402
from polls.models import RANKING_SEPARATOR, Ballot, Poll  # noqa: E402
from polls.results import poll_results  # noqa: E402


def fill(poll: Poll, n: int) -> None:
    """N ballots drawn like the demo's (reproducible), inserted in batches."""
    batch = []
    for i, ranking in enumerate(generated_rankings([c.id for c in poll.candidates], n, "bench")):
        batch.append({"poll_id": poll.id, "voter_hash": f"{i:064x}",
                      "ranking": RANKING_SEPARATOR.join(map(str, ranking)), "receipt": f"b{i}"})
        if len(batch) == 50_000:
            db.session.execute(insert(Ballot), batch)
            batch.clear()
    if batch:
        db.session.execute(insert(Ballot), batch)
    db.session.commit()


def load_every_ballot(poll: Poll) -> Counter:
    """The naive way: one ORM object per ballot."""
    return Counter(b.ranking for b in db.session.scalars(select(Ballot).where(Ballot.poll_id == poll.id)))


def best_of(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        db.session.expire_all()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["INSTANCE_PATH"] = tmp
        app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"})
        with app.app_context():
            db.create_all()
            app.test_cli_runner().invoke(args=["polls", "demo"])
            poll = db.session.scalar(select(Poll).where(Poll.slug == "best-kiss-2014"))
            start = time.perf_counter()
            fill(poll, n)
            print(f"filled {n:,} ballots in {time.perf_counter() - start:.1f}s")
            grouped = best_of(lambda: poll_results(poll))
            baseline = best_of(lambda: load_every_ballot(poll), repeat=1)
            results = poll_results(poll)
            print(f"winner {results['winners']} after {len(results['rounds'])} rounds, "
                  f"{results['total_ballots']:,} ballots")
            print(f"baseline (load every ballot): {baseline:.3f}s")
            print(f"grouped (GROUP BY + tally):   {grouped:.3f}s")
            print(f"ratio baseline/grouped: {baseline / grouped:.1f}x  (target: grouped under 0.5s at 1M)")


if __name__ == "__main__":
    main()
