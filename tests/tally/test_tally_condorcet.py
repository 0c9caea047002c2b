"""Schulze and ranked pairs: textbook examples, ties, ballot rules, edge cases."""

import json
import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from rctab_cases import SCALE_CASE, needs_cases, read_json, single_seat_cases

from polls.tally import OVERVOTE, Rules, read_ballots_csv
from polls.tally.condorcet import ordinal, pairwise_counts, read_rankings, tabulate_ranked_pairs, tabulate_schulze
from polls.tally.rules import rctab_candidates
from polls.tally.tiebreak import TieBreaker

PROJECT = Path(__file__).resolve().parents[2]
METHODS = [tabulate_schulze, tabulate_ranked_pairs]

# Wikipedia, "Schulze method": 45 voters, 5 candidates.
SCHULZE_45 = {tuple(order): n for order, n in [
    ("ACBED", 5), ("ADECB", 5), ("BEDAC", 8), ("CABED", 3),
    ("CAEBD", 7), ("CBADE", 2), ("DCEBA", 7), ("EBADC", 8),
]}
# Wikipedia's Tennessee capital example, 100 voters.
CITIES = ["Memphis", "Nashville", "Chattanooga", "Knoxville"]
TENNESSEE = {
    ("Memphis", "Nashville", "Chattanooga", "Knoxville"): 42,
    ("Nashville", "Chattanooga", "Knoxville", "Memphis"): 26,
    ("Chattanooga", "Knoxville", "Nashville", "Memphis"): 15,
    ("Knoxville", "Chattanooga", "Nashville", "Memphis"): 17,
}
# A > B > C > A, every defeat 2 to 1: nobody wins without a tie-break.
CYCLE = {("A", "B", "C"): 1, ("B", "C", "A"): 1, ("C", "A", "B"): 1}


def numbers(matrix):
    return {a: {b: int(v) for b, v in row.items()} for a, row in matrix.items()}


def test_wikipedia_schulze_example():
    report = tabulate_schulze(SCHULZE_45, list("ABCDE"), Rules())
    assert report["winners"] == ["E"]
    assert report["ranking"] == ["E", "A", "C", "B", "D"]
    assert numbers(report["pairwise"]) == {
        "A": {"B": 20, "C": 26, "D": 30, "E": 22},
        "B": {"A": 25, "C": 16, "D": 33, "E": 18},
        "C": {"A": 19, "B": 29, "D": 17, "E": 24},
        "D": {"A": 15, "B": 12, "C": 28, "E": 14},
        "E": {"A": 23, "B": 27, "C": 21, "D": 31},
    }
    assert numbers(report["strongestPaths"]) == {
        "A": {"B": 28, "C": 28, "D": 30, "E": 24},
        "B": {"A": 25, "C": 28, "D": 33, "E": 24},
        "C": {"A": 25, "B": 29, "D": 29, "E": 24},
        "D": {"A": 25, "B": 28, "C": 28, "E": 24},
        "E": {"A": 25, "B": 28, "C": 28, "D": 31},
    }
    assert report["condorcetWinner"] is None
    assert report["tieBreaks"] == []
    assert report["summary"] == {"numCandidates": 5, "numWinners": 1, "totalNumBallots": "45", "undervotes": 0}
    assert set(report) == {"winners", "ranking", "pairwise", "strongestPaths", "condorcetWinner", "summary",
                           "tieBreaks"}
    json.dumps(report)


