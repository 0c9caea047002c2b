"""The poll builder (issue 7): scene pictures as links, moving scenes, importing them
from a CSV and copying them from another of the host's polls.

Every refusal is checked to have written nothing; every new route is the owner's
alone; links the host typed are http(s) only and always escaped.
"""
import html
import io
import json
import re
from pathlib import Path

import pytest
from helpers import (
    OTHER, OWNER, add_ballot, csrf_token_from, get_poll, scene, snapshot, token, with_token,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from polls.candidates_csv import (
    COLUMNS, MAX_ROWS, CandidatesCSVError, CandidatesFile, guess_delimiter, header_key, read_candidates_csv,
)
from polls.extensions import db
from polls.models import Candidate, Host, Poll

ROOT = Path(__file__).resolve().parent.parent
HOSTILE_TITLE = '<script>alert("t")</script>'
HOSTILE_URL = 'https://example.com/"><script>alert(1)</script>'
BAD_URLS = ["javascript:alert(1)", "JavaScript:alert(1)", "data:text/html,<script>alert(1)</script>",
            "/relative/picture.jpg", "//example.com/picture.jpg", "ftp://example.com/picture.jpg", "https://"]


def host_id(app, email=OWNER) -> int:
    with app.app_context():
        return db.session.scalar(select(Host.id).where(Host.email == email))


def make(app, slug="kisses", titles=("Wall kiss", "Rain kiss", "Bus kiss"), year=2015, email=OWNER,
         status="draft", parent=None, rules="{}", positions=None, **fields) -> dict:
    """A poll (or, with ``parent``, a category) of ``email`` with scenes called ``titles``."""
    with app.app_context():
        poll = Poll(host_id=host_id(app, email), slug=slug, title=f"Poll {slug}", year=year, status=status,
                    parent_id=parent, rules=rules)
        poll.candidates = [Candidate(title=t, drama=f"Drama of {t}", position=p, **fields)
                           for t, p in zip(titles, positions or range(len(titles)))]
        db.session.add(poll)
        db.session.commit()
        return {"id": poll.id, "slug": slug, "ids": [c.id for c in poll.candidates]}


def titles(app, slug) -> list[str]:
    return [c.title for c in get_poll(app, slug).candidates]


def positions(app, slug) -> list[int]:
    return [c.position for c in get_poll(app, slug).candidates]


def page(response) -> str:
    return response.get_data(as_text=True)


def flashes(html: str) -> list[str]:
    return re.findall(r'<p class="flash flash-\w+" role="status">(.*?)</p>', html)


# --- pictures (image_url) ----------------------------------------------------------------


def test_a_scene_takes_a_picture_link_shown_as_a_link_never_loaded(app, owner, client):
    make(app, status="open")
    added = owner.post("/manage/polls/kisses/candidates", data=with_token(owner, scene(
        "Piggyback kiss", image_url="https://img.example.com/piggyback.jpg",
        video_url="https://www.youtube.com/watch?v=abc", video_start="6:00")))
    assert added.status_code == 303, page(added)
    new = get_poll(app, "kisses").candidates[-1]
    assert (new.title, new.image_url, new.video_start) == ("Piggyback kiss", "https://img.example.com/piggyback.jpg", 360)

    desk = page(owner.get("/manage/polls/kisses"))
    assert ('<a href="https://img.example.com/piggyback.jpg" rel="noopener noreferrer nofollow" '
            'target="_blank">picture</a>') in desk
    assert "from 6:00" in desk
    edit = page(owner.get(f"/manage/polls/kisses/candidates/{new.id}"))
    assert 'value="https://img.example.com/piggyback.jpg"' in edit and 'name="image_url"' in edit

    public = page(client.get("/p/kisses"))
    assert ('<a href="https://img.example.com/piggyback.jpg" target="_blank" '
            'rel="noopener noreferrer nofollow">Picture (another site)</a>') in public
    assert "<img" not in public
    api = client.get("/api/v1/polls/kisses").get_json()
    assert api["candidates"][-1]["image_url"] == "https://img.example.com/piggyback.jpg"
    assert api["candidates"][0]["image_url"] is None

    # Edited away, the link goes too.
    cleared = owner.post(f"/manage/polls/kisses/candidates/{new.id}", data=with_token(owner, scene("Piggyback kiss", image_url="")))
    assert cleared.status_code == 303
    assert get_poll(app, "kisses").candidates[-1].image_url == ""
    assert "Picture (another site)</a>" not in page(client.get("/p/kisses"))


@pytest.mark.parametrize("name", ["video_url", "image_url"])
@pytest.mark.parametrize("url", BAD_URLS)
def test_only_web_links_are_accepted_in_the_form(app, owner, name, url):
    poll = make(app)
    before = snapshot(app)
    added = owner.post("/manage/polls/kisses/candidates", data=with_token(owner, scene("Odd link", **{name: url})))
    assert added.status_code == 400
    assert f'class="field-error" id="scene-{name}-error"' in page(added)
    edited = owner.post(f"/manage/polls/kisses/candidates/{poll['ids'][0]}",
                        data=with_token(owner, scene("Wall kiss", **{name: url})))
    assert edited.status_code == 400
    assert f'class="field-error" id="{name}-error"' in page(edited)
    assert snapshot(app) == before


def test_a_picture_link_over_500_characters_is_refused(app, owner):
    make(app)
    before = snapshot(app)
    response = owner.post("/manage/polls/kisses/candidates", data=with_token(owner, scene(
        "Long link", image_url="https://example.com/" + "a" * 490)))
    assert response.status_code == 400 and 'id="scene-image_url-error"' in page(response)
    assert snapshot(app) == before


def test_hostile_titles_and_links_are_escaped_on_the_desk_and_the_poll_page(app, owner, client):
    make(app, status="open")
    added = owner.post("/manage/polls/kisses/candidates", data=with_token(owner, scene(
        HOSTILE_TITLE, video_url=HOSTILE_URL, image_url=HOSTILE_URL, nickname='"><img src=x onerror=alert(1)>')))
    assert added.status_code == 303
    cid = get_poll(app, "kisses").candidates[-1].id
    for text in (page(owner.get("/manage/polls/kisses")), page(client.get("/p/kisses")),
                 page(owner.get(f"/manage/polls/kisses/candidates/{cid}")),
                 page(owner.get("/manage/polls/kisses/candidates/import"))):
        assert "<script>alert" not in text and "<img src=x" not in text
    desk = page(owner.get("/manage/polls/kisses"))
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in desk
    assert 'href="https://example.com/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"' in desk
    assert 'aria-label="Move “&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;” up"' in desk
    public = page(client.get("/p/kisses"))
    assert 'href="https://example.com/&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;" target="_blank"' in public

    # The copy page lists it (escaped) for another poll of the same host.
    make(app, slug="next-year", titles=(), year=2016)
    copy = page(owner.get("/manage/polls/next-year/candidates/copy"))
    assert "&lt;script&gt;alert(&#34;t&#34;)&lt;/script&gt;" in copy and "<script>alert" not in copy


# --- moving scenes -----------------------------------------------------------------------


def move(client, slug, cid, direction, follow=False):
    return client.post(f"/manage/polls/{slug}/candidates/{cid}/move",
                       data=with_token(client, {"direction": direction}), follow_redirects=follow)


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_scenes_move_up_and_down(app, owner):
    poll = make(app, titles=("A", "B", "C", "D"))
    wall, rain, bus, d = poll["ids"]
    moved = move(owner, "kisses", bus, "up")
    assert moved.status_code == 303
    assert moved.headers["Location"] == f"/manage/polls/kisses#scene-{bus}"
    assert titles(app, "kisses") == ["A", "C", "B", "D"] and positions(app, "kisses") == [0, 1, 2, 3]
    assert move(owner, "kisses", wall, "down").status_code == 303
    assert titles(app, "kisses") == ["C", "A", "B", "D"]
    followed = move(owner, "kisses", d, "up", follow=True)
    assert flashes(page(followed)) == ["Moved “D” up."]
    assert titles(app, "kisses") == ["C", "A", "D", "B"] and positions(app, "kisses") == [0, 1, 2, 3]
    # The ballot shows the new order.
    owner.post("/manage/polls/kisses/status", data=with_token(owner, {"action": "open"}))
    ballot = page(app.test_client().get("/p/kisses"))
    assert [ballot.index(f'<h3 class="scene-title">{t}</h3>') for t in "CADB"] == sorted(ballot.index(f'<h3 class="scene-title">{t}</h3>') for t in "CADB")


def test_moving_past_either_end_changes_nothing(app, owner):
    poll = make(app)
    before = snapshot(app)
    first = move(owner, "kisses", poll["ids"][0], "up", follow=True)
    assert first.status_code == 200 and flashes(page(first)) == ["“Wall kiss” is already first."]
    last = move(owner, "kisses", poll["ids"][-1], "down", follow=True)
    assert last.status_code == 200 and flashes(page(last)) == ["“Bus kiss” is already last."]
    assert snapshot(app) == before


def test_moving_renumbers_scenes_whose_places_had_gaps_and_repeats(app, owner):
    poll = make(app, titles=("A", "B", "C", "D"), positions=(0, 5, 5, 9))
    assert move(owner, "kisses", poll["ids"][3], "up").status_code == 303
    assert titles(app, "kisses") == ["A", "B", "D", "C"] and positions(app, "kisses") == [0, 1, 2, 3]


@pytest.mark.parametrize("direction", ["", "sideways", "UP", "0", "up" * 1000])
def test_unknown_directions_are_a_400_and_change_nothing(app, owner, direction):
    poll = make(app)
    before = snapshot(app)
    response = move(owner, "kisses", poll["ids"][1], direction)
    assert response.status_code == 400 and "Move a scene up or down." in page(response)
    assert snapshot(app) == before


def test_the_order_freezes_once_fans_voted_only_when_it_breaks_ties(app, owner):
    make(app, slug="ordered", status="open", rules=json.dumps({"tiebreakMode": "useCandidateOrder"}))
    make(app, slug="drawn", status="open", rules=json.dumps({"tiebreakMode": "random"}))
    fresh = make(app, slug="fresh", status="open", rules=json.dumps({"tiebreakMode": "useCandidateOrder"}))
    add_ballot(app, "ordered", "v1")
    add_ballot(app, "drawn", "v2")
    ordered, drawn = get_poll(app, "ordered"), get_poll(app, "drawn")

    desk = page(owner.get("/manage/polls/ordered"))
    assert "the order can no longer change" in desk and "/move" not in desk
    before = snapshot(app)
    refused = move(owner, "ordered", ordered.candidates[1].id, "up", follow=True)
    assert refused.status_code == 200
    assert flashes(page(refused)) == ["Fans have already voted and ties are broken by the order of the scenes, "
                                      "so the order can no longer change: it could change who wins a tie."]
    assert snapshot(app) == before

    assert "/move" in page(owner.get("/manage/polls/drawn"))
    assert move(owner, "drawn", drawn.candidates[1].id, "up").status_code == 303
    assert titles(app, "drawn") == ["Rain kiss", "Wall kiss", "Bus kiss"]
    # No ballots yet: the tie rule does not matter.
    assert move(owner, "fresh", fresh["ids"][2], "up").status_code == 303
    assert titles(app, "fresh") == ["Wall kiss", "Bus kiss", "Rain kiss"]


# --- CSV import: the reader alone ---------------------------------------------------------


def test_the_reader_names_cells_by_column_whatever_the_header_spelling():
    text = ("\ufeffTitle;DRAMA;Scene Nickname;Starts At;video;Image_URL;spoiler;couple;episode;description\n"
            'Wall kiss;Healer;the wall;6:00;https://v.example/1;https://i.example/1;Yes;Jung-hoo;8;"one;two"\n'
            "\n"
            'Rain kiss;Healer;;;;;x;;;"line one\nline two"\n'
            ";;;;;;;;;\n"
            "Bus kiss;Healer;;360;;;no;;;\n")
    parsed = read_candidates_csv(text)
    assert isinstance(parsed, CandidatesFile) and parsed.problems == []
    assert [(row.line, row.values["title"], row.spoiler) for row in parsed.rows] == [
        (2, "Wall kiss", True), (4, "Rain kiss", True), (7, "Bus kiss", False)]
    assert parsed.rows[0].values == {
        "title": "Wall kiss", "drama": "Healer", "nickname": "the wall", "video_start": "6:00",
        "video_url": "https://v.example/1", "image_url": "https://i.example/1", "couple": "Jung-hoo",
        "episode": "8", "description": "one;two"}
    assert parsed.rows[1].values["description"] == "line one\nline two"
    assert parsed.headers["video_start"] == "Starts At" and parsed.headers["image_url"] == "Image_URL"


@pytest.mark.parametrize(("header", "delimiter"), [("title,drama", ","), ("title;drama", ";"),
                                                   ("title\tdrama", "\t"), ("title", ","), ("", ",")])
def test_the_delimiter_is_read_from_the_header(header, delimiter):
    assert guess_delimiter(header) == delimiter


@pytest.mark.parametrize(("name", "alias"), [(name, alias) for name, aliases in COLUMNS.items() for alias in aliases])
def test_every_documented_alias_names_its_column(name, alias):
    for spelling in (alias, alias.upper(), alias.replace(" ", "_"), f" {alias} "):
        header = ["title", "drama"] + ([] if name in ("title", "drama") else [spelling])
        header = [spelling if column == name else column for column in header]
        parsed = read_candidates_csv(",".join(header) + "\n" + ",".join(["yes"] * len(header)) + "\n")
        assert parsed.headers[name] == spelling.strip() and parsed.problems == []
    assert header_key(" Starts_At ") == header_key("startsat") == "startsat"


@pytest.mark.parametrize(("text", "message"), [
    ("", "The file is empty"),
    ("  \r\n\n", "The file is empty"),
    (",,,\n,,\n", "The file is empty"),
    ("title,drama\n", "a header but no scenes"),
    ("title,drama\n\n,\n", "a header but no scenes"),
    ("Wall kiss,Healer\nRain kiss,Healer\n", "The first row must be the header"),
    ("title,drama,rating,notes\nA,B,5,x\n", "Unknown columns: “rating”, “notes”."),
    ("title,couple\nA,B\n", "The header needs a drama column."),
    ("nickname\nA\n", "The header needs a title and a drama column."),
    ("title,drama,video,clip\nA,B,,\n", "The columns “video” and “clip” both give the video url"),
    ('title,drama\n"Wall kiss,Healer\n', "is a quote (\") missing its pair?"),
    ('title,drama\n"Wall" kiss,Healer\n', "This row cannot be read"),
    ("title,drama\n" + "A,B\n" * (MAX_ROWS + 1), f"more than {MAX_ROWS} scenes"),
])
def test_files_that_cannot_be_read_say_why(text, message):
    with pytest.raises(CandidatesCSVError) as refused:
        read_candidates_csv(text)
    assert message in str(refused.value)
    assert refused.value.problems and all(p.message for p in refused.value.problems)


def test_exactly_the_most_rows_are_read():
    parsed = read_candidates_csv("title,drama\n" + "".join(f"Kiss {n},Healer\n" for n in range(MAX_ROWS)))
    assert len(parsed.rows) == MAX_ROWS and parsed.rows[-1].line == MAX_ROWS + 1


def test_rows_with_extra_cells_or_odd_spoilers_are_problems_of_their_line():
    parsed = read_candidates_csv("title,drama,spoiler,\nA,B,yes,\nC,D,no,surprise\nE,F,maybe\nG,H\n")
    assert [(p.line, p.column) for p in parsed.problems] == [(3, ""), (4, "spoiler")]
    assert "This row has 4 cells but the header names 3 columns" in parsed.problems[0].message
    assert "Write yes or no" in parsed.problems[1].message
    assert [row.values["title"] for row in parsed.rows] == ["A", "E", "G"]


CSV_CELLS = st.text(alphabet=st.sampled_from('ab ,;\t"\n\r\ufeff\x00é한'), max_size=12)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(
    st.text(max_size=300),
    st.lists(st.lists(CSV_CELLS, max_size=6), max_size=8).map(
        lambda rows: "\n".join(",".join(cells) for cells in rows)),
    st.tuples(st.lists(st.sampled_from([a for aliases in COLUMNS.values() for a in aliases] + ["", "x"]),
                       min_size=1, max_size=8),
              st.lists(st.lists(CSV_CELLS, max_size=9), max_size=6),
              st.sampled_from([",", ";", "\t"])).map(
        lambda t: "\n".join(t[2].join(cells) for cells in [t[0], *t[1]])),
))
def test_the_reader_never_fails_with_anything_but_its_own_error(text):
    try:
        parsed = read_candidates_csv(text)
    except CandidatesCSVError as refused:
        assert refused.problems and all(isinstance(p.message, str) and p.message for p in refused.problems)
        return
    assert parsed.rows or parsed.problems
    assert len(parsed.rows) <= MAX_ROWS
    lines = [row.line for row in parsed.rows]
    assert lines == sorted(lines) and all(line >= 2 for line in lines)
    assert {"title", "drama"} <= set(parsed.headers)
    for row in parsed.rows:
        assert set(row.values) <= set(COLUMNS) - {"spoiler"} and isinstance(row.spoiler, bool)


