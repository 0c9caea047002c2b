"""Multi-seat STV: small contests counted by hand, and the rules around it."""

import json
from dataclasses import replace

import pytest

from polls.tally import Rules, tabulate

CANDIDATES = ["A", "B", "C", "D"]
# Two seats, 18 ballots, worked by hand (4 decimal places, cut, never rounded):
#   round 1  A 9, C 4, D 3, B 2; threshold floor(18/3)+1 = 7.  A wins with a
#            surplus of 2: f = 2/9 = 0.2222.  Each of A's 9 ballots passes on
#            0.2222 (6 to B: 1.3332, 3 to C: 0.6666) and keeps 0.7778, so A
#            keeps 7.0002: 0.0002 over the threshold is residual surplus.
#   round 2  A 7, C 4.6666, B 3.3332, D 3.  Nobody reaches 7; D goes out:
#            2 ballots to C, 1 with nothing left.
#   round 3  A 7, C 6.6666, B 3.3332.  B goes out; B's ballots (2 whole ones
#            and A's six 0.2222s) have nowhere to go: 3.3332 exhausted.
#   round 4  A 7, C 6.6666: one candidate for one seat, so C wins below the
#            threshold, with nothing to pass on.
#   round 5  the extra round after the last seat: nothing left to move.
PROFILE = {("A", "B"): 6, ("A", "C"): 3, ("B",): 2, ("C",): 4, ("D", "C"): 2, ("D",): 1}


def inactive(exhausted="0", **more):
    return {"overvotes": "0", "skippedRankings": "0", "exhaustedChoices": exhausted,
            "repeatedRankings": "0", **more}


def test_two_seats_with_a_surplus_by_hand():
    report = tabulate(PROFILE, CANDIDATES, Rules(method="stv", seats=2))
    rounds = report["results"]
    assert [r["threshold"] for r in rounds] == ["7"] * 5

    assert rounds[0]["tally"] == {"A": "9", "C": "4", "D": "3", "B": "2"}
    assert rounds[0]["tallyResults"] == [
        {"elected": "A", "transfers": {"B": "1.3332", "C": "0.6666", "residual surplus": "0.0002"}}
    ]
    assert rounds[0]["inactiveBallots"] == inactive()

    assert rounds[1]["tally"] == {"A": "7", "C": "4.6666", "B": "3.3332", "D": "3"}
    assert rounds[1]["tallyResults"] == [{"eliminated": "D", "transfers": {"C": "2", "exhausted": "1"}}]

    assert rounds[2]["tally"] == {"A": "7", "C": "6.6666", "B": "3.3332"}
    assert rounds[2]["tallyResults"] == [{"eliminated": "B", "transfers": {"exhausted": "3.3332"}}]
    assert rounds[2]["inactiveBallots"] == inactive("1")

    assert rounds[3]["tally"] == {"A": "7", "C": "6.6666"}
    assert rounds[3]["tallyResults"] == [{"elected": "C", "transfers": {}}]
    assert rounds[3]["inactiveBallots"] == inactive("4.3332")

    assert rounds[4]["tally"] == {"A": "7", "C": "6.6666"}
    assert rounds[4]["tallyResults"] == []
    assert rounds[4]["inactiveBallots"] == inactive("4.3332", finalRoundSurplus="0")

    assert report["winners"] == ["A", "C"]
    assert report["ranking"] == ["A", "C", "B", "D"]
    assert report["summary"] == {"numCandidates": 4, "numWinners": 2, "totalNumBallots": "18",
                                 "undervotes": 0, "finalThreshold": "7"}
    assert report["tieBreaks"] == []
    json.dumps(report)


def test_a_ballot_passes_on_a_surplus_of_a_surplus():
    # Three seats, 16 ballots: threshold 5.  A's 10 ballots pass on half each
    # (f = 5/10), putting B on 6; B's surplus fraction is then 1/6 = 0.1666, so
    # each of those ballots, now worth 0.5, moves on 0.5 * 0.1666 = 0.0833 to C.
    profile = {("A", "B", "C"): 10, ("B",): 1, ("C",): 2, ("D",): 3}
    report = tabulate(profile, CANDIDATES, Rules(method="stv", seats=3))
    first, second, third = report["results"][:3]
    assert first["tallyResults"] == [{"elected": "A", "transfers": {"B": "5"}}]
    assert second["tally"] == {"B": "6", "A": "5", "D": "3", "C": "2"}
    # B keeps 10 * 0.4167 + 0.8334 = 5.0004.
    assert second["tallyResults"] == [{"elected": "B", "transfers": {
        "C": "0.8330", "exhausted": "0.1666", "residual surplus": "0.0004"}}]
    assert third["tally"] == {"A": "5", "B": "5", "D": "3", "C": "2.8330"}
    assert report["winners"] == ["A", "B", "D"]


