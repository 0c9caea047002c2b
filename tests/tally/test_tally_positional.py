"""Borda count and plurality: textbook examples, ties, ballot rules, edge cases."""

import dataclasses
import json
import random
from decimal import Decimal

import pytest
from rctab_cases import SCALE_CASE, needs_cases, read_json, single_seat_cases
from test_tally_condorcet import CITIES, TENNESSEE

from polls.tally import OVERVOTE, Rules, read_ballots_csv
from polls.tally.positional import tabulate_borda, tabulate_plurality
from polls.tally.rules import rctab_candidates

METHODS = [tabulate_borda, tabulate_plurality]


def test_tennessee_borda_and_plurality():
    borda = tabulate_borda(TENNESSEE, CITIES, Rules())
    assert borda["winners"] == ["Nashville"]
    assert borda["ranking"] == ["Nashville", "Chattanooga", "Memphis", "Knoxville"]
    # Listed best first: 42*2 + 26*3 + 15 + 17 = 194 for Nashville, and so on.
    assert list(borda["scores"].items()) == [
        ("Nashville", "194"), ("Chattanooga", "173"), ("Memphis", "126"), ("Knoxville", "107")]
    assert borda["pairwise"]["Nashville"] == {"Memphis": "58", "Chattanooga": "68", "Knoxville": "68"}
    assert borda["tieBreaks"] == []
    assert borda["summary"] == {"numCandidates": 4, "numWinners": 1, "totalNumBallots": "100", "undervotes": 0}
    assert set(borda) == {"winners", "ranking", "scores", "pairwise", "summary", "tieBreaks"}

    plurality = tabulate_plurality(TENNESSEE, CITIES, Rules())
    assert plurality["winners"] == ["Memphis"]
    assert list(plurality["scores"].items()) == [
        ("Memphis", "42"), ("Nashville", "26"), ("Knoxville", "17"), ("Chattanooga", "15")]
    assert set(plurality) == {"winners", "ranking", "scores", "summary", "tieBreaks"}
    json.dumps([borda, plurality])


def test_borda_truncated_ballots_give_unranked_candidates_nothing():
    report = tabulate_borda({("A",): 2, ("B", "C"): 1}, ["A", "B", "C", "D"], Rules())
    # n = 4: a first choice is worth 3 even alone, a second 2; unranked get 0.
    assert report["scores"] == {"A": "6", "B": "3", "C": "2", "D": "0"}


def test_borda_score_is_the_pairwise_row_sum():
    rng = random.Random(3)
    names = list("ABCDE")
    for _ in range(100):
        profile = {tuple(rng.sample(names, rng.randint(0, 5))): rng.randint(1, 9) for _ in range(rng.randint(0, 8))}
        report = tabulate_borda(profile, names, Rules())
        for name in names:
            assert int(report["scores"][name]) == sum(map(int, report["pairwise"][name].values()))
        scores = [int(v) for v in report["scores"].values()]
        assert scores == sorted(scores, reverse=True)


def test_plurality_counts_the_first_valid_choice():
    profile = {("", "B"): 1, (OVERVOTE, "C"): 2, ("X", "A", "B"): 3, ("B", "B"): 1}
    report = tabulate_plurality(profile, ["A", "B", "C", "X"], Rules(excluded=["X"]))
    assert report["scores"] == {"A": "3", "B": "2", "C": "2"}
    strict = tabulate_plurality(profile, ["A", "B", "C", "X"], Rules(excluded=["X"], overvoteRule="exhaustImmediately"))
    assert strict["scores"] == {"A": "3", "B": "2", "C": "0"}
    assert strict["summary"]["totalNumBallots"] == "7" and strict["summary"]["numCandidates"] == 4


@pytest.mark.parametrize("method, top, unit", [(tabulate_borda, 9, "points"), (tabulate_plurality, 3, "votes")])
def test_equal_scores_are_broken_by_the_tie_break_order(method, top, unit):
    profile = {("A",): 1, ("B",): 3, ("C",): 3, ("D",): 1}
    report = method(profile, ["D", "C", "B", "A"], Rules(tiebreakMode="useCandidateOrder"))
    assert report["winners"] == ["C"] and report["ranking"] == ["C", "B", "D", "A"]
    first, third = report["tieBreaks"]
    assert (first["place"], first["tied"], first["chosen"], first["order"]) == (1, ["B", "C"], "C", ["C", "B"])
    assert first["explanation"] == (f"Tie for 1st place between B and C: each has {top} {unit}. "
                                    "Broken by candidate order: C, then B.")
    assert third["place"] == 3 and third["chosen"] == "D"