# --- CSV import through the desk -----------------------------------------------------------

IMPORT_URL = "/manage/polls/kisses/candidates/import"
GOOD_CSV = ("title,drama,couple,episode,scene nickname,description,clip,starts at,image,spoiler\n"
            "Piggyback kiss,Kill Me Heal Me,Cha Do Hyun & Oh Ri Jin,10,the piggyback,"
            '"He carries her, then kisses her",https://www.youtube.com/watch?v=k1,6:00,https://img.example/p.jpg,yes\n'
            "Stalled elevator kiss,Que Sera Sera,Eric Moon,2,The elevator kiss,,,360,,no\n")


def post_import(client, text=None, data: bytes | None = None, filename="scenes.csv", url=IMPORT_URL, follow=False,
                **extra):
    fields = {"csrf_token": token(client), **extra}
    if text is not None:
        fields["text"] = text
    if data is not None:
        fields["file"] = FileStorage(io.BytesIO(data), filename=filename, content_type="text/csv")
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}",
                       follow_redirects=follow)


def report(response) -> list[tuple[str, str, str]]:
    """The rows of the import page's problem table: (line, column, message)."""
    table = re.search(r'<section class="card import-report".*?</section>', page(response), re.S)
    assert table, page(response)[:2000]
    cells = re.findall(r'<tr><td class="num">(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>', table.group(0))
    return [tuple(html.unescape(cell) for cell in row) for row in cells]


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_an_uploaded_csv_adds_its_scenes_at_the_end(app, owner):
    make(app, titles=("Wall kiss",))
    form_page = owner.get(IMPORT_URL)
    assert form_page.status_code == 200
    assert 'type="file"' in page(form_page) and 'href="/static/candidates-template.csv"' in page(form_page)
    response = post_import(owner, data=GOOD_CSV.encode("utf-8-sig"), follow=True)
    assert response.status_code == 200
    assert flashes(page(response)) == ["Imported 2 scenes."]
    poll = get_poll(app, "kisses")
    assert [c.title for c in poll.candidates] == ["Wall kiss", "Piggyback kiss", "Stalled elevator kiss"]
    assert [c.position for c in poll.candidates] == [0, 1, 2]
    piggyback, elevator = poll.candidates[1:]
    assert (piggyback.drama, piggyback.couple, piggyback.episode, piggyback.nickname, piggyback.description,
            piggyback.video_url, piggyback.video_start, piggyback.image_url, piggyback.spoiler) == (
        "Kill Me Heal Me", "Cha Do Hyun & Oh Ri Jin", "10", "the piggyback", "He carries her, then kisses her",
        "https://www.youtube.com/watch?v=k1", 360, "https://img.example/p.jpg", True)
    assert (elevator.video_start, elevator.spoiler, elevator.video_url, elevator.image_url) == (360, False, "", "")


