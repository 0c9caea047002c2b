"""A small contest counted by hand, and the engine's public API around it."""

import io
import json

import pytest

from polls.tally import OVERVOTE, Rules, read_ballots_csv, tabulate

CANDIDATES = ["Alice", "Bob", "Cara", "Dan"]
# Worked by hand (default rules: skipped ranks and overvotes move on):
#   round 1  Alice 8, Bob 7 (4 + 3 who skipped rank 1), Cara 4, Dan 2;
#            V = 21, threshold 11; the lone overvote ballot is exhausted.
#            Dan is eliminated: his 2 ballots go to Cara.
#   round 2  Alice 8, Bob 7, Cara 6; threshold 11.  Cara is eliminated:
#            3 + 2 ballots go on to Bob, 1 has nothing left.
#   round 3  Alice 8, Bob 12; V = 20, threshold 11: Bob wins.
PROFILE = {
    ("Alice", "Bob"): 5,
    ("Alice",): 3,
    ("Bob",): 4,
    ("", "Bob"): 3,
    ("Cara", "Bob"): 3,
    ("Cara",): 1,
    ("Dan", "Cara", "Bob"): 2,
    (): 2,
    (OVERVOTE,): 1,
}


def inactive(exhausted=0, overvotes=0, skipped=0, repeated=0):
    return {
        "overvotes": str(overvotes),
        "skippedRankings": str(skipped),
        "exhaustedChoices": str(exhausted),
        "repeatedRankings": str(repeated),
    }


def test_three_rounds_by_hand():
    report = tabulate(PROFILE, CANDIDATES, Rules())
    first, second, third = report["results"]

    assert first["round"] == 1
    assert first["tally"] == {"Alice": "8", "Bob": "7", "Cara": "4", "Dan": "2"}
    assert first["threshold"] == "11"
    assert first["inactiveBallots"] == inactive(exhausted=1)
    assert first["tallyResults"] == [{"eliminated": "Dan", "transfers": {"Cara": "2"}}]

    assert second["tally"] == {"Alice": "8", "Bob": "7", "Cara": "6"}
    assert second["threshold"] == "11"
    assert second["inactiveBallots"] == inactive(exhausted=1)
    assert second["tallyResults"] == [{"eliminated": "Cara", "transfers": {"Bob": "5", "exhausted": "1"}}]

    assert third["tally"] == {"Bob": "12", "Alice": "8"}
    assert third["threshold"] == "11"
    assert third["inactiveBallots"] == inactive(exhausted=2)
    assert third["tallyResults"] == [{"elected": "Bob", "transfers": {}}]

    assert report["winners"] == ["Bob"]
    assert report["ranking"] == ["Bob", "Alice", "Cara", "Dan"]
    assert report["summary"] == {
        "numCandidates": 4,
        "numWinners": 1,
        "totalNumBallots": "24",
        "undervotes": 2,
        "finalThreshold": "11",
    }
    assert report["tieBreaks"] == []
    json.dumps(report)  # plain data, ready for the API


def test_rctab_rules_change_the_count():
    strict = Rules(overvoteRule="exhaustImmediately", maxSkippedRanksAllowed=0)
    first = tabulate(PROFILE, CANDIDATES, strict)["results"][0]
    assert first["tally"] == {"Alice": "8", "Bob": "4", "Cara": "4", "Dan": "2"}
    assert first["inactiveBallots"] == inactive(overvotes=1, skipped=3)


def test_profile_may_be_pairs_and_repeats_add_up():
    pairs = [(("Alice",), 2), (("Bob",), 1), (("Alice",), 1), (["Bob", "Alice"], 1)]
    report = tabulate(pairs, ["Alice", "Bob"], Rules())
    assert report["results"][0]["tally"] == {"Alice": "3", "Bob": "2"}
    assert report["winners"] == ["Alice"]