def test_tennessee_ranked_pairs():
    report = tabulate_ranked_pairs(TENNESSEE, CITIES, Rules(tiebreakMode="useCandidateOrder"))
    assert report["winners"] == ["Nashville"]
    assert report["ranking"] == ["Nashville", "Chattanooga", "Knoxville", "Memphis"]
    assert report["condorcetWinner"] == "Nashville"
    assert report["pairwise"]["Chattanooga"] == {"Memphis": "58", "Nashville": "32", "Knoxville": "83"}
    # Largest margin first; equal margins in candidate order (winner earliest first).
    assert [(p["winner"], p["loser"], p["margin"]) for p in report["lockedPairs"]] == [
        ("Chattanooga", "Knoxville", "66"),
        ("Nashville", "Knoxville", "36"),
        ("Nashville", "Chattanooga", "36"),
        ("Nashville", "Memphis", "16"),
        ("Chattanooga", "Memphis", "16"),
        ("Knoxville", "Memphis", "16"),
    ]
    assert report["skippedPairs"] == []
    assert report["tieBreaks"] == []  # equal margins, but locking them in any order gives the same graph
    assert set(report) == {"winners", "ranking", "pairwise", "lockedPairs", "skippedPairs", "condorcetWinner",
                           "summary", "tieBreaks"}
    assert tabulate_schulze(TENNESSEE, CITIES, Rules())["ranking"] == report["ranking"]


def test_ranked_pairs_skips_the_weakest_link_of_a_cycle():
    # A beats B 11-5, B beats C 12-4, C beats A 9-7.
    profile = {("A", "B", "C"): 7, ("B", "C", "A"): 5, ("C", "A", "B"): 4}
    report = tabulate_ranked_pairs(profile, ["A", "B", "C"], Rules())
    assert [(p["winner"], p["loser"], p["margin"]) for p in report["lockedPairs"]] == [("B", "C", "8"), ("A", "B", "6")]
    assert report["skippedPairs"] == [{"winner": "C", "loser": "A", "margin": "2"}]
    assert report["ranking"] == ["A", "B", "C"] and report["condorcetWinner"] is None
    assert report["tieBreaks"] == []
    assert tabulate_schulze(profile, ["A", "B", "C"], Rules())["ranking"] == ["A", "B", "C"]


@pytest.mark.parametrize("order", [["A", "B", "C"], ["B", "C", "A"], ["C", "B", "A"]])
def test_a_perfect_cycle_goes_to_the_tie_break_order(order):
    rules = Rules(tiebreakMode="useCandidateOrder")
    schulze = tabulate_schulze(CYCLE, order, rules)
    assert schulze["winners"] == [order[0]] and schulze["ranking"] == order
    (tie,) = schulze["tieBreaks"]
    assert tie == {
        "kind": "place", "place": 1, "tied": ["A", "B", "C"], "chosen": order[0], "order": order,
        "rule": "useCandidateOrder",
        "explanation": "Tie for 1st place between A, B and C: none of them beats another on strongest paths. "
                       f"Broken by candidate order: {order[0]}, then {order[1]}, then {order[2]}.",
    }
    pairs = tabulate_ranked_pairs(CYCLE, order, rules)
    assert pairs["winners"] == [order[0]]
    (lock,) = pairs["tieBreaks"]
    assert lock["kind"] == "lockOrder" and lock["margin"] == "1" and len(lock["pairs"]) == 3
    assert lock["skipped"] == [{"winner": s["winner"], "loser": s["loser"]} for s in pairs["skippedPairs"]]
    assert lock["explanation"].startswith("3 pairs have the same margin (1), so the order they are locked in")
    assert "Ordered by candidate order: " in lock["explanation"]


@pytest.mark.parametrize("method", METHODS)
def test_ask_modes_leave_a_tie_for_first_open(method):
    for mode in ("stopCountingAndAsk", "previousRoundCountsThenAsk"):
        report = method(CYCLE, ["C", "B", "A"], Rules(tiebreakMode=mode))
        assert report["winners"] == []
        assert report["unresolvedTie"] in report["tieBreaks"]
        assert "Left for the operator to decide" in report["unresolvedTie"]["explanation"]
        assert report["ranking"][0] == "A"  # name order, for now


@pytest.mark.parametrize("method", METHODS)
def test_an_open_tie_below_first_place_keeps_the_winner(method):
    profile = {("A", "B", "C"): 2, ("A", "C", "B"): 2}
    report = method(profile, ["A", "C", "B"], Rules(tiebreakMode="stopCountingAndAsk"))
    assert report["winners"] == ["A"] and report["ranking"] == ["A", "B", "C"]
    assert "unresolvedTie" not in report
    (tie,) = report["tieBreaks"]
    assert (tie["place"], tie["tied"], tie["chosen"]) == (2, ["B", "C"], None)
    assert tie["explanation"].startswith("Tie for 2nd place between B and C")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("mode", ["generatePermutation", "random", "previousRoundCountsThenRandom"])
