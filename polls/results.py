"""A poll's results: its ballots grouped into a profile and counted by polls.tally."""
import hashlib

from sqlalchemy import func, select

from polls.extensions import db
from polls.models import RANKING_SEPARATOR, Ballot, Poll
from polls.tally import Rules, tabulate


def ballot_profile(poll: Poll) -> dict[tuple[str, ...], int]:
    """Identical rankings counted by the database, as candidate titles best first."""
    titles = {str(c.id): c.title for c in poll.candidates}
    rows = db.session.execute(
        select(Ballot.ranking, func.count())
        .where(Ballot.poll_id == poll.id)
        .group_by(Ballot.ranking)
    )
    return {
        tuple(titles[cid] for cid in ranking.split(RANKING_SEPARATOR) if cid in titles): count
        for ranking, count in rows
    }


def poll_rules(poll: Poll) -> Rules:
    """Ties are broken by earlier rounds, then by a draw seeded from the poll, so a recount agrees."""
    return Rules(tiebreakMode="previousRoundCountsThenRandom", randomSeed=tie_seed(poll.slug))


def tie_seed(slug: str) -> int:
    """A 48-bit seed from the (immutable) slug: small consecutive seeds would make
    java.util.Random's first draw nearly the same for every poll."""
    return int.from_bytes(hashlib.sha256(slug.encode()).digest()[:6], "big")


def _leaderboard(poll: Poll, ranking: list[str], rounds: list[dict]) -> list[dict]:
    by_title = {c.title: c for c in poll.candidates}
    first_tally = rounds[0]["tally"] if rounds else {}
    return [
        {
            "place": place,
            "id": by_title[title].id,
            "title": title,
            "drama": by_title[title].drama,
            "first_choices": first_tally.get(title, "0"),
        }
        for place, title in enumerate(ranking, start=1)
    ]


def poll_results(poll: Poll) -> dict:
    """winners, ranking, rounds, summary and tie-breaks, plus a leaderboard with candidate details."""
    titles = [c.title for c in poll.candidates]
    profile = ballot_profile(poll)
    if not profile:
        # No ballots, no winner: a tie-break among zeros would crown a scene by lot.
        report = {"winners": [], "ranking": titles, "results": [],
                  "summary": {"numCandidates": len(titles), "numWinners": 1,
                              "totalNumBallots": 0, "undervotes": 0}}
    else:
        report = tabulate(profile, titles, poll_rules(poll))
    return {
        "winners": report["winners"],
        "ranking": report["ranking"],
        "rounds": report["results"],
        "summary": report["summary"],
        "total_ballots": int(report["summary"]["totalNumBallots"]),
        "tie_breaks": report.get("tieBreaks", []),
        "leaderboard": _leaderboard(poll, report["ranking"], report["results"]),
    }