def test_pasted_csv_with_semicolons_or_tabs_is_imported(app, owner):
    make(app, titles=())
    semicolons = GOOD_CSV.replace(",", ";")
    assert post_import(owner, text=semicolons).status_code == 303
    assert titles(app, "kisses") == ["Piggyback kiss", "Stalled elevator kiss"]
    tabs = "title\tdrama\tspoiler\nBus kiss\tHealer\tx\nRain kiss\tHealer\t\n"
    assert post_import(owner, text=tabs).status_code == 303
    poll = get_poll(app, "kisses")
    assert [(c.title, c.spoiler, c.position) for c in poll.candidates[2:]] == [("Bus kiss", True, 2), ("Rain kiss", False, 3)]


def test_the_template_csv_imports_as_it_is(app, owner, client):
    make(app, titles=())
    template = client.get("/static/candidates-template.csv")
    assert template.status_code == 200
    body = template.get_data()
    template.close()
    assert body.decode().splitlines()[0] == (
        "title,title_ko,drama,couple,episode,nickname,description,video_url,start,image_url,spoiler")
    assert post_import(owner, data=body).status_code == 303
    elevator, = get_poll(app, "kisses").candidates
    assert (elevator.title, elevator.title_ko, elevator.drama, elevator.episode, elevator.video_start) == (
        "Stalled elevator kiss", "멈춘 엘리베이터 키스", "Que Sera Sera", "2", 360)


