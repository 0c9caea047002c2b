"""Casting a ballot: validate the ranking, then insert it once per voter."""
import logging
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError

from polls.extensions import db
from polls.models import RANKING_SEPARATOR, Ballot, Poll
from polls.results import ballots_changed
from polls.voters import voter_hash

log = logging.getLogger(__name__)
# Seconds a fan is asked to wait when the database is too busy to take a ballot.
BUSY_RETRY_AFTER = 5


class BallotRejected(Exception):
    """A ballot that cannot be counted, with the HTTP status and a code for clients."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def parse_ranking(poll: Poll, raw) -> list[int]:
    """Check a ranking (candidate ids, best first) against the poll; return it as ints."""
    if not isinstance(raw, list):
        raise BallotRejected(400, "invalid_ranking", "ranking must be a list of candidate ids")
    if not raw:
        raise BallotRejected(422, "empty_ranking", "Rank at least one scene.")
    if len(raw) > poll.rank_limit:
        raise BallotRejected(
            422, "too_many_ranks", f"You can rank at most {poll.rank_limit} scenes."
        )
    ids: list[int] = []
    for item in raw:
        # bool is an int subclass; True is not candidate 1.
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise BallotRejected(400, "invalid_ranking", "candidate ids must be whole numbers")
        try:
            ids.append(int(item))
        except ValueError:
            raise BallotRejected(
                400, "invalid_ranking", "candidate ids must be whole numbers"
            ) from None
    known = {c.id for c in poll.candidates}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise BallotRejected(422, "unknown_candidate", f"No scene {unknown[0]} in this poll.")
    if len(set(ids)) != len(ids):
        raise BallotRejected(422, "repeated_candidate", "Each scene can be ranked only once.")
    return ids


def find_ballot(poll: Poll, voter_token: str) -> Ballot | None:
    return db.session.scalar(
        select(Ballot).where(Ballot.poll_id == poll.id, Ballot.voter_hash == voter_hash(voter_token))
    )


def cast_ballot(poll: Poll, raw_ranking, voter_token: str) -> Ballot:
    """Validate and store a ballot; the (poll, voter) unique constraint turns a second one into 409."""
    if not poll.is_open:
        raise BallotRejected(409, "poll_not_open", "Voting is not open for this poll.")
    ranking = parse_ranking(poll, raw_ranking)
    ballot = Ballot(
        poll_id=poll.id,
        voter_hash=voter_hash(voter_token),
        ranking=RANKING_SEPARATOR.join(map(str, ranking)),
        receipt=secrets.token_urlsafe(12),
    )
    db.session.add(ballot)
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise BallotRejected(
            409, "already_voted", "This browser has already voted in this poll."
        ) from None
    except OperationalError as error:
        # SQLite's busy timeout ran out behind a long write (a big import-ballots, say).
        db.session.rollback()
        log.warning("poll %r: ballot not stored, the database is busy (%s)", poll.slug, error)
        raise BallotRejected(
            503, "busy", "The poll is too busy to take your ballot right now, and it was not saved. "
                         "Please try again in a few seconds.",
            headers={"Retry-After": str(BUSY_RETRY_AFTER)},
        ) from None
    ballots_changed(poll.id)
    return ballot
