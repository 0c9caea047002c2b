"""export-ballots / import-ballots: the counting CSV format in and out of a poll.

The contract: `python -m polls.tally` on an export gives the results page's
winners, ranking and rounds; an import is all or nothing, with rejected rows
named by line.
"""
import csv
import io
import json
import subprocess
import sys

import pytest
from sqlalchemy import func, insert, select

from polls.extensions import db
from polls.models import RANKING_SEPARATOR, Ballot, Poll
from polls.results import poll_results, poll_rules
from polls.tally import Rules
from polls.tally.ballots import iter_ballot_rows, read_ballots_csv
from polls.tally.cli import main as tally_main
from polls.transfer import export_ballots_csv, export_rows, import_ballots, tally_command

AWKWARD_TITLES = (
    'Kiss, "the"\nfirst one',
    "Rain kiss — 비 오는 날 💋",
    "Carriage\rreturn",  # quoted only with \r in the line terminator
    "Plain",
)

# 4 candidates, no ties anywhere (hand count in test_export_counts_to_the_results):
# round 1 A10 B7 C4 D3 -> D out (2 to C, 1 to B); round 2 A10 B8 C6 -> C out
# (4 to B, 2 exhausted); round 3 B12 A10 of 22 -> B elected.
NO_TIES = [((0,), 10), ((1, 2), 7), ((2, 1), 4), ((3, 2), 2), ((3, 1, 0), 1)]
# Round 1 leaves C and D tied for last with no earlier round to look at: a draw.
WITH_TIES = [((0,), 3), ((1,), 3), ((2, 0), 2), ((3, 1), 2)]


def add_ballots(app, poll, rankings):
    """Store ballots directly: `rankings` is [(candidate indexes best first, count)]."""
    rows, n = [], 0
    for ranking, count in rankings:
        for _ in range(count):
            n += 1
            rows.append({"poll_id": poll["id"], "voter_hash": f"{poll['id']}-{n:060d}",
                         "ranking": RANKING_SEPARATOR.join(str(poll["ids"][i]) for i in ranking),
                         "receipt": f"p{poll['id']}-{n}"})
    with app.app_context():
        db.session.execute(insert(Ballot), rows)
        db.session.commit()


def stored(app, poll_id):
    """(rankings as stored, voter hashes, receipts) of a poll's ballots."""
    with app.app_context():
        rows = db.session.execute(
            select(Ballot.ranking, Ballot.voter_hash, Ballot.receipt).where(Ballot.poll_id == poll_id)
        ).all()
    return [r.ranking for r in rows], [r.voter_hash for r in rows], [r.receipt for r in rows]


def ballot_count(app, poll_id=None):
    with app.app_context():
        query = select(func.count()).select_from(Ballot)
        if poll_id is not None:
            query = query.where(Ballot.poll_id == poll_id)
        return db.session.scalar(query)


def export(runner, slug="test-poll") -> str:
    result = runner.invoke(args=["polls", "export-ballots", slug])
    assert result.exit_code == 0, result.output
    return result.stdout_bytes.decode("utf-8")  # .stdout would turn \r\n into \n


def tally_json(path, capsys, *options) -> dict:
    capsys.readouterr()
    assert tally_main([str(path), "--json", *options]) == 0, capsys.readouterr().err
    return json.loads(capsys.readouterr().out)


def assert_same_count(report: dict, results: dict) -> None:
    assert report["winners"] == results["winners"]
    assert report["ranking"] == results["ranking"]
    assert report.get("results", []) == results["rounds"]
    assert report["summary"] == results["summary"]
    assert report.get("tieBreaks", []) == results["tie_breaks"]


