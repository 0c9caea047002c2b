"""The desk's exports and imports (issue 7).

The contract: the ballots downloaded from the desk, counted by ``python -m
polls.tally`` in a subprocess with the command line the desk shows, give the
public results' winners, ranking and rounds, for every counting method, and
the desk's JSON report is exactly what that command prints; the results
spreadsheet follows the leaderboard and cannot smuggle in a formula; an import
is all or nothing and says which rows it refused.
"""
import csv
import html
import io
import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import OTHER, OWNER, csrf_token_from, snapshot
from sqlalchemy import func, insert, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

import polls
from polls.extensions import db
from polls.models import RANKING_SEPARATOR, Ballot, Candidate, Host, Poll, Quarantine
from polls.results import METHOD_NAMES
from polls.tally.cli import main as tally_main

SCENES = [  # title, drama, couple, episode
    ("Wall kiss", "Healer", "Jung-hoo & Young-shin", "8"),
    ("Rain kiss", "Kill Me, Heal Me", "Do-hyun & Ri-jin", "10"),
    ("Rooftop kiss", "Pinocchio", "Dal-po & In-ha", "12"),
    ("Piggyback kiss", "It's Okay, That's Love", "Jae-yeol & Hae-soo", "4"),
    ("Bus stop kiss", "My Love from the Star", "Min-joon & Song-yi", "21"),
    ("Hospital kiss", "Fated to Love You", "Gun & Mi-young", "15"),
]
# 40 ballots of 1 to 6 ranks: round 1 leaves three scenes tied for last (5 first choices each).
BALLOTS = [
    ((0, 1, 2), 6), ((1, 0), 5), ((2, 3, 1), 4), ((3, 2), 4), ((4, 5, 0), 3), ((5, 4), 3), ((0,), 2),
    ((1,), 2), ((2, 0, 1, 3, 4, 5), 2), ((3,), 1), ((4, 2), 2), ((5, 1, 3), 2), ((0, 5), 2), ((1, 3, 5, 2), 2),
]
TOTAL = sum(count for _, count in BALLOTS)

# Every method the desk offers (STV for two and three seats), plus host tie rules that need a rules file.
CASES = [(method, seats, {}) for method in METHOD_NAMES for seats in ((2, 3) if method == "stv" else (1,))] + [
    ("irv", 1, {"tiebreakMode": "useCandidateOrder"}),
    ("stv", 2, {"tiebreakMode": "random"}),
    ("schulze", 1, {"tiebreakMode": "stopCountingAndAsk"}),
]
PROJECT = Path(polls.__file__).resolve().parent.parent


def host_id(app, email=OWNER) -> int:
    with app.app_context():
        return db.session.scalar(select(Host.id).where(Host.email == email))


def make_desk_poll(app, slug="kisses", scenes=SCENES, method="irv", seats=1, rules=None, status="open",
                   parent=None, email=OWNER) -> dict:
    """A poll (or, with ``parent``, a category of it) of the host ``email``."""
    with app.app_context():
        poll = Poll(host_id=host_id(app, email), slug=slug, title=f"Best kiss ({slug})", year=2014, status=status,
                    method=method, seats=seats, rules=json.dumps(rules or {}), parent_id=parent)
        poll.candidates = [Candidate(title=t, drama=d, couple=c, episode=e, position=i)
                           for i, (t, d, c, e) in enumerate(scenes)]
        db.session.add(poll)
        db.session.commit()
        return {"id": poll.id, "slug": slug, "ids": [c.id for c in poll.candidates]}


def add_ballots(app, poll, rankings=BALLOTS, quarantine_id=None, prefix="v"):
    rows, n = [], 0
    for ranking, count in rankings:
        for _ in range(count):
            n += 1
            rows.append({"poll_id": poll["id"], "voter_hash": f"{prefix}{poll['id']}-{n}",
                         "ranking": RANKING_SEPARATOR.join(str(poll["ids"][i]) for i in ranking),
                         "receipt": f"{prefix}{poll['id']}-{n}", "quarantine_id": quarantine_id})
    with app.app_context():
        db.session.execute(insert(Ballot), rows)
        db.session.commit()


