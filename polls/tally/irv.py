"""Single-seat instant-runoff voting, counted the way RCTab counts it.

Each round, every ballot counts for its top continuing candidate; a
candidate with at least the threshold (floor(V/2)+1 of the V votes held by
continuing candidates) wins, otherwise the last-placed candidate (or a batch
of them) is eliminated and their ballots move on.  Skipped ranks, overvotes,
repeated names, excluded candidates, undeclared write-ins and the threshold,
tie-break and stopping options follow RCTab; see ``Rules``.

Ballots are read once, up front (see ``rounds``); after that a round only
touches the ballots held by the candidates just eliminated, so the cost
grows with distinct rankings, not with voters.

``ranking`` in the report is the full leaderboard, best first: the winner,
then any other candidates still in the count when it ended, then the
eliminated candidates in reverse order of elimination.  Candidates that end
in the same group (eliminated together in one batch, or still in the count)
are ordered by their tally in that round, most first, then by tie-break
order: the tie-break permutation for ``useCandidateOrder`` and
``generatePermutation``; otherwise their tallies in the rounds before
(latest first), then Java string order of the names.  Excluded candidates
are not ranked.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_UP, Context, Decimal
from typing import Any

from .ballots import EXHAUSTED, Profile
from .javacompat import java_string_key
from .rounds import INACTIVE_REASONS, RoundCount
from .rounds import numbers as _numbers
from .rounds import transfer_order as _transfer_order
from .rules import Rules
from .tiebreak import Tally

__all__ = ["INACTIVE_REASONS", "tabulate_irv"]

_DECIMAL = Context(prec=60)


def tabulate_irv(profile: Profile, candidates: list[str], rules: Rules) -> dict[str, Any]:
    """Count one seat by instant runoff; return an RCTab-shaped report."""
    return _Count(profile, candidates, rules).run()


class _Count(RoundCount):
    def _transfer(self, losers: list[int]) -> dict[int, dict[str, int]]:
        """Move the (already eliminated) losers' ballots on; return where each
        loser's votes went."""
        flows: dict[int, dict[str, int]] = {}
        for loser in losers:
            flow = flows[loser] = {}
            for b in self.piles[loser]:
                count = self.counts[b]
                p = self._next_position(b)
                if p is not None:
                    target = self.sequences[b][p]
                    self.position[b] = p
                    self.piles[target].append(b)
                    self.tally[target] += count
                    destination = self.names[target]
                else:
                    self.inactive[self.reasons[b]] += count
                    destination = EXHAUSTED
                flow[destination] = flow.get(destination, 0) + count
            self.piles[loser] = []
            self.tally[loser] = 0
            # Largest first, "exhausted" last: the order is for reading only.
            flows[loser] = dict(sorted(flow.items(), key=_transfer_order))
        return flows

    # -- the rounds --------------------------------------------------------

    def run(self) -> dict[str, Any]:
        rules = self.rules
        until_two = rules.continueUntilTwoCandidatesRemain
        results: list[dict[str, Any]] = []
        eliminations: list[tuple[int, list[int]]] = []  # (round, losers)
        winner: int | None = None
        threshold: Decimal | None = None
        losers: list[int] = []
        while True:
            if losers:
                flows = self._transfer(losers)
                for entry in results[-1]["tallyResults"]:
                    entry["transfers"] = _numbers(flows[self.index[entry["eliminated"]]])
            active = [c for c, alive in enumerate(self.continuing) if alive]
            frozen = rules.doesFirstRoundDetermineThreshold or (until_two and winner is not None)
            if threshold is None or not frozen:
                threshold = self._threshold(sum(self.tally[c] for c in active))
            self.history.append(self._snapshot(active))
            entries: list[dict[str, Any]] = []
            results.append(
                {
                    "round": len(results) + 1,
                    "tally": _numbers(self.history[-1]),
                    "tallyResults": entries,
                    "threshold": str(threshold),
                    "inactiveBallots": _numbers(self.inactive),
                }
            )
            elected = False
            if winner is None:
                winner = self._find_winner(active, threshold)
                elected = winner is not None
            # After the winner, continueUntilTwoCandidatesRemain keeps eliminating.
            more_to_do = until_two and len(active) > 2
            losers = []
            if elected:
                entries.append({"elected": self.names[winner], "transfers": {}})
            elif winner is None or more_to_do:
                losers = self._find_losers(active)
                for loser in losers:
                    self.continuing[loser] = False
                if losers:
                    eliminations.append((len(results), losers))
                names = sorted((self.names[c] for c in losers), key=java_string_key)
                entries.extend({"eliminated": name, "transfers": {}} for name in names)
            if self.unresolved or len(results) == rules.stopTabulationEarlyAfterRound:
                break
            # One more round shows the last transfers; then stop once decided.
            if winner is not None and not (losers or more_to_do):
                break
        winners = [] if winner is None else [self.names[winner]]
        return self.report(winners, self._ranking(winner, eliminations), results, str(threshold))

    def _snapshot(self, active: list[int]) -> Tally:
        """This round's tally by name, most votes first."""
        ordered = sorted(active, key=lambda c: -self.tally[c])
        return {self.names[c]: self.tally[c] for c in ordered}

    def _threshold(self, votes: int) -> Decimal:
        """RCTab's winning threshold for ``votes`` continuing votes."""
        rules = self.rules
        places = rules.decimalPlacesForVoteArithmetic if rules.nonIntegerWinningThreshold else 0
        unit = Decimal(1).scaleb(-places)
        if rules.hareQuota:
            return _DECIMAL.divide(votes, rules.seats).quantize(unit, ROUND_UP)
        # Rounding down and adding one unit makes the threshold "more than a share".
        return _DECIMAL.divide(votes, rules.seats + 1).quantize(unit, ROUND_DOWN) + unit

    def _find_winner(self, active: list[int], threshold: Decimal) -> int | None:
        if self.uwi in active and self.tally[self.uwi] > 0:
            return None  # nobody wins while undeclared write-ins hold votes
        if len(active) <= 2:
            # The last two: the leader wins even below the threshold.
            pool = active
        else:
            pool = [c for c in active if self.tally[c] >= threshold and c != self.uwi]
            if not pool:
                return None
        top = max(self.tally[c] for c in pool)
        return self._break_tie([c for c in pool if self.tally[c] == top], winner=True)

    def _find_losers(self, active: list[int]) -> list[int]:
        if self.uwi in active and self.tally[self.uwi] > 0:
            return [self.uwi]
        if self.rules.batchElimination:
            batch = self._batch(active)
            if len(batch) > 1:
                return batch
        return self._lowest(active)

    def _ranking(self, winner: int | None, eliminations: list[tuple[int, list[int]]]) -> list[str]:
        still_in = [c for c, alive in enumerate(self.continuing) if alive and c != winner]
        groups = [(len(self.history), still_in)] + eliminations[::-1]
        return ([] if winner is None else [self.names[winner]]) + self._ordered(groups)
