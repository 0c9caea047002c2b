"""KissPoll's counting engine: ranked ballots in, round-by-round results out.

Plain Python with no web or database dependencies.  The web app passes a
compressed profile (ballot -> how many voters cast it); ``python -m
polls.tally`` counts a CSV file with no app at all::

    from polls.tally import Rules, tabulate
    report = tabulate({("A", "B"): 3, ("B",): 2}, ["A", "B"], Rules())

Counting follows RCTab (github.com/BrightSpots/rcv) rule for rule,
so its published regression cases come out identical round by round.  Only
single-seat instant runoff (``irv``) is available so far; see ``irv`` for
the method and the report's ``ranking`` order.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from .ballots import OVERVOTE, RESERVED_NAMES, Profile, read_ballots_csv
from .irv import tabulate_irv
from .rules import Rules

__all__ = ["OVERVOTE", "RESERVED_NAMES", "Rules", "read_ballots_csv", "tabulate"]


def tabulate(profile: Profile, candidates: Iterable[str], rules: Rules) -> dict[str, Any]:
    """Count ``profile`` for ``candidates`` (in order) under ``rules``.

    ``profile`` maps ballots (tuples of candidate names, ``""`` for a skipped
    rank, ``OVERVOTE``) to whole-number counts, or is an iterable of such
    pairs.  Returns a JSON-ready dict shaped like RCTab's detailed report:
    ``winners``, ``ranking``, ``results`` (one entry per round), ``summary``
    and ``tieBreaks``, plus ``unresolvedTie`` when a tie-break rule says to
    stop and ask.  Raises ValueError for a bad profile, unknown names, or a
    method or seat count that is not available yet.
    """
    if rules.method != "irv":
        raise ValueError(f"method {rules.method!r} is not available yet")
    if rules.seats != 1:
        raise ValueError(f"counting {rules.seats} seats is not available yet (irv elects one)")
    return tabulate_irv(profile, list(candidates), rules)