@pytest.mark.parametrize(("text", "expected"), [
    ("title,drama\nFine kiss,Healer\nLake kiss,\n", [("3", "drama", "This field is required.")]),
    ("title,drama,start\nA,B,6 minutes\n", [("2", "start", "Give the start as seconds (360) or minutes:seconds (6:00).")]),
    ("title,drama,start\nA,B,99:99:99\n", [("2", "start", "Give the start as seconds (360) or minutes:seconds (6:00).")]),
    ("title,drama\nOvervote,B\n", [("2", "title", "“Overvote” is a word the vote count uses; give the scene another title.")]),
    ("Title,Drama\nRooftop kiss,B\nROOFTOP KISS,C\n", [("3", "Title", "Line 2 has the same title; give each scene its own.")]),
    ("title,drama\nwall KISS,B\n", [("2", "title", "This poll already has a scene called “wall KISS”.")]),
    ("title,drama,episode\nA,B," + "9" * 41 + "\n", [("2", "episode", "Field cannot be longer than 40 characters.")]),
    ("title,drama,spoiler\nA,B,maybe\nC,D,\n", [("2", "spoiler", "Write yes or no (or leave it blank).")]),
    ("title,drama\nFine kiss,B\nA,B,C\n", [("3", "—", "This row has 3 cells but the header names 2 columns: does a value "
                                         "holding a comma need quotes around it?")]),
    ("title,drama\nA,B,C\n", [("2", "—", "This row has 3 cells but the header names 2 columns: does a value "
                                         "holding a comma need quotes around it?")]),
    ("title,drama,rating\nA,B,5\n", [("1", "—", "Unknown column: “rating”. The columns are: title, title_ko, drama, couple, "
                                                "episode, nickname, description, video_url, start, image_url, spoiler.")]),
    ("title,drama\n", [("—", "—", "The file has a header but no scenes under it.")]),
    ("title,drama\n" + "A,B\n" * 501, [("—", "—", "The file has more than 500 scenes; split it and import the "
                                                  "parts one by one.")]),
])
def test_a_file_with_any_bad_row_imports_nothing_and_says_where(app, owner, text, expected):
    make(app, titles=("Wall kiss",))
    before = snapshot(app)
    response = post_import(owner, text=text)
    assert response.status_code == 400
    assert report(response) == expected
    assert "Nothing was imported" in page(response)
    assert snapshot(app) == before