def test_batch_elimination_and_ranking_order():
    profile = {("A",): 10, ("B",): 6, ("C", "B"): 3, ("D",): 1, ("E",): 1}
    report = tabulate(profile, ["A", "B", "C", "D", "E"], Rules(batchElimination=True))
    first = report["results"][0]
    # C + D + E = 5 < 6: all three go together, listed in Java string order.
    assert [e["eliminated"] for e in first["tallyResults"]] == ["C", "D", "E"]
    assert first["tallyResults"][0]["transfers"] == {"B": "3"}
    assert first["tallyResults"][1]["transfers"] == {"exhausted": "1"}
    # Same batch: by that round's tally, then (no earlier rounds) by name.
    assert report["ranking"] == ["A", "B", "C", "D", "E"]


def test_ranking_after_the_winner_orders_each_batch_by_its_own_round():
    # continueUntilTwoCandidatesRemain: B wins in round 1, A and E leave in
    # round 2, C and D in round 3, where D (6) is ahead of C (5) although they
    # were level (5 each) in round 2.
    profile = {("F", "C"): 6, ("F", "B"): 5, ("B", "E", "F", "A"): 6, ("E", "D"): 1, ("B", "A"): 4,
               ("B",): 8, ("D",): 5, ("B", "E"): 9, ("B", "F", "A", "C"): 4, ("E", "F"): 3, ("C",): 5}
    rules = Rules(continueUntilTwoCandidatesRemain=True, batchElimination=True)
    report = tabulate(profile, list("ABCDEF"), rules)
    assert [[e.get("elected") or e["eliminated"] for e in r["tallyResults"]] for r in report["results"]] == [
        ["B"], ["A", "E"], ["C", "D"], []]
    assert report["results"][2]["tally"] == {"B": "31", "F": "14", "D": "6", "C": "5"}
    assert report["ranking"] == ["B", "F", "D", "C", "E", "A"]


def test_excluded_and_undeclared_write_ins():
    profile = {("Undeclared Write-ins", "A"): 5, ("A",): 3, ("B",): 4, ("X", "B"): 2}
    rules = Rules(excluded=["X"], undeclaredWriteInCandidate="Undeclared Write-ins")
    report = tabulate(profile, ["A", "B", "X"], rules)
    first, second = report["results"]
    # Write-ins lead but cannot win; they go out first, alone.
    assert first["tally"] == {"B": "6", "Undeclared Write-ins": "5", "A": "3"}
    assert first["tallyResults"] == [{"eliminated": "Undeclared Write-ins", "transfers": {"A": "5"}}]
    assert second["tallyResults"] == [{"elected": "A", "transfers": {}}]
    assert report["summary"]["numCandidates"] == 4
    assert "X" not in report["ranking"]


def test_stop_counting_and_ask_reports_the_tie():
    report = tabulate({("A",): 2, ("B",): 2, ("C",): 3}, ["A", "B", "C"], Rules(tiebreakMode="stopCountingAndAsk"))
    assert report["unresolvedTie"]["round"] == 1
    assert report["unresolvedTie"]["tied"] == ["A", "B"]
    assert report["unresolvedTie"]["kind"] == "loser"
    assert report["winners"] == []
    assert len(report["results"]) == 1 and report["results"][0]["tallyResults"] == []
    assert report["ranking"] == ["C", "A", "B"]


def test_candidate_order_tie_break_is_explained():
    report = tabulate({("A",): 1, ("B",): 1, ("C",): 2}, ["A", "B", "C"], Rules(tiebreakMode="useCandidateOrder"))
    (tie,) = report["tieBreaks"]
    assert tie == {
        "round": 1,
        "kind": "loser",
        "tied": ["A", "B"],
        "chosen": "B",
        "rule": "useCandidateOrder",
        "explanation": "Tie between A and B broken by candidate order: B comes latest",
    }


