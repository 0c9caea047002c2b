"""Counting rules, named and valued as RCTab names and values them."""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

METHODS = ("irv", "stv", "schulze", "ranked-pairs", "borda", "plurality")
TIEBREAK_MODES = (
    "random",
    "previousRoundCountsThenRandom",
    "previousRoundCountsThenAsk",
    "useCandidateOrder",
    "generatePermutation",
    "stopCountingAndAsk",
)
SEEDED_TIEBREAK_MODES = ("random", "previousRoundCountsThenRandom", "generatePermutation")
OVERVOTE_RULES = ("exhaustImmediately", "alwaysSkipToNextRank")

_BOOLEAN_KEYS = (
    "exhaustOnDuplicateCandidate",
    "batchElimination",
    "continueUntilTwoCandidatesRemain",
    "doesFirstRoundDetermineThreshold",
    "nonIntegerWinningThreshold",
    "hareQuota",
)


@dataclass(frozen=True)
class Rules:
    """How to count.

    ``method`` and ``seats`` pick the counting method; ``excluded`` names
    candidates who stay on the ballot but out of the count.  Every other field
    is the RCTab setting of the same name, with RCTab's meaning and values.
    The defaults suit a fan poll: ties go to previous-round counts, then a
    seeded draw; overvotes and skipped ranks move on to the next rank.
    """

    method: str = "irv"
    seats: int = 1
    tiebreakMode: str = "previousRoundCountsThenRandom"
    randomSeed: int = 0
    overvoteRule: str = "alwaysSkipToNextRank"
    maxSkippedRanksAllowed: int | str = "unlimited"
    maxRankingsAllowed: int | str = "max"
    exhaustOnDuplicateCandidate: bool = False
    batchElimination: bool = False
    continueUntilTwoCandidatesRemain: bool = False
    doesFirstRoundDetermineThreshold: bool = False
    stopTabulationEarlyAfterRound: int | None = None
    excluded: tuple[str, ...] = ()
    undeclaredWriteInCandidate: str | None = None
    decimalPlacesForVoteArithmetic: int = 4
    nonIntegerWinningThreshold: bool = False
    hareQuota: bool = False

    def __post_init__(self) -> None:
        if isinstance(self.excluded, str) or not isinstance(self.excluded, Iterable):
            raise ValueError(f"excluded must be a list of candidate names, not {self.excluded!r}")
        object.__setattr__(self, "excluded", tuple(self.excluded))
        for name, ok, expected in self._checks():
            if not ok:
                raise ValueError(f"{name} must be {expected}, not {getattr(self, name)!r}")

    def _checks(self) -> Iterator[tuple[str, bool, str]]:
        skipped, ranks, stop = (
            self.maxSkippedRanksAllowed, self.maxRankingsAllowed, self.stopTabulationEarlyAfterRound
        )
        places, uwi = self.decimalPlacesForVoteArithmetic, self.undeclaredWriteInCandidate
        yield "method", self.method in METHODS, _one_of(METHODS)
        yield "seats", _is_int(self.seats) and self.seats >= 1, "a whole number >= 1"
        yield "tiebreakMode", self.tiebreakMode in TIEBREAK_MODES, _one_of(TIEBREAK_MODES)
        yield "randomSeed", _is_int(self.randomSeed) and -(2**63) <= self.randomSeed < 2**63, (
            "a 64-bit whole number"
        )
        yield "overvoteRule", self.overvoteRule in OVERVOTE_RULES, _one_of(OVERVOTE_RULES)
        yield "maxSkippedRanksAllowed", skipped == "unlimited" or (
            _is_int(skipped) and skipped >= 0
        ), 'a whole number >= 0 or "unlimited"'
        yield "maxRankingsAllowed", ranks == "max" or (_is_int(ranks) and ranks >= 1), (
            'a whole number >= 1 or "max"'
        )
        yield "stopTabulationEarlyAfterRound", stop is None or (_is_int(stop) and stop >= 1), (
            "a whole number >= 1 or None"
        )
        yield "excluded", all(isinstance(name, str) for name in self.excluded), "candidate names"
        yield "undeclaredWriteInCandidate", uwi is None or (isinstance(uwi, str) and uwi != ""), (
            "a non-empty name or None"
        )
        yield "decimalPlacesForVoteArithmetic", _is_int(places) and 0 <= places <= 20, (
            "a whole number from 0 to 20"
        )
        for name in _BOOLEAN_KEYS:
            yield name, isinstance(getattr(self, name), bool), "True or False"

    @classmethod
    def from_rctab(cls, config: Mapping[str, Any]) -> Rules:
        """Rules from a rules.json as in the RCTab cases: ``{"rules": {...},
        "candidates": [{name, excluded}], "undeclaredWriteInCandidate": ...}``.
        A bare RCTab ``rules`` object is accepted too.

        Values may be strings (``"1"``), numbers or booleans.  Raises
        ValueError for malformed values and for contests this engine cannot
        count yet (several seats, bottoms-up, multi-pass).
        """
        if not isinstance(config, Mapping):
            raise ValueError("rules must be a JSON object")
        raw = config.get("rules", config)
        if not isinstance(raw, Mapping):
            raise ValueError('"rules" must be a JSON object')
        mode = _text(raw, "winnerElectionMode") or "singleWinnerMajority"
        seats = _whole(raw, "numberOfWinners", 1)
        if seats != 1 or mode.startswith("bottomsUp"):
            raise ValueError(
                f"multi-seat contests ({mode}, numberOfWinners {seats}) are not available yet"
            )
        if mode != "singleWinnerMajority":
            raise ValueError(f"winnerElectionMode {mode!r} is not available yet")
        overvote_rule = _text(raw, "overvoteRule") or cls.overvoteRule
        if overvote_rule == "exhaustIfMultipleContinuing":
            raise ValueError("overvoteRule 'exhaustIfMultipleContinuing' is not available yet")
        if _flag(raw, "cutoffElimination"):
            raise ValueError("cutoffElimination is not available yet")
        tiebreak = _text(raw, "tiebreakMode")
        seed = _whole(raw, "randomSeed", None)
        if seed is None and tiebreak in SEEDED_TIEBREAK_MODES:
            raise ValueError(f"tiebreakMode {tiebreak!r} needs a randomSeed")
        return cls(
            method="irv",
            seats=seats,
            tiebreakMode=tiebreak or cls.tiebreakMode,
            randomSeed=cls.randomSeed if seed is None else seed,
            overvoteRule=overvote_rule,
            maxSkippedRanksAllowed=_whole(raw, "maxSkippedRanksAllowed", "unlimited", "unlimited"),
            stopTabulationEarlyAfterRound=_whole(raw, "stopTabulationEarlyAfterRound", None),
            decimalPlacesForVoteArithmetic=_whole(raw, "decimalPlacesForVoteArithmetic", 4),
            excluded=tuple(c["name"] for c in rctab_candidates(config) if c["excluded"]),
            undeclaredWriteInCandidate=_uwi(config),
            **{key: _flag(raw, key) for key in _BOOLEAN_KEYS},
        )


