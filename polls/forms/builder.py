"""Forms of the poll builder: moving a scene, importing scenes from a CSV, copying them from another poll."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import AnyOf, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from polls.candidates_csv import CandidatesFile, Problem
from polls.forms import CandidateForm
from polls.models import Candidate, Poll

MOVES = {"up": -1, "down": 1}


class MoveForm(FlaskForm):
    """Move one scene a place up or down the ballot (the button pressed says which)."""

    direction = HiddenField(validators=[AnyOf(tuple(MOVES), message="Move a scene up or down.")])

    @property
    def step(self) -> int:
        return MOVES[self.direction.data]


class ImportCandidatesForm(FlaskForm):
    """A CSV of scenes: an uploaded file or pasted text, one of the two."""

    file = FileField("CSV file", description="Saved from a spreadsheet as “CSV UTF-8”.")
    text = TextAreaField("…or paste the CSV here", description="The header row first, then one scene per line.")

    def validate_text(self, field) -> None:
        pasted = (field.data or "").strip()
        if self.file.data and pasted:
            raise ValidationError("Upload a file or paste the text, not both.")
        if not self.file.data and not pasted:
            raise ValidationError("Choose a CSV file or paste the CSV text.")


def _ticked(form, field) -> None:
    # Not DataRequired: its "required" flag would make the browser demand every checkbox.
    if not field.data:
        raise ValidationError("Tick at least one scene to copy.")


class CopyCandidatesForm(FlaskForm):
    """Which of the host's other polls to copy from, and which of its scenes.

    Give ``sources`` (the polls offered); the scenes offered are those of the
    source posted, so a poll id that is not among ``sources`` copies nothing.
    """

    source = SelectField("Copy scenes from", coerce=int)
    scenes = SelectMultipleField(
        "Scenes to copy", coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput(),
        validators=[_ticked],
    )

    def __init__(self, *args, sources: list[Poll], **kwargs):
        super().__init__(*args, **kwargs)
        self.sources = {poll.id: poll for poll in sources}
        self.source.choices = [(poll.id, source_label(poll)) for poll in sources]
        chosen = self.chosen
        self.scenes.choices = [(scene.id, scene.title) for scene in chosen.candidates] if chosen else []

    @classmethod
    def offering(cls, sources: list[Poll], source: Poll | None) -> "CopyCandidatesForm":
        """The form as first shown: ``source`` picked, with every one of its scenes ticked."""
        return cls(formdata=None, sources=sources, source=source.id if source else None,
                   scenes=[scene.id for scene in source.candidates] if source else [])

    @property
    def chosen(self) -> Poll | None:
        """The source poll picked (None when the id is not one of the sources)."""
        return self.sources.get(self.source.data) if isinstance(self.source.data, int) else None

    def picked_scenes(self) -> list[Candidate]:
        """The ticked scenes, in the source's order."""
        ticked = set(self.scenes.data or ())
        return [scene for scene in self.chosen.candidates if scene.id in ticked]


def source_label(poll: Poll) -> str:
    """'Best kiss of 2013 › Korean (2013, 9 scenes)'."""
    name = f"{poll.parent.title} › {poll.title}" if poll.parent else poll.title
    scenes = len(poll.candidates)
    year = f"{poll.year}, " if poll.year else ""
    return f"{name} ({year}{scenes} scene{'' if scenes == 1 else 's'})"


def scenes_from_csv(poll: Poll, parsed: CandidatesFile, first_position: int) -> tuple[list[Candidate], list[Problem]]:
    """The file's rows as new scenes of ``poll`` (not added to the session), each
    checked by the add-scene form, and every problem found (the reader's too).

    Titles must also differ from each other within the file, case aside.
    """
    problems = list(parsed.problems)
    scenes: list[Candidate] = []
    first_line_of: dict[str, int] = {}
    for row in parsed.rows:
        data = MultiDict(row.values)
        if row.spoiler:
            data["spoiler"] = "y"
        form = CandidateForm(data, poll=poll, meta={"csrf": False})
        valid = form.validate()
        for name, messages in form.errors.items():
            problems += [Problem(row.line, parsed.headers.get(name, name), message) for message in messages]
        title = (form.title.data or "").lower()
        if title in first_line_of:
            problems.append(Problem(row.line, parsed.headers["title"],
                                    f"Line {first_line_of[title]} has the same title; give each scene its own."))
            continue
        if title:
            first_line_of[title] = row.line
        if valid:
            scene = Candidate(position=first_position + len(scenes))
            form.fill(scene)
            scenes.append(scene)
    problems.sort(key=lambda problem: problem.line or 0)
    return scenes, problems
