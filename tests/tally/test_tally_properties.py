"""Properties every count must keep, checked on generated profiles (hypothesis),
and the Tennessee capital example worked for the methods not covered elsewhere.

Profiles: 2 to 6 candidates, rankings of 0 to n distinct candidates, counts 1
to 20.  The "messy" profiles used for conservation and the Condorcet check
also hold skipped ranks (``""``), overvotes and repeated names.
"""

import csv
import dataclasses
import io
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_tally_condorcet import CITIES, TENNESSEE

from polls.tally import OVERVOTE, Rules, read_ballots_csv, tabulate

NAMES = ["Ann", "Bo", "Cy", "Di", "Ed", "Flo"]
METHODS = ["irv", "stv", "schulze", "ranked-pairs", "borda", "plurality"]
DECIDING_TIEBREAKS = ["random", "previousRoundCountsThenRandom", "useCandidateOrder", "generatePermutation"]
RESIDUAL = "residual surplus"

# No example database: each run draws fresh examples and replays nothing.
PROPERTY = settings(max_examples=200, deadline=None, database=None)


# -- strategies -----------------------------------------------------------------


@st.composite
def contests(draw, messy=False, max_count=20):
    """``(candidates, profile)``; the profile adds up repeated ballots."""
    names = NAMES[: draw(st.integers(2, 6))]
    if messy:
        cell = st.sampled_from(names) | st.sampled_from(["", OVERVOTE])
        ballot = st.lists(cell, max_size=len(names) + 2)
    else:
        ballot = st.lists(st.sampled_from(names), unique=True, max_size=len(names))
    profile = {}
    for cells, count in draw(st.lists(st.tuples(ballot, st.integers(1, max_count)), min_size=1, max_size=12)):
        profile[tuple(cells)] = profile.get(tuple(cells), 0) + count
    return names, profile


@st.composite
def counting_rules(draw, method):
    """Rules for ``method`` with a deciding tie-break; stv gets 1 to 7 seats."""
    fields = {
        "method": method,
        "tiebreakMode": draw(st.sampled_from(DECIDING_TIEBREAKS)),
        "randomSeed": draw(st.integers(-(2**63), 2**63 - 1)),
    }
    if method == "stv":
        fields["seats"] = draw(st.integers(1, 7))
    return Rules(**fields)


def ranks_someone(profile, counted):
    """Whether any ballot ranks a candidate in the count.  Without one nobody
    wins: ``tabulate`` then reports no winners, no rounds, no tie-breaks."""
    return any(count and set(ballot) & set(counted) for ballot, count in profile.items())


def check_nobody_wins(report, counted):
    assert report["winners"] == [] and report["results"] == [] and report["tieBreaks"] == []
    assert report["ranking"] == counted and "unresolvedTie" not in report


def dump(report):
    """The report as text, key order included (tallies are listed most first)."""
    return json.dumps(report)


# -- ballots are conserved --------------------------------------------------------


def _check_conservation(report, rules):
    total = Decimal(report["summary"]["totalNumBallots"])
    undervotes = Decimal(report["summary"]["undervotes"])
    residual = Decimal(0)  # lost to cutting surpluses, by the end of the round before
    rounds = report["results"]
    assert rounds, "a count has at least one round"
    for i, result in enumerate(rounds):
        tally = {name: Decimal(votes) for name, votes in result["tally"].items()}
        inactive = sum(map(Decimal, result["inactiveBallots"].values()), Decimal(0))
        assert sum(tally.values(), Decimal(0)) + inactive + undervotes + residual == total, (
            f"round {result['round']}: ballots are not conserved"
        )
        following = rounds[i + 1] if i + 1 < len(rounds) else None
        for outcome in result["tallyResults"]:
            moved = {k: Decimal(v) for k, v in outcome["transfers"].items()}
            if "eliminated" in outcome:
                name = outcome["eliminated"]
                if following is not None:
                    # Everything an eliminated candidate held goes somewhere.
                    assert sum(moved.values(), Decimal(0)) == tally[name], f"round {result['round']}: {name}"
                    assert name not in following["tally"]
            else:
                name = outcome["elected"]
                if following is not None and rules.method == "stv" and rules.seats > 1:
                    # A winner keeps no more than the threshold and passes on the rest.
                    kept = min(tally[name], Decimal(result["threshold"]))
                    assert tally[name] - sum(moved.values(), Decimal(0)) == kept
                    assert Decimal(following["tally"][name]) == kept
                residual += moved.get(RESIDUAL, Decimal(0))
        assert all(votes >= 0 for votes in tally.values())


