"""Cross-check against pref_voting (a dev dependency), an independent
implementation of the same methods, on 200 seeded random profiles of complete
rankings (3 to 6 candidates, 5 to 60 ballots).

With complete rankings every pair is compared on every ballot, so Schulze by
winning votes (ours) and by margins (pref_voting's ``beat_path``) agree, and
ballots never exhaust, so RCTab's majority of continuing ballots is
pref_voting's majority of first choices.

Winners are compared exactly where neither side needed a tie-break: pref_voting
names a single winner, and (for instant runoff, whose tied last-placed
candidates pref_voting removes all at once) our report lists no tie-break.
Where pref_voting names several, our tie-break must pick one of them
(``instant_runoff_put`` lists the winners of every way of breaking the ties).
Scores and the head-to-head matrix are compared on every profile.
"""

import math
import random
from functools import partial

import pytest

pref_voting = pytest.importorskip("pref_voting")

from pref_voting.iterative_methods import instant_runoff, instant_runoff_put  # noqa: E402
from pref_voting.margin_based_methods import beat_path, ranked_pairs  # noqa: E402
from pref_voting.profiles import Profile  # noqa: E402
from pref_voting.scoring_methods import borda, plurality  # noqa: E402

from polls.tally import Rules, tabulate  # noqa: E402

NAMES = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo"]
SEEDS = range(200)
# pref_voting's winners (one, where no tie-break is needed), and the winners
# under every way of breaking ties.  Ranked pairs: pref_voting's "basic"
# search tries every order of equal margins and can take minutes; "from_stacks"
# gives the same winners fast.
METHODS = {
    "plurality": (plurality, plurality),
    "borda": (borda, borda),
    "irv": (instant_runoff, instant_runoff_put),
    "schulze": (beat_path, beat_path),
    "ranked-pairs": (partial(ranked_pairs, algorithm="from_stacks"),) * 2,
}


def random_profile(seed):
    """``(n, [(order, count)])``: a few distinct complete orders of candidates
    0..n-1 with uneven counts, 5 to 60 ballots in all."""
    rng = random.Random(seed)
    n = rng.randint(3, 6)
    voters = rng.randint(5, 60)
    kinds = rng.randint(2, min(8, voters, math.factorial(n)))
    orders = []
    while len(orders) < kinds:
        order = tuple(rng.sample(range(n), n))
        if order not in orders:
            orders.append(order)
    # Cut 1..voters-1 at kinds-1 distinct points: every order gets at least one voter.
    cuts = sorted(rng.sample(range(1, voters), kinds - 1))
    counts = [b - a for a, b in zip([0] + cuts, cuts + [voters])]
    return n, list(zip(orders, counts))


def both(seed):
    """Our profile and candidates, and pref_voting's Profile, for one seed."""
    n, rows = random_profile(seed)
    names = NAMES[:n]
    ours = {tuple(names[c] for c in order): count for order, count in rows}
    theirs = Profile([list(order) for order, _ in rows], rcounts=[count for _, count in rows])
    return names, ours, theirs


CASES = {seed: both(seed) for seed in SEEDS}


@pytest.mark.parametrize("method", list(METHODS))
def test_winners_agree_with_pref_voting(method):
    unique, every = METHODS[method]
    exact = 0
    for seed, (names, ours, theirs) in CASES.items():
        report = tabulate(ours, names, Rules(method=method))
        (winner,) = report["winners"]
        theirs_unique = [names[c] for c in unique(theirs)]
        tie_free = len(theirs_unique) == 1 and (method != "irv" or not report["tieBreaks"])
        if tie_free:
            assert [winner] == theirs_unique, f"seed {seed}: {ours}"
            exact += 1
        else:
            assert winner in [names[c] for c in every(theirs)], f"seed {seed}: {ours}"
    # Most profiles are decided without any tie: the comparison is not vacuous.
    assert exact >= len(CASES) * 3 // 4, exact


@pytest.mark.parametrize("method", ["schulze", "ranked-pairs", "borda"])
def test_pairwise_matrix_agrees_with_pref_voting(method):
    for seed, (names, ours, theirs) in CASES.items():
        report = tabulate(ours, names, Rules(method=method))
        expected = {
            a: {b: str(theirs.support(i, j)) for j, b in enumerate(names) if j != i}
            for i, a in enumerate(names)
        }
        assert report["pairwise"] == expected, f"seed {seed}"


@pytest.mark.parametrize("method", ["schulze", "ranked-pairs"])
def test_condorcet_winner_agrees_with_pref_voting(method):
    found = 0
    for seed, (names, ours, theirs) in CASES.items():
        report = tabulate(ours, names, Rules(method=method))
        theirs_winner = theirs.condorcet_winner()
        expected = None if theirs_winner is None else names[theirs_winner]
        assert report["condorcetWinner"] == expected, f"seed {seed}"
        if expected is not None:
            found += 1
            assert report["winners"] == [expected], f"seed {seed}"
    assert found >= len(CASES) // 2, found


@pytest.mark.parametrize("method, scores", [("borda", "borda_scores"), ("plurality", "plurality_scores")])
def test_scores_agree_with_pref_voting(method, scores):
    for seed, (names, ours, theirs) in CASES.items():
        report = tabulate(ours, names, Rules(method=method))
        expected = getattr(theirs, scores)()
        assert report["scores"] == {names[c]: str(score) for c, score in expected.items()}, f"seed {seed}"
        # Listed best first, in ranking order.
        assert list(report["scores"]) == report["ranking"]
        listed = [int(v) for v in report["scores"].values()]
        assert listed == sorted(listed, reverse=True)