def rctab_candidates(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``candidates`` list of a rules.json as ``[{"name", "excluded"}]``,
    in order; empty when the file has none."""
    entries = config.get("candidates") or []
    if not isinstance(entries, list):
        raise ValueError('"candidates" must be a list')
    result = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            raise ValueError('each entry of "candidates" needs a "name" string')
        result.append({"name": entry["name"], "excluded": _flag(entry, "excluded")})
    return result


def _uwi(config: Mapping[str, Any]) -> str | None:
    label = config.get("undeclaredWriteInCandidate")
    if label is not None and not isinstance(label, str):
        raise ValueError('"undeclaredWriteInCandidate" must be a name or null')
    return label or None


def _one_of(values: tuple[str, ...]) -> str:
    return "one of " + ", ".join(values)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _text(raw: Mapping[str, Any], key: str) -> str:
    value = raw.get(key)
    if value is None:
        return ""
    if not isinstance(value, (str, int)) or isinstance(value, bool):
        raise ValueError(f"{key} has an unexpected value {value!r}")
    return str(value).strip()


def _whole(raw: Mapping[str, Any], key: str, default: Any, word: str = "") -> Any:
    """A whole-number setting; ``default`` when it is empty or spelled ``word``."""
    text = _text(raw, key)
    if text in ("", word):
        return default
    try:
        return int(text)
    except ValueError:
        raise ValueError(f"{key} must be a whole number, not {raw[key]!r}") from None


def _flag(raw: Mapping[str, Any], key: str) -> bool:
    value = raw.get(key, False)
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false", ""):
        return value.strip().lower() == "true"
    raise ValueError(f"{key} must be true or false, not {value!r}")