@st.composite
def conservation_cases(draw):
    candidates, profile = draw(contests(messy=True))
    method = draw(st.sampled_from(["irv", "stv"]))
    fields = {
        "method": method,
        "tiebreakMode": draw(st.sampled_from(DECIDING_TIEBREAKS)),
        "randomSeed": draw(st.integers(0, 10**6)),
        "overvoteRule": draw(st.sampled_from(["alwaysSkipToNextRank", "exhaustImmediately"])),
        "maxSkippedRanksAllowed": draw(st.sampled_from(["unlimited", 0, 1])),
        "exhaustOnDuplicateCandidate": draw(st.booleans()),
    }
    if method == "stv":
        fields["seats"] = draw(st.integers(1, 4))
        fields["decimalPlacesForVoteArithmetic"] = draw(st.sampled_from([0, 2, 4]))
    else:
        fields["batchElimination"] = draw(st.booleans())
    return candidates, profile, Rules(**fields)


@PROPERTY
@given(conservation_cases())
def test_ballots_are_conserved_every_round(case):
    candidates, profile, rules = case
    report = tabulate(profile, candidates, rules)
    assert report["summary"]["totalNumBallots"] == str(sum(profile.values()))
    if not ranks_someone(profile, candidates):
        check_nobody_wins(report, candidates)
        return
    _check_conservation(report, rules)


# -- the instant-runoff winner has a majority ------------------------------------


@PROPERTY
@given(contests(messy=True), st.sampled_from(DECIDING_TIEBREAKS))
def test_the_irv_winner_holds_a_majority_of_continuing_ballots(contest, tiebreak):
    candidates, profile = contest
    report = tabulate(profile, candidates, Rules(tiebreakMode=tiebreak))  # continueUntilTwo... off
    if not ranks_someone(profile, candidates):
        check_nobody_wins(report, candidates)
        return
    (winner,) = report["winners"]
    rounds = report["results"]
    for result in rounds:
        continuing = sum(int(votes) for votes in result["tally"].values())
        # A majority of continuing ballots: more than half of them.
        assert result["threshold"] == str(continuing // 2 + 1)
    *earlier, last = rounds
    for result in earlier:  # nobody reached the threshold before the last round
        assert max(int(v) for v in result["tally"].values()) < int(result["threshold"])
    assert last["tallyResults"] == [{"elected": winner, "transfers": {}}]
    tally = {name: int(votes) for name, votes in last["tally"].items()}
    continuing = sum(tally.values())
    assert tally[winner] == max(tally.values())
    winner_ties = [t for t in report["tieBreaks"] if t["kind"] == "winner"]
    if winner_ties:
        # Only the last two, level, can need a tie-break for the winner.
        assert len(tally) == 2 and len(set(tally.values())) == 1
    else:
        assert 2 * tally[winner] > continuing
        assert len(tally) <= 2 or tally[winner] >= int(last["threshold"])


# -- a Condorcet winner wins ---------------------------------------------------------


def effective(ballot):
    """The candidates a ballot ranks, in order, as the default rules read it:
    skipped ranks and overvotes passed over, a repeated name counted once."""
    seen = []
    for cell in ballot:
        if cell and cell != OVERVOTE and cell not in seen:
            seen.append(cell)
    return seen


def head_to_head(profile, candidates):
    """``d[a][b]``: ballots ranking ``a`` above ``b`` (ranked above unranked)."""
    d = {a: {b: 0 for b in candidates if b != a} for a in candidates}
    for ballot, count in profile.items():
        ranked = effective(ballot)
        for i, a in enumerate(ranked):
            for b in candidates:
                if b != a and b not in ranked[:i]:
                    d[a][b] += count
    return d


def condorcet_winner(profile, candidates):
    d = head_to_head(profile, candidates)
    winners = [a for a in candidates if all(d[a][b] > d[b][a] for b in d[a])]
    return winners[0] if winners else None


@st.composite
def planted_condorcet(draw):
    """A messy profile, then enough ballots ranking only ``w`` to make ``w``
    beat everyone head to head (the rest of the profile may hold cycles)."""
    candidates, profile = draw(contests(messy=True))
    w = draw(st.sampled_from(candidates))
    d = head_to_head(profile, candidates)
    need = max(d[b][w] - d[w][b] + 1 for b in d[w])
    if need > 0:
        ballot = draw(st.sampled_from([(w,), ("", w), (w, w), (w, OVERVOTE)]))
        profile[ballot] = profile.get(ballot, 0) + need
    return candidates, profile, w


@PROPERTY
@given(planted_condorcet(), st.sampled_from(DECIDING_TIEBREAKS), st.integers(0, 10**6))
def test_a_condorcet_winner_wins_schulze_and_ranked_pairs(case, tiebreak, seed):
    candidates, profile, w = case
    assert condorcet_winner(profile, candidates) == w
    for method in ("schulze", "ranked-pairs"):
        report = tabulate(profile, candidates, Rules(method=method, tiebreakMode=tiebreak, randomSeed=seed))
        assert report["winners"] == [w], method
        assert report["ranking"][0] == w and report["condorcetWinner"] == w


@PROPERTY
@given(contests(messy=True), st.sampled_from(["schulze", "ranked-pairs"]))
def test_the_condorcet_winner_and_pairwise_matrix_are_reported_right(contest, method):
    candidates, profile = contest
    report = tabulate(profile, candidates, Rules(method=method))
    d = head_to_head(profile, candidates)
    assert report["pairwise"] == {a: {b: str(n) for b, n in row.items()} for a, row in d.items()}
    w = condorcet_winner(profile, candidates)
    assert report["condorcetWinner"] == w
    if w is not None:
        assert report["winners"] == [w]


# -- the order of ballots never matters ---------------------------------------------


def split(count, rng):
    """``count`` as 1 to 4 parts (some may be 0) that add up to it."""
    cuts = sorted(rng.randint(0, count) for _ in range(rng.randint(0, 3)))
    return [b - a for a, b in zip([0] + cuts, cuts + [count])]


def as_csv(rows):
    width = max([len(ballot) for ballot, _ in rows] + [1])
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["count"] + [f"rank{i}" for i in range(1, width + 1)])
    for ballot, count in rows:
        writer.writerow([count] + list(ballot) + [""] * (width - len(ballot)))
    return out.getvalue()


