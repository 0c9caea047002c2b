"""``python -m polls.tally BALLOTS.csv [--method M] [--seats N] [--rules RULES.json] [--json]``

Counts a ballots CSV and prints the rounds, the winner and the ranking, or
the full report as JSON.  Bad input of any kind ends with one ``error: ...``
line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import replace
from typing import Any

from . import Rules, read_ballots_csv, tabulate
from .ballots import EXHAUSTED
from .rounds import INACTIVE_REASONS
from .rules import METHODS, MULTIPLE_PER_ROUND, SINGLE_WINNER, rctab_candidates
from .stv import FINAL_ROUND_SURPLUS, RESIDUAL_SURPLUS
from .tiebreak import sentence_list

_NAME_WIDTH = 40  # longer names push their numbers right rather than widen every line


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:
        # argparse would print the usage too; every bad input gets one line.
        raise _UsageError(message)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status (0, or 2 for bad input)."""
    parser = _Parser(prog="python -m polls.tally", description="Count ranked ballots in a CSV file.")
    parser.add_argument("ballots", metavar="BALLOTS.csv", help="rank1,rank2,... and optional count")
    parser.add_argument("--method", default="irv", help=f"one of {', '.join(METHODS)} (default irv)")
    parser.add_argument("--seats", type=int, default=1, help="seats to fill, 2 or more with stv (default 1)")
    parser.add_argument("--rules", metavar="RULES.json", help="RCTab rules; override --method/--seats")
    parser.add_argument("--json", action="store_true", help="print the full report as JSON")
    try:
        args = parser.parse_args(argv)
        report = _count(args)
    except OSError as error:
        return _fail(f"{error.filename}: {error.strerror}" if error.filename else str(error))
    except (_UsageError, ValueError) as error:
        return _fail(str(error))
    try:
        text = json.dumps(report, indent=2, ensure_ascii=False) if args.json else format_report(report)
        print(text)
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader went away (`| head`); say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def _fail(message: str) -> int:
    print("error: " + " ".join(message.splitlines()), file=sys.stderr)
    return 2


def _count(args: argparse.Namespace) -> dict[str, Any]:
    if args.rules is None:
        rules = Rules(method=args.method, seats=args.seats)
        listed: list[str] = []
    else:
        config = _load_rules_file(args.rules)
        try:
            rules = _rules_from_file(config, args)
            listed = [entry["name"] for entry in rctab_candidates(config)]
        except ValueError as error:
            raise ValueError(f"{args.rules}: {error}") from None
    profile, seen = read_ballots_csv(args.ballots)
    candidates = listed or [name for name in seen if name != rules.undeclaredWriteInCandidate]
    return tabulate(profile, candidates, rules)


def _rules_from_file(config: Any, args: argparse.Namespace) -> Rules:
    """What the rules file sets overrides --method and --seats; what it leaves
    out (``winnerElectionMode``, ``numberOfWinners``) comes from them."""
    raw = config.get("rules", config) if isinstance(config, dict) else config
    if not isinstance(raw, dict):
        return Rules.from_rctab(config)  # which says what is wrong with it
    raw = dict(raw)
    sets_mode = _given(raw, "winnerElectionMode")
    if not _given(raw, "numberOfWinners"):
        raw["numberOfWinners"] = args.seats
    if not sets_mode and args.method == "stv":
        seats = _whole_or_none(raw["numberOfWinners"])
        raw["winnerElectionMode"] = SINGLE_WINNER if seats == 1 else MULTIPLE_PER_ROUND
    rules = Rules.from_rctab({**config, "rules": raw} if "rules" in config else raw)
    if not sets_mode and args.method not in ("irv", "stv"):
        rules = replace(rules, method=args.method)
    return rules


def _given(raw: dict[str, Any], key: str) -> bool:
    return str(raw.get(key, "")).strip() != ""


def _whole_or_none(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except ValueError:
        return None  # Rules.from_rctab reports it


def _load_rules_file(path: str) -> Any:
    try:
        with open(path, encoding="utf-8") as stream:
            return json.load(stream)
    except ValueError as error:  # bad JSON or bad UTF-8
        raise ValueError(f"{path}: not a JSON rules file ({error})") from None


def format_report(report: dict[str, Any]) -> str:
    """The report as text: each round's tally and outcome, then the result."""
    summary = report["summary"]
    lines = [
        f"{summary['totalNumBallots']} ballots ({summary['undervotes']} blank), "
        f"{summary['numCandidates']} candidates"
    ]
    for result in report.get("results", []):  # methods without rounds have none
        lines += ["", f"Round {result['round']}  (threshold {result['threshold']})"]
        width = max(len(number) for number in result["tally"].values()) if result["tally"] else 1
        for name, votes in result["tally"].items():
            lines.append(f"  {name:<{_NAME_WIDTH}} {votes:>{width}}")
        lines.append(f"  {_inactive(result['inactiveBallots'])}")
        lines += [_outcome(outcome) for outcome in result["tallyResults"]]
        ties = [tie for tie in report["tieBreaks"] if tie["round"] == result["round"]]
        lines += [f"  ({tie['explanation']})" for tie in ties]
    unresolved = report.get("unresolvedTie")
    if unresolved:
        lines.append(f"  -> counting stopped: {unresolved['explanation']}")
    lines.append("")
    label = "Winner" if summary["numWinners"] == 1 and len(report["winners"]) <= 1 else "Winners"
    lines.append(f"{label}: " + (sentence_list(report["winners"]) or "none"))
    lines.append("Ranking:")
    lines += [f"  {place}. {name}" for place, name in enumerate(report["ranking"], 1)]
    return "\n".join(lines)


def _inactive(inactive: dict[str, str]) -> str:
    labels = ("overvotes", "skipped ranks", "exhausted", "repeated names", "final-round surplus")
    parts = [
        f"{label} {inactive[reason]}"
        for reason, label in zip(INACTIVE_REASONS + (FINAL_ROUND_SURPLUS,), labels)
        if inactive.get(reason, "0") != "0"
    ]
    return "inactive: " + (", ".join(parts) or "0")


def _outcome(outcome: dict[str, Any]) -> str:
    moves = ", ".join(_move(target, votes) for target, votes in outcome["transfers"].items())
    what = "elected" if "elected" in outcome else "eliminated"
    return f"  -> {what}: {outcome[what]}" + (f" ({moves})" if moves else "")


def _move(target: str, votes: str) -> str:
    if target == EXHAUSTED:
        return f"{votes} exhausted"
    if target == RESIDUAL_SURPLUS:
        return f"{votes} {RESIDUAL_SURPLUS}"
    return f"{votes} to {target}"