def write(tmp_path, text: str, name="ballots.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- export --------------------------------------------------------------------

def test_export_format(app, runner, make_poll):
    poll = make_poll(titles=AWKWARD_TITLES)
    add_ballots(app, poll, [((0, 1, 2), 3), ((1,), 5), ((3, 0), 1), ((0, 1, 2), 2)])
    text = export(runner)
    rows = list(csv.reader(io.StringIO(text)))
    # N = the longest ballot; one 0 row per candidate, in poll order, before the ballots.
    assert rows[0] == ["count", "rank1", "rank2", "rank3"]
    assert rows[1:5] == [["0", title, "", ""] for title in AWKWARD_TITLES]
    # One row per distinct ranking, counted by the database, most cast first
    # (equal counts in poll order of their choices).
    assert rows[5:] == [
        ["5", AWKWARD_TITLES[0], AWKWARD_TITLES[1], AWKWARD_TITLES[2]],
        ["5", AWKWARD_TITLES[1], "", ""],
        ["1", AWKWARD_TITLES[3], AWKWARD_TITLES[0], ""],
    ]
    # Nothing that could tell a voter: no hashes, receipts or times.
    assert "p1-" not in text and "voter" not in text
    # The same text from the function a download route can use.
    with app.app_context():
        assert export_ballots_csv(db.session.get(Poll, poll["id"])) == text


def test_export_reads_back_with_every_candidate_in_poll_order(app, runner, make_poll, tmp_path):
    poll = make_poll(titles=("Zed", "Alpha", "Never ranked", "Mid"))
    add_ballots(app, poll, [((3, 1), 2), ((0,), 1)])
    profile, candidates = read_ballots_csv(write(tmp_path, export(runner)))
    assert candidates == ["Zed", "Alpha", "Never ranked", "Mid"]
    assert {ballot: n for ballot, n in profile.items() if n} == {("Mid", "Alpha"): 2, ("Zed",): 1}


def test_export_of_a_poll_without_ballots(runner, make_poll):
    make_poll(titles=("A", "B"))
    assert export(runner) == "count,rank1\r\n0,A\r\n0,B\r\n"


def test_export_rows_is_lazy_and_starts_with_the_header(app, make_poll):
    poll = make_poll()
    with app.app_context():
        rows = export_rows(db.session.get(Poll, poll["id"]))
        assert next(rows) == ["count", "rank1"]


def test_export_unknown_slug_is_a_clean_error(runner):
    result = runner.invoke(args=["polls", "export-ballots", "nope"])
    assert result.exit_code != 0
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == ["Error: no poll with slug 'nope'"]
    assert "Traceback" not in result.output


# --- the round trip: export, count with the CLI, compare with the results page --

def test_export_counts_to_the_results(app, runner, client, make_poll, tmp_path, capsys):
    poll = make_poll(titles=("A", "B", "C", "D"))
    add_ballots(app, poll, NO_TIES)
    path = write(tmp_path, export(runner))
    report = tally_json(path, capsys)
    with app.app_context():
        results = poll_results(db.session.get(Poll, poll["id"]))
    assert report["winners"] == ["B"]
    assert [round_["tally"] for round_ in report["results"]] == [
        {"A": "10", "B": "7", "C": "4", "D": "3"},
        {"A": "10", "B": "8", "C": "6"},
        {"B": "12", "A": "10"},
    ]
    assert_same_count(report, results)
    api = client.get("/api/v1/polls/test-poll/results").get_json()
    assert (api["winners"], api["ranking"], api["rounds"]) == (
        report["winners"], report["ranking"], report["results"])
    # And the real command line, start-up and all.
    cli = subprocess.run([sys.executable, "-m", "polls.tally", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    assert json.loads(cli.stdout) == report


def test_round_trip_with_awkward_titles(app, runner, make_poll, tmp_path, capsys):
    poll = make_poll(titles=AWKWARD_TITLES)
    add_ballots(app, poll, NO_TIES)
    report = tally_json(write(tmp_path, export(runner)), capsys)
    with app.app_context():
        assert_same_count(report, poll_results(db.session.get(Poll, poll["id"])))
    assert report["winners"] == [AWKWARD_TITLES[1]]


def test_round_trip_with_a_tie_break(app, runner, make_poll, tmp_path, capsys):
    poll = make_poll(titles=("A", "B", "C", "D"))
    add_ballots(app, poll, WITH_TIES)
    with app.app_context():
        rules = poll_rules(db.session.get(Poll, poll["id"]))
    assert (rules.tiebreakMode, rules.randomSeed) == (Rules().tiebreakMode, Rules().randomSeed)
    report = tally_json(write(tmp_path, export(runner)), capsys)
    assert report["tieBreaks"], "the data should need a tie-break"
    with app.app_context():
        assert_same_count(report, poll_results(db.session.get(Poll, poll["id"])))


@pytest.mark.parametrize("method, seats", [
    ("stv", 2), ("schulze", 1), ("ranked-pairs", 1), ("borda", 1), ("plurality", 1),
])
def test_round_trip_for_other_methods(app, runner, make_poll, tmp_path, capsys, method, seats):
    poll = make_poll(titles=("A", "B", "C", "D"))
    add_ballots(app, poll, NO_TIES)
    with app.app_context():
        row = db.session.get(Poll, poll["id"])
        row.method, row.seats = method, seats
        db.session.commit()
        results = poll_results(row)
        options, config = tally_command(row)
    assert (results["method"], results["seats"]) == (method, seats)
    assert config is None and options == ["--method", method] + (["--seats", str(seats)] if seats != 1 else [])
    exported = runner.invoke(args=["polls", "export-ballots", "test-poll"])
    assert exported.exit_code == 0
    assert " ".join(options) in exported.stderr  # the hint
    report = tally_json(write(tmp_path, exported.stdout), capsys, *options)
    assert_same_count(report, results)
    if "pairwise" in report:
        assert report["pairwise"] == results["pairwise"]


@pytest.mark.parametrize("tiebreak", ["useCandidateOrder", "random", "stopCountingAndAsk"])
def test_round_trip_with_the_hosts_tie_rule(app, runner, make_poll, tmp_path, capsys, tiebreak):
    poll = make_poll(titles=("D", "C", "B", "A"))  # candidate order is not name order
    add_ballots(app, poll, WITH_TIES)
    with app.app_context():
        row = db.session.get(Poll, poll["id"])
        row.method, row.rules = "schulze", json.dumps({"tiebreakMode": tiebreak})
        db.session.commit()
        results = poll_results(row)
    rules_file = tmp_path / "rules.json"
    without = runner.invoke(args=["polls", "export-ballots", "test-poll"])
    assert "--rules RULES.json (export again with --rules-out RULES.json" in without.stderr
    exported = runner.invoke(args=["polls", "export-ballots", "test-poll", "--rules-out", str(rules_file)])
    assert exported.exit_code == 0, exported.output
    assert f"python -m polls.tally FILE --method schulze --rules {rules_file}" in exported.stderr
    config = json.loads(rules_file.read_text(encoding="utf-8"))
    assert config["rules"] == {"tiebreakMode": tiebreak, "noWinnerWithoutVotes": True, "randomSeed": 0}
    assert [c["name"] for c in config["candidates"]] == ["D", "C", "B", "A"]
    report = tally_json(write(tmp_path, exported.stdout), capsys, "--method", "schulze", "--rules", str(rules_file))
    assert report["winners"] == results["winners"] and report["ranking"] == results["ranking"]
    assert report["tieBreaks"] == results["tie_breaks"] and report["pairwise"] == results["pairwise"]


def test_round_trip_of_a_percentage_threshold_poll(app, runner, make_poll, tmp_path, capsys):
    # seats 0: the count decides how many win (everyone over 20% of the votes).
    poll = make_poll(titles=("A", "B", "C", "D"))
    add_ballots(app, poll, NO_TIES)
    with app.app_context():
        row = db.session.get(Poll, poll["id"])
        row.method, row.seats = "stv", 0
        row.rules = json.dumps({"winnerElectionMode": "bottomsUpUsingPercentageThreshold",
                                "multiSeatBottomsUpPercentageThreshold": 20})
        db.session.commit()
        results = poll_results(row)
    assert results["method_name"] == "single transferable vote, everyone over 20% of the votes wins"
    rules_file = tmp_path / "rules.json"
    exported = runner.invoke(args=["polls", "export-ballots", "test-poll", "--rules-out", str(rules_file)])
    assert exported.exit_code == 0, exported.output
    assert f"--method stv --seats 0 --rules {rules_file}" in exported.stderr
    report = tally_json(write(tmp_path, exported.stdout_bytes.decode()), capsys,
                        "--method", "stv", "--seats", "0", "--rules", str(rules_file))
    assert_same_count(report, results)


# --- import ----------------------------------------------------------------------

def test_import_happy_path(app, runner, make_poll, tmp_path):
    poll = make_poll(titles=("Alpha", "Bravo", "Charlie"), status="closed")
    path = write(tmp_path, (
        "count,rank1,rank2,rank3\n"
        "3,Alpha,Bravo,\n"
        "2,  Bravo ,,Alpha\n"      # trimmed; the skipped rank closes up
        "\n"                       # an empty line is not a row
        "0,Charlie,,\n"            # a count of 0 adds nothing
        "1,,Charlie,\n"
    ))
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 6 ballots into 'test-poll'"
    a, b, c = (str(i) for i in poll["ids"])
    rankings, hashes, receipts = stored(app, poll["id"])
    assert sorted(rankings) == sorted([f"{a},{b}"] * 3 + [f"{b},{a}"] * 2 + [c])
    assert len(set(hashes)) == 6 and len(set(receipts)) == 6
    assert all(len(h) == 64 for h in hashes)


def test_imported_voters_cannot_collide_with_each_other_or_with_browsers(app, runner, make_poll, tmp_path):
    from polls.voters import voter_hash
    poll = make_poll()
    path = write(tmp_path, "count,rank1\n50,Alpha\n")
    for _ in range(2):  # two imports of the same file: still all distinct
        assert runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)]).exit_code == 0
    _, hashes, receipts = stored(app, poll["id"])
    assert len(set(hashes)) == len(set(receipts)) == 100
    with app.app_context():
        # They are HMACs of "import:<uuid>:<n>", never of a browser's token.
        assert voter_hash("import:x:1") != voter_hash("x")


