"""KissPoll's counting engine: ranked ballots in, round-by-round results out.

Plain Python with no web or database dependencies.  The web app passes a
compressed profile (ballot -> how many voters cast it); ``python -m
polls.tally`` counts a CSV file with no app at all::

    from polls.tally import Rules, tabulate
    report = tabulate({("A", "B"): 3, ("B",): 2}, ["A", "B"], Rules())

Counting follows RCTab (github.com/BrightSpots/rcv) rule for rule,
so its published regression cases come out identical round by round.
Round-by-round methods: single-seat instant runoff (``irv``) and
multi-seat single transferable vote (``stv`` with ``seats`` > 1, including
RCTab's bottoms-up modes; ``stv`` with one seat is ``irv``); see ``irv`` and
``stv`` for the methods and the report's ``ranking`` order.  ``schulze``,
``ranked-pairs`` (``condorcet``), ``borda`` and ``plurality``
(``positional``) are counted by those modules when present.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any

from .ballots import OVERVOTE, RESERVED_NAMES, Profile, read_ballots_csv
from .irv import tabulate_irv
from .rules import SINGLE_WINNER, Rules
from .stv import tabulate_stv

__all__ = ["OVERVOTE", "RESERVED_NAMES", "Rules", "read_ballots_csv", "tabulate"]

# Methods counted outside this package's core, found when first used:
# method -> (module, function).
_OTHER_METHODS = {
    "schulze": ("condorcet", "tabulate_schulze"),
    "ranked-pairs": ("condorcet", "tabulate_ranked_pairs"),
    "borda": ("positional", "tabulate_borda"),
    "plurality": ("positional", "tabulate_plurality"),
}


def tabulate(profile: Profile, candidates: Iterable[str], rules: Rules) -> dict[str, Any]:
    """Count ``profile`` for ``candidates`` (in order) under ``rules``.

    ``profile`` maps ballots (tuples of candidate names, ``""`` for a skipped
    rank, ``OVERVOTE``) to whole-number counts, or is an iterable of such
    pairs.  Returns a JSON-ready dict shaped like RCTab's detailed report:
    ``winners``, ``ranking``, ``results`` (one entry per round), ``summary``
    and ``tieBreaks``, plus ``unresolvedTie`` when a tie-break rule says to
    stop and ask.  Raises ValueError for a bad profile, unknown names, or a
    method that is not available yet.

    With ``rules.noWinnerWithoutVotes`` (the default), when no ballot ranks
    a candidate still in the count (no ballots, or only blank ones), nobody
    wins: ``winners``, ``results`` and ``tieBreaks`` are empty and
    ``ranking`` lists the candidates in the order given, rather than a scene
    crowned by lot among zeros.
    """
    if rules.method in ("irv", "stv"):
        # STV for one seat is instant runoff, and RCTab counts it as such.
        count = tabulate_irv if rules.election_mode == SINGLE_WINNER else tabulate_stv
    else:
        count = _other_method(rules.method)
    if not isinstance(profile, Mapping):
        profile = list(profile)  # read twice below
    names = list(candidates)
    report = count(profile, names, rules)  # also checks the profile and the names
    if not rules.noWinnerWithoutVotes or _has_votes(profile, set(names) - set(rules.excluded)):
        return report
    report.pop("unresolvedTie", None)
    ranking = [name for name in names if name not in rules.excluded]
    return {**report, "winners": [], "ranking": ranking, "results": [], "tieBreaks": []}


def _has_votes(profile: Profile, counted: set[str]) -> bool:
    pairs = profile.items() if isinstance(profile, Mapping) else profile
    return any(count and not counted.isdisjoint(ballot) for ballot, count in pairs)


def _other_method(method: str) -> Callable[..., dict[str, Any]]:
    module_name, function = _OTHER_METHODS.get(method, ("", ""))
    try:
        module = import_module(f"{__name__}.{module_name}") if module_name else None
    except ModuleNotFoundError as error:
        if error.name != f"{__name__}.{module_name}":
            raise
        module = None
    count = getattr(module, function, None)
    if count is None:
        raise ValueError(f"method {method!r} is not available yet")
    return count
