"""Counting rules, named and valued as RCTab names and values them."""

from __future__ import annotations

from dataclasses import dataclass, replace
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
SINGLE_WINNER = "singleWinnerMajority"
MULTIPLE_PER_ROUND = "multiWinnerAllowMultipleWinnersPerRound"
ONE_PER_ROUND = "multiWinnerAllowOnlyOneWinnerPerRound"
BOTTOMS_UP = "bottomsUp"
BOTTOMS_UP_PERCENTAGE = "bottomsUpUsingPercentageThreshold"
WINNER_ELECTION_MODES = (
    SINGLE_WINNER, MULTIPLE_PER_ROUND, ONE_PER_ROUND, BOTTOMS_UP, BOTTOMS_UP_PERCENTAGE
)

_BOOLEAN_KEYS = (
    "exhaustOnDuplicateCandidate",
    "batchElimination",
    "continueUntilTwoCandidatesRemain",
    "doesFirstRoundDetermineThreshold",
    "nonIntegerWinningThreshold",
    "hareQuota",
    "cutoffElimination",
    "noWinnerWithoutVotes",
)


@dataclass(frozen=True)
class Rules:
    """How to count.

    ``method`` and ``seats`` pick the counting method (RCTab's
    ``numberOfWinners`` is ``seats``); ``excluded`` names candidates who stay
    on the ballot but out of the count.  ``noWinnerWithoutVotes`` is
    KissPoll's own: when no ballot ranks a candidate still in the count,
    nobody wins (RCTab draws lots among the zeros; ``from_rctab`` leaves it
    off unless the file sets it).  Every other field is the RCTab setting of
    the same name, with RCTab's meaning and values.  The defaults
    suit a fan poll: ties go to previous-round counts, then a seeded draw;
    overvotes and skipped ranks move on to the next rank.

    ``winnerElectionMode`` left as None means the method's usual mode (see
    ``election_mode``): ``singleWinnerMajority`` for ``irv`` and for ``stv``
    with one seat, ``multiWinnerAllowMultipleWinnersPerRound`` for ``stv``
    with several.  ``bottomsUpUsingPercentageThreshold`` takes ``seats=0``
    (as RCTab's ``numberOfWinners`` "0": the count decides how many win) and a
    ``multiSeatBottomsUpPercentageThreshold`` in whole percent.
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
    winnerElectionMode: str | None = None
    multiSeatBottomsUpPercentageThreshold: int | None = None
    cutoffElimination: bool = False
    noWinnerWithoutVotes: bool = True

    def __post_init__(self) -> None:
        if isinstance(self.excluded, str) or not isinstance(self.excluded, Iterable):
            raise ValueError(f"excluded must be a list of candidate names, not {self.excluded!r}")
        object.__setattr__(self, "excluded", tuple(self.excluded))
        for name, ok, expected in self._checks():
            if not ok:
                raise ValueError(f"{name} must be {expected}, not {getattr(self, name)!r}")
        for problem in self._conflicts():
            raise ValueError(problem)

    @property
    def election_mode(self) -> str:
        """RCTab's ``winnerElectionMode`` for this count: the one set, or the
        method's usual one."""
        return self.winnerElectionMode or _usual_mode(self.method, self.seats)

    def _checks(self) -> Iterator[tuple[str, bool, str]]:
        skipped, ranks, stop = (
            self.maxSkippedRanksAllowed, self.maxRankingsAllowed, self.stopTabulationEarlyAfterRound
        )
        places, uwi = self.decimalPlacesForVoteArithmetic, self.undeclaredWriteInCandidate
        yield "method", self.method in METHODS, _one_of(METHODS)
        mode, percent = self.winnerElectionMode, self.multiSeatBottomsUpPercentageThreshold
        yield "seats", _is_int(self.seats) and (
            self.seats >= 1 or (self.seats == 0 and mode == BOTTOMS_UP_PERCENTAGE)
        ), "a whole number >= 1"
        yield "winnerElectionMode", mode is None or mode in WINNER_ELECTION_MODES, (
            _one_of(WINNER_ELECTION_MODES) + " or None"
        )
        yield "multiSeatBottomsUpPercentageThreshold", percent is None or (
            _is_int(percent) and 1 <= percent <= 100
        ), "a whole number from 1 to 100 or None"
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

    def _conflicts(self) -> Iterator[str]:
        """Settings that make sense alone but not together (RCTab refuses the
        same combinations)."""
        if self.method not in ("irv", "stv"):
            return
        mode, seats = self.election_mode, self.seats
        if self.method == "irv" and seats != 1 and self.winnerElectionMode is None:
            yield f"method 'irv' fills one seat; use method 'stv' for {seats} seats"
        if self.method == "irv" and mode != SINGLE_WINNER:
            yield f"winnerElectionMode {mode!r} needs method 'stv'"
        if mode == SINGLE_WINNER and seats != 1:
            yield f"winnerElectionMode {mode!r} fills one seat, not {seats}"
        if mode in (MULTIPLE_PER_ROUND, ONE_PER_ROUND, BOTTOMS_UP) and seats < 2:
            yield f"winnerElectionMode {mode!r} needs 2 or more seats, not {seats}"
        percentage = mode == BOTTOMS_UP_PERCENTAGE
        if percentage and seats != 0:
            yield f"winnerElectionMode {mode!r} decides how many win: seats must be 0, not {seats}"
        if percentage and self.multiSeatBottomsUpPercentageThreshold is None:
            yield f"winnerElectionMode {mode!r} needs a multiSeatBottomsUpPercentageThreshold"
        if not percentage and self.multiSeatBottomsUpPercentageThreshold is not None:
            yield (
                "multiSeatBottomsUpPercentageThreshold needs winnerElectionMode "
                f"{BOTTOMS_UP_PERCENTAGE!r}"
            )
        if not percentage and self.cutoffElimination:
            yield f"cutoffElimination needs winnerElectionMode {BOTTOMS_UP_PERCENTAGE!r}"
        if mode != SINGLE_WINNER:
            for key in ("batchElimination", "continueUntilTwoCandidatesRemain"):
                if getattr(self, key):
                    yield f"{key} is for one seat; it cannot be used with {mode!r}"

    @classmethod
    def from_rctab(cls, config: Mapping[str, Any]) -> Rules:
        """Rules from a rules.json as in the RCTab cases: ``{"rules": {...},
        "candidates": [{name, excluded}], "undeclaredWriteInCandidate": ...}``.
        A bare RCTab ``rules`` object is accepted too.

        Values may be strings (``"1"``), numbers or booleans.  Raises
        ValueError for malformed values and for what this engine cannot count
        (``multiPassIrv``, ``exhaustIfMultipleContinuing``).  Single-winner
        contests count with ``irv``, multi-winner ones with ``stv``.
        """
        if not isinstance(config, Mapping):
            raise ValueError("rules must be a JSON object")
        raw = config.get("rules", config)
        if not isinstance(raw, Mapping):
            raise ValueError('"rules" must be a JSON object')
        mode = _text(raw, "winnerElectionMode") or SINGLE_WINNER
        if mode == "multiPassIrv":
            raise ValueError("winnerElectionMode 'multiPassIrv' is not available yet")
        if mode not in WINNER_ELECTION_MODES:
            raise ValueError(
                f"winnerElectionMode must be {_one_of(WINNER_ELECTION_MODES)}, not {mode!r}"
            )
        overvote_rule = _text(raw, "overvoteRule") or cls.overvoteRule
        if overvote_rule == "exhaustIfMultipleContinuing":
            raise ValueError("overvoteRule 'exhaustIfMultipleContinuing' is not available yet")
        tiebreak = _text(raw, "tiebreakMode")
        seed = _whole(raw, "randomSeed", None)
        if seed is None and tiebreak in SEEDED_TIEBREAK_MODES:
            raise ValueError(f"tiebreakMode {tiebreak!r} needs a randomSeed")
        # RCTab leaves the percentage blank, or ignores it, in the other modes.
        percent = _whole(raw, "multiSeatBottomsUpPercentageThreshold", None)
        rules = cls(
            method="irv" if mode == SINGLE_WINNER else "stv",
            seats=_whole(raw, "numberOfWinners", 1),
            tiebreakMode=tiebreak or cls.tiebreakMode,
            randomSeed=cls.randomSeed if seed is None else seed,
            overvoteRule=overvote_rule,
            maxSkippedRanksAllowed=_whole(raw, "maxSkippedRanksAllowed", "unlimited", "unlimited"),
            # Applying it again to the cases' CSVs (already cut to it) changes nothing.
            maxRankingsAllowed=_whole(raw, "maxRankingsAllowed", "max", "max"),
            stopTabulationEarlyAfterRound=_whole(raw, "stopTabulationEarlyAfterRound", None),
            decimalPlacesForVoteArithmetic=_whole(raw, "decimalPlacesForVoteArithmetic", 4),
            excluded=tuple(c["name"] for c in rctab_candidates(config) if c["excluded"]),
            undeclaredWriteInCandidate=_uwi(config),
            winnerElectionMode=mode,
            multiSeatBottomsUpPercentageThreshold=(
                percent if mode == BOTTOMS_UP_PERCENTAGE else None
            ),
            **{key: _flag(raw, key) for key in _BOOLEAN_KEYS},
        )
        # The method's usual mode is left unset, so equal rules compare equal.
        if mode == _usual_mode(rules.method, rules.seats):
            rules = replace(rules, winnerElectionMode=None)
        return rules


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


def _usual_mode(method: str, seats: Any) -> str:
    return MULTIPLE_PER_ROUND if method == "stv" and _is_int(seats) and seats > 1 else SINGLE_WINNER


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

