"""``python -m polls.tally`` run as a user would, in a subprocess."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT = Path(__file__).resolve().parents[2]
BALLOTS = """count,rank1,rank2,rank3
5,Alice,Bob,
3,Alice,,
4,Bob,,
3,,Bob,
3,Cara,Bob,
1,Cara,,
2,Dan,Cara,Bob
2,,,
1,overvote,,
"""


def run(*args):
    return subprocess.run(
        [sys.executable, "-m", "polls.tally", *map(str, args)],
        cwd=PROJECT, capture_output=True, text=True, encoding="utf-8", timeout=60,
    )


@pytest.fixture
def ballots(tmp_path):
    path = tmp_path / "ballots.csv"
    path.write_text(BALLOTS, encoding="utf-8")
    return path


def test_json_output_has_the_report_shape(ballots):
    result = run(ballots, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["winners"] == ["Bob"]
    assert report["ranking"] == ["Bob", "Alice", "Cara", "Dan"]
    assert [r["round"] for r in report["results"]] == [1, 2, 3]
    for entry in report["results"]:
        assert set(entry) == {"round", "tally", "tallyResults", "threshold", "inactiveBallots"}
        assert set(entry["inactiveBallots"]) == {"overvotes", "skippedRankings", "exhaustedChoices", "repeatedRankings"}
    assert report["results"][1]["tallyResults"] == [{"eliminated": "Cara", "transfers": {"Bob": "5", "exhausted": "1"}}]
    assert report["summary"] == {"numCandidates": 4, "numWinners": 1, "totalNumBallots": "24", "undervotes": 2,
                                 "finalThreshold": "11"}
    assert report["tieBreaks"] == []


def test_readable_output(ballots):
    result = run(ballots)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "24 ballots (2 blank), 4 candidates" in out
    assert "Round 1  (threshold 11)" in out and "Round 3  (threshold 11)" in out
    assert "-> eliminated: Cara (5 to Bob, 1 exhausted)" in out
    assert "-> elected: Bob" in out
    assert out.rstrip().endswith("Winner: Bob\nRanking:\n  1. Bob\n  2. Alice\n  3. Cara\n  4. Dan")


def test_rules_file_sets_candidates_exclusions_and_tie_breaks(ballots, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({
        "rules": {"tiebreakMode": "useCandidateOrder", "numberOfWinners": "1",
                  "winnerElectionMode": "singleWinnerMajority", "maxSkippedRanksAllowed": "0"},
        "candidates": [{"name": n, "excluded": n == "Dan"} for n in ["Alice", "Bob", "Cara", "Dan", "Eve"]],
    }), encoding="utf-8")
    report = json.loads(run(ballots, "--rules", rules, "--method", "schulze", "--json").stdout)
    assert report["results"][0]["tally"] == {"Alice": "8", "Cara": "6", "Bob": "4", "Eve": "0"}
    assert report["summary"]["numCandidates"] == 5


def test_unicode_and_very_long_names(tmp_path):
    long_name = "키스" * 5000
    path = tmp_path / "ballots.csv"
    path.write_text(f"Choice 1,Choice 2,Count\n사랑의 불시착 💋,{long_name},2\n{long_name},,3\nÉté,사랑의 불시착 💋,1\n",
                    encoding="utf-8")
    report = json.loads(run(path, "--json").stdout)
    assert len(long_name) == 10_000
    assert report["winners"] == [long_name]
    assert report["results"][0]["tally"] == {long_name: "3", "사랑의 불시착 💋": "2", "Été": "1"}
    readable = run(path)
    assert readable.returncode == 0 and f"Winner: {long_name}" in readable.stdout


@pytest.mark.parametrize("method", ["irv", "schulze", "ranked-pairs", "borda", "plurality"])
def test_blank_ballots_crown_nobody(tmp_path, method):
    # An exported poll with no votes yet: one 0-count row per scene, then blanks.
    path = tmp_path / "empty.csv"
    path.write_text("count,rank1,rank2\n0,Ro-woon,\n0,Hye-sun,\n2,,\n", encoding="utf-8")
    result = run(path, "--method", method, "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["winners"] == [] and report["tieBreaks"] == []
    assert report["ranking"] == ["Ro-woon", "Hye-sun"]
    assert report["summary"]["undervotes"] == 2
    assert "Winner: none" in run(path, "--method", method).stdout


def test_stv_two_seats_json(ballots):
    result = run(ballots, "--method", "stv", "--seats", "2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["winners"] == ["Alice", "Bob"]
    assert report["ranking"] == ["Alice", "Bob", "Cara", "Dan"]
    assert [r["round"] for r in report["results"]] == [1, 2, 3, 4, 5]
    # 21 votes, 2 seats: floor(21/3)+1 = 8, fixed from round 1.
    assert {r["threshold"] for r in report["results"]} == {"8"}
    assert report["results"][0]["tallyResults"] == [{"elected": "Alice", "transfers": {}}]
    assert report["results"][3]["tallyResults"] == [
        {"elected": "Bob", "transfers": {"exhausted": "3.9996", "residual surplus": "0.0004"}}
    ]
    assert report["results"][4]["tally"] == {"Alice": "8", "Bob": "8"}
    assert report["results"][4]["inactiveBallots"]["finalRoundSurplus"] == "3.9996"
    assert report["summary"] == {"numCandidates": 4, "numWinners": 2, "totalNumBallots": "24", "undervotes": 2,
                                 "finalThreshold": "8"}


def test_stv_two_seats_readable(ballots):
    result = run(ballots, "--method", "stv", "--seats", "2")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Round 4  (threshold 8)" in out
    assert "-> elected: Bob (3.9996 exhausted, 0.0004 residual surplus)" in out
    assert "inactive: exhausted 2, final-round surplus 3.9996" in out
    assert out.rstrip().endswith("Winners: Alice and Bob\nRanking:\n  1. Alice\n  2. Bob\n  3. Cara\n  4. Dan")


def test_stv_one_seat_counts_as_irv(ballots):
    assert run(ballots, "--method", "stv", "--json").stdout == run(ballots, "--json").stdout


def test_multi_seat_rules_file(ballots, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": {
        "numberOfWinners": "2", "winnerElectionMode": "multiWinnerAllowOnlyOneWinnerPerRound",
        "tiebreakMode": "useCandidateOrder", "nonIntegerWinningThreshold": True,
        "decimalPlacesForVoteArithmetic": "2"}}), encoding="utf-8")
    report = json.loads(run(ballots, "--rules", rules, "--method", "irv", "--json").stdout)
    # floor(21/3, 2 places) + 0.01
    assert report["results"][0]["threshold"] == "7.01"
    assert report["winners"] == ["Alice", "Bob"] and report["summary"]["numWinners"] == 2


def test_rules_file_without_a_method_keeps_the_command_line_one(ballots, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": {"tiebreakMode": "useCandidateOrder"}}), encoding="utf-8")
    report = json.loads(run(ballots, "--rules", rules, "--method", "schulze", "--json").stdout)
    assert "pairwise" in report and report["winners"] == ["Bob"]
    stv = json.loads(run(ballots, "--rules", rules, "--method", "stv", "--seats", "2", "--json").stdout)
    assert stv["winners"] == ["Alice", "Bob"] and stv["summary"]["numWinners"] == 2


@pytest.mark.parametrize("rules", [
    {"winnerElectionMode": "multiWinnerAllowOnlyOneWinnerPerRound"},
    {"numberOfWinners": "2"},
    {"winnerElectionMode": "", "numberOfWinners": ""},
])
def test_rules_file_setting_part_of_the_method_takes_the_rest_from_the_command_line(ballots, tmp_path, rules):
    path = tmp_path / "rules.json"
    path.write_text(json.dumps({"rules": rules}), encoding="utf-8")
    result = run(ballots, "--rules", path, "--method", "stv", "--seats", "2", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["winners"] == ["Alice", "Bob"]


def test_rules_file_max_rankings_cuts_longer_ballots(tmp_path):
    path = tmp_path / "b.csv"
    path.write_text("count,rank1,rank2\n2,A,B\n3,B,\n4,C,\n", encoding="utf-8")
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": {"maxRankingsAllowed": "1"}}), encoding="utf-8")
    # A's two ballots would go to B (5 to 4); cut to one rank they exhaust instead.
    assert json.loads(run(path, "--json").stdout)["winners"] == ["B"]
    assert json.loads(run(path, "--rules", rules, "--json").stdout)["winners"] == ["C"]


BAD_INPUTS = {
    "missing file": (None, [], "No such file"),
    "empty file": ("", [], "empty"),
    "not csv": ("Dear diary, today I ranked kisses.\n", [], "no rank columns"),
    "bad count": ("count,rank1\n1,A\n2,B\nlots,C\n", [], "ballots.csv line 4: count must be a whole number"),
    "negative count": ("count,rank1\n-1,A\n", [], "line 2: count must be a whole number"),
    "too many cells": ("rank1,rank2\nA,B,C\n", [], "line 2"),
    "rank gap": ("rank1,rank3\nA,B\n", [], "numbered 1 to 2"),
    "unknown method": ("rank1\nA\n", ["--method", "coin-toss"], "method must be one of"),
    "irv with seats": ("rank1\nA\n", ["--seats", "3"], "method 'irv' fills one seat; use method 'stv' for 3 seats"),
    "bad seats": ("rank1\nA\n", ["--seats", "three"], "--seats"),
    "stv zero seats": ("rank1\nA\n", ["--method", "stv", "--seats", "0"], "seats must be a whole number >= 1, not 0"),
    "stv negative seats": ("rank1\nA\n", ["--method", "stv", "--seats", "-2"], "seats must be a whole number >= 1, not -2"),
    "stv fractional seats": ("rank1\nA\n", ["--method", "stv", "--seats", "1.5"], "--seats"),
    "stv seats missing": ("rank1\nA\n", ["--method", "stv", "--seats"], "--seats"),
    "unknown option": ("rank1\nA\n", ["--colour"], "unrecognized arguments"),
    "binary junk": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd", [], "not a UTF-8 text file"),
    "bad rules json": ("rank1\nA\n", ["--rules", "{not json"], "not a JSON rules file"),
    "multi-seat rules": ("rank1\nA\n", ["--rules", '{"rules": {"numberOfWinners": "3"}}'],
                         "'singleWinnerMajority' fills one seat, not 3"),
    "multi-pass rules": ("rank1\nA\n", ["--rules", '{"rules": {"numberOfWinners": "2", "winnerElectionMode": "multiPassIrv"}}'],
                         "'multiPassIrv' is not available yet"),
    "rules not an object": ("rank1\nA\n", ["--rules", "[1, 2]"], "must be a JSON object"),
    "unknown candidate": ("rank1\nA\n", ["--rules", '{"candidates": [{"name": "B"}]}'], "'A', which is not a candidate"),
}


@pytest.mark.parametrize("content, extra, message", BAD_INPUTS.values(), ids=BAD_INPUTS.keys())
def test_bad_input_is_one_line_and_exit_status_2(tmp_path, content, extra, message):
    path = tmp_path / "ballots.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    if "--rules" in extra:
        rules = tmp_path / "rules.json"
        rules.write_text(extra[1], encoding="utf-8")
        extra = ["--rules", rules]
    result = run(path, *extra)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    assert message in result.stderr