@pytest.mark.parametrize(
    "profile, candidates, rules, message",
    [
        ({("Zed",): 1}, ["A"], Rules(), "'Zed', which is not a candidate"),
        ({("A",): -1}, ["A"], Rules(), "whole number"),
        ({("A",): 1.5}, ["A"], Rules(), "whole number"),
        ({("A", 3): 1}, ["A"], Rules(), "tuple of strings"),
        ({("A",): 1}, ["A", "A"], Rules(), "distinct"),
        ({("A",): 1}, ["A"], Rules(excluded=["Q"]), "'Q' is not in the candidate list"),
        ({("A",): 1}, ["A"], Rules(excluded=["A"]), "no candidates"),
        ({("A",): 1}, ["A"], Rules(method="stv", seats=2, excluded=["A"]), "no candidates"),
    ],
)
def test_bad_input_is_a_clear_value_error(profile, candidates, rules, message):
    with pytest.raises(ValueError, match=message):
        tabulate(profile, candidates, rules)


@pytest.mark.parametrize(
    "fields",
    [
        {"method": "coin-toss"},
        {"tiebreakMode": "dice"},
        {"maxSkippedRanksAllowed": -1},
        {"seats": 0},
        {"seats": 2},
        {"method": "stv", "seats": -1},
        {"batchElimination": "yes"},
        {"excluded": "Dan"},
    ],
)
def test_rules_reject_bad_values(fields):
    with pytest.raises(ValueError):
        Rules(**fields)


def test_rules_from_rctab_reads_strings_numbers_and_booleans():
    rules = Rules.from_rctab(
        {
            "rules": {
                "tiebreakMode": "random",
                "randomSeed": "42",
                "overvoteRule": "exhaustImmediately",
                "winnerElectionMode": "singleWinnerMajority",
                "numberOfWinners": 1,
                "maxSkippedRanksAllowed": "unlimited",
                "maxRankingsAllowed": "3",
                "batchElimination": "true",
                "stopTabulationEarlyAfterRound": "",
                "rulesDescription": "ignored",
            },
            "candidates": [{"name": "A", "excluded": False}, {"name": "B", "excluded": True}],
            "undeclaredWriteInCandidate": "Undeclared Write-ins",
        }
    )
    assert rules == Rules(
        tiebreakMode="random",
        randomSeed=42,
        overvoteRule="exhaustImmediately",
        batchElimination=True,
        maxRankingsAllowed=3,
        excluded=("B",),
        undeclaredWriteInCandidate="Undeclared Write-ins",
        noWinnerWithoutVotes=False,  # RCTab draws lots even among zeros
    )


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"numberOfWinners": "3", "winnerElectionMode": "multiPassIrv"}, "not available yet"),
        ({"overvoteRule": "exhaustIfMultipleContinuing"}, "not available yet"),
        ({"tiebreakMode": "random", "randomSeed": ""}, "needs a randomSeed"),
        ({"maxSkippedRanksAllowed": "lots"}, "whole number"),
        ({"batchElimination": "maybe"}, "true or false"),
    ],
)
def test_rules_from_rctab_refuses_what_it_cannot_count(raw, message):
    with pytest.raises(ValueError, match=message):
        Rules.from_rctab({"rules": raw})


def test_read_ballots_csv_header_styles_counts_and_order():
    text = "Voter,Choice 2,Choice 1,COUNT\nv1, Bob ,Alice,2\nv2,,Alice,1\nv3,Alice,Alice,0\nv4,Bob,Alice,3\n,,,4\n"
    profile, candidates = read_ballots_csv(io.StringIO(text))
    assert profile == {("Alice", "Bob"): 5, ("Alice",): 1, ("Alice", "Alice"): 0, (): 4}
    assert candidates == ["Alice", "Bob"]


def test_read_ballots_csv_names_the_line_of_a_bad_count():
    with pytest.raises(ValueError, match=r"^<ballots> line 3: count must be a whole number$"):
        read_ballots_csv(io.StringIO("rank1,count\nA,1\nB,1.5\n"))
