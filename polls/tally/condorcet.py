"""Condorcet methods: Schulze and ranked pairs (Tideman), each with a full ranking.

Both start from the head-to-head matrix: ``pairwise[a][b]`` is the number of
ballots that rank ``a`` above ``b``.  A ranked candidate is above every
unranked one; two unranked candidates are level.

Reading a ballot (shared with ``positional``) follows the IRV reader's rules,
so every method sees the same ballot: skipped ranks are passed over (a gap of
more than ``maxSkippedRanksAllowed`` ends the ballot there), as are excluded
candidates and the undeclared write-in label (write-ins cannot win, so they
are treated as excluded); only the first ``maxRankingsAllowed`` ranks are
read; an overvote is passed over under ``alwaysSkipToNextRank`` and ends the
ballot under ``exhaustImmediately``; a repeated name counts only at its first
rank, or ends the ballot with ``exhaustOnDuplicateCandidate``.  A ballot
with no marked rank is blank: counted in ``totalNumBallots`` and
``undervotes``, and nowhere else.

Ties.  Candidates a method leaves level are ordered by one tie-break order
of all candidates, fixed before counting: candidate order for
``useCandidateOrder``; RCTab's seeded permutation (``generatePermutation``)
for ``generatePermutation``, ``random`` and ``previousRoundCountsThenRandom``
(there are no rounds to compare).  The two ``...Ask`` modes break nothing:
tied candidates are listed in Java string order, and a tie that leaves the
winner open empties ``winners`` and is reported as ``unresolvedTie``.  Every
tie met is listed in ``tieBreaks``, with a plain-English ``explanation``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby
from typing import Any

from .ballots import Profile, check_candidates, iter_profile
from .javacompat import java_string_key
from .rounds import read_ballot
from .rules import Rules
from .tiebreak import TieBreaker, sentence_list

ASK_MODES = ("stopCountingAndAsk", "previousRoundCountsThenAsk")
Ranking = tuple[int, ...]


# -- reading ballots (shared with positional.py) ------------------------------


@dataclass(frozen=True)
class Rankings:
    """The ballots as the counting methods see them."""

    names: list[str]  # candidates in the count, in candidate order
    counts: dict[Ranking, int]  # effective ranking (indices into names) -> voters
    total: int  # every ballot, blank ones included
    undervotes: int  # blank ballots
    num_candidates: int  # as irv reports it: excluded and write-in label included
    declared: list[str]  # the candidate list as given


def read_rankings(profile: Profile, candidates: Sequence[str], rules: Rules) -> Rankings:
    """Check the input and reduce each ballot to the candidates it ranks, in
    order (see the module docstring).  Raises ValueError like ``tabulate``."""
    declared = check_candidates(candidates)
    unknown = [name for name in rules.excluded if name not in declared]
    if unknown:
        raise ValueError(f"excluded candidate {unknown[0]!r} is not in the candidate list")
    if rules.seats != 1:
        raise ValueError(f"counting {rules.seats} seats is not available yet (this method elects one)")
    uwi = rules.undeclaredWriteInCandidate
    names = [name for name in declared if name not in rules.excluded and name != uwi]
    if not names:
        raise ValueError("there are no candidates to count")
    index = {name: c for c, name in enumerate(names)}
    known = set(declared) | ({uwi} if uwi else set())
    limit = None if rules.maxRankingsAllowed == "max" else rules.maxRankingsAllowed
    counts: dict[Ranking, int] = {}
    total = undervotes = 0
    for ballot, count in iter_profile(profile, known):
        total += count
        cells = ballot[:limit]
        if not any(cells):
            undervotes += count
        elif count:
            ranking, _ = read_ballot(cells, index, rules)  # index: no write-in label
            counts[ranking] = counts.get(ranking, 0) + count
    num_candidates = len(declared) + (1 if uwi and uwi not in declared else 0)
    return Rankings(names, counts, total, undervotes, num_candidates, declared)


def pairwise_counts(rankings: Rankings) -> list[list[int]]:
    """``d[a][b]``: ballots ranking ``a`` above ``b`` (0 on the diagonal).

    The candidate at position i of a ballot beats everyone except the i
    ranked before it, so each ballot adds its count to a whole row once and
    takes it back for those earlier candidates: cost per distinct ballot
    grows with its length squared, not with the number of candidates.
    """
    n = len(rankings.names)
    above_all = [0] * n
    d = [[0] * n for _ in range(n)]
    for ranking, count in rankings.counts.items():
        for position, c in enumerate(ranking):
            above_all[c] += count
            row = d[c]
            row[c] -= count
            for earlier in ranking[:position]:
                row[earlier] -= count
    for a in range(n):
        row, base = d[a], above_all[a]
        for b in range(n):
            row[b] += base
    return d


def matrix_report(names: list[str], d: list[list[int]]) -> dict[str, dict[str, str]]:
    """``{a: {b: "count"}}`` for a != b, in candidate order."""
    return {
        a: {b: str(d[i][j]) for j, b in enumerate(names) if j != i} for i, a in enumerate(names)
    }


# -- ties and the report (shared with positional.py) -----------------------------


def ordinal(place: int) -> str:
    """``1st``, ``2nd``, ``3rd``, ``4th``, ``11th``, ``22nd``."""
    if place % 100 in (11, 12, 13):
        return f"{place}th"
    return f"{place}{({1: 'st', 2: 'nd', 3: 'rd'}).get(place % 10, 'th')}"


def _source(mode: str, seed: int) -> str:
    """What orders the tied candidates, for explanations."""
    if mode == "useCandidateOrder":
        return "candidate order"
    permutation = f"the candidate permutation generated from seed {seed}"
    if mode == "generatePermutation":
        return permutation
    if mode == "random":
        return f"a seeded draw ({permutation})"
    return f"a seeded draw ({permutation}; there are no rounds to compare)"


class TieOrder:
    """Orders candidates a method leaves level and records each tie.

    See the module docstring for the order each ``tiebreakMode`` gives.
    """

    def __init__(self, rules: Rules, rankings: Rankings) -> None:
        self.mode, self.names = rules.tiebreakMode, rankings.names
        self.decides = self.mode not in ASK_MODES
        self.records: list[dict[str, Any]] = []
        self.unresolved: dict[str, Any] | None = None
        if self.decides:
            self.source = _source(self.mode, rules.randomSeed)
            # The seeded modes all use the permutation generatePermutation makes.
            fixed = "useCandidateOrder" if self.mode == "useCandidateOrder" else "generatePermutation"
            uwi = rules.undeclaredWriteInCandidate
            breaker = TieBreaker(dataclasses.replace(rules, tiebreakMode=fixed),
                                 [name for name in rankings.declared if name != uwi])
            order = sorted(self.names, key=breaker.position)
        else:
            self.source = "name order"
            order = sorted(self.names, key=java_string_key)
        place = {name: i for i, name in enumerate(order)}
        self.position = [place[name] for name in self.names]

    def order_tiers(self, tiers: list[list[int]], why: Callable[[list[int]], str]) -> list[int]:
        """Concatenate ``tiers`` (best first), each in tie-break order; record
        each tier of more than one candidate, ``why(tier)`` saying why they are level."""
        order: list[int] = []
        for tier in tiers:
            tier = sorted(tier, key=self.position.__getitem__)
            if len(tier) > 1:
                self._record_place(len(order) + 1, tier, why(tier))
            order += tier
        return order

    def rank(self, beats: list[list[int]], why: Callable[[list[int]], str]) -> list[int]:
        """Order everyone by an acyclic "beats" relation (``beats[a]``: whom
        ``a`` beats): first the unbeaten, then those beaten only by them, and
        so on; each tier in tie-break order."""
        beaten_by = [0] * len(beats)
        for losers in beats:
            for b in losers:
                beaten_by[b] += 1
        tiers: list[list[int]] = []
        tier = [c for c, count in enumerate(beaten_by) if count == 0]
        while tier:
            tiers.append(tier)
            following = []
            for a in tier:
                for b in beats[a]:
                    beaten_by[b] -= 1
                    if beaten_by[b] == 0:
                        following.append(b)
            tier = following
        if sum(map(len, tiers)) != len(beats):
            raise AssertionError("the beats relation has a cycle")
        return self.order_tiers(tiers, why)

    def _record_place(self, place: int, tier: list[int], why: str) -> None:
        names = [self.names[c] for c in tier]
        tied = sorted(names, key=java_string_key)
        about = f"Tie for {ordinal(place)} place between {sentence_list(tied)}: {why}."
        record = {"kind": "place", "place": place, "tied": tied,
                  "chosen": names[0] if self.decides else None, "order": names,
                  "rule": self.mode, "explanation": f"{about} {self.resolution(', then '.join(names))}"}
        self.add(record, leaves_winner_open=place == 1)

    def resolution(self, order: str) -> str:
        """How this rule settles a tie, as a sentence."""
        if self.decides:
            return f"Broken by {self.source}: {order}."
        return "Left for the operator to decide; listed in name order for now."

    def add(self, record: dict[str, Any], leaves_winner_open: bool) -> None:
        """Keep a tie record; the first one that leaves the winner undecided
        under an ``...Ask`` mode becomes ``unresolvedTie``."""
        self.records.append(record)
        if leaves_winner_open and not self.decides and self.unresolved is None:
            self.unresolved = dict(record)

    def report(self, rankings: Rankings, order: list[int], rules: Rules, **parts: Any) -> dict[str, Any]:
        """The report: ``winners``, ``ranking``, then ``parts``, ``summary``,
        ``tieBreaks`` and, when set, ``unresolvedTie``."""
        ranking = [self.names[c] for c in order]
        return {
            "winners": [] if self.unresolved else ranking[:1],
            "ranking": ranking,
            **parts,
            "summary": {
                "numCandidates": rankings.num_candidates,
                "numWinners": rules.seats,
                "totalNumBallots": str(rankings.total),
                "undervotes": rankings.undervotes,
            },
            "tieBreaks": self.records,
            **({"unresolvedTie": self.unresolved} if self.unresolved else {}),
        }


# -- the methods ----------------------------------------------------------------


def condorcet_winner(names: list[str], d: list[list[int]]) -> str | None:
    """The candidate who beats every other head to head (the only one, if alone)."""
    n = len(names)
    for a in range(n):
        if all(d[a][b] > d[b][a] for b in range(n) if b != a):
            return names[a]
    return None


def strongest_paths(d: list[list[int]]) -> list[list[int]]:
    """Schulze's widest paths (Floyd–Warshall); a link a→b has strength
    ``d[a][b]`` (winning votes) when ``a`` beats ``b``, else 0."""
    n = len(d)
    p = [[d[a][b] if d[a][b] > d[b][a] else 0 for b in range(n)] for a in range(n)]
    for k in range(n):
        row_k = p[k]
        for i in range(n):
            through = p[i][k]
            if i == k or not through:
                continue
            row_i = p[i]
            for j in range(n):
                width = row_k[j] if row_k[j] < through else through
                if width > row_i[j] and j != i:
                    row_i[j] = width
    return p


def tabulate_schulze(profile: Profile, candidates: list[str], rules: Rules) -> dict[str, Any]:
    """Schulze method (winning votes).

    ``a`` ranks above ``b`` when its strongest path to ``b`` is stronger than
    ``b``'s to ``a``; that relation is transitive, and ``ranking`` lists the
    unbeaten first (the Schulze winners), then those beaten only by them, and
    so on, each group in tie-break order.  Report: ``winners``, ``ranking``,
    ``pairwise``, ``strongestPaths``, ``condorcetWinner``, ``summary``,
    ``tieBreaks`` (and ``unresolvedTie``).
    """
    rankings = read_rankings(profile, candidates, rules)
    names, d = rankings.names, pairwise_counts(rankings)
    p = strongest_paths(d)
    n = len(names)
    beats = [[b for b in range(n) if p[a][b] > p[b][a]] for a in range(n)]
    ties = TieOrder(rules, rankings)
    order = ties.rank(beats, lambda tier: "none of them beats another on strongest paths")
    return ties.report(
        rankings, order, rules,
        pairwise=matrix_report(names, d),
        strongestPaths=matrix_report(names, p),
        condorcetWinner=condorcet_winner(names, d),
    )


def tabulate_ranked_pairs(profile: Profile, candidates: list[str], rules: Rules) -> dict[str, Any]:
    """Ranked pairs (Tideman), by margins.

    Every pair with a winner is considered, largest margin first, and locked
    unless it would close a cycle with pairs already locked.  Pairs with
    equal margins go in the order Markus Schulze proposed for a tie-break
    order T (reversal-symmetric): first those whose winner comes before the
    loser in T (by winner, earliest first; then by loser, latest first), then
    the rest (by loser, latest first; then by winner, earliest first).
    ``ranking`` is the locked graph's
    order: the candidates no locked pair beats, then those beaten only by
    them, and so on, each group in tie-break order.  Report: ``winners``,
    ``ranking``, ``pairwise``, ``lockedPairs`` and ``skippedPairs`` (in the
    order considered, with ``winner``, ``loser``, ``margin``),
    ``condorcetWinner``, ``summary``, ``tieBreaks`` (and ``unresolvedTie``).
    """
    rankings = read_rankings(profile, candidates, rules)
    names, d = rankings.names, pairwise_counts(rankings)
    ties = TieOrder(rules, rankings)
    pos = ties.position
    n = len(names)

    def margin(pair: tuple[int, int]) -> int:
        return d[pair[0]][pair[1]] - d[pair[1]][pair[0]]

    def pair_key(pair: tuple[int, int]) -> tuple:
        a, b = pair
        in_t_order = (0, pos[a], -pos[b]) if pos[a] < pos[b] else (1, -pos[b], pos[a])
        return (-margin(pair),) + in_t_order

    pairs = sorted(((a, b) for a in range(n) for b in range(n) if d[a][b] > d[b][a]), key=pair_key)
    reach = [0] * n  # bit set of the candidates each one reaches by locked pairs
    beats: list[list[int]] = [[] for _ in range(n)]
    locked: list[dict[str, str]] = []
    skipped: list[dict[str, str]] = []
    for strength, same_margin in groupby(pairs, key=margin):
        group, before, dropped, order_mattered = list(same_margin), list(reach), [], False
        for a, b in group:
            entry = {"winner": names[a], "loser": names[b], "margin": str(strength)}
            if reach[b] >> a & 1:
                skipped.append(entry)
                dropped.append((a, b))
                # Skipped because of a pair locked in this same group: the order mattered.
                order_mattered |= not before[b] >> a & 1
                continue
            locked.append(entry)
            beats[a].append(b)
            gained = reach[b] | 1 << b
            for x in range(n):
                if x == a or reach[x] >> a & 1:
                    reach[x] |= gained
        if order_mattered:
            _record_lock_order(ties, group, dropped, strength)
    order = ties.rank(beats, lambda tier: "no locked pair puts one of them above another")
    return ties.report(
        rankings, order, rules,
        pairwise=matrix_report(names, d),
        lockedPairs=locked,
        skippedPairs=skipped,
        condorcetWinner=condorcet_winner(names, d),
    )


def _record_lock_order(ties: TieOrder, group: list[tuple[int, int]], dropped: list[tuple[int, int]],
                       margin: int) -> None:
    """Record that equal-margin pairs were locked in tie-break order and that
    the order decided which of them were skipped."""
    names = ties.names

    def pairs(chosen: list[tuple[int, int]]) -> list[dict[str, str]]:
        return [{"winner": names[a], "loser": names[b]} for a, b in chosen]

    def said(chosen: list[tuple[int, int]]) -> list[str]:
        return [f"{names[a]} over {names[b]}" for a, b in chosen]

    about = (
        f"{len(group)} pairs have the same margin ({margin}), so the order they are "
        f"locked in decides which are skipped for closing a cycle: here "
        f"{sentence_list(said(dropped))}."
    )
    if ties.decides:
        how = f"Ordered by {ties.source}: {', then '.join(said(group))}."
    else:
        how = "Left for the operator to decide; locked in name order for now."
    ties.add(
        {"kind": "lockOrder", "margin": str(margin), "pairs": pairs(group),
         "skipped": pairs(dropped), "rule": ties.mode, "explanation": f"{about} {how}"},
        leaves_winner_open=True,
    )
