"""Demo polls built from the seed blog posts (facts from the posts, our own words)."""
import colorsys
import hashlib
import io
import random
import secrets
from collections.abc import Iterator

from PIL import Image, ImageDraw, ImageFilter, ImageFont
from sqlalchemy import func, select

from polls import thumbnails
from polls.extensions import db
from polls.models import RANKING_SEPARATOR, Ballot, Candidate, Host, Poll
from polls.voters import voter_hash

DEMO_HOST = "demo@kisspoll.invalid"

BEST_2014 = {
    "slug": "best-kiss-2014",
    "title": "Best K-drama kiss of 2014",
    "year": 2014,
    "status": "open",
    "description": "Nine of the year's most romantic kiss scenes. Rank as many as you like, best first.",
    "candidates": [
        dict(title="Hand-to-mouth kiss", title_ko="손등 키스", drama="Pinocchio", couple="Choi Dal Po & Choi In Ha",
             nickname="Hand to mouth kiss",
             description="It starts as a non-kiss, her hand in the way, until he tries again."),
        dict(title="Bus stop kiss", title_ko="버스 정류장 키스", drama="Emergency Couple", couple="Oh Chang Min & Oh Jin Hee",
             nickname="The bus stop kiss",
             description="After all the rough times, her smile as he leans in says everything."),
        dict(title="Final kiss", title_ko="마지막 키스", drama="My Love From Another Star", couple="Do Min Joon & Cheon Song Yi",
             nickname="Final kiss", spoiler=True,
             description="He finds his way back across time and space, in front of her fans."),
        dict(title="Waterfall kiss", title_ko="폭포 키스", drama="It's Okay, That's Love", couple="Jang Jae Yeol & Ji Hye Soo",
             nickname="Waterfall kiss",
             description="Playing in the water, then a surprise kiss that she returns."),
        dict(title="First kiss", title_ko="첫 키스", drama="My Lovable Girl", couple="Hyun Wook & Se Na",
             nickname="First kiss",
             description="A gentle, comforting kiss when his dog falls ill."),
        dict(title="Bubble gum kiss", title_ko="풍선껌 키스", drama="High School Love On", couple="Shin Woo Hyun & Yi Seul Bi",
             nickname="Bubble gum kiss scene",
             description="The most inventive kiss of the year: through bubble gum."),
        dict(title="Reunion kiss", title_ko="재회 키스", drama="Doctor Stranger", couple="Park Hoon & Oh Soo Hyun",
             nickname="Reunion kiss",
             description="Separated in the North, reunited at last, and it gets heated."),
        dict(title="Mall proposal kiss", title_ko="쇼핑몰 프러포즈 키스", drama="Bride of the Century", couple="Choi Kang Ju & Na Doo Rim",
             nickname="Mall proposal kiss",
             description="The red string of fate, a proposal, then the swoop."),
        dict(title="Toast kiss", title_ko="토스트 키스", drama="Pinocchio", couple="Choi Dal Po & Choi In Ha",
             nickname="The famous toast kiss", spoiler=True,
             description="Who knew toast could be this romantic? (Imagined by her father.)"),
    ],
}

ALL_TIME = {
    "slug": "best-kiss-all-time",
    "title": "Best K-drama kiss of all time",
    "year": None,
    "status": "closed",
    "description": "A blogger's personal favourites, put to the readers.",
    "ballots": 240,
    "candidates": [
        dict(title="Stalled elevator kiss", drama="Que Sera Sera", couple="Eric Moon",
             episode="2", nickname="The elevator kiss", video_url="https://www.youtube.com/results?search_query=Que+Sera+Sera+elevator+kiss",
             video_start=360,
             description="A first lesson in kissing in a stuck elevator; the clip starts at the 6 minute mark."),
        dict(title="First-aid couch kiss", drama="Shark", couple="Kim Nam Gil",
             nickname="Couch kiss", spoiler=True,
             description="Bleeding on the couch, he forgets his wounds; BoA sings Between Heaven and Hell."),
        dict(title="Arrest kiss", drama="Me Too, Flower!", couple="Yoon Si Yoon", episode="6",
             nickname="Restaurant arrest kiss",
             description="She arrests him over a diamond purse, then they make out."),
        dict(title="Balcony kiss", drama="Cruel City", couple="The Doctor's Son & the undercover agent",
             nickname="Balcony kiss", spoiler=True,
             description="A wordless kiss on a balcony in a mobster drama."),
        dict(title="Coffee Prince kiss", drama="Coffee Prince", couple="Gong Yoo",
             nickname="The Coffee Prince kisses",
             description="The one, the only: the love story everyone talks about."),
        dict(title="Melodrama kiss", drama="The Smile Has Left Your Eyes", couple="Seo In-Guk",
             nickname="Seo In-Guk's best smooch",
             description="Over-the-top stakes, a natural kisser."),
        dict(title="Healer kiss", drama="Healer", couple="Ji Chang-Wook",
             nickname="Healer smooch",
             description="From an actor whose shows always deliver in the kissing department."),
        dict(title="Enemies-to-lovers kiss", drama="Mr. Queen", couple="Kim Jung-Hyun & Shin Hye-Sun",
             nickname="Mr. Queen fire",
             description="Comedy, intrigue and a kiss with real chemistry."),
        dict(title="Scholars' kiss", drama="Sungkyunkwan Scandal", couple="The two nerdy scholars",
             nickname="Scholars' kiss",
             description="Two nerdy scholars, one unforgettable kiss."),
        dict(title="Queen In-Hyun kisses", drama="Queen In-Hyun's Man", couple="The lead couple",
             nickname="Ten billion kisses",
             description="They packed them in; half of them felt improvised."),
        dict(title="Love Rain kiss", drama="Love Rain", couple="Jang Keun-Suk & Yoona",
             nickname="Love Rain romance",
             description="He always looks like he is having a good time."),
    ],
}