def test_the_last_surplus_is_counted_as_final_round_surplus():
    # Two seats: threshold 8.  Bob's surplus (12 - 8) leaves in the extra round
    # and is counted as finalRoundSurplus, not as exhausted ballots.
    profile = {("Alice", "Bob"): 5, ("Alice",): 3, ("Bob",): 4, ("", "Bob"): 3, ("Cara", "Bob"): 3,
               ("Cara",): 1, ("Dan", "Cara", "Bob"): 2, (): 2, ("overvote",): 1}
    report = tabulate(profile, ["Alice", "Bob", "Cara", "Dan"], Rules(method="stv", seats=2))
    *_, last_but_one, last = report["results"]
    assert last_but_one["tallyResults"] == [
        {"elected": "Bob", "transfers": {"exhausted": "3.9996", "residual surplus": "0.0004"}}
    ]
    assert last["tally"] == {"Alice": "8", "Bob": "8"}
    assert last["inactiveBallots"] == inactive("2", finalRoundSurplus="3.9996")
    assert "finalRoundSurplus" not in last_but_one["inactiveBallots"]


def test_stv_for_one_seat_is_instant_runoff():
    assert tabulate(PROFILE, CANDIDATES, Rules(method="stv")) == tabulate(PROFILE, CANDIDATES, Rules())


def test_fractional_threshold_and_hare_quota():
    profile = {("A",): 5, ("B",): 3, ("C",): 2}
    fractional = Rules(method="stv", seats=3, nonIntegerWinningThreshold=True)
    assert tabulate(profile, ["A", "B", "C"], fractional)["results"][0]["threshold"] == "2.5001"
    hare = Rules(method="stv", seats=3, hareQuota=True)
    assert tabulate(profile, ["A", "B", "C"], hare)["results"][0]["threshold"] == "4"


def test_one_winner_per_round_and_a_tie_left_for_the_operator():
    profile = {("A",): 3, ("B",): 3, ("C",): 1}
    one = Rules(method="stv", seats=2, winnerElectionMode="multiWinnerAllowOnlyOneWinnerPerRound",
                tiebreakMode="useCandidateOrder")
    report = tabulate(profile, ["A", "B", "C"], one)
    assert [r["tallyResults"][0]["elected"] for r in report["results"][:2]] == ["A", "B"]
    assert report["tieBreaks"][0]["kind"] == "winner" and report["tieBreaks"][0]["chosen"] == "A"

    ask = Rules(method="stv", seats=2, winnerElectionMode="multiWinnerAllowOnlyOneWinnerPerRound",
                tiebreakMode="stopCountingAndAsk")
    report = tabulate(profile, ["A", "B", "C"], ask)
    assert report["unresolvedTie"]["kind"] == "winner" and report["unresolvedTie"]["tied"] == ["A", "B"]
    assert report["winners"] == [] and len(report["results"]) == 1
    assert report["results"][0]["tallyResults"] == []


def test_bottoms_up_with_a_percentage_threshold_and_cutoff():
    profile = {("A",): 6, ("B", "A"): 3, ("C", "B"): 1, ("D",): 1}
    rules = Rules(method="stv", seats=0, winnerElectionMode="bottomsUpUsingPercentageThreshold",
                  multiSeatBottomsUpPercentageThreshold=20, cutoffElimination=True)
    report = tabulate(profile, ["A", "B", "C", "D"], rules)
    first, second = report["results"]
    # 11 votes * 20% = 2.2: C and D are both under it and go out together.
    assert first["threshold"] == "2.2000"
    assert first["tallyResults"] == [{"eliminated": "C", "transfers": {"B": "1"}},
                                     {"eliminated": "D", "transfers": {"exhausted": "1"}}]
    assert second["threshold"] == "2"
    assert report["winners"] == ["A", "B"] and report["summary"]["numWinners"] == 0
    assert "finalRoundSurplus" not in second["inactiveBallots"]


def test_more_seats_than_candidates_ends():
    report = tabulate(PROFILE, CANDIDATES, Rules(method="stv", seats=6, excluded=["D"]))
    assert sorted(report["winners"]) == ["A", "B", "C"]
    assert len(report["results"]) == 2


