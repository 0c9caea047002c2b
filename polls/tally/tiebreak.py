"""RCTab's tie-break rules, reproduced draw for draw."""

from __future__ import annotations

from collections.abc import Sequence

from .javacompat import JavaRandom, java_hashset_order, java_shuffle, java_string_key
from .rules import Rules

Tally = dict[str, int]


def sentence_list(names: Sequence[str]) -> str:
    """``A``, ``A and B``, ``A, B and C``."""
    if len(names) <= 1:
        return "".join(names)
    return f"{', '.join(names[:-1])} and {names[-1]}"


class TieBreaker:
    """Picks the winner or loser among tied candidates, as RCTab would.

    One instance serves a whole count: ``random`` modes share a single
    ``java.util.Random`` across every tie, so the order of ties matters.
    """

    def __init__(self, rules: Rules, declared: Sequence[str]) -> None:
        """``declared`` is the candidate list in order, excluded ones included,
        without the undeclared write-in entry (which RCTab leaves out of its
        tie-break permutation)."""
        self.mode = rules.tiebreakMode
        self._seed = rules.randomSeed
        self._random = JavaRandom(rules.randomSeed)
        permutation = list(declared)
        if self.mode == "generatePermutation":
            permutation.sort(key=java_string_key)
            java_shuffle(permutation, self._random)
        self._position = {name: i for i, name in enumerate(permutation)}

    def uses_permutation(self) -> bool:
        return self.mode in ("useCandidateOrder", "generatePermutation")

    def position(self, name: str) -> int:
        """Place in the tie-break permutation; names outside it come last."""
        return self._position.get(name, len(self._position))

    def choose(
        self, tied: Sequence[str], winner: bool, history: Sequence[Tally]
    ) -> tuple[str | None, str]:
        """Return ``(chosen, explanation)``; ``chosen`` is None when the rule
        says to stop and ask.  ``history`` holds the tallies of the rounds
        before this one, oldest first."""
        ordered = sorted(tied, key=java_string_key)
        about = f"Tie between {sentence_list(ordered)}"
        if self.mode == "random":
            return self._draw(ordered), f"{about} broken at random (seed {self._seed})"
        if self.uses_permutation():
            pick = min if winner else max
            listed = [name for name in ordered if name in self._position]
            chosen = pick(listed, key=self._position.__getitem__)
            if self.mode == "useCandidateOrder":
                source = "candidate order"
            else:
                source = f"the candidate permutation generated from seed {self._seed}"
            place = "earliest" if winner else "latest"
            return chosen, f"{about} broken by {source}: {chosen} comes {place}"
        if self.mode == "stopCountingAndAsk":
            return None, f"{about} left for the operator to decide"
        return self._previous_rounds(ordered, winner, history, about)

    def _previous_rounds(
        self, contenders: list[str], winner: bool, history: Sequence[Tally], about: str
    ) -> tuple[str | None, str]:
        for round_number in range(len(history), 0, -1):
            tally = history[round_number - 1]
            # RCTab regroups the contenders through a HashSet, which fixes
            # their order for any random draw that follows.
            contenders = java_hashset_order(contenders)
            best = (max if winner else min)(tally[n] for n in contenders)
            contenders = [n for n in contenders if tally[n] == best]
            if len(contenders) == 1:
                most = "most" if winner else "fewest"
                return contenders[0], (
                    f"{about} broken by previous-round counts: {contenders[0]} had the {most} "
                    f"votes ({best}) in round {round_number}"
                )
        if history:
            still_tied = sentence_list(sorted(contenders, key=java_string_key))
            why = f"previous-round counts left {still_tied} tied"
        else:
            why = "there is no previous round to compare"
        if self.mode == "previousRoundCountsThenAsk":
            return None, f"{about} left for the operator to decide: {why}"
        return self._draw(contenders), f"{about} broken at random (seed {self._seed}): {why}"

    def _draw(self, ordered: Sequence[str]) -> str:
        return ordered[int(self._random.next_double() * len(ordered))]
