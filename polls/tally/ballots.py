"""Ballot profiles: the counting CSV format, and checking what callers pass in.

A profile maps a ballot (a tuple of cells in rank order) to how many voters
cast it.  A cell is a candidate name, ``""`` for a skipped rank, or
``OVERVOTE``.  A ballot with no marked cell is blank (an undervote).
"""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import IO, Any, NoReturn, Union

OVERVOTE = "overvote"
# Transfer reports use this as a destination, so no candidate may be called it.
EXHAUSTED = "exhausted"
# Words the report and the CSV format give a meaning of their own.
RESIDUAL_SURPLUS = "residual surplus"
RESERVED_NAMES = ("", OVERVOTE, EXHAUSTED, RESIDUAL_SURPLUS)

Ballot = tuple[str, ...]
Profile = Union[Mapping[Ballot, int], Iterable[tuple[Ballot, int]]]

_RANK_COLUMN = re.compile(r"(?:rank|choice)[ _-]?([0-9]+)", re.IGNORECASE)
_WHOLE_NUMBER = re.compile(r"[0-9]+")


def read_ballots_csv(source: str | os.PathLike | IO[str]) -> tuple[dict[Ballot, int], list[str]]:
    """Read a counting CSV into ``(profile, candidates)``.

    The header names the rank columns ``rank1``, ``rank2``, ... (or ``Rank 1``,
    ``Choice 1``, ``choice1``; any case) and optionally a ``count`` column;
    other columns are ignored.  Cells are stripped of surrounding whitespace.
    Identical rows are added together, and trailing skipped ranks dropped, so
    a blank ballot is ``()``.  ``candidates`` lists the names in order of first
    appearance.  Raises ValueError naming the file and line for bad input.
    """
    profile: dict[Ballot, int] = {}
    candidates: dict[str, None] = {}
    for _line, ballot, count in iter_ballot_rows(source):
        profile[ballot] = profile.get(ballot, 0) + count
        candidates.update((cell, None) for cell in ballot if cell and cell != OVERVOTE)
    return profile, list(candidates)


def iter_ballot_rows(source: str | os.PathLike | IO[str]) -> Iterator[tuple[int, Ballot, int]]:
    """The rows of a counting CSV, one by one, as ``(line, ballot, count)``.

    ``line`` is the file line on which the row starts (a quoted cell may hold
    line breaks), ``ballot`` the row's rank cells as ``read_ballots_csv`` reads
    them (stripped, trailing skipped ranks dropped; ``()`` for a blank row),
    ``count`` its weight (1 without a count column).  Empty lines are skipped.
    Raises ValueError naming the file and line for bad input, when that row is
    reached.
    """
    if isinstance(source, (str, os.PathLike)):
        name = os.fspath(source)
        with open(source, encoding="utf-8-sig", newline="") as stream:
            yield from _rows(stream, name)
    else:
        yield from _rows(source, getattr(source, "name", "<ballots>"))


def _rows(stream: IO[str], name: str) -> Iterator[tuple[int, Ballot, int]]:
    reader = csv.reader(stream)
    try:
        header = next(reader, None)
        if header is None:
            raise ValueError(f"{name}: the file is empty; expected a header row")
        rank_columns, count_column = _header_columns(header, name)
        width = len(header)
        start = reader.line_num + 1
        for row in reader:
            line, start = start, reader.line_num + 1
            if not row:
                continue
            where = f"{name} line {reader.line_num}"
            if len(row) > width:
                raise ValueError(f"{where}: {len(row)} cells, but the header has {width}")
            cells = [cell.strip() for cell in row] + [""] * (width - len(row))
            count = 1
            if count_column is not None:
                if not _WHOLE_NUMBER.fullmatch(cells[count_column]):
                    raise ValueError(f"{where}: count must be a whole number")
                count = int(cells[count_column])
            ranks = [cells[i] for i in rank_columns]
            while ranks and not ranks[-1]:
                ranks.pop()
            yield line, tuple(ranks), count
    except UnicodeDecodeError:
        raise ValueError(f"{name}: not a UTF-8 text file") from None
    except csv.Error as error:
        raise ValueError(f"{name} line {reader.line_num}: {error}") from None


def _header_columns(header: list[str], name: str) -> tuple[list[int], int | None]:
    """Column positions of rank 1, 2, ... and of the count."""
    ranks: dict[int, int] = {}
    counts = []
    for position, label in enumerate(cell.strip().lstrip("\ufeff") for cell in header):
        match = _RANK_COLUMN.fullmatch(label)
        if match:
            number = int(match.group(1))
            if number in ranks:
                raise ValueError(f"{name} line 1: rank {number} has two columns")
            ranks[number] = position
        elif label.lower() == "count":
            counts.append(position)
    if not ranks:
        raise ValueError(f"{name} line 1: no rank columns (expected rank1, rank2, ...)")
    if sorted(ranks) != list(range(1, len(ranks) + 1)):
        raise ValueError(f"{name} line 1: rank columns must be numbered 1 to {len(ranks)}")
    if len(counts) > 1:
        raise ValueError(f"{name} line 1: more than one count column")
    return [ranks[number] for number in sorted(ranks)], counts[0] if counts else None


def iter_profile(profile: Profile, names: Iterable[str]) -> Iterator[tuple[Ballot, int]]:
    """The ``(ballot, count)`` pairs of a profile, checked: every cell is one of
    ``names``, blank or ``OVERVOTE``; every count a whole number >= 0."""
    allowed = {*names, "", OVERVOTE}
    pairs = profile.items() if isinstance(profile, Mapping) else profile
    for pair in pairs:
        try:
            ballot, count = pair
        except (TypeError, ValueError):
            raise ValueError(f"profile entries must be (ballot, count) pairs, not {pair!r}") from None
        if not isinstance(ballot, (tuple, list)) or not _all_allowed(ballot, allowed):
            _explain_bad_ballot(ballot, allowed)
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"a ballot count must be a whole number >= 0, not {count!r}")
        yield tuple(ballot), count


def _all_allowed(ballot: Sequence[Any], allowed: set[str]) -> bool:
    try:
        return allowed.issuperset(ballot)  # one C-speed pass: the usual case
    except TypeError:  # an unhashable cell
        return False


def _explain_bad_ballot(ballot: Any, allowed: set[str]) -> NoReturn:
    if not isinstance(ballot, (tuple, list)) or not all(isinstance(c, str) for c in ballot):
        raise ValueError(f"a ballot must be a tuple of strings, not {ballot!r}")
    unknown = next(cell for cell in ballot if cell not in allowed)
    raise ValueError(f"a ballot ranks {unknown!r}, which is not a candidate")


def check_candidates(candidates: Iterable[str]) -> list[str]:
    """The candidate names as a list; raises ValueError for unusable ones."""
    names = list(candidates)
    for name in names:
        if not isinstance(name, str) or name in RESERVED_NAMES:
            raise ValueError(f"{name!r} cannot be a candidate name")
    if len(set(names)) != len(names):
        raise ValueError("candidate names must be distinct")
    return names
