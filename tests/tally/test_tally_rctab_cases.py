"""The engine against RCTab's own reports for its regression cases.

The cases live outside the project (../shared/rctab-cases); they are read
from there, never copied, and the tests skip when the folder is absent.
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest

from polls.tally import Rules, read_ballots_csv, tabulate
from polls.tally.rules import rctab_candidates

CASES_DIR = Path(__file__).resolve().parents[3] / "shared" / "rctab-cases"
INACTIVE_KEYS = ("overvotes", "skippedRankings", "exhaustedChoices", "repeatedRankings")


def _config(case: str) -> dict:
    return json.loads((CASES_DIR / case / "rules.json").read_text(encoding="utf-8"))


def _is_single_seat_irv(case: str) -> bool:
    rules = _config(case)["rules"]
    return str(rules["numberOfWinners"]) == "1" and not rules["winnerElectionMode"].startswith("bottomsUp")


def _cases(single_seat_irv: bool) -> list:
    if not CASES_DIR.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(reason=f"{CASES_DIR} is absent"))]
    names = sorted(p.name for p in CASES_DIR.iterdir() if (p / "rules.json").is_file())
    return [name for name in names if _is_single_seat_irv(name) == single_seat_irv]


def _numbers(mapping: dict) -> dict:
    return {key: Decimal(value) for key, value in mapping.items()}


def _tally_results(entries: list) -> list:
    return [
        ("elected" if "elected" in e else "eliminated", e.get("elected") or e.get("eliminated"),
         _numbers(e["transfers"]))
        for e in entries
    ]


@pytest.mark.parametrize("case", _cases(single_seat_irv=True))
def test_rctab_case_matches_every_round(case):
    config = _config(case)
    expected = json.loads((CASES_DIR / case / "expected.json").read_text(encoding="utf-8"))
    profile, _ = read_ballots_csv(CASES_DIR / case / "ballots.csv")
    report = tabulate(profile, [c["name"] for c in rctab_candidates(config)], Rules.from_rctab(config))

    assert [r["round"] for r in report["results"]] == [r["round"] for r in expected["results"]]
    for got, want in zip(report["results"], expected["results"]):
        where = f"round {want['round']}"
        assert _numbers(got["tally"]) == _numbers(want["tally"]), where
        assert Decimal(got["threshold"]) == Decimal(want["threshold"]), where
        assert _numbers(got["inactiveBallots"]) == _numbers(
            {key: want["inactiveBallots"][key] for key in INACTIVE_KEYS}
        ), where
        assert _tally_results(got["tallyResults"]) == _tally_results(want["tallyResults"]), where

    got_summary, want_summary = report["summary"], expected["summary"]
    assert {k: Decimal(str(got_summary[k])) for k in want_summary} == {
        k: Decimal(str(v)) for k, v in want_summary.items()
    }
    elected = [e["elected"] for r in expected["results"] for e in r["tallyResults"] if "elected" in e]
    assert report["winners"] == elected
    in_count = [c["name"] for c in rctab_candidates(config) if not c["excluded"]]
    in_count += [config["undeclaredWriteInCandidate"]] if config["undeclaredWriteInCandidate"] else []
    assert sorted(report["ranking"]) == sorted(in_count)
    assert report["ranking"][: len(elected)] == elected

@pytest.mark.parametrize("case", _cases(single_seat_irv=False))
def test_other_rctab_cases_are_refused_clearly(case):
    with pytest.raises(ValueError, match="not available yet"):
        Rules.from_rctab(_config(case))