@pytest.mark.parametrize("column", ["clip", "image"])
@pytest.mark.parametrize("url", BAD_URLS)
def test_only_web_links_are_accepted_in_a_csv(app, owner, column, url):
    make(app)
    before = snapshot(app)
    response = post_import(owner, data=f'title,drama,{column}\nOdd link,Healer,"{url}"\n'.encode())
    assert response.status_code == 400
    (line, where, _message), = report(response)
    assert (line, where) == ("2", column)
    assert snapshot(app) == before


def test_empty_or_non_utf8_files_and_missing_or_doubled_input_are_400(app, owner):
    make(app)
    before = snapshot(app)
    latin1 = post_import(owner, data="title,drama\nCafé kiss,Coffee Prince\n".encode("latin-1"), filename="old.csv")
    assert latin1.status_code == 400
    assert report(latin1) == [("—", "—", "old.csv is not UTF-8 text. Save it from your spreadsheet as “CSV UTF-8” "
                                         "(Excel: Save As › CSV UTF-8; Google Sheets: Download › CSV).")]
    empty = post_import(owner, data=b"")
    assert empty.status_code == 400
    assert report(empty) == [("—", "—", "The file is empty: it needs a header row and one row per scene.")]
    bom_only = post_import(owner, data="\ufeff\r\n".encode())
    assert bom_only.status_code == 400 and "The file is empty" in page(bom_only)
    neither = post_import(owner)
    assert neither.status_code == 400 and "Choose a CSV file or paste the CSV text." in page(neither)
    both = post_import(owner, text=GOOD_CSV, data=GOOD_CSV.encode())
    assert both.status_code == 400 and "Upload a file or paste the text, not both." in page(both)
    # A "file" sent as a plain text field is no upload.
    assert post_import(owner, file="title,drama\nA,B\n").status_code == 400
    assert snapshot(app) == before