def test_seeded_modes_use_rctabs_seeded_permutation(method, mode):
    names = ["Ann", "Ben", "Cat", "Dee", "Eli"]
    seen = set()
    for seed in (1, 2, 3, 4, 5, 6, 7, 8):
        reports = [method({}, names, Rules(tiebreakMode=mode, randomSeed=seed)) for _ in range(2)]
        assert reports[0] == reports[1]
        permutation = sorted(names, key=TieBreaker(Rules(tiebreakMode="generatePermutation", randomSeed=seed),
                                                   names).position)
        assert reports[0]["ranking"] == permutation
        assert f"seed {seed}" in reports[0]["tieBreaks"][0]["explanation"]
        seen.add(reports[0]["winners"][0])
    assert len(seen) > 1


def test_same_ballots_same_report_in_any_order_and_hash_seed():
    profile = {**CYCLE, ("B",): 1, ("C",): 1, (): 2}
    rules = Rules(tiebreakMode="random", randomSeed=2024)
    for method in METHODS:
        reports = [method(profile, ["A", "B", "C"], rules), method(list(reversed(profile.items())), ["A", "B", "C"], rules)]
        assert reports[0] == reports[1]
    code = (
        "import json; from polls.tally import Rules; from polls.tally.condorcet import *; "
        f"p = {dict(CYCLE)!r}; r = Rules(tiebreakMode='random', randomSeed=7); "
        "print(json.dumps([tabulate_schulze(p, list('ABC'), r), tabulate_ranked_pairs(p, list('ABC'), r)]))"
    )
    outputs = {
        subprocess.run([sys.executable, "-c", code], cwd=PROJECT, capture_output=True, text=True, timeout=60,
                       env={**os.environ, "PYTHONHASHSEED": seed}, check=True).stdout
        for seed in ("0", "1", "4321")
    }
    assert len(outputs) == 1


def test_ballot_rules_in_the_pairwise_matrix():
    def matrix(profile, **rules):
        report = tabulate_schulze(profile, ["A", "B", "C"], Rules(**rules))
        return numbers(report["pairwise"])

    # A ranked candidate beats every unranked one; two unranked ones are level.
    assert matrix({("A",): 1}) == {"A": {"B": 1, "C": 1}, "B": {"A": 0, "C": 0}, "C": {"A": 0, "B": 0}}
    # Skipped ranks are passed over; a repeated name counts at its first rank.
    assert matrix({("", "B", "", "A"): 1}) == matrix({("B", "A"): 1})
    assert matrix({("B", "B", "A"): 1}) == matrix({("B", "A"): 1})
    assert matrix({("A", "C", "A", "B"): 1}) == matrix({("A", "C", "B"): 1})
    # Overvotes: skip to the next rank, or end the ballot there.
    assert matrix({("B", OVERVOTE, "A"): 1}) == matrix({("B", "A"): 1})
    assert matrix({("B", OVERVOTE, "A"): 1}, overvoteRule="exhaustImmediately") == matrix({("B",): 1})
    # Repeats end the ballot when RCTab's exhaustOnDuplicateCandidate says so.
    assert matrix({("B", "B", "A"): 1}, exhaustOnDuplicateCandidate=True) == matrix({("B",): 1})
    # maxSkippedRanksAllowed and maxRankingsAllowed as in the IRV count.
    assert matrix({("B", "", "", "A"): 1}, maxSkippedRanksAllowed=1) == matrix({("B",): 1})
    assert matrix({("B", "", "A"): 1}, maxSkippedRanksAllowed=1) == matrix({("B", "A"): 1})
    assert matrix({("B", "C", "A"): 1}, maxRankingsAllowed=2) == matrix({("B", "C"): 1})


