"""The form of the desk's ballot import: one counting CSV file."""
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired


class ImportBallotsForm(FlaskForm):
    """A counting CSV (``count``, ``rank1``, ``rank2``...) to add to a poll's ballots."""

    ballots = FileField(
        "Ballots file (CSV)",
        validators=[FileRequired("Choose the CSV file to import.")],
        description="Saved from a spreadsheet as “CSV UTF-8”.",
    )