def test_import_without_a_count_column_is_one_ballot_per_row(app, runner, make_poll, tmp_path):
    poll = make_poll()
    path = write(tmp_path, "Choice 1,Choice 2\nAlpha,Bravo\nAlpha,Bravo\nCharlie,\n")
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)])
    assert result.exit_code == 0, result.output
    assert ballot_count(app, poll["id"]) == 3


def test_rejected_rows_are_named_by_line_and_nothing_is_written(app, runner, make_poll, tmp_path):
    poll = make_poll(titles=("Alpha", "Bravo", "Charlie", "Two\nlines"), max_ranks=2)
    add_ballots(app, poll, [((0,), 4)])
    path = write(tmp_path, (
        "count,rank1,rank2,rank3\n"
        "5,Alpha,Bravo,\n"           # 2: fine
        "1,Alpha,Zulu,\n"            # 3: unknown title
        "1,alpha,,\n"                # 4: titles match exactly (case too)
        "2,Bravo,overvote,\n"        # 5: an overvote
        "1,Bravo,,Bravo\n"           # 6: a repeated candidate
        "3,,,\n"                     # 7: no ranks
        '1,"Two\nlines",Alpha,\n'    # 8-9: fine (a quoted line break)
        "1,Alpha,Bravo,Charlie\n"    # 10: more ranks than the poll allows
        "1,Charlie,Alpha,\n"         # 11: fine
    ))
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)])
    assert result.exit_code != 0
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"{path} line 3: unknown candidate 'Zulu'",
        f"{path} line 4: unknown candidate 'alpha'",
        f"{path} line 5: an overvote at rank 2 (a ballot ranks one scene per place)",
        f"{path} line 6: 'Bravo' is ranked more than once",
        f"{path} line 7: no ranks (a blank ballot)",
        f"{path} line 10: 3 ranks, but this poll allows at most 2",
        "Error: 6 of 9 rows rejected; nothing was imported",
    ]
    assert "Traceback" not in result.output
    assert ballot_count(app, poll["id"]) == 4


