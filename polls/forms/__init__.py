"""Flask-WTF forms."""
import re
import unicodedata
from urllib.parse import urlsplit

from flask_babel import gettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from wtforms import (
    BooleanField, Field, HiddenField, IntegerField, PasswordField, SelectField, StringField, TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import AnyOf, DataRequired, Length, NumberRange, Optional, Regexp, ValidationError
from wtforms.widgets import TextInput

from polls.ballots import BallotRejected
from polls.extensions import db
from polls.friction import HONEYPOT_FIELD
from polls.integrity import BURST_KINDS, MAX_INVITES_AT_ONCE, parse_minute
from polls.lifecycle import TRANSITIONS, ballot_boxes
from polls.models import Candidate, Poll
from polls.results import METHOD_NAMES, rule_override, set_rule_override
from polls.tally import RESERVED_NAMES, Rules
from polls.thumbnails import ACCEPT as THUMBNAIL_ACCEPT
from polls.thumbnails import Thumbnail, ThumbnailError, make_thumbnail, remove_thumbnail, store_thumbnail

NOT_RANKED = ""
# The years a poll, and the integrity report's days, can be in.
FIRST_YEAR, LAST_YEAR = 1990, 2100


def ballot_form_for(poll: Poll) -> FlaskForm:
    """The no-JavaScript ballot: one rank select per scene (blank means unranked), for
    the poll's scenes or, in a poll with categories, every category's."""

    class BallotForm(FlaskForm):
        pass

    for box in ballot_boxes(poll):
        choices = [SelectChoice(NOT_RANKED, "—")] + [
            SelectChoice(str(n), f"#{n}") for n in range(1, box.rank_limit + 1)
        ]
        for candidate in box.candidates:
            setattr(BallotForm, f"rank_{candidate.id}", SelectField(candidate.title, choices=choices, default=NOT_RANKED))
    if poll.invite_only:
        BallotForm.invite = StringField("Invite code", filters=[clean_line], validators=[Length(max=64)])
    setattr(BallotForm, HONEYPOT_FIELD, StringField("Leave this field empty"))
    return BallotForm()


def ranking_from_form(poll: Poll, form: FlaskForm) -> list[int]:
    """Turn the rank selects into candidate ids best first.

    Two scenes given the same rank are an error for the fan to fix; gaps
    (ranks 1 and 3 with no 2) simply close up.
    """
    ranked: dict[int, int] = {}
    for candidate in poll.candidates:
        value = form[f"rank_{candidate.id}"].data
        if value == NOT_RANKED:
            continue
        rank = int(value)
        if rank in ranked:
            raise BallotRejected(422, "repeated_rank", gettext("Two scenes share rank #%(rank)s; give each its own.",
                                                                      rank=rank))
        ranked[rank] = candidate.id
    return [ranked[rank] for rank in sorted(ranked)]


# --- The host's desk ---------------------------------------------------------

SLUG_PATTERN = r"^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$"
# Paths under /manage/polls/ that a slug would shadow.
RESERVED_SLUGS = frozenset({"new"})
MAX_VIDEO_START = 24 * 3600
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"[ \t]*[\t\r\n][\t\r\n ]*")


def clean_text(value):
    """Trim, and drop control characters (NUL is refused by PostgreSQL text columns)."""
    if isinstance(value, str):
        return _CONTROL_CHARS.sub("", value).strip()
    return value


def clean_line(value):
    """``clean_text`` for one-line fields: tabs and line breaks become single spaces."""
    value = clean_text(value)
    return _LINE_BREAKS.sub(" ", value) if isinstance(value, str) else value


def clean_slug(value):
    value = clean_text(value)
    return value.lower() if isinstance(value, str) else value


def slugify(text: str, max_length: int = 70) -> str:
    """'Best K-drama Kiss of 2014!' -> 'best-k-drama-kiss-of-2014' (may be empty for non-Latin text)."""
    ascii_text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:max_length].rstrip("-")


