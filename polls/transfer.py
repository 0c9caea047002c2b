"""A poll's ballots in and out as the counting CSV format (see polls.tally).

Export writes anonymised ballots: one row per distinct ranking with its count
(the counts the database keeps, see ``RankingCount``), candidate titles in the cells, so
that ``python -m polls.tally`` on the file counts what the results page
counts.  Import reads the same format (paper ballots from a fan meeting,
benchmarks) and stores each counted ballot as its own row, all or nothing.
The results themselves go out as the engine's JSON report (``engine_report``)
and as a spreadsheet of the leaderboard (``results_csv``).

Plain functions on a Poll inside an app context; ``polls.cli`` and a
download route are thin layers over them.
"""
from __future__ import annotations

import csv
import io
import os
import secrets
import uuid
from array import array
from collections.abc import Callable, Iterator
from contextlib import contextmanager
import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import IO, Any

from sqlalchemy import Connection, select

from polls.extensions import db
from polls.models import RANKING_SEPARATOR, Ballot, Poll, utcnow
from polls.results import ROUND_METHODS, ballot_profile, ballots_changed, poll_rules
from polls.tally import Rules, tabulate
from polls.tally.ballots import OVERVOTE, iter_ballot_rows
from polls.voters import voter_hash

# Rows per executemany when importing: big enough to amortise the round trip,
# small enough to keep memory flat for a million ballots.
IMPORT_BATCH = 20_000
# Ballots one import may add: a mistyped count must not fill the disk.
MAX_IMPORT_BALLOTS = 10_000_000
# SQLite page cache while importing, in KiB (freed when the import ends).
SQLITE_IMPORT_CACHE_KIB = 256 * 1024
# Rows per chunk of CSV text when exporting (for a streamed download).
EXPORT_CHUNK = 1_000


# --- export ------------------------------------------------------------------

def ballot_rows(poll: Poll) -> list[tuple[tuple[str, ...], int]]:
    """The poll's distinct rankings as (titles best first, count), most cast first
    (equal counts in the poll order of their choices).

    The profile is the one the results page counts (``ballot_profile``:
    the database's count of each distinct ranking, never ballots loaded one
    by one), so an export counts to the same result by construction.
    """
    position = {c.title: i for i, c in enumerate(poll.candidates)}
    return sorted(ballot_profile(poll).items(),
                  key=lambda item: (-item[1], [position[t] for t in item[0]]))


def export_rows(poll: Poll) -> Iterator[list[str]]:
    """The export as CSV rows: the header ``count,rank1,...,rankN`` (N = longest
    ballot, at least 1), one ``0,<title>`` row per candidate in poll order (so
    a counter learns every candidate, in order, even one with no votes), then
    one row per distinct ranking with its count."""
    rows = ballot_rows(poll)
    width = max((len(ballot) for ballot, _ in rows), default=0) or 1
    yield ["count"] + [f"rank{i}" for i in range(1, width + 1)]
    for candidate in poll.candidates:
        yield ["0", candidate.title] + [""] * (width - 1)
    for ballot, count in rows:
        yield [str(count), *ballot] + [""] * (width - len(ballot))


def iter_ballots_csv(poll: Poll) -> Iterator[str]:
    """The export as chunks of CSV text (for ``flask.Response`` streaming)."""
    buffer = io.StringIO()
    # RFC 4180 line ends: with "\r" in the terminator, a title holding a bare
    # carriage return gets quoted too (Python's csv quotes only those characters).
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, row in enumerate(export_rows(poll), start=1):
        writer.writerow(row)
        if number % EXPORT_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue()


def export_ballots_csv(poll: Poll) -> str:
    """The whole export as one string."""
    return "".join(iter_ballots_csv(poll))


def write_ballots_csv(poll: Poll, stream: IO[str]) -> None:
    """Write the export to a text stream."""
    for chunk in iter_ballots_csv(poll):
        stream.write(chunk)


def tally_command(poll: Poll) -> tuple[list[str], dict[str, Any] | None]:
    """The ``python -m polls.tally`` options that count an export as the results
    page counts the poll, and the rules file they need (RCTab's shape, for
    ``--rules``), or None when ``--method``/``--seats`` say it all (none at all
    for instant runoff)."""
    rules = poll_rules(poll)
    options = [] if rules.method == "irv" else ["--method", rules.method]
    if rules.seats != 1:
        options += ["--seats", str(rules.seats)]
    if not _rule_changes(rules) and not rules.excluded and rules.undeclaredWriteInCandidate is None:
        return options, None
    return options, rules_config(poll, rules)