def test_excluded_candidates_and_write_ins_are_passed_over():
    rules = Rules(excluded=["Memphis"])
    report = tabulate_ranked_pairs(TENNESSEE, CITIES, rules)
    assert report["ranking"] == ["Nashville", "Chattanooga", "Knoxville"]
    assert set(report["pairwise"]) == {"Nashville", "Chattanooga", "Knoxville"}
    assert report["pairwise"]["Nashville"] == {"Chattanooga": "68", "Knoxville": "68"}
    assert report["summary"]["numCandidates"] == 4

    profile = {("Write-ins", "B", "A"): 3, ("A",): 2}
    report = tabulate_schulze(profile, ["A", "B"], Rules(undeclaredWriteInCandidate="Write-ins"))
    assert report["ranking"] == ["B", "A"] and "Write-ins" not in report["pairwise"]
    assert report["summary"]["numCandidates"] == 3


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("profile, total, blank", [({}, "0", 0), ({(): 4, ("", ""): 2}, "6", 6)])
def test_no_ballots_or_only_blank_ones(method, profile, total, blank):
    report = method(profile, ["A", "B", "C"], Rules(tiebreakMode="useCandidateOrder"))
    assert report["winners"] == ["A"] and report["ranking"] == ["A", "B", "C"]
    assert report["summary"] == {"numCandidates": 3, "numWinners": 1, "totalNumBallots": total, "undervotes": blank}
    assert all(v == "0" for row in report["pairwise"].values() for v in row.values())
    assert report["condorcetWinner"] is None
    assert [t["place"] for t in report["tieBreaks"]] == [1]


@pytest.mark.parametrize("method", METHODS)
def test_one_candidate(method):
    report = method({("A",): 3, (OVERVOTE,): 1, (): 1}, ["A"], Rules())
    assert report["winners"] == ["A"] and report["ranking"] == ["A"]
    assert report["pairwise"] == {"A": {}} and report["condorcetWinner"] == "A"
    assert report["summary"]["totalNumBallots"] == "5" and report["summary"]["undervotes"] == 1


@pytest.mark.parametrize("method", METHODS)
def test_unicode_long_names_and_huge_counts(method):
    long_name = "Ω" * 5000
    names = ["Zoë ✓", "\uff21", "\U0001f600", long_name]
    profile = {(long_name, "Zoë ✓"): 10**18, ("Zoë ✓",): 10**18 - 1, ("\uff21",): 1, ("\U0001f600",): 1}
    report = method(profile, names, Rules(tiebreakMode="stopCountingAndAsk"))
    assert report["winners"] == [long_name]
    assert report["pairwise"][long_name]["Zoë ✓"] == str(10**18)
    assert report["summary"]["totalNumBallots"] == str(2 * 10**18 + 1)
    # The two one-vote candidates are level: listed in Java string (UTF-16) order.
    assert report["ranking"][2:] == ["\U0001f600", "\uff21"]
    json.loads(json.dumps(report, ensure_ascii=False))


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "profile, candidates, rules, message",
    [
        ({("Zed",): 1}, ["A"], Rules(), "'Zed', which is not a candidate"),
        ({("A",): -1}, ["A"], Rules(), "whole number"),
        ({("A",): 1}, ["A", "A"], Rules(), "distinct"),
        ({("A",): 1}, ["A", OVERVOTE], Rules(), "cannot be a candidate name"),
        ({("A",): 1}, ["A"], Rules(excluded=["Q"]), "'Q' is not in the candidate list"),
        ({("A",): 1}, ["A"], Rules(excluded=["A"]), "no candidates"),
        ({("A",): 1}, ["A", "B"], Rules(method="schulze", seats=2), "2 seats is not available yet"),
    ],
)
def test_bad_input_is_a_clear_value_error(method, profile, candidates, rules, message):
    with pytest.raises(ValueError, match=message):
        method(profile, candidates, rules)


