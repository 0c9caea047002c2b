"""Forms for reader nominations: the fan's suggestion and the host's decisions on it."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length

from polls.forms import clean_line, clean_text
from polls.friction import HONEYPOT_FIELD
from polls.models import Nomination, Poll
from polls.nominations import MAX_LENGTHS, TITLE_MAX, describe, drama_key


class NominationForm(FlaskForm):
    """A fan's "you forgot this kiss!" on the poll page (the JSON API takes the same fields)."""

    # Lazy: the labels are read when the page is drawn, in the fan's language.
    drama = StringField(_l("Drama"), filters=[clean_line],
                        validators=[DataRequired(message=_l("Name the drama the scene is from.")),
                                    Length(max=MAX_LENGTHS["drama"])],
                        description=_l("e.g. Kill Me, Heal Me"))
    episode = StringField(_l("Episode"), filters=[clean_line], validators=[Length(max=MAX_LENGTHS["episode"])],
                          description=_l("If you remember it."))
    scene = StringField(_l("The scene"), filters=[clean_line], validators=[Length(max=MAX_LENGTHS["scene"])],
                        description=_l("What fans call the kiss, e.g. the piggyback kiss."))
    why = TextAreaField(_l("Why it belongs on the list"), filters=[clean_text],
                        validators=[Length(max=MAX_LENGTHS["why"])])

    def suggestion(self) -> dict:
        """The fields as ``polls.nominations.submit_nomination`` takes them."""
        return {name: self[name].data for name in MAX_LENGTHS}


setattr(NominationForm, HONEYPOT_FIELD, StringField(_l("Leave this field empty")))


class AcceptNominationForm(FlaskForm):
    """Accept a suggestion as a scene: its title and, in a poll with categories, which one gets it."""

    title = StringField("Scene title", filters=[clean_line],
                        validators=[DataRequired(message="Give the scene a title."), Length(max=TITLE_MAX)])
    category = SelectField("Category", coerce=int)

    def __init__(self, *args, poll: Poll, **kwargs):
        super().__init__(*args, **kwargs)
        if poll.categories:
            self.category.choices = [SelectChoice(c.id, c.title) for c in poll.categories]
        else:
            del self.category

    def target(self, poll: Poll) -> Poll:
        """The poll or the chosen category (the form must have validated)."""
        if self.category is None:
            return poll
        return next(c for c in poll.categories if c.id == self.category.data)


class MergeNominationForm(FlaskForm):
    """Merge a suggestion into another waiting one: the same drama's first, then any other."""

    into = SelectField("Same scene as", coerce=int)

    def __init__(self, *args, nomination: Nomination, pending: list[Nomination], **kwargs):
        super().__init__(*args, **kwargs)
        key = drama_key(nomination.drama)
        others = [n for n in pending if n.id != nomination.id]
        same = [SelectChoice(n.id, describe(n)) for n in others if drama_key(n.drama) == key]
        rest = [SelectChoice(n.id, describe(n)) for n in others if drama_key(n.drama) != key]
        self.into.choices = {label: choices for label, choices in
                             (("Same drama", same), ("Other suggestions", rest)) if choices}
