"""A poll's results: its ballots grouped into a profile and counted by polls.tally.

Counting.  A poll is counted by ``Poll.method`` for ``Poll.seats`` seats, with
``Poll.rules`` (a JSON object of RCTab rule overrides, named as the fields of
``polls.tally.Rules``) on top; see ``poll_rules``.  Ties are broken by the
engine's default rule and seed (``Rules()``: previous-round counts, then a
draw seeded with ``Rules().randomSeed``).  There is deliberately no per-poll
seed any more (the former ``tie_seed(slug)`` is gone): the anonymised ballot
export counted by ``python -m polls.tally`` without ``--rules`` must give
exactly the result shown on the results page.  Stored rules that cannot be
used never break a page: the count falls back to the method's plain rules,
then to plain instant runoff, with a logged warning.

Caching.  Results are computed once per new ballot, not once per page view.
Redis keeps a per-poll ballot version, bumped by ``ballots_changed`` after
every accepted ballot, and the computed results as JSON under (poll id,
version, fingerprint of method, seats, rules, status and candidates) with a
TTL (``RESULTS_CACHE_TTL`` seconds, default 3600).  The version is read
before the ballots are, so a result computed just before a ballot lands is
filed under the version that ballot has already replaced.  Committed edits
of a poll or its scenes bump the version too (a session event), so that copies
kept elsewhere (polls.widgets) need only compare versions.  Without Redis
(not configured, or down) every view recomputes; an outage is logged once.
"""
from __future__ import annotations

import hashlib
import json
import logging
import secrets
import threading
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

import redis
from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from polls.extensions import db, redis_store
from polls.i18n import N_
from polls.models import RANKING_SEPARATOR, Candidate, Poll, RankingCount
from polls.queries import excluded_ballots
from polls.tally import Rules, tabulate
from polls.tally import tabulate as _dry_run  # checks rules; not the (monkeypatchable) count

log = logging.getLogger(__name__)

# Bump when the shape of the cached payload changes, so old entries are not served.
CACHE_FORMAT = 3
DEFAULT_CACHE_TTL = 3600
VERSION_KEY = "kisspoll:results-version:{poll_id}"
RESULT_KEY = "kisspoll:results:{poll_id}:{version}:{fingerprint}"

ROUND_METHODS = ("irv", "stv")
METHOD_NAMES = {
    "irv": N_("instant runoff"),
    "stv": N_("single transferable vote"),
    "schulze": N_("Schulze"),
    "ranked-pairs": N_("ranked pairs"),
    "borda": N_("Borda count"),
    "plurality": N_("plurality"),
}
# Parts of the engine's report passed through as they are, for the methods that give them.
ENGINE_EXTRAS = ("pairwise", "strongestPaths", "lockedPairs", "skippedPairs", "scores",
                 "condorcetWinner", "unresolvedTie")


# -- counting -------------------------------------------------------------------


def ballot_profile(poll: Poll) -> dict[tuple[str, ...], int]:
    """The poll's ballots as distinct rankings (candidate titles best first) and
    how many read each: one ``RankingCount`` row per ranking, which the database
    keeps up to date as ballots arrive."""
    titles = {str(c.id): c.title for c in poll.candidates}
    title_of = titles.__getitem__
    rows = db.session.execute(
        select(RankingCount.ranking, RankingCount.ballots)
        .where(RankingCount.poll_id == poll.id, RankingCount.ballots > 0)
    )
    profile: dict[tuple[str, ...], int] = {}
    for ranking, count in rows:
        ids = ranking.split(RANKING_SEPARATOR)
        try:
            ballot = tuple(map(title_of, ids))
        except KeyError:  # ids of scenes no longer in the poll are passed over
            ballot = tuple(titles[cid] for cid in ids if cid in titles)
        # Two stored rankings can read the same once unknown ids are dropped: add them up.
        profile[ballot] = profile.get(ballot, 0) + count
    return profile