def _rule_changes(rules: Rules) -> dict[str, Any]:
    """The rules that differ from the engine's defaults, besides the method, the
    seats and the candidates'."""
    return {f.name: getattr(rules, f.name) for f in dataclasses.fields(Rules)
            if f.name not in ("method", "seats", "excluded", "undeclaredWriteInCandidate")
            and getattr(rules, f.name) != f.default}


def rules_config(poll: Poll, rules: Rules | None = None) -> dict[str, Any]:
    """The poll's count (under ``rules``, by default ``poll_rules(poll)``) as a
    rules file for ``--rules``, RCTab's shape, whether or not the count needs one;
    ``tally_command``'s ``--method``/``--seats`` still pick the method."""
    rules = rules or poll_rules(poll)
    # A rules file leaves KissPoll's no-votes rule off unless it says otherwise,
    # and RCTab wants the seed of a seeded tie-break spelled out.
    changed = {**_rule_changes(rules), "noWinnerWithoutVotes": rules.noWinnerWithoutVotes,
               "randomSeed": rules.randomSeed}
    return {
        "rules": changed,
        "candidates": [{"name": c.title, "excluded": c.title in rules.excluded} for c in poll.candidates],
        "undeclaredWriteInCandidate": rules.undeclaredWriteInCandidate,
    }


# --- results -----------------------------------------------------------------

def engine_report(poll: Poll) -> dict[str, Any]:
    """The counting engine's report on the poll's counted ballots under its rules:
    the object ``python -m polls.tally --json`` prints for the export with
    ``tally_command``'s options (``winners``, ``ranking``, RCTab's ``results``
    rounds, ``summary``, ``tieBreaks``, the method's own tables).

    Raises ValueError when the engine cannot count the poll (it has no scenes).
    """
    return tabulate(ballot_profile(poll), [c.title for c in poll.candidates], poll_rules(poll))


# Spreadsheets run a cell starting with one of these as a formula ("CSV injection"),
# and titles are the host's and fans' text.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(cell: str) -> str:
    """``cell`` as a spreadsheet shows it as text: a leading apostrophe before a formula start."""
    return "'" + cell if cell.startswith(FORMULA_STARTS) else cell


def _round_columns(rounds: list[dict]) -> dict[str, tuple[str, int | None, int | None]]:
    """Per scene: votes in the last round it was counted in, the round it was
    elected in, the round it was eliminated in."""
    votes: dict[str, str] = {}
    elected: dict[str, int] = {}
    eliminated: dict[str, int] = {}
    for entry in rounds:
        votes.update(entry["tally"])
        for outcome in entry["tallyResults"]:
            if "elected" in outcome:
                elected.setdefault(outcome["elected"], entry["round"])
            else:
                eliminated.setdefault(outcome["eliminated"], entry["round"])
    return {title: (votes[title], elected.get(title), eliminated.get(title)) for title in votes}


def _head_to_head_wins(pairwise: dict[str, dict[str, str]]) -> dict[str, int]:
    return {a: sum(Decimal(votes) > Decimal(pairwise[b][a]) for b, votes in row.items())
            for a, row in pairwise.items()}