def test_huge_counts_are_rejected_by_line(app, runner, make_poll, tmp_path):
    poll = make_poll()
    path = write(tmp_path, "count,rank1\n9999999,Alpha\n2,Bravo\n18446744073709551616,Alpha\n")
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)])
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.stderr.strip().splitlines() == [
        f"{path} line 3: a count of 2 takes the import past 10,000,000 ballots",
        f"{path} line 4: a count of 18,446,744,073,709,551,616 takes the import past 10,000,000 ballots",
        "Error: 2 of 3 rows rejected; nothing was imported",
    ]
    assert ballot_count(app, poll["id"]) == 0


def test_long_lists_of_rejections_are_cut_short(app, runner, make_poll, tmp_path):
    make_poll()
    path = write(tmp_path, "rank1\n" + "Nobody\n" * 80)
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)])
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 52
    assert lines[-2:] == ["... and 30 more rejected rows", "Error: 80 of 80 rows rejected; nothing was imported"]


def test_import_unknown_slug_is_a_clean_error(app, runner, tmp_path):
    path = write(tmp_path, "rank1\nAlpha\n")
    result = runner.invoke(args=["polls", "import-ballots", "nope", str(path)])
    assert result.exit_code != 0
    assert result.stderr.strip() == "Error: no poll with slug 'nope'"
    assert ballot_count(app) == 0