def test_ordinals():
    assert [ordinal(n) for n in (1, 2, 3, 4, 11, 12, 13, 21, 22, 101, 111)] == [
        "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "101st", "111th"]


def _reaches(edges, start, goal):
    seen, todo = set(), [start]
    while todo:
        node = todo.pop()
        if node == goal:
            return True
        if node not in seen:
            seen.add(node)
            todo += edges.get(node, [])
    return False


def test_random_profiles_keep_each_methods_promises():
    rng = random.Random(1)
    names = list("ABCDEF")
    for _ in range(200):
        profile = {}
        for _ in range(rng.randint(0, 12)):
            ballot = tuple(rng.sample(names, rng.randint(0, 6)))
            profile[ballot] = profile.get(ballot, 0) + rng.randint(1, 4)
        rules = Rules(tiebreakMode=rng.choice(["useCandidateOrder", "generatePermutation"]), randomSeed=rng.randint(0, 99))
        schulze, pairs = tabulate_schulze(profile, names, rules), tabulate_ranked_pairs(profile, names, rules)
        place = {name: i for i, name in enumerate(schulze["ranking"])}
        p = numbers(schulze["strongestPaths"])
        for a in names:
            for b in names:
                if a != b and int(p[a][b]) > int(p[b][a]):
                    assert place[a] < place[b]
        d = numbers(pairs["pairwise"])
        considered = pairs["lockedPairs"] + pairs["skippedPairs"]
        assert sorted((x["winner"], x["loser"]) for x in considered) == sorted(
            (a, b) for a in names for b in names if a != b and d[a][b] > d[b][a])
        edges = {}
        place = {name: i for i, name in enumerate(pairs["ranking"])}
        for pair in pairs["lockedPairs"]:
            assert place[pair["winner"]] < place[pair["loser"]]
            edges.setdefault(pair["winner"], []).append(pair["loser"])
        for pair in pairs["skippedPairs"]:
            assert _reaches(edges, pair["loser"], pair["winner"])
        margins = [int(x["margin"]) for x in pairs["lockedPairs"]]
        assert margins == sorted(margins, reverse=True)
        for report in (schulze, pairs):
            if report["condorcetWinner"]:
                assert report["winners"] == [report["condorcetWinner"]]
            assert sorted(report["ranking"]) == names


def _final_two_cases():
    cases = []
    for case, config in single_seat_cases():
        last = read_json(case, "expected.json")["results"][-1]["tally"]
        if len(last) == 2:
            cases.append(pytest.param(case, config, last, id=case.name))
    return cases


@needs_cases
@pytest.mark.parametrize("case, config, last", _final_two_cases())
def test_pairwise_matches_rctabs_final_two(case, config, last):
    """An IRV count's last round between two candidates is their head-to-head count."""
    profile, _ = read_ballots_csv(case / "ballots.csv")
    report = tabulate_schulze(profile, [c["name"] for c in rctab_candidates(config)], Rules.from_rctab(config))
    (a, a_votes), (b, b_votes) = last.items()
    assert (Decimal(report["pairwise"][a][b]), Decimal(report["pairwise"][b][a])) == (Decimal(a_votes), Decimal(b_votes))


@pytest.mark.skipif(not SCALE_CASE.is_file(), reason=f"{SCALE_CASE} is absent")
@pytest.mark.parametrize("method", METHODS)
def test_a_million_ballots(method):
    """Correct at scale; speed is measured in bench/, never asserted in a unit test."""
    profile, candidates = read_ballots_csv(SCALE_CASE)
    assert sum(profile.values()) > 1_000_000 and len(candidates) == 36
    report = method(profile, candidates, Rules())
    assert report["winners"] == ["BETSY HODGES"] == [report["condorcetWinner"]]
    assert report["summary"]["totalNumBallots"] == str(sum(profile.values()))


def test_pairwise_counts_directly():
    rankings = read_rankings({("B", "A"): 2, ("C",): 1}, ["A", "B", "C"], Rules())
    assert pairwise_counts(rankings) == [[0, 0, 2], [2, 0, 2], [1, 1, 0]]