@st.composite
def reorderings(draw):
    candidates, profile = draw(contests(messy=draw(st.booleans())))
    method = draw(st.sampled_from(METHODS))
    rules = draw(counting_rules(method))
    rng = draw(st.randoms(use_true_random=False))
    rows = [(ballot, part) for ballot, count in profile.items() for part in split(count, rng)]
    rng.shuffle(rows)
    return candidates, profile, rules, rows


@PROPERTY
@given(reorderings())
def test_the_order_of_ballots_never_changes_the_result(case):
    candidates, profile, rules, rows = case
    expected = dump(tabulate(profile, candidates, rules))
    # The same ballots as shuffled (ballot, count) pairs, counts split over several rows...
    assert dump(tabulate(rows, candidates, rules)) == expected
    # ...and as a counting CSV with one line per row.
    from_csv, _ = read_ballots_csv(io.StringIO(as_csv(rows)))
    assert dump(tabulate(from_csv, candidates, rules)) == expected
    # Reversed insertion order of the original profile.
    assert dump(tabulate(dict(reversed(list(profile.items()))), candidates, rules)) == expected


# -- the same ballots give the same result, ties included -----------------------------


@PROPERTY
@given(contests(max_count=3), contests(max_count=3), st.sampled_from(METHODS), st.integers(0, 2**48),
       st.sampled_from(["random", "previousRoundCountsThenRandom"]))
def test_repeated_counts_give_identical_reports(contest, other, method, seed, tiebreak):
    candidates, profile = contest
    rules = Rules(method=method, tiebreakMode=tiebreak, randomSeed=seed, **({"seats": 2} if method == "stv" else {}))
    first = dump(tabulate(profile, candidates, rules))
    tabulate(other[1], other[0], rules)  # another count in between shares nothing with this one
    assert dump(tabulate(profile, candidates, rules)) == first


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("seed", [0, 7, 2**40])
def test_a_tie_is_broken_the_same_way_every_time(method, seed):
    # Perfectly symmetric: every method has to break a tie for first place.
    profile = {("Ann", "Bo", "Cy"): 2, ("Bo", "Cy", "Ann"): 2, ("Cy", "Ann", "Bo"): 2}
    rules = Rules(method=method, tiebreakMode="random", randomSeed=seed)
    reports = [dump(tabulate(profile, NAMES[:3], rules)) for _ in range(3)]
    assert json.loads(reports[0])["tieBreaks"], "the example must need a tie-break"
    assert len(set(reports)) == 1