def parse_start_time(text: str) -> int:
    """Seconds from '360', '6:00' or '1:02:03'; a blank means the start of the clip."""
    text = (text or "").strip()
    if not text:
        return 0
    if re.fullmatch(r"\d{1,6}", text):
        seconds = int(text)
    else:
        match = re.fullmatch(r"(?:(\d{1,2}):)?(\d{1,4}):([0-5]\d)", text)
        if match is None:
            raise ValueError("Give the start as seconds (360) or minutes:seconds (6:00).")
        hours, minutes, secs = (int(part or 0) for part in match.groups())
        if hours and minutes > 59:
            raise ValueError("Give the start as hours:minutes:seconds with minutes under 60.")
        seconds = hours * 3600 + minutes * 60 + secs
    if seconds > MAX_VIDEO_START:
        raise ValueError("The start time must be within the first 24 hours of the clip.")
    return seconds


def format_start_time(seconds: int | None) -> str:
    if not seconds:
        return ""
    hours, rest = divmod(int(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


class LoginForm(FlaskForm):
    email = StringField("Email", filters=[clean_line], validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=200)])


class StartTimeField(Field):
    """A clip start typed as seconds or m:ss; its data is whole seconds."""

    widget = TextInput()

    def process_formdata(self, valuelist):
        self.data = 0
        if valuelist:
            self.data = parse_start_time(valuelist[0])  # ValueError becomes a field error

    def _value(self):
        if self.raw_data:
            return self.raw_data[0]
        return format_start_time(self.data)


def web_url(form, field) -> None:
    """Only absolute http(s) links: no javascript:, data:, relative or odd-looking URLs."""
    value = field.data or ""
    if not value:
        return
    if any(ch.isspace() for ch in value) or "\\" in value:
        raise ValidationError("A link cannot contain spaces or backslashes.")
    try:
        parts = urlsplit(value)
        hostname = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a bad port
    except ValueError:
        raise ValidationError("That does not look like a web address.") from None
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        raise ValidationError("Use a web link starting with https:// (or http://).")


class CountingForm(FlaskForm):
    """How a poll's (or a category's) ballots are counted; shared by polls and categories."""

    max_ranks = IntegerField(
        "Most scenes a fan may rank",
        validators=[Optional(), NumberRange(min=1, max=1000, message="Use a number from 1 to 1000, or leave it blank.")],
        description="Leave blank to let fans rank every scene.",
    )
    method = SelectField(
        "How the ballots are counted",
        choices=[SelectChoice(method, name[0].upper() + name[1:]) for method, name in METHOD_NAMES.items()],
        default="irv",
        description="Instant runoff finds one winner the way cities count ranked ballots; "
                    "single transferable vote fills several places (a top 3).",
    )
    seats = IntegerField(
        "Winners (single transferable vote only)",
        validators=[Optional(), NumberRange(min=1, max=100, message="Use a number from 1 to 100.")],
        description="How many places to fill, e.g. 3 for a top 3. Leave blank for one.",
    )

    tiebreak = SelectField(
        "When scenes tie",
        choices=[
            SelectChoice("previousRoundCountsThenRandom", "Earlier rounds decide; if still tied, a draw"),
            SelectChoice("random", "A draw"),
            SelectChoice("useCandidateOrder", "The order of the scenes in this poll decides"),
            SelectChoice("stopCountingAndAsk", "Stop the count and show the tie (I will settle it)"),
        ],
        default=Rules.tiebreakMode,
        description="A draw is seeded, so the same ballots always give the same result. "
                    "A tie left to you shows on the results page until you pick another rule.",
    )

    @classmethod
    def for_poll(cls, poll: Poll):
        """The form filled in from the poll, for editing."""
        return cls(formdata=None, obj=poll, tiebreak=rule_override(poll, "tiebreakMode", Rules.tiebreakMode))

    def validate_seats(self, field) -> None:
        if (field.data or 1) > 1 and self.method.data != "stv":
            raise ValidationError("Only single transferable vote fills more than one place.")

    def fill(self, poll: Poll) -> None:
        poll.title = self.title.data
        poll.max_ranks = self.max_ranks.data
        poll.method = self.method.data
        poll.seats = self.seats.data or 1
        set_rule_override(poll, "tiebreakMode", self.tiebreak.data)