def test_no_ballots_at_all():
    rules = Rules(method="stv", seats=2, tiebreakMode="useCandidateOrder")
    report = tabulate({}, ["C", "A", "B"], rules)
    assert (report["winners"], report["ranking"], report["results"]) == ([], ["C", "A", "B"], [])
    assert report["summary"]["totalNumBallots"] == "0"
    # As RCTab does it: the seats go by the tie-break rule among zeros.
    report = tabulate({}, ["C", "A", "B"], replace(rules, noWinnerWithoutVotes=False))
    assert report["winners"] == ["C", "A"]


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"seats": 2}, "method 'irv' fills one seat; use method 'stv' for 2 seats"),
        ({"method": "stv", "seats": 0}, "seats must be a whole number >= 1"),
        ({"method": "stv", "seats": 2, "batchElimination": True}, "batchElimination is for one seat"),
        ({"method": "stv", "seats": 2, "continueUntilTwoCandidatesRemain": True}, "is for one seat"),
        ({"method": "stv", "seats": 2, "cutoffElimination": True}, "cutoffElimination needs"),
        ({"method": "stv", "seats": 3, "winnerElectionMode": "singleWinnerMajority"}, "fills one seat"),
        ({"method": "stv", "winnerElectionMode": "bottomsUp"}, "needs 2 or more seats"),
        ({"method": "stv", "seats": 0, "winnerElectionMode": "bottomsUpUsingPercentageThreshold"},
         "needs a multiSeatBottomsUpPercentageThreshold"),
        ({"method": "stv", "seats": 3, "winnerElectionMode": "bottomsUpUsingPercentageThreshold",
          "multiSeatBottomsUpPercentageThreshold": 10}, "seats must be 0"),
        ({"method": "stv", "seats": 0, "winnerElectionMode": "bottomsUpUsingPercentageThreshold",
          "multiSeatBottomsUpPercentageThreshold": 101}, "from 1 to 100"),
        ({"method": "stv", "seats": 2, "winnerElectionMode": "multiPassIrv"}, "winnerElectionMode must be"),
    ],
)
def test_rules_refuse_what_does_not_fit_together(fields, message):
    with pytest.raises(ValueError, match=message):
        Rules(**fields)


def test_rules_from_rctab_for_several_seats():
    stv = Rules.from_rctab({"rules": {"numberOfWinners": "3", "decimalPlacesForVoteArithmetic": "2",
                                      "winnerElectionMode": "multiWinnerAllowMultipleWinnersPerRound"}})
    assert stv == Rules(method="stv", seats=3, decimalPlacesForVoteArithmetic=2, noWinnerWithoutVotes=False)
    assert stv.election_mode == "multiWinnerAllowMultipleWinnersPerRound"
    percentage = Rules.from_rctab({"rules": {
        "numberOfWinners": "0", "winnerElectionMode": "bottomsUpUsingPercentageThreshold",
        "multiSeatBottomsUpPercentageThreshold": "15", "cutoffElimination": True}})
    assert (percentage.method, percentage.seats, percentage.multiSeatBottomsUpPercentageThreshold,
            percentage.cutoffElimination) == ("stv", 0, 15, True)
    # In the other modes RCTab leaves the percentage blank or ignores it.
    bottoms_up = Rules.from_rctab({"rules": {"numberOfWinners": 3, "winnerElectionMode": "bottomsUp",
                                             "multiSeatBottomsUpPercentageThreshold": "15"}})
    assert bottoms_up.winnerElectionMode == "bottomsUp"
    assert bottoms_up.multiSeatBottomsUpPercentageThreshold is None


@pytest.mark.parametrize(
    "raw, message",
    [
        ({"numberOfWinners": "3"}, "'singleWinnerMajority' fills one seat, not 3"),
        ({"numberOfWinners": "2", "winnerElectionMode": "multiPassIrv"}, "not available yet"),
        ({"numberOfWinners": "2", "winnerElectionMode": "sortition"}, "winnerElectionMode must be"),
        ({"numberOfWinners": "1", "winnerElectionMode": "bottomsUp"}, "needs 2 or more seats"),
        ({"numberOfWinners": "0", "winnerElectionMode": "bottomsUpUsingPercentageThreshold"},
         "needs a multiSeatBottomsUpPercentageThreshold"),
        ({"numberOfWinners": "0", "winnerElectionMode": "bottomsUpUsingPercentageThreshold",
          "multiSeatBottomsUpPercentageThreshold": "12.5"}, "whole number"),
    ],
)
def test_rules_from_rctab_refuses_bad_multi_seat_settings(raw, message):
    with pytest.raises(ValueError, match=message):
        Rules.from_rctab({"rules": raw})


def test_the_same_ballots_in_any_order_give_the_same_report():
    rules = Rules(method="stv", seats=2, tiebreakMode="random", randomSeed=99)
    profile = {("A", "B"): 2, ("B", "A"): 2, ("C", "D"): 2, ("D", "C"): 2, ("E",): 1}
    names = ["A", "B", "C", "D", "E"]
    reports = [tabulate(profile, names, rules), tabulate(list(reversed(profile.items())), names, rules)]
    assert reports[0]["tieBreaks"], "the example must need a random tie-break"
    assert json.dumps(reports[0], sort_keys=True) == json.dumps(reports[1], sort_keys=True)
