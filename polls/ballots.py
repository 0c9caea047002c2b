"""Casting a ballot: bot friction, the closed list, the ranking, then one insert per voter.

One ballot per browser is the database's rule (unique poll and voter hash,
so racing inserts cannot both win).  Redis only spares the database the
duplicates' writes: a ``SET NX`` claim on (poll, voter) sends a repeat to a
read of the unique index instead of an insert that fails; with Redis down
the database alone decides.
"""
import logging
import re
import secrets
from dataclasses import dataclass

import redis
from flask_babel import gettext, lazy_gettext, ngettext
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from polls.extensions import db, redis_store
from polls.friction import honeypot_filled, sent_too_fast
from polls.models import RANKING_SEPARATOR, Ballot, BotHit, InviteCode, Poll, utcnow
from polls.queries import BallotBox
from polls.results import ballots_changed, redis_health
from polls.voters import address_key, network_key, session_key, voter_hash

log = logging.getLogger(__name__)
# Seconds a fan is asked to wait when the database is too busy to take a ballot.
BUSY_RETRY_AFTER = 5
CLAIM_KEY = "kisspoll:voted:{poll_id}:{voter}"
# A claim outlives any insert; if a process dies holding one, that browser waits this long.
CLAIM_SECONDS = 60


class BallotRejected(Exception):
    """A ballot that cannot be counted, with the HTTP status and a code for clients."""

    def __init__(self, status: int, code: str, message: str, headers: dict | None = None):
        message = str(message)  # a lazy string is read now, in the language of the fan who sent it
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


ALREADY_VOTED = ("already_voted", lazy_gettext("This browser has already voted in this poll."))
INVITE_INVALID = ("invite_invalid", lazy_gettext("That invite code is not one of this poll's."))
_ID_TEXT = re.compile(r"[0-9]{1,19}")
# Receipts are secrets.token_urlsafe(12): 16 URL-safe characters.
RECEIPT_CODE = re.compile(r"[A-Za-z0-9_-]{16}")
# What an invite code can look like once normalised (polls.integrity makes 10 of these).
INVITE_CODE = re.compile(r"[A-Z0-9]{4,32}")
_DASHES = re.compile(r"[-\u2010-\u2015\u2212]")


# Built once: the hot path then skips building (and cache-keying) a new statement per ballot.
_INSERT_BALLOT = insert(Ballot)


def parse_ranking(poll: Poll | BallotBox, raw) -> list[int]:
    """Check a ranking (candidate ids, best first) against the poll; return it as ints."""
    if not isinstance(raw, list):
        raise BallotRejected(400, "invalid_ranking", gettext("ranking must be a list of candidate ids"))
    if not raw:
        raise BallotRejected(422, "empty_ranking", gettext("Rank at least one scene."))
    if len(raw) > poll.rank_limit:
        raise BallotRejected(422, "too_many_ranks", ngettext(
            "You can rank at most %(num)s scene.", "You can rank at most %(num)s scenes.", poll.rank_limit))
    ids: list[int] = []
    for item in raw:
        # bool is an int subclass; True is not candidate 1.
        if isinstance(item, bool) or not isinstance(item, (int, str)):
            raise BallotRejected(400, "invalid_ranking", gettext("candidate ids must be whole numbers"))
        # Plain ASCII digits only: int() would also read " 3", "+3", "0_3" and "٣".
        if isinstance(item, str) and not _ID_TEXT.fullmatch(item):
            raise BallotRejected(400, "invalid_ranking", gettext("candidate ids must be whole numbers"))
        ids.append(int(item))
    known = poll.candidate_ids
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise BallotRejected(422, "unknown_candidate", gettext("No scene %(id)s in this poll.", id=unknown[0]))
    if len(set(ids)) != len(ids):
        raise BallotRejected(422, "repeated_candidate", gettext("Each scene can be ranked only once."))
    return ids


def find_ballot(poll: Poll, voter_token: str) -> Ballot | None:
    return db.session.scalar(
        select(Ballot).where(Ballot.poll_id == poll.id, Ballot.voter_hash == voter_hash(voter_token))
    )


def ballot_by_receipt(poll: Poll, code: str) -> Ballot | None:
    if not RECEIPT_CODE.fullmatch(code or ""):
        return None
    return db.session.scalar(select(Ballot).where(Ballot.poll_id == poll.id, Ballot.receipt == code))


def ranked_candidates(poll: Poll, ballot: Ballot) -> list:
    """The ballot's scenes best first (scenes since removed from the poll are left out)."""
    by_id = {str(c.id): c for c in poll.candidates}
    return [by_id[cid] for cid in ballot.ranking.split(RANKING_SEPARATOR) if cid in by_id]


def record_bot_hit(poll: Poll, kind: str) -> None:
    """Keep a honeypot hit for the integrity report (best effort: a busy database loses it)."""
    db.session.add(BotHit(poll_id=poll.id, kind=kind, address_hash=address_key(), network_hash=network_key()))
    try:
        db.session.commit()
    except OperationalError:
        db.session.rollback()


