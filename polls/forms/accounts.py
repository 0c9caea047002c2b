"""Forms of host accounts: sign-up, password change and time zone (LoginForm lives in polls.forms)."""
from flask_wtf import FlaskForm
from wtforms import PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Regexp, ValidationError

from polls.forms import clean_line
from polls.models import Host
from polls.timezones import DEFAULT_ZONE, zone_names

# The same floor as `flask polls create-host`; the ceiling is LoginForm's.
MIN_PASSWORD_LENGTH, MAX_PASSWORD_LENGTH = 8, 200
MAX_EMAIL_LENGTH = 254  # Host.email's column


def normalise_email(value):
    """An email as accounts are keyed: one trimmed line, lowercase."""
    value = clean_line(value)
    return value.lower() if isinstance(value, str) else value


def _new_password(label: str) -> PasswordField:
    return PasswordField(label, validators=[
        DataRequired(message="Choose a password."),
        Length(min=MIN_PASSWORD_LENGTH, max=MAX_PASSWORD_LENGTH,
               message=f"Use {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters."),
    ])


def _repeated(other: str) -> PasswordField:
    return PasswordField("Type it again", validators=[
        DataRequired(message="Type the password a second time."),
        EqualTo(other, message="The two passwords do not match."),
    ])


class TimeZoneForm(FlaskForm):
    """The zone the desk shows and reads scheduled times in."""

    timezone = SelectField(
        "Time zone", choices=zone_names, default=DEFAULT_ZONE,
        validators=[InputRequired(message="Pick a time zone from the list.")],
        invalid_choice_message="Pick a time zone from the list.",
        description="Poll opening and closing times are shown and typed in this zone.",
    )


class SignupForm(TimeZoneForm):
    """A new host account."""

    email = StringField("Email", filters=[normalise_email], validators=[
        DataRequired(message="Give your email address."),
        Length(max=MAX_EMAIL_LENGTH),
        Regexp(r"^[^@\s]+@[^@\s]+$", message="That does not look like an email address."),
    ])
    password = _new_password("Password")
    confirm = _repeated("password")


class PasswordChangeForm(FlaskForm):
    """A new password for ``host``, who must give the current one."""

    current_password = PasswordField("Current password", validators=[
        DataRequired(message="Give your current password."), Length(max=MAX_PASSWORD_LENGTH),
    ])
    new_password = _new_password("New password")
    confirm = _repeated("new_password")

    def __init__(self, *args, host: Host, **kwargs):
        super().__init__(*args, **kwargs)
        self._host = host

    def validate_current_password(self, field) -> None:
        if not self._host.check_password(field.data):
            raise ValidationError("That is not your current password.")
