"""What the round-by-round methods (``irv``, ``stv``) share: reading ballots,
breaking ties and ordering the leaderboard, all as RCTab does them.

Ballots are read once, up front, into the sequence of candidates they can
still go to and the reason they will become inactive when that runs out.
Ballots that read the same way are kept as one group with a count, so the
cost of a round grows with distinct rankings, not with voters.

Votes are whole numbers of ``unit``: 1 for single-seat counts, and
``10**decimalPlacesForVoteArithmetic`` when surpluses move fractions of a
vote, so every sum is exact integer arithmetic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .ballots import EXHAUSTED, OVERVOTE, Profile, check_candidates, iter_profile
from .javacompat import java_string_key
from .rules import Rules
from .tiebreak import Tally, TieBreaker

OVERVOTES, SKIPPED, EXHAUSTED_CHOICES, REPEATED = INACTIVE_REASONS = (
    "overvotes",
    "skippedRankings",
    "exhaustedChoices",
    "repeatedRankings",
)


class RoundCount:
    """Candidates, ballot groups and tie-breaks for one count.

    After ``__init__`` every ballot group ``b`` sits in the pile of its first
    candidate: ``sequences[b]`` lists the candidates it can go to,
    ``position[b]`` the one holding it, ``reasons[b]`` why it becomes inactive
    when the sequence runs out, ``counts[b]`` how many ballots it stands for.
    ``tally`` and ``inactive`` are in units of ``unit``.
    """

    def __init__(
        self, profile: Profile, candidates: list[str], rules: Rules, unit: int = 1
    ) -> None:
        declared = check_candidates(candidates)
        uwi = rules.undeclaredWriteInCandidate
        unknown = [name for name in rules.excluded if name not in declared]
        if unknown:
            raise ValueError(f"excluded candidate {unknown[0]!r} is not in the candidate list")
        self.rules = rules
        self.unit = unit
        self.names = declared + ([uwi] if uwi and uwi not in declared else [])
        self.index = {name: c for c, name in enumerate(self.names)}
        self.uwi = self.index[uwi] if uwi else None
        self.continuing = [name not in rules.excluded for name in self.names]
        if not any(alive for c, alive in enumerate(self.continuing) if c != self.uwi):
            raise ValueError("there are no candidates to count")
        self.tiebreaker = TieBreaker(rules, [name for name in declared if name != uwi])
        self.total_ballots = 0
        self.undervotes = 0
        self.inactive = dict.fromkeys(INACTIVE_REASONS, 0)
        self.tally = [0] * len(self.names)
        self.piles: list[list[int]] = [[] for _ in self.names]
        self.history: list[Tally] = []
        self.tie_breaks: list[dict[str, Any]] = []
        self.unresolved: dict[str, Any] | None = None
        self._load(profile)

    # -- reading ballots -------------------------------------------------

    def _load(self, profile: Profile) -> None:
        """Compile and place every ballot for round 1."""
        limit = None if self.rules.maxRankingsAllowed == "max" else self.rules.maxRankingsAllowed
        paths: dict[tuple[tuple[int, ...], str], int] = {}
        # Excluded candidates are passed over.
        counted = {name: c for c, name in enumerate(self.names) if self.continuing[c]}
        for ballot, count in iter_profile(profile, self.names):
            self.total_ballots += count
            cells = ballot[:limit]
            if not any(cells):
                self.undervotes += count
            elif count:
                path = read_ballot(cells, counted, self.rules)
                paths[path] = paths.get(path, 0) + count
        # Ballots that read the same way from here on are counted as one.
        self.sequences = [sequence for sequence, _ in paths]
        self.reasons = [reason for _, reason in paths]
        self.counts = list(paths.values())
        self.position = [0] * len(paths)
        unit = self.unit
        for b, sequence in enumerate(self.sequences):
            if sequence:
                self.piles[sequence[0]].append(b)
                self.tally[sequence[0]] += self.counts[b] * unit
            else:
                self.inactive[self.reasons[b]] += self.counts[b] * unit

    def _next_position(self, b: int) -> int | None:
        """Where ballot group ``b`` goes next: the position in its sequence of
        the next continuing candidate, or None when it has nowhere to go."""
        sequence = self.sequences[b]
        p = self.position[b] + 1
        while p < len(sequence) and not self.continuing[sequence[p]]:
            p += 1
        return p if p < len(sequence) else None

    # -- choosing among candidates -----------------------------------------

    def _batch(self, active: list[int]) -> list[int]:
        """The largest group of lowest candidates whose votes together are
        fewer than the next candidate's."""
        groups: dict[int, list[int]] = {}
        for c in sorted(active, key=self.tally.__getitem__):
            groups.setdefault(self.tally[c], []).append(c)
        running, seen, batch, previous = 0, [], [], []
        for votes, group in groups.items():
            if running < votes and len(seen) > len(batch):
                previous, batch = batch, list(seen)
            running += votes * len(group)
            seen += group
        if self.rules.continueUntilTwoCandidatesRemain and len(active) - len(batch) == 1:
            return previous
        return batch

    def _lowest(self, active: list[int]) -> list[int]:
        """The single last-placed candidate (after any tie-break), as a list;
        empty when the tie is left for the operator."""
        bottom = min(self.tally[c] for c in active)
        loser = self._break_tie([c for c in active if self.tally[c] == bottom], winner=False)
        return [] if loser is None else [loser]

    def _break_tie(self, tied: list[int], winner: bool) -> int | None:
        """The single candidate in ``tied``, or the tie-break's choice; None
        (and the tie recorded as unresolved) when the rule says to ask."""
        if len(tied) == 1:
            return tied[0]
        names = sorted((self.names[c] for c in tied), key=java_string_key)
        round_number = len(self.history)
        chosen, explanation = self.tiebreaker.choose(names, winner, self.history[:-1])
        kind = "winner" if winner else "loser"
        if chosen is None:
            self.unresolved = {
                "round": round_number, "kind": kind, "tied": names, "explanation": explanation
            }
            return None
        self.tie_breaks.append(
            {
                "round": round_number,
                "kind": kind,
                "tied": names,
                "chosen": chosen,
                "rule": self.tiebreaker.mode,
                "explanation": explanation,
            }
        )
        return self.index[chosen]

    # -- the report ----------------------------------------------------------

    def report(
        self, winners: list[str], ranking: list[str], results: list[dict[str, Any]], threshold: str
    ) -> dict[str, Any]:
        """The whole report in RCTab's shape, with the tie-breaks made."""
        return {
            "winners": winners,
            "ranking": ranking,
            "results": results,
            "summary": {
                "numCandidates": len(self.names),
                "numWinners": self.rules.seats,
                "totalNumBallots": str(self.total_ballots),
                "undervotes": self.undervotes,
                "finalThreshold": threshold,
            },
            "tieBreaks": self.tie_breaks,
            **({"unresolvedTie": self.unresolved} if self.unresolved else {}),
        }

    def _rank_key(self, name: str, round_number: int) -> tuple:
        """Sort key among candidates leaving the count together in a round."""
        earlier = self.history[:round_number]
        if self.tiebreaker.uses_permutation():
            order: tuple = (self.tiebreaker.position(name),)
        else:
            previous = tuple(-tally[name] for tally in reversed(earlier[:-1]))
            order = previous + (java_string_key(name),)
        return (-earlier[-1][name],) + order

    def _ordered(self, groups: list[tuple[int, list[int]]]) -> list[str]:
        """Names group by group; within a group (who left the count together
        in round ``r``) by ``_rank_key``."""
        ranking: list[str] = []
        for round_number, group in groups:
            names = [self.names[c] for c in group]
            ranking += sorted(names, key=lambda name: self._rank_key(name, round_number))
        return ranking