def _refuse_bot(poll: Poll) -> BallotRejected:
    """Record a honeypot hit for the integrity report; the refusal to raise."""
    record_bot_hit(poll, "honeypot")
    return BallotRejected(400, "rejected", gettext(
        "This ballot could not be accepted. If you filled in the field marked 'leave empty', clear it and try again."))


def _claim(poll_id: int, voter: str) -> str | None:
    """Claim (poll, voter) in Redis; the key when this request holds the claim, else None.

    A claim held by someone else is only a hint, never a refusal on its own: a
    ``SET NX`` that timed out may have landed after all, or its holder died.  So
    the database is asked (a read by the unique index): a ballot there is the
    409; none means the claim is in flight or stale, and the insert decides.
    """
    client = redis_store.client
    if client is None:
        return None
    key = CLAIM_KEY.format(poll_id=poll_id, voter=voter)
    try:
        claimed = client.set(key, 1, nx=True, ex=CLAIM_SECONDS)
    except redis.RedisError as error:
        redis_health.failed(error)
        return None
    if claimed:
        return key
    voted = db.session.scalar(select(Ballot.id).where(Ballot.poll_id == poll_id, Ballot.voter_hash == voter))
    if voted is not None:
        raise BallotRejected(409, *ALREADY_VOTED)
    return None


def _release(key: str | None) -> None:
    """Give back a claim whose ballot was not stored, so the fan can try again at once."""
    if key is None or redis_store.client is None:
        return
    try:
        redis_store.client.delete(key)
    except redis.RedisError as error:
        redis_health.failed(error)


def _use_invite(poll: Poll, code) -> None:
    """Mark a closed-list poll's invite code used, in the ballot's own transaction."""
    # Codes are handed out on paper and in mails: forgive case, spaces and dashes.
    code = _DASHES.sub("", "".join(code.split())).upper() if isinstance(code, str) else ""
    if not code:
        raise BallotRejected(403, "invite_required", gettext("This poll takes ballots only with an invite code."))
    if not INVITE_CODE.fullmatch(code):
        raise BallotRejected(403, *INVITE_INVALID)
    used = db.session.execute(
        update(InviteCode)
        .where(InviteCode.poll_id == poll.id, InviteCode.code == code, InviteCode.used_at.is_(None))
        .values(used_at=utcnow())
    ).rowcount
    if used == 1:
        return
    exists = db.session.scalar(
        select(InviteCode.id).where(InviteCode.poll_id == poll.id, InviteCode.code == code)
    )
    db.session.rollback()
    if exists:
        raise BallotRejected(409, "invite_used", gettext("That invite code has already been used."))
    raise BallotRejected(403, *INVITE_INVALID)


@dataclass(frozen=True)
class CastBallot:
    """What the fan is told about a stored ballot (kept from before the commit, so that
    answering costs no reload of the row)."""

    receipt: str
    ranking: list[int]


def cast_ballot(poll: Poll | BallotBox, raw_ranking, voter_token: str, *, invite=None,
                honeypot=None) -> CastBallot:
    """Validate and store a ballot, or raise BallotRejected (nothing stored)."""
    if not poll.is_open:
        raise BallotRejected(409, "poll_not_open", gettext("Voting is not open for this poll."))
    if honeypot_filled(honeypot):
        raise _refuse_bot(poll)
    ranking = parse_ranking(poll, raw_ranking)
    voter = voter_hash(voter_token)
    claim = _claim(poll.id, voter)
    try:
        if poll.invite_only:
            _use_invite(poll, invite)
        cast = CastBallot(receipt=secrets.token_urlsafe(12), ranking=ranking)
        # A Core insert: no ORM object to build, flush and expire for a row nobody reads back.
        db.session.execute(_INSERT_BALLOT, {
            "poll_id": poll.id,
            "voter_hash": voter,
            "ranking": RANKING_SEPARATOR.join(map(str, ranking)),
            "receipt": cast.receipt,
            "address_hash": address_key(),
            "network_hash": network_key(),
            "session_hash": session_key(),
            "too_fast": sent_too_fast(),
            "created_at": utcnow(),
        })
        db.session.commit()
    except IntegrityError:
        # Kept claim: this browser has voted, and the next duplicate need not reach the database.
        db.session.rollback()
        raise BallotRejected(409, *ALREADY_VOTED) from None
    except OperationalError as error:
        # SQLite's busy timeout ran out behind a long write (a big import-ballots, say).
        db.session.rollback()
        _release(claim)
        log.warning("poll %r: ballot not stored, the database is busy (%s)", poll.slug, error)
        raise BallotRejected(
            503, "busy", gettext("The poll is too busy to take your ballot right now, and it was not saved. "
                                 "Please try again in a few seconds."),
            headers={"Retry-After": str(BUSY_RETRY_AFTER)},
        ) from None
    except BaseException:
        # Nothing was stored: the fan may try again at once.
        db.session.rollback()
        _release(claim)
        raise
    ballots_changed(poll.id)
    return cast
