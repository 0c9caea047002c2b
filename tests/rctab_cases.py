"""RCTab's regression cases, read in place from ../shared/rctab-cases (never
copied into the project); tests that need them skip when the folder is absent."""
import json
from pathlib import Path

import pytest

CASES_DIR = Path(__file__).resolve().parents[2] / "shared" / "rctab-cases"
SCALE_CASE = CASES_DIR / "2013_minneapolis_mayor_scale" / "ballots.csv"
needs_cases = pytest.mark.skipif(not CASES_DIR.is_dir(), reason=f"{CASES_DIR} is absent")


def read_json(case: Path, name: str) -> dict:
    return json.loads((case / name).read_text(encoding="utf-8"))


def case_dirs() -> list[Path]:
    """Every case folder, by name; empty when the folder is absent."""
    if not CASES_DIR.is_dir():
        return []
    return sorted(p for p in CASES_DIR.iterdir() if (p / "rules.json").is_file())


def single_seat_cases() -> list[tuple[Path, dict]]:
    """(folder, rules.json) of the cases that elect one winner by majority."""
    cases = []
    for case in case_dirs():
        config = read_json(case, "rules.json")
        raw = config["rules"]
        if str(raw["numberOfWinners"]) == "1" and not raw["winnerElectionMode"].startswith("bottomsUp"):
            cases.append((case, config))
    return cases
