"""Forms of the poll desk: the schedule and new categories."""
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, StringField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from polls.forms import FIRST_YEAR, LAST_YEAR, clean_line
from polls.timezones import to_local, to_utc

_MINUTE = "%Y-%m-%dT%H:%M"


def _plausible_year(form, field) -> None:
    if field.data is not None and not FIRST_YEAR <= field.data.year <= LAST_YEAR:
        raise ValidationError(f"Pick a time from {FIRST_YEAR} to {LAST_YEAR}.")


class ScheduleForm(FlaskForm):
    """When voting opens and closes by itself, typed in the host's time zone."""

    opens_at = DateTimeLocalField("Voting opens at", format=_MINUTE, validators=[Optional(), _plausible_year],
                                  description="Leave blank to open it with the button.")
    closes_at = DateTimeLocalField("Voting closes at", format=_MINUTE, validators=[Optional(), _plausible_year],
                                   description="Leave blank to close it with the button.")

    @classmethod
    def for_poll(cls, poll, zone: str) -> "ScheduleForm":
        def local(moment):
            return to_local(moment, zone).replace(tzinfo=None) if moment else None
        return cls(formdata=None, opens_at=local(poll.opens_at), closes_at=local(poll.closes_at))

    def validate_closes_at(self, field) -> None:
        if field.data and self.opens_at.data and field.data <= self.opens_at.data:
            raise ValidationError("Voting must close after it opens.")

    def times_in_utc(self, zone: str):
        """(opens_at, closes_at) as stored: naive UTC."""
        return to_utc(self.opens_at.data, zone), to_utc(self.closes_at.data, zone)


class NewCategoryForm(FlaskForm):
    title = StringField("New category", filters=[clean_line], validators=[DataRequired(), Length(max=200)],
                        description="e.g. Korean, Taiwanese, or Best first kiss. Each is counted on its own.")