# -- ranking and winners ----------------------------------------------------------------


@st.composite
def ranking_cases(draw):
    candidates, profile = draw(contests(messy=draw(st.booleans())))
    method = draw(st.sampled_from(METHODS))
    rules = draw(counting_rules(method))
    excluded = draw(st.lists(st.sampled_from(candidates), unique=True, max_size=len(candidates) - 1))
    return candidates, profile, dataclasses.replace(rules, excluded=tuple(excluded))


@PROPERTY
@given(ranking_cases())
def test_ranking_orders_every_counted_candidate_and_winners_lead_it(case):
    candidates, profile, rules = case
    report = tabulate(profile, candidates, rules)
    counted = [name for name in candidates if name not in rules.excluded]
    ranking, winners = report["ranking"], report["winners"]
    assert sorted(ranking) == sorted(counted) and len(set(ranking)) == len(ranking)
    assert winners == ranking[: len(winners)]
    if not ranks_someone(profile, counted):
        check_nobody_wins(report, counted)
        return
    seats = rules.seats if rules.method == "stv" else 1
    assert len(winners) == min(seats, len(counted))
    assert "unresolvedTie" not in report


# -- worked examples ------------------------------------------------------------------------
# Wikipedia's Tennessee capital example (100 voters): plurality elects Memphis,
# instant runoff Knoxville, the Condorcet methods and Borda Nashville.  Ranked
# pairs, Borda and plurality are worked in test_tally_condorcet.py and
# test_tally_positional.py; here are instant runoff, one-seat STV and Schulze.


@pytest.mark.parametrize("rules", [Rules(), Rules(method="stv", seats=1)], ids=["irv", "stv-1-seat"])
def test_tennessee_instant_runoff_elects_knoxville(rules):
    report = tabulate(TENNESSEE, CITIES, rules)
    first, second, third = report["results"]
    # Chattanooga (15) goes first, all to Knoxville; then Nashville (26), all to Knoxville.
    assert first["tally"] == {"Memphis": "42", "Nashville": "26", "Knoxville": "17", "Chattanooga": "15"}
    assert first["threshold"] == "51"
    assert first["tallyResults"] == [{"eliminated": "Chattanooga", "transfers": {"Knoxville": "15"}}]
    assert second["tally"] == {"Memphis": "42", "Knoxville": "32", "Nashville": "26"}
    assert second["tallyResults"] == [{"eliminated": "Nashville", "transfers": {"Knoxville": "26"}}]
    assert third["tally"] == {"Knoxville": "58", "Memphis": "42"}
    assert third["tallyResults"] == [{"elected": "Knoxville", "transfers": {}}]
    assert report["winners"] == ["Knoxville"]
    assert report["ranking"] == ["Knoxville", "Memphis", "Nashville", "Chattanooga"]
    assert report["tieBreaks"] == []


def test_tennessee_schulze_elects_nashville():
    report = tabulate(TENNESSEE, CITIES, Rules(method="schulze"))
    assert report["winners"] == ["Nashville"] == [report["condorcetWinner"]]
    assert report["ranking"] == ["Nashville", "Chattanooga", "Knoxville", "Memphis"]
    # Nashville beats Memphis 58-42, Chattanooga 68-32, Knoxville 68-32.
    assert report["pairwise"]["Nashville"] == {"Memphis": "58", "Chattanooga": "68", "Knoxville": "68"}
    assert report["tieBreaks"] == []


@pytest.mark.parametrize("method, winner", [
    ("plurality", "Memphis"), ("irv", "Knoxville"), ("stv", "Knoxville"),
    ("schulze", "Nashville"), ("ranked-pairs", "Nashville"), ("borda", "Nashville"),
])
def test_tennessee_published_winners_for_every_method(method, winner):
    assert tabulate(TENNESSEE, CITIES, Rules(method=method))["winners"] == [winner]