def ballots_in(app, poll) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll["id"]))


def public_results(app, slug) -> dict:
    response = app.test_client().get(f"/api/v1/polls/{slug}/results")
    assert response.status_code == 200
    return response.get_json()


def shown_command(client, slug) -> list[str]:
    """The re-count command line the exports page shows, as argv."""
    page = client.get(f"/manage/polls/{slug}/exports")
    assert page.status_code == 200
    found = re.findall(r'<pre class="command"><code>(.*?)</code></pre>', page.get_data(as_text=True), re.S)
    assert len(found) == 1
    return shlex.split(html.unescape(found[0]))


def download(client, url, filename, mimetype):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == mimetype
    assert response.headers["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.headers["Cache-Control"] == "private, no-store"
    return response


def recount(client, slug, tmp_path) -> tuple[dict, list[str]]:
    """Download the ballots (and rules) through the desk and count them as the page says, in a subprocess."""
    argv = shown_command(client, slug)
    assert argv[:4] == ["python", "-m", "polls.tally", f"{slug}-ballots.csv"]
    ballots = download(client, f"/manage/polls/{slug}/ballots.csv", f"{slug}-ballots.csv", "text/csv")
    assert ballots.is_streamed
    (tmp_path / argv[3]).write_bytes(ballots.data)
    if "--rules" in argv:
        name = argv[argv.index("--rules") + 1]
        assert name == f"{slug}-rules.json"
        rules = download(client, f"/manage/polls/{slug}/rules.json", name, "application/json")
        (tmp_path / name).write_bytes(rules.data)
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    done = subprocess.run([sys.executable, *argv[1:], "--json"], cwd=tmp_path, env=env,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout), argv


def assert_round_trip(client, app, slug, tmp_path) -> tuple[dict, list[str]]:
    report, argv = recount(client, slug, tmp_path)
    results = public_results(app, slug)
    assert report["winners"] == results["winners"]
    assert report["ranking"] == results["ranking"]
    assert report.get("results", []) == results["rounds"]
    assert report["summary"] == results["summary"]
    assert report["tieBreaks"] == results["tie_breaks"]
    # The desk's JSON report is the engine's report itself.
    exported = download(client, f"/manage/polls/{slug}/results.json", f"{slug}-results.json", "application/json")
    assert exported.get_json() == report
    return report, argv


# --- the round trip ------------------------------------------------------------------

def test_the_cases_cover_every_counting_method():
    assert {method for method, _, _ in CASES} == set(METHOD_NAMES)


@pytest.mark.parametrize("method, seats, rules", CASES,
                         ids=[f"{m}-{s}{'-' + r['tiebreakMode'] if r else ''}" for m, s, r in CASES])
def test_exported_ballots_recount_to_the_public_results(app, owner, tmp_path, method, seats, rules):
    add_ballots(app, make_desk_poll(app, method=method, seats=seats, rules=rules))
    report, argv = assert_round_trip(owner, app, "kisses", tmp_path)
    results = public_results(app, "kisses")
    assert (results["method"], results["seats"], results["total_ballots"]) == (method, seats, TOTAL)
    assert len(report["ranking"]) == len(SCENES)
    if method != "irv":
        assert argv[argv.index("--method") + 1] == method
    if seats != 1:
        assert argv[argv.index("--seats") + 1] == str(seats)
    if rules:  # the host's tie rule travels in the rules file
        assert "--rules" in argv
        written = json.loads(owner.get("/manage/polls/kisses/rules.json").data)
        assert written["rules"]["tiebreakMode"] == rules["tiebreakMode"]
        assert [c["name"] for c in written["candidates"]] == [s[0] for s in SCENES]
    else:
        assert "--rules" not in argv
    if "pairwise" in report:
        assert report["pairwise"] == results["pairwise"]
    if rules.get("tiebreakMode") == "stopCountingAndAsk":
        assert report["unresolvedTie"] == results["unresolvedTie"]
    elif method != "borda":
        assert report["tieBreaks"], "the ballots should need a tie-break"



@pytest.mark.parametrize("app", ["postgresql"], indirect=True)
def test_the_round_trip_on_postgresql(app, owner, tmp_path):
    add_ballots(app, make_desk_poll(app, method="stv", seats=2, rules={"tiebreakMode": "useCandidateOrder"}))
    report, argv = assert_round_trip(owner, app, "kisses", tmp_path)
    assert "--rules" in argv and len(report["winners"]) == 2


def test_quarantined_ballots_are_left_out_of_every_export(app, owner, tmp_path):
    poll = make_desk_poll(app)
    add_ballots(app, poll)
    with app.app_context():
        held = Quarantine(poll_id=poll["id"], reason="from one address")
        db.session.add(held)
        db.session.commit()
        held_id = held.id
    add_ballots(app, poll, [((5,), 30)], quarantine_id=held_id, prefix="q")  # would win if counted
    report, _ = assert_round_trip(owner, app, "kisses", tmp_path)
    assert report["summary"]["totalNumBallots"] == str(TOTAL)
    assert report["winners"] != ["Hospital kiss"]
    rows = list(csv.reader(io.StringIO(owner.get("/manage/polls/kisses/ballots.csv").get_data(as_text=True))))
    assert sum(int(row[0]) for row in rows[1:]) == TOTAL
    page = owner.get("/manage/polls/kisses/exports").get_data(as_text=True)
    assert f"{TOTAL} ballots in the count" in page and "30 held out of it" in page


# --- the exports page and its files ----------------------------------------------------

def test_the_exports_page_links_every_file(app, owner):
    make_desk_poll(app, method="schulze", rules={"tiebreakMode": "useCandidateOrder"})
    page = owner.get("/manage/polls/kisses/exports")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    for path in ("results.csv", "results.json", "ballots.csv", "rules.json", "ballots/import"):
        assert f'href="/manage/polls/kisses/{path}"' in text
    assert shown_command(owner, "kisses") == [
        "python", "-m", "polls.tally", "kisses-ballots.csv", "--method", "schulze", "--rules", "kisses-rules.json"]


def test_a_poll_whose_count_needs_no_rules_file_still_has_a_valid_one(app, owner, tmp_path, capsys):
    add_ballots(app, make_desk_poll(app, method="stv", seats=2))
    assert 'href="/manage/polls/kisses/rules.json"' not in owner.get("/manage/polls/kisses/exports").get_data(as_text=True)
    report, argv = recount(owner, "kisses", tmp_path)
    assert "--rules" not in argv
    rules = download(owner, "/manage/polls/kisses/rules.json", "kisses-rules.json", "application/json")
    assert rules.get_json()["rules"] == {"noWinnerWithoutVotes": True, "randomSeed": 0}
    (tmp_path / "rules.json").write_bytes(rules.data)
    capsys.readouterr()
    assert tally_main([str(tmp_path / argv[3]), *argv[4:], "--rules", str(tmp_path / "rules.json"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == report


def test_a_poll_without_scenes_has_no_engine_report_but_no_error(app, owner):
    make_desk_poll(app, scenes=[], status="draft")
    response = owner.get("/manage/polls/kisses/results.json")
    assert response.status_code == 303
    assert "cannot count this poll yet" in owner.get("/manage/polls/kisses/exports").get_data(as_text=True)
    assert owner.get("/manage/polls/kisses/results.csv").status_code == 200
    assert owner.get("/manage/polls/kisses/ballots.csv").get_data(as_text=True) == "count,rank1\r\n"
    assert "add them before importing" in owner.get("/manage/polls/kisses/ballots/import").get_data(as_text=True)


def results_table(client, slug="kisses") -> list[list[str]]:
    response = download(client, f"/manage/polls/{slug}/results.csv", f"{slug}-results.csv", "text/csv")
    assert response.mimetype_params == {"charset": "utf-8"}
    assert response.data.startswith("\ufeff".encode())  # Excel's cue for UTF-8
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


def test_results_csv_follows_the_leaderboard_round_by_round(app, owner):
    add_ballots(app, make_desk_poll(app))
    rows = results_table(owner)
    results = public_results(app, "kisses")
    assert rows[0] == ["Place", "Scene", "Drama", "Couple", "Episode", "Winner", "First choices",
                       "Final-round votes", "Elected in round", "Eliminated in round", "Counted by", "Ballots counted"]
    assert [row[1] for row in rows[1:]] == results["ranking"]
    assert [row[0] for row in rows[1:]] == [str(n) for n in range(1, len(SCENES) + 1)]
    details = {title: [drama, couple, episode] for title, drama, couple, episode in SCENES}
    assert all(row[2:5] == details[row[1]] for row in rows[1:])
    rounds = results["rounds"]
    winner = rows[1]
    assert winner[5] == "yes" and [row[5] for row in rows[2:]] == [""] * (len(SCENES) - 1)
    assert winner[7:10] == [rounds[-1]["tally"][winner[1]], str(len(rounds)), ""]
    eliminated = {outcome["eliminated"]: (entry["round"], entry["tally"])
                  for entry in rounds for outcome in entry["tallyResults"] if "eliminated" in outcome}
    for row in rows[1:]:
        assert row[6] == rounds[0]["tally"][row[1]]
        if row[1] in eliminated:
            round_number, tally = eliminated[row[1]]
            assert row[7:10] == [tally[row[1]], "", str(round_number)]
        assert row[10:] == ["instant runoff", str(TOTAL)]


@pytest.mark.parametrize("method, column", [("borda", "Score"), ("plurality", "Score"),
                                            ("schulze", "Head-to-head wins"), ("ranked-pairs", "Head-to-head wins")])
def test_results_csv_gives_what_each_method_decides_by(app, owner, method, column):
    add_ballots(app, make_desk_poll(app, method=method))
    rows = results_table(owner)
    results = public_results(app, "kisses")
    assert rows[0][7:] == [column, "Counted by", "Ballots counted"]
    assert [row[1] for row in rows[1:]] == results["ranking"]
    if column == "Score":
        assert [row[7] for row in rows[1:]] == [results["scores"][title] for title in results["ranking"]]
    else:
        pairwise = results["pairwise"]
        wins = {a: sum(int(votes) > int(pairwise[b][a]) for b, votes in row.items()) for a, row in pairwise.items()}
        assert [row[7] for row in rows[1:]] == [str(wins[title]) for title in results["ranking"]]


def test_results_csv_cells_cannot_start_a_formula(app, owner):
    scenes = [
        ('=HYPERLINK("http://evil.example","kiss")', "=1+1", "+82 10", "-1"),
        ("@SUM(A1)", "\tTabbed", "\rReturned", "Plain, with a comma"),
        ("Rain kiss — 비 오는 날", "킬미, 힐미", 'Quote "this"', "3"),
    ]
    add_ballots(app, make_desk_poll(app, scenes=scenes), [((0, 1), 3), ((1, 2), 2), ((2,), 1)])
    rows = {row[1]: row for row in results_table(owner)[1:]}
    assert rows["'=HYPERLINK(\"http://evil.example\",\"kiss\")"][2:5] == ["'=1+1", "'+82 10", "'-1"]
    assert rows["'@SUM(A1)"][2:5] == ["'\tTabbed", "'\rReturned", "Plain, with a comma"]
    assert rows["Rain kiss — 비 오는 날"][2:5] == ["킬미, 힐미", 'Quote "this"', "3"]
    # The ballots file keeps the titles as they are: it is read by the counter, which matches them exactly.
    ballots = owner.get("/manage/polls/kisses/ballots.csv").get_data(as_text=True)
    assert '"=HYPERLINK(""http://evil.example"",""kiss"")"' in ballots


# --- categories ----------------------------------------------------------------------

@pytest.fixture
def categories(app, owner):
    parent = make_desk_poll(app, slug="awards", scenes=[])
    first = make_desk_poll(app, slug="awards-first-kiss", scenes=SCENES[:3], parent=parent["id"])
    second = make_desk_poll(app, slug="awards-rain-kiss", scenes=SCENES[3:], parent=parent["id"])
    add_ballots(app, first, [((0, 1), 2), ((2,), 1)])
    return parent, first, second


def test_a_poll_with_categories_lists_each_categorys_files(app, owner, categories, tmp_path):
    page = owner.get("/manage/polls/awards/exports").get_data(as_text=True)
    assert "counted by category" in page
    for slug in ("awards-first-kiss", "awards-rain-kiss"):
        for path in ("results.csv", "results.json", "ballots.csv", "ballots/import"):
            assert f'href="/manage/polls/{slug}/{path}"' in page
    assert 'href="/manage/polls/awards/ballots.csv"' not in page
    assert page.count('<pre class="command">') == 2
    # A category's files are the category's own.
    assert_round_trip(owner, app, "awards-first-kiss", tmp_path)
    assert public_results(app, "awards-first-kiss")["total_ballots"] == 3


def test_a_poll_with_categories_has_no_files_of_its_own(app, owner, categories):
    before = snapshot(app)
    token = csrf_token_from(owner.get("/manage/polls/awards-first-kiss/ballots/import").get_data(as_text=True))
    for method, path in [("GET", "results.csv"), ("GET", "results.json"), ("GET", "ballots.csv"),
                         ("GET", "rules.json"), ("GET", "ballots/import"), ("POST", "ballots/import")]:
        url = f"/manage/polls/awards/{path}"
        response = owner.get(url) if method == "GET" else owner.post(url, data={
            "csrf_token": token, "ballots": (io.BytesIO(b"rank1\nWall kiss\n"), "b.csv")})
        assert response.status_code == 303, (method, path)
        assert response.headers["Location"] == "/manage/polls/awards/exports"
    assert "each category has its own files" in owner.get("/manage/polls/awards/exports").get_data(as_text=True)
    assert snapshot(app) == before


@pytest.mark.parametrize("command", [["export-ballots", "awards"], ["import-ballots", "awards", "-"]])
def test_the_cli_names_the_categories_to_use(app, runner, categories, command):
    before = snapshot(app)
    result = runner.invoke(args=["polls", *command], input=b"rank1\nWall kiss\n")
    assert result.exit_code != 0 and "Traceback" not in result.output
    assert result.stdout == ""
    assert result.stderr.strip().splitlines() == [
        "Error: 'awards' is counted by category; use a category's slug: awards-first-kiss, awards-rain-kiss"]
    assert snapshot(app) == before


# --- import ----------------------------------------------------------------------------

IMPORT_URL = "/manage/polls/kisses/ballots/import"


def post_multipart(client, url, fields: dict):
    """POST a multipart body built in memory (the test client spools big bodies
    to a temporary file that it never closes)."""
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def upload(client, content: bytes | None, filename="fan-meeting.csv", url=IMPORT_URL):
    fields = {"csrf_token": csrf_token_from(client.get("/manage/").get_data(as_text=True))}
    if content is not None:
        fields["ballots"] = FileStorage(io.BytesIO(content), filename=filename, content_type="text/csv")
    return post_multipart(client, url, fields)


def test_the_import_page_explains_the_format_with_the_polls_scenes(app, owner):
    make_desk_poll(app, scenes=[("Kiss, the first", "Healer", "", "1"), *SCENES[1:]])
    page = owner.get(IMPORT_URL)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert 'enctype="multipart/form-data"' in text and 'type="file"' in text
    example = re.search(r'<pre class="command"><code>(.*?)</code></pre>', text, re.S).group(1)
    assert html.unescape(example) == ('count,rank1,rank2,rank3\n12,"Kiss, the first",Rain kiss,Rooftop kiss\n'
                                      '3,Rooftop kiss,Rain kiss,"Kiss, the first"\n1,Rooftop kiss,,\n')
    assert "5 MB" in text


def test_a_good_file_is_imported_and_counted_at_once(app, owner):
    poll = make_desk_poll(app)
    assert public_results(app, "kisses")["total_ballots"] == 0  # counted, and cached, before the import
    content = ("\ufeffcount,rank1,rank2,rank3\r\n"
               "4,Rain kiss,Wall kiss,\r\n"
               "2, Wall kiss ,,Rain kiss\r\n"   # trimmed; the skipped rank closes up
               "1,Hospital kiss,,\r\n").encode()
    response = upload(owner, content)
    assert response.status_code == 303 and response.headers["Location"] == "/manage/polls/kisses/exports"
    assert "Imported 7 ballots." in owner.get(response.headers["Location"]).get_data(as_text=True)
    assert ballots_in(app, poll) == 7
    results = public_results(app, "kisses")
    assert (results["total_ballots"], results["winners"]) == (7, ["Rain kiss"])
    assert "7 ballots in the count" in owner.get("/manage/polls/kisses/exports").get_data(as_text=True)


def test_rejected_rows_are_listed_by_line_and_nothing_is_written(app, owner):
    poll = make_desk_poll(app)
    add_ballots(app, poll, [((0,), 3)])
    before = snapshot(app)
    content = ("count,rank1,rank2\n"
               "5,Wall kiss,Rain kiss\n"        # 2: fine
               "1,Wall kiss,Nobody's kiss\n"    # 3: unknown
               "2,Rain kiss,Rain kiss\n"        # 4: repeated
               "1,,\n"                           # 5: blank
               '1,"<b>bold</b>",\n').encode()    # 6: unknown, shown escaped
    response = upload(owner, content)
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert "Nothing was imported" in text and "4 of 5 rows" in text
    cells = re.findall(r'<tr><td class="num">(\d+)</td><td>(.*?)</td></tr>', text)
    assert [(line, html.unescape(why)) for line, why in cells] == [
        ("3", "unknown candidate \"Nobody's kiss\""),
        ("4", "'Rain kiss' is ranked more than once"),
        ("5", "no ranks (a blank ballot)"),
        ("6", "unknown candidate '<b>bold</b>'"),
    ]
    assert "<b>bold</b>" not in text
    assert snapshot(app) == before


def test_a_long_list_of_rejections_is_cut_short(app, owner):
    make_desk_poll(app)
    before = snapshot(app)
    response = upload(owner, ("rank1\n" + "Wall kiss\n" + "Nobody\n" * 250).encode())
    assert response.status_code == 400
    text = response.get_data(as_text=True)
    assert len(re.findall(r'<tr><td class="num">', text)) == 200
    assert "… and 50 more." in text and "250 of 251 rows" in text
    assert snapshot(app) == before


@pytest.mark.parametrize("filename, content, message", [
    ("picture.png", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "picture.png is not UTF-8 text"),
    ("empty.csv", b"", "empty.csv: the file is empty"),
    ("notes.txt", b"Dear diary,\nno ballots here\n", "notes.txt line 1: no rank columns"),
    ("counts.csv", b"count,rank1\nmany,Wall kiss\n", "counts.csv line 2: count must be a whole number"),
    ("zero.csv", b"count,rank1\n0,Wall kiss\n", "holds no ballots"),
    ("huge.csv", b"count,rank1\n18446744073709551616,Wall kiss\n", "takes the import past 200,000 ballots"),
    ("nul.csv", b"rank1\nWall\x00kiss\n", "unknown candidate"),
    ("", None, "Choose the CSV file to import."),
])
def test_bad_files_get_a_friendly_message(app, owner, filename, content, message):
    make_desk_poll(app)
    before = snapshot(app)
    response = upload(owner, content, filename=filename)
    assert response.status_code == 400
    assert message in html.unescape(response.get_data(as_text=True))
    assert snapshot(app) == before


def test_an_import_without_a_valid_csrf_token_is_refused(app, owner):
    make_desk_poll(app)
    before = snapshot(app)
    for token in ("", "forged"):
        response = owner.post(IMPORT_URL, data={"csrf_token": token, "ballots": (io.BytesIO(b"rank1\nWall kiss\n"), "b.csv")})
        assert response.status_code == 403
        assert "Reload the page" in response.get_data(as_text=True)
    assert snapshot(app) == before


def wide_file(size: int) -> bytes:
    """A valid counting CSV of exactly ``size`` bytes: 400 ballots padded by an ignored column."""
    head, rows = "rank1,note\n", 400
    spare = size - len(head) - rows * len("Wall kiss,\n")
    pad, rest = divmod(spare, rows)
    return (head + "".join(f"Wall kiss,{'x' * (pad + (rest if n == 0 else 0))}\n" for n in range(rows))).encode()


def test_this_route_alone_takes_files_up_to_the_import_limit(app, owner):
    poll = make_desk_poll(app)
    limit = app.config["BALLOT_IMPORT_MAX_BYTES"]
    assert limit == 5 * 1024 * 1024 > app.config["MAX_CONTENT_LENGTH"] * 50
    # A file part is not held to MAX_FORM_MEMORY_SIZE (Werkzeug spools it to a file).
    assert limit - 2048 > app.config["MAX_FORM_MEMORY_SIZE"]
    response = upload(owner, wide_file(limit - 2048))  # room for the multipart framing
    assert response.status_code == 303, response.get_data(as_text=True)[:500]
    assert ballots_in(app, poll) == 400
    # Every other route keeps the site's 64 KB (the scene forms' picture uploads have their own
    # limit: tests/test_thumbnails.py).
    token = csrf_token_from(owner.get("/manage/").get_data(as_text=True))
    other_route = owner.post("/manage/polls/kisses/schedule",
                             data={"csrf_token": token, "opens_at": "x" * 70_000})
    assert other_route.status_code == 413


def test_a_file_just_over_the_limit_is_a_friendly_413(app, owner):
    poll = make_desk_poll(app)
    before = snapshot(app)
    response = upload(owner, wide_file(app.config["BALLOT_IMPORT_MAX_BYTES"] + 1))
    assert response.status_code == 413
    text = response.get_data(as_text=True)
    assert "too big to import here (at most 5 MB)" in text and 'type="file"' in text
    assert snapshot(app) == before and ballots_in(app, poll) == 0


def test_text_fields_over_the_form_memory_limit_are_a_friendly_413(app, owner):
    make_desk_poll(app)
    before = snapshot(app)
    token = csrf_token_from(owner.get("/manage/").get_data(as_text=True))
    big = "rank1\n" + "Wall kiss\n" * (app.config["MAX_FORM_MEMORY_SIZE"] // 10 + 1)
    response = post_multipart(owner, IMPORT_URL, {"csrf_token": token, "ballots": big})
    assert response.status_code == 413 and "too big to import here" in response.get_data(as_text=True)
    assert snapshot(app) == before


# --- who may ---------------------------------------------------------------------------

ROUTES = [("GET", "exports"), ("GET", "results.csv"), ("GET", "results.json"), ("GET", "ballots.csv"),
          ("GET", "rules.json"), ("GET", "ballots/import"), ("POST", "ballots/import")]


@pytest.mark.parametrize("who", ["other host", "anonymous"])
def test_only_the_owner_reaches_exports_and_imports(app, owner, make_host, who):
    add_ballots(app, make_desk_poll(app, rules={"tiebreakMode": "useCandidateOrder"}))
    if who == "other host":
        from helpers import PASSWORD, logged_in
        make_host(email=OTHER, password=PASSWORD)
        client = logged_in(app, OTHER)
    else:
        client = app.test_client()
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    before = snapshot(app)
    for method, path in ROUTES:
        url = f"/manage/polls/kisses/{path}"
        response = client.get(url) if method == "GET" else client.post(url, data={
            "csrf_token": token, "ballots": (io.BytesIO(b"rank1\nWall kiss\n"), "b.csv")})
        if who == "anonymous":
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/manage/login"), path
        else:
            assert response.status_code == 404, (method, path)
        assert "Wall kiss" not in response.get_data(as_text=True), path
        assert "attachment" not in response.headers.get("Content-Disposition", ""), path
    assert snapshot(app) == before
    # The owner reaches every one of them.
    for method, path in ROUTES[:-1]:
        assert owner.get(f"/manage/polls/kisses/{path}").status_code == 200, path


def test_another_hosts_slug_under_the_owners_name_is_404(app, owner, make_host):
    make_host(email=OTHER)
    make_desk_poll(app, slug="theirs", email=OTHER)
    for method, path in ROUTES:
        url = f"/manage/polls/theirs/{path}"
        response = owner.get(url) if method == "GET" else upload(owner, b"rank1\nWall kiss\n", url=url)
        assert response.status_code == 404, (method, path)
    assert owner.get("/manage/polls/no-such-poll/exports").status_code == 404