def test_a_body_over_the_size_limit_is_a_friendly_413(app, owner):
    make(app)
    before = snapshot(app)
    big = "title,drama,description\n" + "".join(f"Kiss {n},Healer,{'x' * 200}\n" for n in range(400))
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    for response in (post_import(owner, data=big.encode()), post_import(owner, text=big)):
        assert response.status_code == 413
        assert report(response) == [("—", "—", "That is more than 64 KB, the most one import takes: split the file "
                                               "and import the parts one after the other.")]
        assert 'type="file"' in page(response)
    assert snapshot(app) == before


def test_the_import_checks_its_csrf_token(app, owner):
    make(app)
    before = snapshot(app)
    boundary, body = encode_multipart({"text": GOOD_CSV})
    missing = owner.post(IMPORT_URL, data=body, content_type=f"multipart/form-data; boundary={boundary}")
    assert missing.status_code == 403
    forged = post_import(owner, text=GOOD_CSV, csrf_token="forged")
    assert forged.status_code == 403
    assert snapshot(app) == before


def test_nothing_is_imported_once_fans_voted(app, owner):
    make(app, status="open")
    add_ballot(app, "kisses")
    before = snapshot(app)
    closed = owner.get(IMPORT_URL)
    assert closed.status_code == 200 and "Fans have already voted, so scenes can no longer be added" in page(closed)
    assert 'type="file"' not in page(closed)
    refused = post_import(owner, text=GOOD_CSV, follow=True)
    assert flashes(page(refused)) == ["Fans have already voted, so scenes can no longer be added: "
                                      "it would change what their ballots mean."]
    assert "Import from CSV" not in page(refused)
    assert snapshot(app) == before


# --- copy from another poll ---------------------------------------------------------------


@pytest.fixture
def years(app, owner, make_host):
    """The owner's 2015 poll (one scene) and earlier and later polls; another host's 2014 poll."""
    make_host(email=OTHER, password="correct horse battery")
    return {
        "target": make(app, slug="kisses", titles=("Rain kiss",), year=2015),
        "y2013": make(app, slug="y2013", titles=("Old kiss",), year=2013),
        "y2014": make(app, slug="y2014", titles=("Wall kiss", "rain KISS", "Bus kiss"), year=2014,
                      couple="Jung-hoo & Young-shin", episode="8", nickname="the wall", description="Against a wall.",
                      video_url="https://www.youtube.com/watch?v=w", video_start=95,
                      image_url="https://img.example/w.jpg", spoiler=True),
        "y2016": make(app, slug="y2016", titles=("Future kiss",), year=2016),
        "empty": make(app, slug="empty-2014", titles=(), year=2014),
        "theirs": make(app, slug="theirs", titles=("Their kiss",), year=2014, email=OTHER),
    }


COPY_URL = "/manage/polls/kisses/candidates/copy"


def test_copy_offers_last_years_poll_with_every_scene_ticked(app, owner, years):
    response = owner.get(COPY_URL)
    assert response.status_code == 200
    html = page(response)
    options = re.findall(r'<option (selected )?value="(\d+)"', html)
    assert [int(v) for _, v in options] == [years[k]["id"] for k in ("y2016", "y2014", "y2013")]
    assert [int(v) for s, v in options if s] == [years["y2014"]["id"]]
    assert html.count('type="checkbox"') == 3 and html.count("checked") == 3 and "required" not in html
    assert "(this poll has it already: skipped)" in html  # "rain KISS" against "Rain kiss"
    assert "Their kiss" not in html and "empty-2014" not in html

    other = page(owner.get(f"{COPY_URL}?source={years['y2016']['id']}"))
    assert "Future kiss" in other and "Wall kiss" not in other