def stored_overrides(poll: Poll) -> dict[str, Any]:
    """``Poll.rules`` as a dict; raises ValueError when it is not a JSON object."""
    text = poll.rules if poll.rules is not None else "{}"
    try:
        overrides = json.loads(text or "{}")
    except (TypeError, ValueError) as error:
        raise ValueError(f"rules are not JSON ({error})") from None
    if not isinstance(overrides, dict):
        raise ValueError("rules must be a JSON object")
    return overrides


def rule_override(poll: Poll, name: str, default: Any) -> Any:
    """One of the poll's stored rule overrides, or ``default`` (also when the
    stored rules cannot be read)."""
    try:
        return stored_overrides(poll).get(name, default)
    except ValueError:
        return default


def set_rule_override(poll: Poll, name: str, value: Any) -> None:
    """Store ``value`` for rule ``name``; the engine's default is stored as no override.
    Unreadable stored rules (which the count ignores anyway) are replaced."""
    try:
        overrides = stored_overrides(poll)
    except ValueError:
        overrides = {}
    if value == getattr(Rules(), name):
        overrides.pop(name, None)
    else:
        overrides[name] = value
    poll.rules = json.dumps(overrides, sort_keys=True)


def _rules_to_try(poll: Poll) -> Iterator[Rules]:
    """The poll's rules, then its method's plain rules, then plain instant runoff;
    each one that cannot be built, or that the engine refuses for this poll's
    candidates (tried on no ballots), is skipped with a logged warning."""
    titles = [c.title for c in poll.candidates]
    tried: list[Rules] = []
    attempts = (
        ("the poll's rules", lambda: Rules(method=poll.method, seats=poll.seats,
                                           **stored_overrides(poll))),
        (f"method {poll.method!r} for {poll.seats} seat(s)",
         lambda: Rules(method=poll.method, seats=poll.seats)),
        ("instant runoff", Rules),
    )
    for label, build in attempts:
        try:
            rules = build()
            if rules in tried:
                continue
            tried.append(rules)
            if titles:
                _dry_run((), titles, rules)  # e.g. unknown excluded names, seats a method cannot fill
        except (TypeError, ValueError) as error:
            log.warning("poll %r: cannot use %s (%s); falling back", poll.slug, label, error)
            continue
        yield rules


def poll_rules(poll: Poll) -> Rules:
    """``Rules(method=poll.method, seats=poll.seats, **overrides)`` from the poll's
    stored RCTab overrides, or the first fallback the engine accepts for the
    poll's candidates: the rules ``poll_results`` counts with.

    Tie-breaks use the engine's default mode and seed (``Rules().randomSeed``),
    not a per-poll seed, so ``python -m polls.tally`` on the exported ballots
    (with ``--method``/``--seats`` and no ``--rules``) gives the same result.
    """
    return next(_rules_to_try(poll), Rules())


def _empty_report(titles: list[str], rules: Rules, total: int = 0) -> dict[str, Any]:
    # Shown when nothing could be counted at all (e.g. a poll without scenes).
    return {"winners": [], "ranking": titles, "results": [],
            "summary": {"numCandidates": len(titles), "numWinners": rules.seats,
                        "totalNumBallots": str(total), "undervotes": 0},
            "tieBreaks": []}


def _count(poll: Poll, profile: dict, titles: list[str]) -> tuple[Rules, dict[str, Any]]:
    """The engine's report under the first rules that can count this poll."""
    last = Rules()
    for rules in _rules_to_try(poll):
        last = rules
        try:
            return rules, tabulate(profile, titles, rules)
        except ValueError as error:
            log.warning("poll %r: cannot count with %r (%s); falling back", poll.slug, rules, error)
    log.error("poll %r: no rules could count its ballots; showing no winner", poll.slug)
    return last, _empty_report(titles, last, sum(profile.values()))


def method_name(rules: Rules) -> str:
    """The method in words: "instant runoff", "single transferable vote, 3 seats"..."""
    name = METHOD_NAMES.get(rules.method, rules.method)
    if rules.method != "stv":
        return name
    if rules.seats == 0:
        percent = rules.multiSeatBottomsUpPercentageThreshold
        return f"{name}, everyone over {percent}% of the votes wins"
    return f"{name}, {rules.seats} seat{'s' if rules.seats != 1 else ''}"