@pytest.mark.parametrize("name, content, message", [
    ("missing.csv", None, "No such file or directory"),
    ("folder", "dir", "Is a directory"),
    ("image.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe\xfd", "not a UTF-8 text file"),
    ("notes.txt", "Dear diary,\nno ballots here\n", "no rank columns"),
    ("empty.csv", "", "the file is empty"),
    ("counts.csv", "count,rank1\nmany,Alpha\n", "line 2: count must be a whole number"),
    ("wide.csv", "rank1\nAlpha,Bravo\n", "line 2: 2 cells, but the header has 1"),
])
def test_bad_files_are_one_line_errors(app, runner, make_poll, tmp_path, name, content, message):
    make_poll()
    path = tmp_path / name
    if content == "dir":
        path.mkdir()
    elif isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)])
    assert result.exit_code != 0
    assert "Traceback" not in result.output
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1 and errors[0].startswith("Error: ") and message in errors[0], errors
    assert ballot_count(app) == 0


def test_import_from_standard_input(app, runner, make_poll):
    poll = make_poll()
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", "-"],
                           input="\ufeffcount,rank1\n2,Bravo\n1,Nobody\n".encode())
    assert result.exit_code != 0
    assert result.stderr.splitlines()[0] == "<stdin> line 3: unknown candidate 'Nobody'"
    result = runner.invoke(args=["polls", "import-ballots", "test-poll", "-"],
                           input="\ufeffcount,rank1\n2,Bravo\n".encode())
    assert result.exit_code == 0, result.output
    assert ballot_count(app, poll["id"]) == 2


def test_import_as_a_function(app, make_poll):
    poll = make_poll()
    with app.app_context():
        row = db.session.get(Poll, poll["id"])
        assert import_ballots(row, io.StringIO("count,rank1,rank2\n7,Charlie,Alpha\n")) == 7
    assert ballot_count(app, poll["id"]) == 7


def test_import_leaves_other_polls_alone_and_refreshes_cached_results(app, runner, make_poll, tmp_path):
    poll = make_poll()
    other = make_poll(slug="other-poll")
    add_ballots(app, other, [((0,), 2)])
    with app.app_context():
        assert poll_results(db.session.get(Poll, poll["id"]))["total_ballots"] == 0  # now cached
    path = write(tmp_path, "count,rank1\n3,Bravo\n")
    assert runner.invoke(args=["polls", "import-ballots", "test-poll", str(path)]).exit_code == 0
    with app.app_context():
        results = poll_results(db.session.get(Poll, poll["id"]))
    assert (results["total_ballots"], results["winners"]) == (3, ["Bravo"])
    assert ballot_count(app, other["id"]) == 2


def test_import_then_export_gives_the_same_file_and_count(app, runner, make_poll, tmp_path, capsys):
    source = make_poll(titles=AWKWARD_TITLES, slug="source-poll")
    add_ballots(app, source, NO_TIES + [((2, 3, 0, 1), 2)])
    first = export(runner, "source-poll")
    copy = make_poll(titles=AWKWARD_TITLES, slug="copy-poll")
    path = write(tmp_path, first)
    result = runner.invoke(args=["polls", "import-ballots", "copy-poll", str(path)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip() == "imported 26 ballots into 'copy-poll'"
    assert export(runner, "copy-poll") == first
    with app.app_context():
        copied = poll_results(db.session.get(Poll, copy["id"]))
        original = poll_results(db.session.get(Poll, source["id"]))
    for key in ("winners", "ranking", "rounds", "summary"):
        assert copied[key] == original[key]
    assert_same_count(tally_json(path, capsys), copied)


# --- the row reader the import uses ------------------------------------------------

def test_iter_ballot_rows_gives_start_lines_cells_and_counts():
    text = 'count,rank1,rank2\n2, A ,B\n\n1,"multi\nline",\n0,,\n'
    assert list(iter_ballot_rows(io.StringIO(text))) == [
        (2, ("A", "B"), 2),
        (4, ("multi\nline",), 1),
        (6, (), 0),
    ]
    profile, candidates = read_ballots_csv(io.StringIO(text))
    assert profile == {("A", "B"): 2, ("multi\nline",): 1, (): 0}
    assert candidates == ["A", "B", "multi\nline"]
