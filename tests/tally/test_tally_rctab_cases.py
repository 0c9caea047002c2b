"""The engine against RCTab's own reports for its regression cases.

The cases live outside the project (../shared/rctab-cases); they are read
from there, never copied, and the tests skip when the folder is absent.
Single-seat cases count with ``irv``, multi-seat ones (STV and the
bottoms-up modes) with ``stv``; every one is compared round by round.
"""

import json
from decimal import Decimal

import pytest
from rctab_cases import CASES_DIR, case_dirs, needs_cases, read_json

from polls.tally import Rules, read_ballots_csv, tabulate
from polls.tally.rules import rctab_candidates

INACTIVE_KEYS = ("overvotes", "skippedRankings", "exhaustedChoices", "repeatedRankings")
# Present only in the last round of a multi-seat count that moves surpluses.
FINAL_ROUND_SURPLUS = "finalRoundSurplus"
MULTI_SEAT_CASES = {
    "2013_minneapolis_park",
    "2013_minneapolis_park_bottoms_up",
    "2013_minneapolis_park_hare",
    "minneapolis_multi_seat_threshold",
    "more_winners_than_candidates",
    "multi_seat_bottoms_up_with_cutoff_eliminate",
    "multi_seat_bottoms_up_with_dynamic_threshold",
    "multi_seat_bottoms_up_with_static_threshold",
    "multi_seat_uwi_test",
    "test_set_allow_only_one_winner_per_round",
    "test_set_multi_winner_fractional_threshold",
    "test_set_multi_winner_whole_threshold",
}

def _config(case: str) -> dict:
    return read_json(CASES_DIR / case, "rules.json")


def _is_multi_seat(case: str) -> bool:
    return _config(case)["rules"]["winnerElectionMode"] != "singleWinnerMajority"


def _cases() -> list:
    if not CASES_DIR.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{CASES_DIR} is absent"))]
    return [p.name for p in case_dirs()]


def _count(case: str) -> dict:
    config = _config(case)
    profile, _ = read_ballots_csv(CASES_DIR / case / "ballots.csv")
    return tabulate(profile, [c["name"] for c in rctab_candidates(config)], Rules.from_rctab(config))


def _numbers(mapping: dict) -> dict:
    return {key: Decimal(value) for key, value in mapping.items()}


def _tally_results(entries: list) -> list:
    return [
        ("elected" if "elected" in e else "eliminated", e.get("elected") or e.get("eliminated"),
         _numbers(e["transfers"]))
        for e in entries
    ]


@pytest.mark.parametrize("case", _cases())
def test_rctab_case_matches_every_round(case):
    config = _config(case)
    expected = json.loads((CASES_DIR / case / "expected.json").read_text(encoding="utf-8"))
    rules = Rules.from_rctab(config)
    assert rules.method == ("stv" if _is_multi_seat(case) else "irv")
    report = _count(case)

    assert [r["round"] for r in report["results"]] == [r["round"] for r in expected["results"]]
    for got, want in zip(report["results"], expected["results"]):
        where = f"round {want['round']}"
        assert _numbers(got["tally"]) == _numbers(want["tally"]), where
        assert Decimal(got["threshold"]) == Decimal(want["threshold"]), where
        # Every inactive count, finalRoundSurplus included where RCTab has it (and only there).
        assert _numbers(got["inactiveBallots"]) == _numbers(want["inactiveBallots"]), where
        assert _tally_results(got["tallyResults"]) == _tally_results(want["tallyResults"]), where

    got_summary, want_summary = report["summary"], expected["summary"]
    assert {k: Decimal(str(got_summary[k])) for k in want_summary} == {
        k: Decimal(str(v)) for k, v in want_summary.items()
    }
    # Winners in order of election; those elected in the same round, as a set.
    by_round = [
        {e["elected"] for e in r["tallyResults"] if "elected" in e} for r in expected["results"]
    ]
    elected = [name for names in by_round for name in names]
    assert sorted(report["winners"]) == sorted(elected)
    place = 0
    for names in filter(None, by_round):
        assert set(report["winners"][place : place + len(names)]) == names
        place += len(names)
    in_count = [c["name"] for c in rctab_candidates(config) if not c["excluded"]]
    in_count += [config["undeclaredWriteInCandidate"]] if config["undeclaredWriteInCandidate"] else []
    assert sorted(report["ranking"]) == sorted(in_count)
    assert report["ranking"][: len(elected)] == report["winners"]


@needs_cases
def test_every_multi_seat_case_is_counted():
    assert {case for case in _cases() if _is_multi_seat(case)} == MULTI_SEAT_CASES


@needs_cases
def test_multi_seat_ranking_puts_winners_in_order_of_election():
    report = _count("2013_minneapolis_park")
    # Erwin reaches the quota in round 3; Young and Forney win together in round 10,
    # Young with more votes; then the rest in reverse order of elimination.
    assert report["winners"] == ["JOHN ERWIN", "ANNIE YOUNG", "MEG FORNEY"]
    assert report["ranking"] == [
        "JOHN ERWIN", "ANNIE YOUNG", "MEG FORNEY", "TOM NORDYKE", "JASON STONE", "HASHIM YONIS",
        "STEVE BARLAND", "MARY LYNN MCPHERSON", "ISHMAEL ISRAEL", "CASPER HILL",
        "Undeclared Write-ins",
    ]
    # Bottoms-up percentage: everyone left wins together, by votes in that round.
    assert _count("multi_seat_bottoms_up_with_dynamic_threshold")["winners"] == ["A", "G", "B", "C"]


@needs_cases
def test_real_three_seat_contest_totals():
    """Speed is measured in bench/, never asserted in a unit test."""
    config = _config("2013_minneapolis_park")
    profile, _ = read_ballots_csv(CASES_DIR / "2013_minneapolis_park" / "ballots.csv")
    candidates, rules = [c["name"] for c in rctab_candidates(config)], Rules.from_rctab(config)
    report = tabulate(profile, candidates, rules)
    assert report["summary"]["totalNumBallots"] == "80101"
