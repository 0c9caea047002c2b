"""Scene thumbnails: uploaded through the desk, re-encoded to a small WebP, served from this site.

Uploads are real pictures made here with Pillow; every refusal is checked to have stored
nothing; a draft poll's pictures are its host's alone.
"""
import io
import random
import re
import struct
import zlib
from pathlib import Path

import pytest
from flask import render_template
from helpers import OTHER, OWNER, get_poll, scene, snapshot, with_token
from PIL import Image, ImageDraw, ImageFilter
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from polls.demo import ALL_TIME, BEST_2014, demo_picture, load_demo
from polls.extensions import db
from polls.models import Candidate, Host, Poll, SceneThumbnail
from polls.thumbnails import HEIGHT, WIDTH, ThumbnailError, make_thumbnail, megabytes, store_thumbnail

ROOT = Path(__file__).resolve().parent.parent
PUBLIC_CACHE = "public, max-age=31536000, immutable"
URL_RULE = re.compile(r"^/media/scenes/(\d+)-([0-9a-f]{16})\.webp$")


def photo(fmt="JPEG", size=(1200, 900), seed=1, **save) -> bytes:
    """A photo-like picture: gradients, soft shapes and a little grain."""
    rng = random.Random(seed)
    width, height = size
    blotches = Image.effect_noise((width // 8, height // 8), 60).resize(size, Image.Resampling.BICUBIC)
    ramp = Image.linear_gradient("L").resize(size)
    picture = Image.merge("RGB", (ramp, blotches, Image.eval(ramp, lambda v: 255 - v)))
    draw = ImageDraw.Draw(picture)
    for _ in range(12):
        x, y, r = rng.randrange(width), rng.randrange(height), rng.randrange(40, 200)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=tuple(rng.randrange(256) for _ in range(3)))
    grain = Image.merge("RGB", (Image.effect_noise(size, 25),) * 3)
    picture = Image.blend(picture.filter(ImageFilter.GaussianBlur(2)), grain, 0.15)
    out = io.BytesIO()
    picture.save(out, fmt, **save)
    return out.getvalue()


def halves(fmt="JPEG", **save) -> bytes:
    """1200×900 with a red top half and a blue bottom half."""
    picture = Image.new("RGB", (1200, 900), (220, 20, 20))
    picture.paste((20, 20, 220), (0, 450, 1200, 900))
    out = io.BytesIO()
    picture.save(out, fmt, **save)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says it is width×height: a decompression bomb's opening."""
    out = io.BytesIO()
    Image.new("1", (1, 1)).save(out, "PNG")
    data = bytearray(out.getvalue())
    ihdr = data[12:29]  # "IHDR" and its 13 bytes
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    return bytes(data)


def host_id(app, email=OWNER) -> int:
    with app.app_context():
        return db.session.scalar(select(Host.id).where(Host.email == email))


def make(app, slug="kisses", status="open", titles=("Wall kiss", "Rain kiss"), email=OWNER) -> dict:
    with app.app_context():
        poll = Poll(host_id=host_id(app, email), slug=slug, title=f"Poll {slug}", year=2015, status=status)
        poll.candidates = [Candidate(title=t, drama="Healer", position=i) for i, t in enumerate(titles)]
        db.session.add(poll)
        db.session.commit()
        return {"slug": slug, "ids": [c.id for c in poll.candidates]}


def upload(data: bytes, name="still.jpg", mimetype="image/jpeg") -> FileStorage:
    return FileStorage(io.BytesIO(data), filename=name, content_type=mimetype)


def post_form(client, url, fields: dict):
    """A multipart post encoded in memory (the test client's own encoding spools big bodies
    to a temporary file it never closes)."""
    boundary, body = encode_multipart(fields)
    return client.post(url, data=body, content_type=f"multipart/form-data; boundary={boundary}")


def scene_fields(client, picture, fields) -> dict:
    data = with_token(client, scene(**fields))
    if picture is not None:
        data["thumbnail"] = picture
    return data


def add_scene(client, slug="kisses", picture=None, **fields):
    return post_form(client, f"/manage/polls/{slug}/candidates", scene_fields(client, picture, fields))


def edit_scene(client, cid, slug="kisses", picture=None, **fields):
    return post_form(client, f"/manage/polls/{slug}/candidates/{cid}", scene_fields(client, picture, fields))


def stored(app, title="Wall kiss") -> tuple[Candidate, SceneThumbnail | None]:
    with app.app_context():
        candidate = db.session.scalar(select(Candidate).where(Candidate.title == title))
        row = db.session.get(SceneThumbnail, candidate.id)
        db.session.expunge_all()
        return candidate, row


def thumbnail_rows(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(SceneThumbnail))


def url_of(candidate: Candidate) -> str:
    return f"/media/scenes/{candidate.id}-{candidate.thumbnail_digest}.webp"


def riff_chunks(data: bytes) -> list[bytes]:
    """The chunk names of a WebP (RIFF) file."""
    assert data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    names, at = [], 12
    while at < len(data):
        name, size = data[at:at + 4], struct.unpack("<I", data[at + 4:at + 8])[0]
        names.append(name)
        at += 8 + size + size % 2
    return names


def page(response) -> str:
    return response.get_data(as_text=True)


# --- uploading through the desk ---------------------------------------------------------


@pytest.mark.parametrize("fmt, mimetype", [("JPEG", "image/jpeg"), ("PNG", "image/png")])
def test_an_upload_is_stored_as_a_small_webp_and_served_from_here(app, owner, fmt, mimetype):
    make(app)
    exif = Image.Exif()
    exif[0x010F] = "SecretCam"  # Make: metadata that must not survive
    response = add_scene(owner, title="Mall kiss", picture=upload(photo(fmt, exif=exif.tobytes()),
                                                                     f"still.{fmt.lower()}", mimetype))
    assert response.status_code == 303, page(response)
    candidate, row = stored(app, "Mall kiss")
    assert len(candidate.thumbnail_digest) == 16
    assert (row.content_type, row.width, row.height) == ("image/webp", WIDTH, HEIGHT)
    assert len(row.data) < 20_000
    picture = Image.open(io.BytesIO(row.data))
    assert (picture.format, picture.size) == ("WEBP", (WIDTH, HEIGHT))
    assert not {b"EXIF", b"ICCP", b"XMP "} & set(riff_chunks(row.data))
    assert b"SecretCam" not in row.data

    served = owner.get(url_of(candidate))
    assert served.status_code == 200
    assert served.data == row.data
    assert served.headers["Content-Type"] == "image/webp"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Cache-Control"] == PUBLIC_CACHE
    assert "Set-Cookie" not in served.headers and "Cookie" not in served.headers.get("Vary", "")
    # A fan (no login) gets the same picture.
    assert app.test_client().get(url_of(candidate)).data == row.data


def test_the_desk_links_the_thumbnail_and_the_form_takes_files(app, owner):
    poll = make(app)
    desk = page(owner.get("/manage/polls/kisses"))
    assert 'enctype="multipart/form-data"' in desk
    assert 'type="file"' in desk and 'accept="image/jpeg,image/png,image/webp,image/gif"' in desk
    assert 'class="thumb thumb-desk"' not in desk
    assert edit_scene(owner, poll["ids"][0], picture=upload(photo())).status_code == 303
    candidate, _ = stored(app)
    assert URL_RULE.match(url_of(candidate))
    assert f'class="thumb thumb-desk" src="{url_of(candidate)}"' in page(owner.get("/manage/polls/kisses"))
    edit = page(owner.get(f"/manage/polls/kisses/candidates/{candidate.id}"))
    assert 'enctype="multipart/form-data"' in edit
    assert f'src="{url_of(candidate)}"' in edit and 'name="remove_thumbnail"' in edit


def test_the_picture_is_turned_upright_by_its_exif_orientation(app, owner):
    poll = make(app)
    exif = Image.Exif()
    exif[0x0112] = 6  # shown turned a quarter clockwise: the red top becomes the right side
    assert edit_scene(owner, poll["ids"][0], picture=upload(halves(exif=exif.tobytes()))).status_code == 303
    _, row = stored(app)
    picture = Image.open(io.BytesIO(row.data)).convert("RGB")
    left, right = picture.getpixel((20, HEIGHT // 2)), picture.getpixel((WIDTH - 20, HEIGHT // 2))
    assert left[2] > 150 > left[0] and right[0] > 150 > right[2]  # blue left, red right
    assert picture.getpixel((WIDTH - 20, 10)) == pytest.approx(picture.getpixel((WIDTH - 20, HEIGHT - 10)), abs=30)


def test_a_gif_gives_its_first_frame_and_a_webp_is_taken(app, owner):
    poll = make(app)
    frames = [Image.new("RGB", (640, 360), colour) for colour in ((0, 160, 0), (160, 0, 0))]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=100)
    assert edit_scene(owner, poll["ids"][0], picture=upload(out.getvalue(), "kiss.gif", "image/gif")).status_code == 303
    _, row = stored(app)
    red, green, _ = Image.open(io.BytesIO(row.data)).convert("RGB").getpixel((160, 90))
    assert green > 120 > red
    webp = photo("WEBP", quality=90)
    assert edit_scene(owner, poll["ids"][1], title="Rain kiss",
                      picture=upload(webp, "kiss.webp", "image/webp")).status_code == 303
    assert stored(app, "Rain kiss")[1].width == WIDTH


def test_a_new_upload_gets_a_new_address_and_removing_takes_it_away(app, owner):
    poll = make(app)
    cid = poll["ids"][0]
    assert edit_scene(owner, cid, picture=upload(photo(seed=1))).status_code == 303
    first, _ = stored(app)
    assert edit_scene(owner, cid, picture=upload(photo(seed=2))).status_code == 303
    second, row = stored(app)
    assert second.thumbnail_digest != first.thumbnail_digest
    assert owner.get(url_of(first)).status_code == 404
    assert owner.get(url_of(second)).data == row.data
    assert thumbnail_rows(app) == 1

    # Saving the scene without a file keeps the picture.
    assert edit_scene(owner, cid, nickname="the wall").status_code == 303
    assert stored(app)[0].thumbnail_digest == second.thumbnail_digest

    assert edit_scene(owner, cid, remove_thumbnail="y").status_code == 303
    removed, row = stored(app)
    assert (removed.thumbnail_digest, row) == ("", None)
    assert owner.get(url_of(second)).status_code == 404
    edit = page(owner.get(f"/manage/polls/kisses/candidates/{cid}"))
    assert 'name="remove_thumbnail"' not in edit and "/media/scenes/" not in edit


BAD_UPLOADS = {
    "text renamed .jpg": (b"Not a picture at all, only words.\n" * 20, "That file is not a picture"),
    "empty file": (b"", "That file is not a picture"),
    "a BMP": (halves("BMP"), "That file is not a picture"),
    "cut short": (photo()[:3000], "That picture is damaged or cut short"),
    "a bomb's header": (png_claiming(30_000, 30_000), "more than 40 million pixels"),
    "past Pillow's own ceiling": (png_claiming(100_000, 100_000), "more than 40 million pixels"),
}


@pytest.mark.parametrize("case", BAD_UPLOADS)
def test_a_bad_upload_is_a_field_error_and_stores_nothing(app, owner, case):
    poll = make(app)
    before = snapshot(app)
    data, message = BAD_UPLOADS[case]
    for response in (add_scene(owner, title="Mall kiss", picture=upload(data)),
                     edit_scene(owner, poll["ids"][0], nickname="changed", picture=upload(data))):
        assert response.status_code == 400
        html = page(response)
        error = re.search(r'<span class="field-error" id="(?:scene-)?thumbnail-error">([^<]*)</span>', html)
        assert error and message in error.group(1), html
        assert 'aria-invalid="true"' in html
    assert snapshot(app) == before and thumbnail_rows(app) == 0


def test_the_limits_come_from_the_config(app, owner):
    make(app)
    app.config.update(THUMBNAIL_MAX_PIXELS=1_000_000)
    response = add_scene(owner, title="Mall kiss", picture=upload(photo()))  # 1200×900
    assert response.status_code == 400 and "more than 1 million pixels" in page(response)
    big = photo(quality=95)
    # Over the picture's limit, yet inside the body's (the limit plus the usual 64 KB).
    app.config.update(THUMBNAIL_MAX_PIXELS=40_000_000, THUMBNAIL_UPLOAD_MAX_BYTES=len(big) - 1000)
    response = add_scene(owner, title="Mall kiss", picture=upload(big))
    assert response.status_code == 400
    limit = megabytes(app.config["THUMBNAIL_UPLOAD_MAX_BYTES"])
    assert f"That picture is over {limit}, the most a thumbnail may be" in page(response)
    assert megabytes(5 * 1024 * 1024) == "5 MB" and megabytes(440_000) == "0.42 MB"
    assert thumbnail_rows(app) == 0


def test_a_body_over_the_raised_limit_is_a_friendly_413(app, owner):
    poll = make(app)
    before = snapshot(app)
    limit = app.config["THUMBNAIL_UPLOAD_MAX_BYTES"]
    assert limit == 5 * 1024 * 1024
    huge = b"\xff\xd8" + b"\0" * (limit + app.config["MAX_CONTENT_LENGTH"])
    for response in (add_scene(owner, title="Mall kiss", picture=upload(huge)),
                     edit_scene(owner, poll["ids"][0], picture=upload(huge))):
        assert response.status_code == 413
        assert "That upload is over 5 MB, so nothing was saved" in page(response)
        assert 'type="file"' in page(response)
    assert snapshot(app) == before and thumbnail_rows(app) == 0


def test_a_picture_just_under_the_limit_is_taken(app, owner):
    """The raised body limit leaves room for the other fields beside a picture at the limit."""
    make(app)
    picture = photo("PNG", size=(1600, 1200))
    app.config.update(THUMBNAIL_UPLOAD_MAX_BYTES=len(picture))
    assert len(picture) > app.config["MAX_CONTENT_LENGTH"]
    assert add_scene(owner, title="Mall kiss", description="x" * 1000, picture=upload(picture)).status_code == 303
    assert thumbnail_rows(app) == 1


def test_the_scene_forms_check_their_csrf_token(app, owner):
    poll = make(app)
    before = snapshot(app)
    for url in ("/manage/polls/kisses/candidates", f"/manage/polls/kisses/candidates/{poll['ids'][0]}"):
        for token in ({}, {"csrf_token": "forged"}):
            response = post_form(owner, url, {**scene(title="Mall kiss"), **token, "thumbnail": upload(photo())})
            assert response.status_code == 403, url
    assert snapshot(app) == before and thumbnail_rows(app) == 0


# --- who may upload and who may see -------------------------------------------------------


def test_another_host_cannot_upload_to_your_scene(app, owner, other):
    poll = make(app)
    make(app, slug="theirs", email=OTHER, titles=("Their kiss",))
    before = snapshot(app)
    assert edit_scene(other, poll["ids"][0], picture=upload(photo())).status_code == 404
    assert add_scene(other, title="Mall kiss", picture=upload(photo())).status_code == 404
    # Nor through a poll of their own.
    assert edit_scene(other, poll["ids"][0], slug="theirs", picture=upload(photo())).status_code == 404
    assert snapshot(app) == before and thumbnail_rows(app) == 0


def test_a_drafts_thumbnail_is_its_hosts_alone(app, owner, other):
    poll = make(app, status="draft")
    assert edit_scene(owner, poll["ids"][0], picture=upload(photo())).status_code == 303
    candidate, row = stored(app)
    mine = owner.get(url_of(candidate))
    assert mine.status_code == 200 and mine.data == row.data
    assert mine.headers["Cache-Control"] == "private, no-store"
    for stranger in (other, app.test_client()):
        refused = stranger.get(url_of(candidate))
        assert refused.status_code == 404 and row.data not in refused.data
    with app.app_context():
        db.session.get(Poll, db.session.get(Candidate, candidate.id).poll_id).status = "nominations"
        db.session.commit()
    public = app.test_client().get(url_of(candidate))
    assert public.status_code == 200 and public.headers["Cache-Control"] == PUBLIC_CACHE


def test_only_the_right_address_serves_the_picture(app, owner):
    poll = make(app)
    assert edit_scene(owner, poll["ids"][0], picture=upload(photo())).status_code == 303
    candidate, _ = stored(app)
    other_scene = poll["ids"][1]
    for url in (f"/media/scenes/{candidate.id}-{'0' * 16}.webp",
                f"/media/scenes/{candidate.id}-{candidate.thumbnail_digest[:8]}.webp",
                f"/media/scenes/{other_scene}-{candidate.thumbnail_digest}.webp",
                f"/media/scenes/{other_scene}-.webp",
                f"/media/scenes/999999-{candidate.thumbnail_digest}.webp",
                f"/media/scenes/{2**64}-{candidate.thumbnail_digest}.webp",
                f"/media/scenes/{candidate.id}-{candidate.thumbnail_digest}.png"):
        assert owner.get(url).status_code == 404, url


# --- scenes deleted and copied ------------------------------------------------------------


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_deleting_a_scene_deletes_its_thumbnail(app, owner):
    poll = make(app, status="draft")
    for cid in poll["ids"]:
        assert edit_scene(owner, cid, title=f"Kiss {cid}", picture=upload(photo(seed=cid))).status_code == 303
    assert thumbnail_rows(app) == 2
    deleted = owner.post(f"/manage/polls/kisses/candidates/{poll['ids'][0]}/delete", data=with_token(owner))
    assert deleted.status_code == 303
    with app.app_context():
        assert db.session.scalars(select(SceneThumbnail.candidate_id)).all() == [poll["ids"][1]]
        # A whole poll going takes the rest with it (the database's ON DELETE CASCADE).
        db.session.delete(db.session.get(Poll, db.session.get(Candidate, poll["ids"][1]).poll_id))
        db.session.commit()
    assert thumbnail_rows(app) == 0


@pytest.mark.parametrize("app", ["sqlite", "postgresql"], indirect=True)
def test_copying_scenes_copies_their_thumbnails(app, owner):
    source = make(app, slug="y2014", titles=("Wall kiss", "Rain kiss"))
    make(app, slug="kisses", titles=("Bus kiss",), status="draft")
    assert edit_scene(owner, source["ids"][0], slug="y2014", picture=upload(photo())).status_code == 303
    copied = owner.post("/manage/polls/kisses/candidates/copy",
                        data=with_token(owner, {"source": get_poll(app, "y2014").id, "scenes": source["ids"]}))
    assert copied.status_code == 303
    with app.app_context():
        original = db.session.get(Candidate, source["ids"][0])
        copy, bare = db.session.get(Poll, get_poll(app, "kisses").id).candidates[1:]
        assert copy.title == "Wall kiss" and copy.id != original.id
        assert copy.thumbnail_digest == original.thumbnail_digest != ""
        assert copy.thumbnail.data == original.thumbnail.data
        assert (bare.thumbnail_digest, bare.thumbnail) == ("", None)
        copy_url = url_of(copy)
        db.session.delete(original)  # the copy keeps its own row
        db.session.commit()
    assert owner.get(copy_url).status_code == 200  # the draft's host
    assert thumbnail_rows(app) == 1


# --- the fan partial, its style, the demo -------------------------------------------------


def test_the_partial_shows_the_picture_or_a_placeholder_that_costs_no_request(app):
    with_picture, bare, hostile = (Candidate(id=7, drama="Healer", thumbnail_digest="0123456789abcdef"),
                                   Candidate(id=8, drama="My Love From Another Star"),
                                   Candidate(id=9, drama='<img src=x onerror=alert(1)> "kiss"'))
    with app.test_request_context():
        img = render_template("public/_thumb.html", candidate=with_picture).strip()
        placeholder = render_template("public/_thumb.html", candidate=bare).strip()
        escaped = render_template("public/_thumb.html", candidate=hostile).strip()
    assert img == ('<img class="thumb" src="/media/scenes/7-0123456789abcdef.webp" width="320" height="180" '
                   'alt="" loading="lazy" decoding="async">')
    assert placeholder == '<span class="thumb thumb-placeholder" aria-hidden="true">MLF</span>'
    assert "<img" not in escaped and "src=" not in escaped


def relative_luminance(hex_colour: str) -> float:
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(a: str, b: str) -> float:
    high, low = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_placeholders_initials_pass_wcag_aa_in_light_and_dark():
    css = (ROOT / "static/css/site.css").read_text()
    light = dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", css.split("@media (prefers-color-scheme: dark)")[0]))
    dark_block = re.search(r"@media \(prefers-color-scheme: dark\)\s*\{\s*:root\s*\{([^}]*)\}", css).group(1)
    dark = {**light, **dict(re.findall(r"--([\w-]+):\s*(#[0-9a-f]{6})", dark_block))}
    rule = re.search(r"\.thumb-placeholder\s*\{([^}]*)\}", css.split("/* Scene thumbnails")[1]).group(1)
    text = re.search(r"(?<![-\w])color:\s*var\(--([\w-]+)\)", rule).group(1)
    backgrounds = re.findall(r"var\(--([\w-]+)\)", re.search(r"background:([^;]*);", rule).group(1))
    assert backgrounds
    for palette in (light, dark):
        for background in backgrounds:
            assert contrast(palette[text], palette[background]) >= 4.5, (text, background)


def test_the_demo_scenes_have_tasteful_deterministic_thumbnails(app):
    assert demo_picture("Healer") == demo_picture("Healer") != demo_picture("Shark")
    with app.app_context():
        load_demo()
        scenes = db.session.scalars(select(Candidate)).all()
        assert len(scenes) == len(BEST_2014["candidates"]) + len(ALL_TIME["candidates"])
        sizes = [len(c.thumbnail.data) for c in scenes]
        assert all(c.thumbnail_digest for c in scenes)
        assert max(sizes) < 12_000
        digests = {c.drama: c.thumbnail_digest for c in scenes}
        assert digests["Pinocchio"] == store_thumbnail(Candidate(), io.BytesIO(demo_picture("Pinocchio"))).digest


def test_make_thumbnail_reads_any_binary_file(app):
    with app.app_context():
        thumbnail = make_thumbnail(io.BytesIO(photo()))
        assert (thumbnail.width, thumbnail.height, len(thumbnail.digest)) == (WIDTH, HEIGHT, 16)
        with pytest.raises(ThumbnailError, match="not a picture"):
            make_thumbnail(io.BytesIO(b"GIF89a but no more"))
        assert issubclass(ThumbnailError, ValueError)