def test_a_poll_with_no_earlier_year_is_offered_the_newest(app, owner):
    make(app, slug="kisses", titles=(), year=2010)
    make(app, slug="b", titles=("B",), year=2014)
    make(app, slug="a", titles=("A",), year=2016)
    newest = make(app, slug="c", titles=("C",), year=None)
    assert re.findall(r'<option selected value="(\d+)"', page(owner.get(COPY_URL))) == [str(newest["id"])]


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_copy_takes_every_detail_and_skips_titles_already_there(app, owner, years):
    source = years["y2014"]
    response = owner.post(COPY_URL, data=with_token(owner, {"source": source["id"], "scenes": source["ids"]}),
                          follow_redirects=True)
    assert response.status_code == 200
    assert flashes(page(response)) == ["Copied 2 scenes from “Poll y2014”. Skipped, as this poll already has "
                                       "them: “rain KISS”."]
    poll = get_poll(app, "kisses")
    assert [(c.title, c.position) for c in poll.candidates] == [("Rain kiss", 0), ("Wall kiss", 1), ("Bus kiss", 2)]
    wall = poll.candidates[1]
    original = get_poll(app, "y2014").candidates[0]
    for column in Candidate.__table__.columns.keys():
        if column not in ("id", "poll_id", "position"):
            assert getattr(wall, column) == getattr(original, column), column
    assert wall.id != original.id and wall.poll_id == years["target"]["id"]
    assert titles(app, "y2014") == ["Wall kiss", "rain KISS", "Bus kiss"]  # the original is untouched


def test_copy_takes_only_the_ticked_scenes(app, owner, years):
    source = years["y2014"]
    assert owner.post(COPY_URL, data=with_token(owner, {"source": source["id"], "scenes": [source["ids"][2]]})
                      ).status_code == 303
    assert titles(app, "kisses") == ["Rain kiss", "Bus kiss"]
    # Everything ticked is already there: nothing to copy, said so.
    again = owner.post(COPY_URL, data=with_token(owner, {"source": source["id"], "scenes": [source["ids"][2]]}),
                       follow_redirects=True)
    assert flashes(page(again)) == ["Nothing was copied. Skipped, as this poll already has them: “Bus kiss”."]
    assert titles(app, "kisses") == ["Rain kiss", "Bus kiss"]


@pytest.mark.parametrize("case", ["theirs", "theirs-scene", "self", "unknown", "huge", "word", "none-ticked",
                                  "no-source"])
def test_copy_refuses_what_is_not_the_hosts_and_copies_nothing(app, owner, years, case):
    mine, theirs = years["y2014"], years["theirs"]
    data = {
        "theirs": {"source": theirs["id"], "scenes": theirs["ids"]},
        "theirs-scene": {"source": mine["id"], "scenes": theirs["ids"]},
        "self": {"source": years["target"]["id"], "scenes": years["target"]["ids"]},
        "unknown": {"source": 999999, "scenes": mine["ids"]},
        "huge": {"source": 2**64, "scenes": [2**64]},
        "word": {"source": "last-year", "scenes": "all"},
        "none-ticked": {"source": mine["id"]},
        "no-source": {"scenes": mine["ids"]},
    }[case]
    before = snapshot(app)
    response = owner.post(COPY_URL, data=with_token(owner, data))
    assert response.status_code == 400
    assert "Their kiss" not in page(response)
    assert snapshot(app) == before


@pytest.mark.parametrize("source", ["theirs", "target", "empty"])
def test_copy_page_for_a_poll_that_is_not_a_source_is_404(app, owner, years, source):
    assert owner.get(f"{COPY_URL}?source={years[source]['id']}").status_code == 404
    assert owner.get(f"{COPY_URL}?source={2**64}").status_code == 404


def test_copy_says_when_there_is_nothing_to_copy_from(app, owner):
    make(app)
    response = owner.get(COPY_URL)
    assert response.status_code == 200 and "You have no other poll with scenes yet." in page(response)
    before = snapshot(app)
    assert owner.post(COPY_URL, data=with_token(owner, {"source": "1"})).status_code == 400
    assert snapshot(app) == before


