"""Multi-seat single transferable vote, counted the way RCTab counts it.

The winning threshold is worked out once, in round 1, from the V votes held
by continuing candidates: floor(V/(seats+1))+1 (the Droop quota), or
ceil(V/seats) with ``hareQuota``; ``nonIntegerWinningThreshold`` cuts the
quotient to ``decimalPlacesForVoteArithmetic`` (d) places and adds one unit
in the last place instead of one vote.

Each round, candidates at or over the threshold win (with
``multiWinnerAllowOnlyOneWinnerPerRound``, only the top one; a tie goes to
the tie-break), and if the continuing candidates are no more than the open
seats they all win.  Nobody wins while undeclared write-ins hold votes.  A
round that elects no one eliminates the last-placed candidate (undeclared
write-ins first), and their ballots move on at their current value.

A winner with T votes over the threshold Q passes on the surplus: the
fraction f = (T-Q)/T is cut to d places, each of their ballots goes on to
its next continuing choice worth v*f (cut to d places) of its value v, and
the rest stays.  What stays is the winner's tally from then on, capped at Q;
the part over Q, lost to cutting, is shown as a transfer to ``residual
surplus``.  When the last seat is filled one more round is counted to show
the last surpluses leaving: those ballots are counted as ``finalRoundSurplus``
rather than passed on.  All of it is whole-number arithmetic in units of
10**-d, so it is exact.

Two of RCTab's modes need no surplus: ``bottomsUp`` eliminates until the
continuing candidates fit the seats, and ``bottomsUpUsingPercentageThreshold``
(``seats=0``) eliminates until every continuing candidate has more than
``multiSeatBottomsUpPercentageThreshold`` percent of the votes (the threshold
is worked out again each round unless ``doesFirstRoundDetermineThreshold``),
and then elects them all.  With ``cutoffElimination`` every candidate under
that threshold goes out at once; if that would be everyone, the last-placed
one goes instead (RCTab would stop the count with an error).

``ranking`` in the report is the full leaderboard, best first: the winners in
order of election, then any candidates still in the count when it ended,
then the eliminated candidates in reverse order of elimination.  Candidates
in the same group (elected or eliminated in the same round, or still in the
count at the end) are ordered by their tally in that round, most first, then
by tie-break order as in ``irv``.  ``winners`` lists the winners in the same
order.  Excluded candidates are not ranked.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from .ballots import EXHAUSTED, RESIDUAL_SURPLUS, Profile
from .javacompat import java_string_key
from .rounds import RoundCount, transfer_order
from .rules import BOTTOMS_UP, BOTTOMS_UP_PERCENTAGE, ONE_PER_ROUND, Rules
from .tiebreak import Tally

__all__ = ["FINAL_ROUND_SURPLUS", "RESIDUAL_SURPLUS", "tabulate_stv"]

FINAL_ROUND_SURPLUS = "finalRoundSurplus"


def tabulate_stv(profile: Profile, candidates: list[str], rules: Rules) -> dict[str, Any]:
    """Count several seats by single transferable vote; return an RCTab-shaped report."""
    return _Count(profile, candidates, rules).run()


class _Count(RoundCount):
    def __init__(self, profile: Profile, candidates: list[str], rules: Rules) -> None:
        self.places = rules.decimalPlacesForVoteArithmetic
        super().__init__(profile, candidates, rules, unit=10**self.places)
        mode = rules.election_mode
        self.percentage = mode == BOTTOMS_UP_PERCENTAGE
        self.bottoms_up = mode == BOTTOMS_UP
        self.one_per_round = mode == ONE_PER_ROUND
        # Winners pass their surplus on in every multi-seat mode but the bottoms-up ones.
        self.surpluses = rules.seats > 1 and not self.bottoms_up
        # What one ballot of each group is still worth, in units.
        self.weight = [self.unit] * len(self.counts)
        self.final_surplus = 0
        self.winners: list[int] = []
        # A winner's tally from the round after their election on.
        self.kept: dict[int, int] = {}
        # RCTab's two candidate counts, used to tell when everyone is elected.
        self.num_declared = len(self.names) - (self.uwi is not None)
        self.num_candidates = len(self.names) - len(set(rules.excluded))

    # -- the rounds --------------------------------------------------------

    def run(self) -> dict[str, Any]:
        rules = self.rules
        results: list[dict[str, Any]] = []
        elected: list[tuple[int, list[int]]] = []
        eliminated: list[tuple[int, list[int]]] = []
        leaving: list[int] = []  # whose ballots move at the start of the next round
        staying: dict[int, int] = {}  # what the last round's winners keep
        threshold = 0
        while True:
            round_number = len(results) + 1
            if leaving:
                self._move_on(leaving, staying, threshold, results[-1]["tallyResults"])
            active = [c for c, alive in enumerate(self.continuing) if alive]
            if round_number == 1 or (
                self.percentage and not rules.doesFirstRoundDetermineThreshold
            ):
                threshold = self._threshold(sum(self.tally[c] for c in active))
            self.history.append(self._snapshot(active))
            entries: list[dict[str, Any]] = []
            results.append(
                {
                    "round": round_number,
                    "tally": {name: str(votes) for name, votes in self.history[-1].items()},
                    "tallyResults": entries,
                    "threshold": self._text(threshold),
                    "inactiveBallots": {k: self._text(v) for k, v in self.inactive.items()},
                }
            )
            winners = self._find_winners(active, threshold)
            leaving, staying = [], {}
            if winners:
                for winner in winners:
                    self.continuing[winner] = False
                    staying[winner] = self._elect(winner, threshold)
                self.winners += winners
                elected.append((round_number, winners))
                leaving = winners
                names = sorted((self.names[c] for c in winners), key=java_string_key)
                entries.extend({"elected": name, "transfers": {}} for name in names)
            elif self.unresolved is None and (len(self.winners) < rules.seats or self.percentage):
                if not active:
                    break  # more seats than candidates: nobody is left to elect
                losers = self._find_losers(active, threshold)
                for loser in losers:
                    self.continuing[loser] = False
                if losers:
                    eliminated.append((round_number, losers))
                leaving = losers
                names = sorted((self.names[c] for c in losers), key=java_string_key)
                entries.extend({"eliminated": name, "transfers": {}} for name in names)
            if not self._go_on(round_number, bool(winners)):
                break
        if self.surpluses:
            results[-1]["inactiveBallots"][FINAL_ROUND_SURPLUS] = self._text(self.final_surplus)
        ranking = self._ranking(elected, eliminated)
        return self.report(ranking[: len(self.winners)], ranking, results, self._text(threshold))

    def _go_on(self, round_number: int, someone_won: bool) -> bool:
        """Whether to count another round (RCTab's shouldContinueTabulating)."""
        rules = self.rules
        if self.unresolved or round_number == rules.stopTabulationEarlyAfterRound:
            return False
        if len(self.winners) == self.num_declared and rules.seats > self.num_candidates:
            return False  # more seats than candidates, and everyone is elected
        if self.percentage:
            return not self.winners
        # Once the seats are filled, one more round shows the last surpluses leaving.
        return len(self.winners) < rules.seats or (self.surpluses and someone_won)

    def _threshold(self, votes: int) -> int:
        """RCTab's winning threshold for ``votes`` continuing votes (in units)."""
        rules, unit = self.rules, self.unit
        if self.percentage:
            share = rules.multiSeatBottomsUpPercentageThreshold * unit // 100
            return votes * share // unit
        # One vote, or one unit in the last decimal place.
        step = 1 if rules.nonIntegerWinningThreshold else unit
        if rules.hareQuota:
            return -(-votes // (rules.seats * step)) * step
        # Rounding down and adding one step makes the threshold "more than a share".
        return votes // ((rules.seats + 1) * step) * step + step

    def _find_winners(self, active: list[int], threshold: int) -> list[int]:
        """This round's winners, as RCTab's identifyWinners picks them."""
        rules, tally = self.rules, self.tally
        if self.uwi in active and tally[self.uwi] != 0:
            return []  # nobody wins while undeclared write-ins hold votes
        if self.percentage:
            # All at once, when every continuing candidate is over the threshold.
            return list(active) if all(tally[c] > threshold for c in active) else []
        open_seats = rules.seats - len(self.winners)
        chosen: list[int] = []
        if open_seats > 0:
            if len(active) <= open_seats:
                chosen = list(active)
            elif rules.doesFirstRoundDetermineThreshold and len(active) - 1 == rules.seats:
                top = max(tally[c] for c in active)
                chosen = [c for c in active if tally[c] == top]
            elif not self.bottoms_up:
                chosen = [c for c in active if tally[c] >= threshold and c != self.uwi]
        if len(chosen) > 1 and (self.one_per_round or rules.doesFirstRoundDetermineThreshold):
            top = max(tally[c] for c in active)
            winner = self._break_tie([c for c in active if tally[c] == top], winner=True)
            chosen = [] if winner is None else [winner]
        return chosen

    def _find_losers(self, active: list[int], threshold: int) -> list[int]:
        if self.uwi in active and self.tally[self.uwi] > 0:
            return [self.uwi]
        if self.rules.cutoffElimination:
            below = [c for c in active if self.tally[c] < threshold]
            if below and len(below) < len(active):
                return below
        return self._lowest(active)

    def _elect(self, winner: int, threshold: int) -> int:
        """Split the winner's ballots into what stays and what moves on (their
        new value); return the votes that stay."""
        unit, votes = self.unit, self.tally[winner]
        if not self.surpluses:
            fraction = unit  # bottoms-up: the ballots move on whole, nothing stays
        elif votes > threshold:
            fraction = (votes - threshold) * unit // votes
        else:
            fraction = 0
        kept = 0
        for b in self.piles[winner]:
            value = self.weight[b]
            moving = value * fraction // unit
            kept += self.counts[b] * (value - moving)
            self.weight[b] = moving
        return kept

    def _move_on(
        self, leaving: list[int], staying: dict[int, int], threshold: int, outcomes: list
    ) -> None:
        """Move the ballots of last round's winners and losers, settle the
        winners' tallies, and record the transfers on last round's outcomes."""
        # With every seat filled the surplus has nowhere left to go.
        final = self.surpluses and len(self.winners) == self.rules.seats
        flows = {c: self._transfer(c, final) for c in leaving}
        for winner, votes in staying.items():
            residual = votes - threshold
            if self.surpluses and residual > 0:
                flows[winner][RESIDUAL_SURPLUS] = residual
                votes = threshold
            self.kept[winner] = votes
        for entry in outcomes:
            flow = flows[self.index[entry.get("elected") or entry.get("eliminated")]]
            ordered = sorted(flow.items(), key=_transfer_order)
            entry["transfers"] = {name: self._text(votes) for name, votes in ordered}

    def _transfer(self, leaving: int, final: bool) -> dict[str, int]:
        """Move one candidate's ballots on at their current value; return
        where the votes went."""
        flow: dict[str, int] = {}
        for b in self.piles[leaving]:
            value = self.counts[b] * self.weight[b]
            if not value:
                continue  # worth nothing now, and for good: it changes no sum
            if final:
                self.final_surplus += value
                destination = EXHAUSTED
            else:
                p = self._next_position(b)
                if p is None:
                    self.inactive[self.reasons[b]] += value
                    destination = EXHAUSTED
                else:
                    target = self.sequences[b][p]
                    self.position[b] = p
                    self.piles[target].append(b)
                    self.tally[target] += value
                    destination = self.names[target]
            flow[destination] = flow.get(destination, 0) + value
        self.piles[leaving] = []
        self.tally[leaving] = 0
        return flow

    # -- the report ----------------------------------------------------------

    def _snapshot(self, active: list[int]) -> Tally:
        """This round's tally by name, most votes first: the continuing
        candidates and the winners of earlier rounds."""
        votes = {c: self.tally[c] for c in active}
        votes.update(self.kept)
        ordered = sorted(votes, key=lambda c: -votes[c])
        return {self.names[c]: self._value(votes[c]) for c in ordered}

    def _value(self, units: int) -> Decimal:
        """Units as an exact decimal: whole votes without decimals, others
        with d places."""
        whole, part = divmod(units, self.unit)
        return Decimal(whole) if not part else Decimal(units).scaleb(-self.places)

    def _text(self, units: int) -> str:
        return str(self._value(units))

    def _ranking(
        self, elected: list[tuple[int, list[int]]], eliminated: list[tuple[int, list[int]]]
    ) -> list[str]:
        still_in = [c for c, alive in enumerate(self.continuing) if alive]
        groups = elected + [(len(self.history), still_in)] + list(reversed(eliminated))
        return self._ordered(groups)


def _transfer_order(item: tuple[str, int]) -> tuple:
    """Candidates by votes, then ``exhausted``, then ``residual surplus``."""
    return (item[0] == RESIDUAL_SURPLUS,) + transfer_order(item)