class CategoryForm(CountingForm):
    """A category of a poll ("Best first kiss"): its name and how it is counted."""

    title = StringField("Category name", filters=[clean_line], validators=[DataRequired(), Length(max=200)],
                        description="e.g. Korean, Taiwanese, or Best first kiss.")


RESULTS_VISIBILITY_CHOICES = [
    SelectChoice("live", "Live: fans see the standings while they vote"),
    SelectChoice("closed", "After closing: standings appear when voting closes"),
    SelectChoice("hidden", "Hidden: only I see them (I announce the winner myself)"),
]


class PollSettingsForm(CountingForm):
    """What a host may change on a poll at any time."""

    title = StringField("Title", filters=[clean_line], validators=[DataRequired(), Length(max=200)])
    year = IntegerField(
        "Year", validators=[Optional(), NumberRange(min=FIRST_YEAR, max=LAST_YEAR, message=f"Pick a year from {FIRST_YEAR} to {LAST_YEAR}.")]
    )
    description = TextAreaField("Description", filters=[clean_text], validators=[Length(max=5000)])
    results_visibility = SelectField("Who sees the results", choices=RESULTS_VISIBILITY_CHOICES, default="live")

    invite_only = BooleanField(
        "Closed list: only fans with one of my invite codes can vote",
        description="For fan-club or newsletter votes. Make the codes on the poll's invite page.",
    )

    def fill(self, poll: Poll) -> None:
        super().fill(poll)
        poll.year = self.year.data
        poll.description = self.description.data or ""
        poll.results_visibility = self.results_visibility.data
        poll.invite_only = bool(self.invite_only.data)


class PollForm(PollSettingsForm):
    """A new poll: its settings plus the slug, fixed once created."""

    slug = StringField(
        "Address (slug)",
        filters=[clean_slug],
        validators=[
            Optional(),
            Length(min=3, max=80, message="The slug must be 3 to 80 characters long."),
            Regexp(SLUG_PATTERN, message="Use lowercase letters, digits and hyphens (not at the start or end)."),
        ],
        description="Lowercase letters, digits and hyphens, e.g. best-kiss-2014. Leave blank to make one from the title.",
    )

    def validate_slug(self, field) -> None:
        if not field.data:
            return
        if field.data in RESERVED_SLUGS:
            raise ValidationError(f"“{field.data}” is reserved; pick another slug.")
        if db.session.scalar(select(Poll.id).where(Poll.slug == field.data)) is not None:
            raise ValidationError(f"The slug “{field.data}” is already taken; pick another.")


