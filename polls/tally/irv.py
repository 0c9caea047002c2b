"""Single-seat instant-runoff voting, counted the way RCTab counts it.

Each round, every ballot counts for its top continuing candidate; a
candidate with at least the threshold (floor(V/2)+1 of the V votes held by
continuing candidates) wins, otherwise the last-placed candidate (or a batch
of them) is eliminated and their ballots move on.  Skipped ranks, overvotes,
repeated names, excluded candidates, undeclared write-ins and the threshold,
tie-break and stopping options follow RCTab; see ``Rules``.

Ballots are read once, up front, into the sequence of candidates they can
still go to and the reason they will become inactive when that runs out.
After that a round only touches the ballots held by the candidates just
eliminated, so the cost grows with distinct rankings, not with voters.

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
_DECIMAL = Context(prec=60)


def tabulate_irv(profile: Profile, candidates: list[str], rules: Rules) -> dict[str, Any]:
    """Count one seat by instant runoff; return an RCTab-shaped report."""
    return _Count(profile, candidates, rules).run()


class _Count:
    def __init__(self, profile: Profile, candidates: list[str], rules: Rules) -> None:
        declared = check_candidates(candidates)
        uwi = rules.undeclaredWriteInCandidate
        unknown = [name for name in rules.excluded if name not in declared]
        if unknown:
            raise ValueError(f"excluded candidate {unknown[0]!r} is not in the candidate list")
        self.rules = rules
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
        for ballot, count in iter_profile(profile):
            for cell in ballot:
                if cell and cell != OVERVOTE and cell not in self.index:
                    raise ValueError(f"a ballot ranks {cell!r}, which is not a candidate")
            self.total_ballots += count
            marks = [(rank, cell) for rank, cell in enumerate(ballot[:limit], 1) if cell]
            if not marks:
                self.undervotes += count
            elif count:
                path = self._compile(marks)
                paths[path] = paths.get(path, 0) + count
        # Ballots that read the same way from here on are counted as one.
        self.sequences = [sequence for sequence, _ in paths]
        self.reasons = [reason for _, reason in paths]
        self.counts = list(paths.values())
        self.position = [0] * len(paths)
        for b, sequence in enumerate(self.sequences):
            if sequence:
                self.piles[sequence[0]].append(b)
                self.tally[sequence[0]] += self.counts[b]
            else:
                self.inactive[self.reasons[b]] += self.counts[b]

    def _compile(self, marks: list[tuple[int, str]]) -> tuple[tuple[int, ...], str]:
        """The candidates this ballot can go to, in order, and why it becomes
        inactive after the last of them.

        RCTab re-reads a ballot from rank 1 whenever its candidate leaves, but
        every check it makes depends only on the ballot, and a candidate who
        has left never returns, so reading once gives the same answers.
        """
        rules = self.rules
        skips = rules.maxSkippedRanksAllowed
        sequence: list[int] = []
        seen: set[str] = set()
        last_rank = 0
        for rank, cell in marks:
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
            candidate = self.index[cell]
            # Excluded candidates are passed over; a repeat is already gone when reached.
            if self.continuing[candidate] and candidate not in sequence:
                sequence.append(candidate)
        return tuple(sequence), EXHAUSTED_CHOICES

    def _transfer(self, losers: list[int]) -> dict[int, dict[str, int]]:
        """Move the (already eliminated) losers' ballots on; return where each
        loser's votes went."""
        flows: dict[int, dict[str, int]] = {}
        for loser in losers:
            flow = flows[loser] = {}
            for b in self.piles[loser]:
                sequence, count = self.sequences[b], self.counts[b]
                p = self.position[b] + 1
                while p < len(sequence) and not self.continuing[sequence[p]]:
                    p += 1
                if p < len(sequence):
                    target = sequence[p]
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
        eliminations: list[list[int]] = []
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
                    eliminations.append(losers)
                names = sorted((self.names[c] for c in losers), key=java_string_key)
                entries.extend({"eliminated": name, "transfers": {}} for name in names)
            if self.unresolved or len(results) == rules.stopTabulationEarlyAfterRound:
                break
            # One more round shows the last transfers; then stop once decided.
            if winner is not None and not (losers or more_to_do):
                break
        return {
            "winners": [] if winner is None else [self.names[winner]],
            "ranking": self._ranking(winner, eliminations),
            "results": results,
            "summary": {
                "numCandidates": len(self.names),
                "numWinners": rules.seats,
                "totalNumBallots": str(self.total_ballots),
                "undervotes": self.undervotes,
                "finalThreshold": str(threshold),
            },
            "tieBreaks": self.tie_breaks,
            **({"unresolvedTie": self.unresolved} if self.unresolved else {}),
        }

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
        bottom = min(self.tally[c] for c in active)
        loser = self._break_tie([c for c in active if self.tally[c] == bottom], winner=False)
        return [] if loser is None else [loser]

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

    def _ranking(self, winner: int | None, eliminations: list[list[int]]) -> list[str]:
        final_round = len(self.history)
        still_in = [
            self.names[c] for c, alive in enumerate(self.continuing) if alive and c != winner
        ]
        groups = [(final_round, still_in)] + [
            (r, [self.names[c] for c in group])
            for r, group in reversed(list(enumerate(eliminations, 1)))
        ]
        ranking = [] if winner is None else [self.names[winner]]
        for round_number, names in groups:
            ranking += sorted(names, key=lambda name: self._rank_key(name, round_number))
        return ranking

    def _rank_key(self, name: str, round_number: int) -> tuple:
        """Sort key among candidates leaving the count together in a round."""
        earlier = self.history[:round_number]
        if self.tiebreaker.uses_permutation():
            order: tuple = (self.tiebreaker.position(name),)
        else:
            previous = tuple(-tally[name] for tally in reversed(earlier[:-1]))
            order = previous + (java_string_key(name),)
        return (-earlier[-1][name],) + order


def _transfer_order(item: tuple[str, int]) -> tuple:
    destination, votes = item
    return destination == EXHAUSTED, -votes, java_string_key(destination)


def _numbers(values: dict[str, Any]) -> dict[str, str]:
    return {key: str(value) for key, value in values.items()}