def results_rows(poll: Poll, results: dict) -> Iterator[list[str]]:
    """The leaderboard of ``results`` (``poll_results(poll)``) as spreadsheet rows.

    A header, then one row per place: place, scene, drama, couple, episode,
    whether it won, first choices, then what the method decides by (instant
    runoff and STV: final-round votes and the round it was elected or
    eliminated in; Schulze and ranked pairs: head-to-head wins; Borda and
    plurality: the score), then the method and the ballots counted, the same
    on every row so that the table sorts and filters without losing them.
    Numbers are plain digits; text cells are made spreadsheet-safe.
    """
    by_id = {c.id: c for c in poll.candidates}
    winners = set(results["winners"])
    method = results["method"]
    header = ["Place", "Scene", "Drama", "Couple", "Episode", "Winner", "First choices"]
    if method in ROUND_METHODS:
        header += ["Final-round votes", "Elected in round", "Eliminated in round"]
        rounds = _round_columns(results["rounds"])
    elif "scores" in results:
        header.append("Score")
    else:
        header.append("Head-to-head wins")
        wins = _head_to_head_wins(results.get("pairwise") or {})
    yield header + ["Counted by", "Ballots counted"]
    for entry in results["leaderboard"]:
        scene, title = by_id[entry["id"]], entry["title"]
        row = [str(entry["place"]), title, scene.drama, scene.couple, scene.episode,
               "yes" if title in winners else "", str(entry["first_choices"])]
        if method in ROUND_METHODS:
            votes, elected, eliminated = rounds.get(title, ("0", None, None))
            row += [votes, str(elected or ""), str(eliminated or "")]
        elif "scores" in results:
            row.append(str(entry["score"] or 0))
        else:
            row.append(str(wins.get(title, 0)))
        yield [spreadsheet_safe(cell) for cell in row] + [results["method_name"], str(results["total_ballots"])]


def results_csv(poll: Poll, results: dict) -> str:
    """``results_rows`` as CSV text for Excel and other spreadsheets: it starts with
    a UTF-8 byte order mark, without which Excel reads Korean titles as mojibake."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    csv.writer(buffer, lineterminator="\r\n").writerows(results_rows(poll, results))
    return buffer.getvalue()


# --- import ------------------------------------------------------------------

class ImportRejected(Exception):
    """Rows that cannot be imported; nothing was written."""

    def __init__(self, rejected: list[tuple[int, str]], rows: int):
        self.rejected = rejected
        self.rows = rows
        super().__init__(
            f"{len(rejected)} of {rows} rows rejected; nothing was imported"
        )


@dataclass
class _Checked:
    """A file read against a poll: distinct rankings (as stored) and, in file
    order, which ranking each accepted row holds and how many ballots."""

    rankings: list[str] = field(default_factory=list)
    row_ranking: array = field(default_factory=lambda: array("L"))
    row_count: array = field(default_factory=lambda: array("Q"))
    rejected: list[tuple[int, str]] = field(default_factory=list)
    rows: int = 0


def _ranking_checker(poll: Poll):
    """A function from a row's cells to ``(ranking string, None)`` or ``(None, why)``."""
    ids: dict[str, int | None] = {}
    for candidate in poll.candidates:
        title = candidate.title.strip()
        # Two titles equal once trimmed cannot be told apart in a file.
        ids[title] = None if title in ids else candidate.id
    limit = poll.rank_limit

    def check(cells: tuple[str, ...]) -> tuple[str | None, str | None]:
        marked = [cell for cell in cells if cell]  # empty cells close up
        if not marked:
            return None, "no ranks (a blank ballot)"
        chosen: list[int] = []
        for rank, cell in enumerate(marked, start=1):
            if cell == OVERVOTE:
                return None, f"an overvote at rank {rank} (a ballot ranks one scene per place)"
            if cell not in ids:
                return None, f"unknown candidate {cell!r}"
            if ids[cell] is None:
                return None, f"{cell!r} matches more than one candidate"
            if ids[cell] in chosen:
                return None, f"{cell!r} is ranked more than once"
            chosen.append(ids[cell])
        if len(chosen) > limit:
            return None, f"{len(chosen)} ranks, but this poll allows at most {limit}"
        return RANKING_SEPARATOR.join(map(str, chosen)), None

    return check


def check_ballots_file(poll: Poll, source: str | os.PathLike | IO[str], *,
                       max_ballots: int = MAX_IMPORT_BALLOTS) -> _Checked:
    """Read and check every row of ``source`` against ``poll``, writing nothing;
    a row taking the total past ``max_ballots`` is rejected.

    Raises ValueError (naming the file and line) for a file that is not a
    counting CSV, OSError for one that cannot be read.
    """
    check = _ranking_checker(poll)
    # Each distinct row is checked once: (position in rankings, None) or (None, why).
    verdicts: dict[tuple[str, ...], tuple[int | None, str | None]] = {}
    positions: dict[str, int] = {}
    checked = _Checked()
    total = 0
    for line, cells, count in iter_ballot_rows(source):
        checked.rows += 1
        verdict = verdicts.get(cells)
        if verdict is None:
            ranking, why = check(cells)
            if ranking is None:
                verdict = (None, why)
            else:
                position = positions.setdefault(ranking, len(checked.rankings))
                if position == len(checked.rankings):
                    checked.rankings.append(ranking)
                verdict = (position, None)
            verdicts[cells] = verdict
        position, why = verdict
        if why is None and total + count > max_ballots:
            why = f"a count of {count:,} takes the import past {max_ballots:,} ballots"
        if why is not None:
            checked.rejected.append((line, why))
        elif count:
            total += count
            checked.row_ranking.append(position)
            checked.row_count.append(count)
    return checked