def test_nothing_is_copied_once_fans_voted(app, owner, years):
    with app.app_context():
        db.session.get(Poll, years["target"]["id"]).status = "open"
        db.session.commit()
    add_ballot(app, "kisses")
    before = snapshot(app)
    closed = owner.get(COPY_URL)
    assert closed.status_code == 200 and "Fans have already voted, so scenes can no longer be added" in page(closed)
    assert "Wall kiss" not in page(closed) and 'type="checkbox"' not in page(closed)
    refused = owner.post(COPY_URL, data=with_token(owner, {"source": years["y2014"]["id"],
                                                           "scenes": years["y2014"]["ids"]}), follow_redirects=True)
    assert flashes(page(refused)) == ["Fans have already voted, so scenes can no longer be added: "
                                      "it would change what their ballots mean."]
    assert snapshot(app) == before


def test_categories_copy_to_and_from_each_other(app, owner):
    awards = make(app, slug="awards", titles=(), year=2015)
    korean = make(app, slug="awards-korean", titles=("Wall kiss", "Rain kiss"), year=2015, parent=awards["id"])
    make(app, slug="awards-taiwanese", titles=(), year=2015, parent=awards["id"])
    html = page(owner.get("/manage/polls/awards-taiwanese/candidates/copy"))
    assert "Poll awards › Poll awards-korean (2015, 2 scenes)" in html
    assert owner.post("/manage/polls/awards-taiwanese/candidates/copy",
                      data=with_token(owner, {"source": korean["id"], "scenes": korean["ids"]})).status_code == 303
    assert titles(app, "awards-taiwanese") == ["Wall kiss", "Rain kiss"]

    # The parent holds no scenes: its desk says where they go, and its builder routes refuse.
    desk = page(owner.get("/manage/polls/awards"))
    assert "add scenes to each category" in desk and "Add scene" not in desk and "Import from CSV" not in desk
    before = snapshot(app)
    for response in (owner.post("/manage/polls/awards/candidates", data=with_token(owner, scene("Sneaky")),
                                follow_redirects=True),
                     post_import(owner, text=GOOD_CSV, url="/manage/polls/awards/candidates/import", follow=True),
                     owner.post("/manage/polls/awards/candidates/copy", follow_redirects=True,
                                data=with_token(owner, {"source": korean["id"], "scenes": korean["ids"]}))):
        assert flashes(page(response)) == ["This poll is split into categories and holds no scenes of its own: "
                                           "add scenes to each category."]
    assert snapshot(app) == before


# --- who may ----------------------------------------------------------------------------------


def builder_routes(years) -> list[tuple[str, str, dict | None]]:
    cid = years["target"]["ids"][0]
    source = years["y2014"]
    return [
        ("POST", f"/manage/polls/kisses/candidates/{cid}/move", {"direction": "down"}),
        ("GET", "/manage/polls/kisses/candidates/import", None),
        ("POST", "/manage/polls/kisses/candidates/import", {"text": GOOD_CSV}),
        ("GET", "/manage/polls/kisses/candidates/copy", None),
        ("GET", f"/manage/polls/kisses/candidates/copy?source={source['id']}", None),
        ("POST", "/manage/polls/kisses/candidates/copy", {"source": source["id"], "scenes": source["ids"]}),
    ]


def test_another_host_gets_404_on_every_builder_route(app, years):
    from helpers import logged_in
    other = logged_in(app, OTHER)
    before = snapshot(app)
    for method, url, data in builder_routes(years):
        response = other.get(url) if method == "GET" else other.post(url, data=with_token(other, data))
        assert response.status_code == 404, (method, url)
        assert "Rain kiss" not in page(response) and "Wall kiss" not in page(response)
    # Nor can the other host pull the owner's scenes into a poll of their own.
    pulled = other.post("/manage/polls/theirs/candidates/copy", data=with_token(
        other, {"source": years["y2014"]["id"], "scenes": years["y2014"]["ids"]}))
    assert pulled.status_code == 400 and "Wall kiss" not in page(pulled)
    assert other.get(f"/manage/polls/theirs/candidates/copy?source={years['y2014']['id']}").status_code == 404
    assert "Wall kiss" not in page(other.get("/manage/polls/theirs/candidates/copy"))
    assert snapshot(app) == before


def test_anonymous_visitors_are_sent_to_login_from_every_builder_route(app, years):
    anonymous = app.test_client()
    csrf = csrf_token_from(page(anonymous.get("/manage/login")))
    before = snapshot(app)
    for method, url, data in builder_routes(years):
        response = anonymous.get(url) if method == "GET" else anonymous.post(url, data={**data, "csrf_token": csrf})
        assert response.status_code == 302, (method, url)
        assert response.headers["Location"].startswith("/manage/login?next="), (method, url)
    assert snapshot(app) == before


def test_unknown_scene_ids_are_404_on_move(app, owner, years):
    before = snapshot(app)
    for cid in (years["theirs"]["ids"][0], years["y2014"]["ids"][0], 999999, 2**64):
        assert move(owner, "kisses", cid, "up").status_code == 404
    assert owner.post(f"/manage/polls/kisses/candidates/{years['target']['ids'][0]}/move",
                      data={"direction": "up"}).status_code == 403
    assert snapshot(app) == before