# Relative popularity for generated ballots: enough spread for several rounds.
_DEMO_WEIGHTS = [9, 7, 6, 6, 8, 4, 3, 5, 2, 3, 1]


def _demo_host() -> Host:
    host = db.session.scalar(select(Host).where(Host.email == DEMO_HOST))
    if host is None:
        host = Host(email=DEMO_HOST)
        host.set_password(secrets.token_urlsafe(24))  # nobody logs in as the demo host
        db.session.add(host)
    return host


def generated_rankings(candidate_ids: list[int], count: int, seed: str) -> Iterator[list[int]]:
    """Plackett-Luce style rankings of 1-5 scenes, reproducible from the seed.

    Candidates get fixed popularity weights in order (any past the eleventh
    the smallest), so counts run several rounds.
    """
    rng = random.Random(seed)
    weights = _DEMO_WEIGHTS + [_DEMO_WEIGHTS[-1]] * (len(candidate_ids) - len(_DEMO_WEIGHTS))
    for _ in range(count):
        pool = list(zip(candidate_ids, weights))
        ranking = []
        for _ in range(min(rng.randint(1, 5), len(pool))):
            pick = rng.choices(range(len(pool)), weights=[w for _, w in pool])[0]
            ranking.append(pool.pop(pick)[0])
        yield ranking


def demo_picture(drama: str) -> bytes:
    """A PNG standing in for a still of the scene: a soft two-colour gradient in a rose or
    violet hue picked by the drama's name, with the name on it. The same name always
    gives the same picture."""
    seed = hashlib.sha256(drama.encode()).digest()
    hue = 0.75 + seed[0] / 255 * 0.25  # violet through rose to red
    dark = tuple(round(255 * v) for v in colorsys.hls_to_rgb(hue % 1, 0.28, 0.55))
    light = tuple(round(255 * v) for v in colorsys.hls_to_rgb((hue + 0.06) % 1, 0.62, 0.65))
    width, height = thumbnails.WIDTH, thumbnails.HEIGHT
    down = Image.linear_gradient("L")  # black at the top to white at the bottom
    across = down.transpose(Image.Transpose.ROTATE_90 if seed[1] % 2 else Image.Transpose.ROTATE_270)
    mask = Image.blend(down, across, 0.5).resize((width, height))  # corner to corner
    picture = Image.composite(Image.new("RGB", (width, height), light), Image.new("RGB", (width, height), dark),
                              mask)
    glow = Image.new("L", (width, height), 0)
    for n in range(3):  # out-of-focus lights behind the couple
        x, y, r = seed[2 + n] * width // 255, seed[5 + n] * height // 255, 20 + seed[8 + n] % 40
        ImageDraw.Draw(glow).ellipse((x - r, y - r, x + r, y + r), fill=70)
    picture.paste((255, 240, 245), mask=glow.filter(ImageFilter.GaussianBlur(12)))
    draw = ImageDraw.Draw(picture)
    font = ImageFont.load_default(size=26)
    lines, line = [], ""
    for word in drama.split():
        if line and draw.textlength(f"{line} {word}", font=font) > width - 40:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    text = "\n".join(lines)
    centre = (width // 2, height // 2)
    draw.multiline_text((centre[0] + 1, centre[1] + 2), text, font=font, anchor="mm", align="center",
                        fill=(40, 10, 30))
    draw.multiline_text(centre, text, font=font, anchor="mm", align="center", fill=(255, 255, 255))
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _load_poll(spec: dict, host: Host) -> str:
    if db.session.scalar(select(Poll).where(Poll.slug == spec["slug"])) is not None:
        return f"{spec['slug']}: already loaded"
    poll = Poll(host=host, slug=spec["slug"], title=spec["title"], year=spec["year"],
                description=spec["description"], status="open")
    poll.candidates = [Candidate(position=i, **c) for i, c in enumerate(spec["candidates"])]
    for candidate in poll.candidates:  # through the same re-encoding as a host's upload
        thumbnails.store_thumbnail(candidate, io.BytesIO(demo_picture(candidate.drama)))
    db.session.add(poll)
    db.session.flush()
    rankings = list(generated_rankings([c.id for c in poll.candidates], spec.get("ballots", 0), spec["slug"]))
    db.session.add_all(
        Ballot(poll_id=poll.id, voter_hash=voter_hash(f"demo-{spec['slug']}-{n}"),
               ranking=RANKING_SEPARATOR.join(map(str, ranking)), receipt=secrets.token_urlsafe(12))
        for n, ranking in enumerate(rankings)
    )
    poll.status = spec["status"]
    return f"{spec['slug']}: loaded {len(poll.candidates)} scenes and {len(rankings)} ballots"


def load_demo() -> list[str]:
    """Create the demo polls that are missing; return one line per poll."""
    host = _demo_host()
    lines = [_load_poll(spec, host) for spec in (BEST_2014, ALL_TIME)]
    db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(Ballot))
    lines.append(f"{total} ballots in the database")
    return lines
