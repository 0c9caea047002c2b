"""Positional methods: Borda count and plurality.

Ballots are read exactly as for the Condorcet methods (skipped ranks,
overvotes, repeated names, excluded candidates and write-ins: see
``condorcet``), and ties in score are ordered, recorded and explained by the
same tie-break order.  ``ranking`` is by score, most first; ``scores`` lists
the scores (decimal strings) in that order.
"""

from __future__ import annotations

from typing import Any

from .ballots import Profile
from .condorcet import Rankings, TieOrder, matrix_report, pairwise_counts, read_rankings
from .rules import Rules


def tabulate_borda(profile: Profile, candidates: list[str], rules: Rules) -> dict[str, Any]:
    """Borda count.  With n candidates in the count, a ballot gives n-1
    points to its first choice, n-2 to its second, and so on.

    Truncated ballots: the candidates a ballot ranks keep those points (its
    first choice gets n-1 even if it ranks nobody else) and every unranked
    candidate gets 0.  Equivalently, a candidate's score is the number of
    head-to-head wins it collects over all ballots, the row sum of
    ``pairwise``.  Report: ``winners``, ``ranking``, ``scores``, ``pairwise``,
    ``summary``, ``tieBreaks`` (and ``unresolvedTie``).
    """
    rankings = read_rankings(profile, candidates, rules)
    top = len(rankings.names) - 1
    scores = [0] * len(rankings.names)
    for ranking, count in rankings.counts.items():
        for position, c in enumerate(ranking):
            scores[c] += count * (top - position)
    pairwise = matrix_report(rankings.names, pairwise_counts(rankings))
    return _by_score(rankings, scores, rules, "point", pairwise=pairwise)


def tabulate_plurality(profile: Profile, candidates: list[str], rules: Rules) -> dict[str, Any]:
    """Plurality: each ballot counts one vote for its first valid choice (the
    first ranked candidate left once skipped ranks, overvotes and excluded
    candidates are passed over); a ballot with none counts for nobody.
    Report: ``winners``, ``ranking``, ``scores``, ``summary``, ``tieBreaks``
    (and ``unresolvedTie``).
    """
    rankings = read_rankings(profile, candidates, rules)
    scores = [0] * len(rankings.names)
    for ranking, count in rankings.counts.items():
        if ranking:
            scores[ranking[0]] += count
    return _by_score(rankings, scores, rules, "vote")


def _by_score(rankings: Rankings, scores: list[int], rules: Rules, unit: str,
              **parts: Any) -> dict[str, Any]:
    """Rank by score, most first, equal scores in tie-break order; the report."""
    groups: dict[int, list[int]] = {}
    for c, score in enumerate(scores):
        groups.setdefault(score, []).append(c)
    tiers = [groups[score] for score in sorted(groups, reverse=True)]
    ties = TieOrder(rules, rankings)

    def why(tier: list[int]) -> str:
        score = scores[tier[0]]
        return f"each has {score} {unit}{'' if score == 1 else 's'}"

    order = ties.order_tiers(tiers, why)
    names = rankings.names
    return ties.report(
        rankings, order, rules, scores={names[c]: str(scores[c]) for c in order}, **parts
    )