def _first_choices(profile: dict, counted: set[str]) -> dict[str, int]:
    """Ballots whose first counted choice is each candidate."""
    firsts: dict[str, int] = {}
    for ballot, count in profile.items():
        first = next((name for name in ballot if name in counted), None)
        if first is not None:
            firsts[first] = firsts.get(first, 0) + count
    return firsts


def _leaderboard(poll: Poll, report: dict, profile: dict) -> list[dict]:
    by_title = {c.title: c for c in poll.candidates}
    ranking = [title for title in report["ranking"] if title in by_title]
    rounds = report.get("results") or []
    if rounds:
        firsts = rounds[0]["tally"]
    else:
        firsts = {name: str(n) for name, n in _first_choices(profile, set(ranking)).items()}
    scores = report.get("scores") or {}
    return [
        {
            "place": place,
            "id": by_title[title].id,
            "title": title,
            "drama": by_title[title].drama,
            "first_choices": firsts.get(title, "0"),
            "score": scores.get(title),
        }
        for place, title in enumerate(ranking, start=1)
    ]


def _condorcet_winner(report: dict) -> str | None:
    """The engine's answer, or (Borda) the one who beats every other head to head."""
    if "condorcetWinner" in report:
        return report["condorcetWinner"]
    pairwise = report.get("pairwise")
    if not pairwise:
        return None
    for a, row in pairwise.items():
        if all(_number(votes) > _number(pairwise[b][a]) for b, votes in row.items()):
            return a
    return None


def _number(text: str) -> Decimal:
    try:
        return Decimal(text)
    except (InvalidOperation, TypeError):
        return Decimal(0)


def compute_results(poll: Poll) -> dict:
    """Count the poll now (no cache): winners, ranking, rounds, summary, tie-breaks,
    method, seats, the method's own tables, and a leaderboard with candidate details."""
    titles = [c.title for c in poll.candidates]
    profile = ballot_profile(poll)
    rules, report = _count(poll, profile, titles)
    results = {
        "method": rules.method,
        "method_name": method_name(rules),
        "seats": rules.seats,
        "winners": report["winners"],
        "ranking": report["ranking"],
        "rounds": report.get("results", []),
        "summary": report["summary"],
        "total_ballots": int(report["summary"]["totalNumBallots"]),
        "tie_breaks": report.get("tieBreaks", []),
        "leaderboard": _leaderboard(poll, report, profile),
        # Ballots the host holds out of the count (quarantined bursts), and why.
        "excluded": excluded_ballots(poll),
    }
    results.update((key, report[key]) for key in ENGINE_EXTRAS if key in report)
    if "pairwise" in report:
        results["condorcetWinner"] = _condorcet_winner(report)
    return results


# -- caching --------------------------------------------------------------------


class _RedisHealth:
    """Logs a Redis outage once (again only after Redis has answered in between),
    and remembers ballot versions that could not be bumped meanwhile."""

    def __init__(self) -> None:
        self.down = False
        self.pending: set[int] = set()
        self.lock = threading.Lock()

    def failed(self, error: Exception) -> None:
        with self.lock:
            first, self.down = not self.down, True
        if first:
            log.warning("Redis is unreachable (%s): until it is back, results are recomputed "
                        "on every view and the database alone keeps one ballot per browser", error)

    def ok(self) -> None:
        if self.down:
            with self.lock:
                self.down = False
            log.info("Redis is back: results are cached again")


redis_health = _RedisHealth()


def _bump(client: redis.Redis, poll_id: int) -> None:
    key = VERSION_KEY.format(poll_id=poll_id)
    pipe = client.pipeline(transaction=False)
    # A lost (evicted, flushed) version restarts at a random number, never at a
    # small one that old cached results may still be filed under.
    pipe.set(key, secrets.randbits(48), nx=True)
    pipe.incr(key)
    pipe.execute()