def read_ballot(
    cells: Sequence[str], counted: Mapping[str, int], rules: Rules
) -> tuple[tuple[int, ...], str]:
    """The candidates (as ``counted[name]``) a ballot can go to, in order, and
    why it becomes inactive after the last of them.  ``cells`` are its marks
    in rank order (``""`` for a skipped rank); names not in ``counted``
    (excluded candidates, say) are passed over.

    RCTab re-reads a ballot from rank 1 whenever its candidate leaves, but
    every check it makes depends only on the ballot, and a candidate who has
    left never returns, so reading once gives the same answers.
    """
    skips = rules.maxSkippedRanksAllowed
    if (skips == "unlimited" and not rules.exhaustOnDuplicateCandidate
            and rules.overvoteRule != "exhaustImmediately"):
        # Nothing can end this ballot early: its counted names in order, each once.
        return tuple(dict.fromkeys([counted[c] for c in cells if c in counted])), EXHAUSTED_CHOICES
    sequence: list[int] = []
    seen: set[str] = set()
    last_rank = 0
    for rank, cell in enumerate(cells, 1):
        if not cell:
            continue
        if skips != "unlimited" and rank - last_rank > skips + 1:
            return tuple(sequence), SKIPPED
        last_rank = rank
        if rules.exhaustOnDuplicateCandidate:
            # RCTab checks the overvote label for repeats like any name.
            if cell in seen:
                return tuple(sequence), REPEATED
            seen.add(cell)
        if cell == OVERVOTE:
            if rules.overvoteRule == "exhaustImmediately":
                return tuple(sequence), OVERVOTES
            continue
        candidate = counted.get(cell)
        # A repeat is already gone when reached.
        if candidate is not None and candidate not in sequence:
            sequence.append(candidate)
    return tuple(sequence), EXHAUSTED_CHOICES


def transfer_order(item: tuple[str, Any]) -> tuple:
    """Largest first, ``exhausted`` last: the order of a transfers object is for reading only."""
    destination, votes = item
    return destination == EXHAUSTED, -votes, java_string_key(destination)


def numbers(values: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}