def import_ballots(poll: Poll, source: str | os.PathLike | IO[str], *, batch_size: int = IMPORT_BATCH,
                   max_ballots: int = MAX_IMPORT_BALLOTS) -> int:
    """Store the ballots in ``source`` for ``poll``; return how many (at most ``max_ballots``).

    All or nothing: every row is checked first, and if any is rejected
    ImportRejected lists them (line, reason) and nothing is written; the
    ballots are then inserted in one transaction.  A row with count N is N
    ballots.  Each gets a voter hash no browser can have (an HMAC of
    ``import:<uuid4>:<n>``) and a random receipt.
    """
    checked = check_ballots_file(poll, source, max_ballots=max_ballots)
    if checked.rejected:
        raise ImportRejected(checked.rejected, checked.rows)
    run = f"import:{uuid.uuid4()}:"
    poll_id, rankings = poll.id, checked.rankings
    connection = db.session.connection()
    insert_many, stamp = _bulk_inserter(connection, utcnow())
    token = secrets.token_urlsafe
    number = 0
    batch: list[tuple] = []
    try:
        with _big_sqlite_cache(connection):
            for position, count in zip(checked.row_ranking, checked.row_count):
                ranking = rankings[position]
                for _ in range(count):
                    number += 1
                    batch.append((poll_id, voter_hash(run + str(number)), ranking, token(12), stamp))
                    if len(batch) >= batch_size:
                        insert_many(batch)
                        batch = []
            if batch:
                insert_many(batch)
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    if number:
        ballots_changed(poll.id)  # cached results are stale now
    return number


_COLUMNS = ("poll_id", "voter_hash", "ranking", "receipt", "created_at")


def _bulk_inserter(connection: Connection, stamp: datetime) -> tuple[Callable[[list[tuple]], None], Any]:
    """``(insert_many, stamp_value)``: ``insert_many(rows)`` inserts ballot rows,
    tuples in _COLUMNS order whose created_at is ``stamp_value``, with one
    executemany.

    The INSERT is compiled once and, for drivers taking positional parameters
    (SQLite), run straight through the driver's executemany with the timestamp
    converted for the driver once rather than per row: a third faster than a
    Core ``insert()`` with a dict per row.  Other drivers get the Core insert.
    """
    table = Ballot.__table__
    dialect = connection.dialect
    compiled = table.insert().compile(dialect=dialect, column_keys=list(_COLUMNS))
    if compiled.positiontup != list(_COLUMNS):
        statement = table.insert()
        return (lambda rows: connection.execute(statement, [dict(zip(_COLUMNS, row)) for row in rows])), stamp
    sql = str(compiled)
    process = table.c.created_at.type.dialect_impl(dialect).bind_processor(dialect)
    return (lambda rows: connection.exec_driver_sql(sql, rows)), (process(stamp) if process else stamp)


@contextmanager
def _big_sqlite_cache(connection: Connection) -> Iterator[None]:
    """On SQLite, a page cache big enough for the ballot indexes while importing.

    The voter-hash and receipt indexes take random keys; with SQLite's default
    2 MB cache a million inserts spend most of their time re-reading pages.
    """
    if connection.dialect.name != "sqlite":
        yield
        return
    previous = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    connection.exec_driver_sql(f"PRAGMA cache_size={-SQLITE_IMPORT_CACHE_KIB}")
    try:
        yield
    finally:
        connection.exec_driver_sql(f"PRAGMA cache_size={int(previous)}")


def find_poll(slug: str) -> Poll | None:
    return db.session.scalar(select(Poll).where(Poll.slug == slug))