def _flush_pending(client: redis.Redis) -> None:
    """Bump the versions whose ballots arrived while Redis was down (raises RedisError)."""
    while redis_health.pending:
        with redis_health.lock:
            if not redis_health.pending:
                return
            poll_id = redis_health.pending.pop()
        try:
            _bump(client, poll_id)
        except redis.RedisError:
            redis_health.pending.add(poll_id)
            raise


def ballots_changed(poll_id: int) -> None:
    """Call after new ballots of a poll are committed: the next view recounts.

    Never raises: with Redis down the bump is retried by this process once
    Redis answers again (and cached entries expire after their TTL anyway).
    """
    client = redis_store.client
    if client is None:
        return
    try:
        _flush_pending(client)
        _bump(client, poll_id)
    except redis.RedisError as error:
        redis_health.pending.add(poll_id)
        redis_health.failed(error)
    else:
        redis_health.ok()


def _current_version(client: redis.Redis, poll_id: int) -> str:
    key = VERSION_KEY.format(poll_id=poll_id)
    version = client.get(key)
    if version is None:
        pipe = client.pipeline(transaction=False)
        pipe.set(key, secrets.randbits(48), nx=True)
        pipe.get(key)
        _, version = pipe.execute()
    return version.decode() if isinstance(version, bytes) else str(version)


def results_version(poll_id: int) -> str | None:
    """The poll's current results version, or None when Redis is not there to say."""
    client = redis_store.client
    if client is None:
        return None
    try:
        _flush_pending(client)
        version = _current_version(client, poll_id)
    except redis.RedisError as error:
        redis_health.failed(error)
        return None
    redis_health.ok()
    return version


_EDITED = "kisspoll_edited_polls"


@event.listens_for(Session, "after_flush")
def _note_edited_polls(session: Session, _context) -> None:
    """Remember polls whose settings or scenes this transaction changed."""
    edited = session.info.setdefault(_EDITED, set())
    for obj in (*session.new, *session.dirty, *session.deleted):
        if isinstance(obj, Poll):
            edited.add(obj.id)
        elif isinstance(obj, Candidate) and obj.poll_id is not None:
            edited.add(obj.poll_id)


@event.listens_for(Session, "after_commit")
def _bump_edited_polls(session: Session) -> None:
    # Widgets kept by other processes check only the version (polls.widgets).
    for poll_id in session.info.pop(_EDITED, ()):
        ballots_changed(poll_id)


@event.listens_for(Session, "after_rollback")
def _forget_edited_polls(session: Session) -> None:
    session.info.pop(_EDITED, None)


def results_fingerprint(poll: Poll) -> str:
    """What, besides the ballots, the results depend on."""
    basis = {
        "format": CACHE_FORMAT,
        "status": poll.status,
        "method": poll.method,
        "seats": poll.seats,
        "rules": poll.rules,
        "candidates": [[c.id, c.position, c.title, c.drama] for c in poll.candidates],
    }
    text = json.dumps(basis, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def poll_results(poll: Poll) -> dict:
    """The poll's results (see ``compute_results``), from the cache when the
    ballots, rules and status have not changed since they were last counted.
    Treat the returned dict as read-only."""
    # Version first, ballots after: see the module docstring.
    version = results_version(poll.id)
    client = redis_store.client
    if version is None or client is None:
        return compute_results(poll)
    key = RESULT_KEY.format(poll_id=poll.id, version=version, fingerprint=results_fingerprint(poll))
    try:
        cached = client.get(key)
    except redis.RedisError as error:
        redis_health.failed(error)
        return compute_results(poll)
    if cached is not None:
        try:
            return json.loads(cached)
        except ValueError:
            log.warning("poll %r: unreadable cached results; recounting", poll.slug)
    payload = json.dumps(compute_results(poll), separators=(",", ":"), ensure_ascii=False)
    try:
        client.set(key, payload, ex=current_app.config.get("RESULTS_CACHE_TTL", DEFAULT_CACHE_TTL))
    except redis.RedisError as error:
        redis_health.failed(error)
    # Served exactly as a cache hit would serve it.
    return json.loads(payload)