class CandidateForm(FlaskForm):
    """A kiss scene on the ballot. Give `poll` (and `candidate` when editing) for the title check."""

    title = StringField("Title", filters=[clean_line], validators=[DataRequired(), Length(max=200)])
    title_ko = StringField("Title in Korean", filters=[clean_line], validators=[Length(max=200)],
                           description="Optional; fans reading KissPoll in Korean see it instead.")
    drama = StringField("Drama", filters=[clean_line], validators=[DataRequired(), Length(max=200)])
    couple = StringField("Couple", filters=[clean_line], validators=[Length(max=200)])
    episode = StringField("Episode", filters=[clean_line], validators=[Length(max=40)])
    nickname = StringField("Scene nickname", filters=[clean_line], validators=[Length(max=200)])
    description = TextAreaField(
        "Short description", filters=[clean_text],
        validators=[Length(max=1000, message="Keep the description under 1000 characters.")],
    )
    video_url = StringField(
        "Video link", filters=[clean_text], validators=[Optional(), Length(max=500), web_url],
        description="Optional https:// link to the clip.",
    )
    video_start = StartTimeField("Clip starts at", description="Seconds (360) or minutes:seconds (6:00).")
    image_url = StringField(
        "Picture link", filters=[clean_text], validators=[Optional(), Length(max=500), web_url],
        description="Optional https:// link to a still of the scene; fans see it as a link.",
    )
    spoiler = BooleanField("Spoiler (gives away the plot)")
    thumbnail = FileField(
        "Thumbnail", render_kw={"accept": THUMBNAIL_ACCEPT}, description="Optional: a still of the scene (JPEG, PNG, WebP or GIF). It is cropped to 16:9, "
                                 "made small and kept on this site, so fans' pages load nothing from elsewhere.",
    )
    remove_thumbnail = BooleanField("Remove the thumbnail")

    def __init__(self, *args, poll: Poll | None = None, candidate: Candidate | None = None, **kwargs):
        super().__init__(*args, obj=candidate, **kwargs)
        self._poll = poll
        self._candidate = candidate
        if not isinstance(self.thumbnail.data, FileStorage):  # filled from obj: the stored row, not an upload
            self.thumbnail.data = None
        # The upload made into a thumbnail while validating: the view stores it (polls.thumbnails).
        self.new_thumbnail: Thumbnail | None = None

    def validate_thumbnail(self, field) -> None:
        if field.data is None:
            return
        try:
            self.new_thumbnail = make_thumbnail(field.data)
        except ThumbnailError as error:
            raise ValidationError(str(error)) from None

    def validate_title(self, field) -> None:
        if (field.data or "").lower() in RESERVED_NAMES:
            raise ValidationError(f"“{field.data}” is a word the vote count uses; give the scene another title.")
        if self._poll is None or not field.data:
            return
        query = select(Candidate.id).where(
            Candidate.poll_id == self._poll.id, func.lower(Candidate.title) == field.data.lower()
        )
        if self._candidate is not None:
            query = query.where(Candidate.id != self._candidate.id)
        if db.session.scalar(query) is not None:
            raise ValidationError(f"This poll already has a scene called “{field.data}”.")

    def fill(self, candidate: Candidate) -> None:
        for name in ("title", "title_ko", "drama", "couple", "episode", "nickname", "description", "video_url",
                     "image_url"):
            setattr(candidate, name, self[name].data or "")
        candidate.video_start = self.video_start.data or 0
        candidate.spoiler = bool(self.spoiler.data)
        if self.new_thumbnail is not None:
            store_thumbnail(candidate, self.new_thumbnail)
        elif self.remove_thumbnail.data:
            remove_thumbnail(candidate)


class StatusForm(FlaskForm):
    """Open, close or reopen a poll (the action comes from the button pressed)."""

    action = HiddenField(validators=[AnyOf(tuple(TRANSITIONS), message="Unknown action.")])


class ConfirmForm(FlaskForm):
    """A bare CSRF-protected button (removing a scene)."""


def _minute_field(form, field) -> None:
    try:
        minute = parse_minute(field.data or "")
    except ValueError:
        raise ValidationError("Not a minute of the report.") from None
    if not FIRST_YEAR <= minute.year <= LAST_YEAR:
        raise ValidationError("Not a minute of the report.")


class QuarantineForm(FlaskForm):
    """Hold one burst from the integrity report out of the count."""

    kind = HiddenField(validators=[AnyOf(tuple(BURST_KINDS), message="Unknown kind of burst.")])
    # A keyed hash (hex), a ranking (ids and commas) or "1" (too fast).
    key = HiddenField(validators=[DataRequired(), Length(max=20000), Regexp(r"^[0-9a-f,]+$")])
    start = HiddenField(validators=[_minute_field])
    end = HiddenField(validators=[_minute_field])

    def validate_end(self, field) -> None:
        if not self.start.errors and not field.errors and parse_minute(field.data) < parse_minute(self.start.data or ""):
            raise ValidationError("The burst ends before it starts.")


class InviteForm(FlaskForm):
    """Make a batch of single-use invite codes."""

    how_many = IntegerField(
        "How many new codes",
        validators=[DataRequired(message="Say how many codes to make."),
                    NumberRange(min=1, max=MAX_INVITES_AT_ONCE,
                                message=f"Make from 1 to {MAX_INVITES_AT_ONCE} codes at a time.")],
    )