@pytest.mark.parametrize("method", METHODS)
def test_ask_mode_leaves_a_tie_for_first_open(method):
    profile = {("A",): 1, ("B",): 3, ("C",): 3}
    report = method(profile, ["C", "B", "A"], Rules(tiebreakMode="previousRoundCountsThenAsk"))
    assert report["winners"] == [] and report["ranking"] == ["B", "C", "A"]
    assert report["unresolvedTie"]["tied"] == ["B", "C"] and report["unresolvedTie"]["chosen"] is None
    assert report["unresolvedTie"]["explanation"].endswith("Left for the operator to decide; listed in name order for now.")


@pytest.mark.parametrize("method", METHODS)
def test_same_report_every_time_and_in_any_order(method):
    profile = {("A",): 2, ("B",): 2, ("C", "A"): 2, (): 1}
    rules = Rules(tiebreakMode="random", randomSeed=99)
    reports = [method(profile, list("ABC"), rules), method(list(reversed(profile.items())), list("ABC"), rules)]
    assert reports[0] == reports[1] == method(profile, list("ABC"), rules)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("profile, total, blank", [({}, "0", 0), ({(): 3, ("",): 1}, "4", 4)])
def test_no_ballots_or_only_blank_ones(method, profile, total, blank):
    report = method(profile, ["A", "B"], Rules(tiebreakMode="useCandidateOrder"))
    assert report["winners"] == ["A"] and report["scores"] == {"A": "0", "B": "0"}
    assert report["summary"] == {"numCandidates": 2, "numWinners": 1, "totalNumBallots": total, "undervotes": blank}
    assert "each has 0" in report["tieBreaks"][0]["explanation"]


@pytest.mark.parametrize("method", METHODS)
def test_one_candidate_unicode_long_names_and_huge_counts(method):
    name = "Ünïcødé 🎸 " + "x" * 10_000
    report = method({(name,): 10**20, (): 5}, [name], Rules())
    assert report["winners"] == [name] and report["ranking"] == [name]
    expected = "0" if method is tabulate_borda else str(10**20)  # one candidate: a first choice is worth n-1 = 0
    assert report["scores"] == {name: expected}
    assert report["summary"]["totalNumBallots"] == str(10**20 + 5)


@pytest.mark.parametrize("method", METHODS)
def test_bad_input_is_a_clear_value_error(method):
    for profile, candidates, rules, message in [
        ({("Zed",): 1}, ["A"], Rules(), "'Zed', which is not a candidate"),
        ({("A",): 1}, ["A"], Rules(excluded=["A"]), "no candidates"),
        ({("A",): 1}, ["A", "B"], Rules(method="borda", seats=2), "2 seats is not available yet"),
    ]:
        with pytest.raises(ValueError, match=message):
            method(profile, candidates, rules)


@needs_cases
@pytest.mark.parametrize("case, config", [pytest.param(*c, id=c[0].name) for c in single_seat_cases()])
def test_plurality_matches_rctabs_first_round(case, config):
    """With write-ins counted as a candidate, plurality is an IRV count's round 1."""
    expected = read_json(case, "expected.json")["results"][0]["tally"]
    profile, _ = read_ballots_csv(case / "ballots.csv")
    names = [c["name"] for c in rctab_candidates(config)]
    uwi = config.get("undeclaredWriteInCandidate")
    rules = dataclasses.replace(Rules.from_rctab(config), undeclaredWriteInCandidate=None)
    report = tabulate_plurality(profile, names + ([uwi] if uwi and uwi not in names else []), rules)
    got = {name: Decimal(votes) for name, votes in report["scores"].items()}
    assert got == {name: Decimal(expected.get(name, "0")) for name in got}
    assert set(expected) <= set(got)


@pytest.mark.skipif(not SCALE_CASE.is_file(), reason=f"{SCALE_CASE} is absent")
@pytest.mark.parametrize("method", METHODS)
def test_a_million_ballots(method):
    """Correct at scale; speed is measured in bench/, never asserted in a unit test."""
    profile, candidates = read_ballots_csv(SCALE_CASE)
    report = method(profile, candidates, Rules())
    assert report["winners"] == ["BETSY HODGES"]
    assert report["summary"]["totalNumBallots"] == str(sum(profile.values()))
