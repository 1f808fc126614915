"""Forms for signing in and changing one's password; the password-policy validator they share."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length, ValidationError

from domain.passwords import MIN_LENGTH, weakness


def policy_message(code: str) -> str:
    """The user's-language reason a password was refused (domain.passwords codes)."""
    from flask_babel import gettext as _

    messages = {
        "short": _("Use at least %(n)d characters.", n=MIN_LENGTH),
        "common": _("This password is too common and easy to guess. Choose another one."),
        "username": _("The password must not contain the username."),
    }
    return messages[code]


class StrongPassword:
    """WTForms validator for new passwords: the station's policy, the message beside the field.

    `username` is a function of the form giving the account's username (the password must not
    contain it).
    """

    def __init__(self, username=lambda form: None):
        self.username = username

    def __call__(self, form, field):
        code = weakness(field.data, self.username(form))
        if code is not None:
            raise ValidationError(policy_message(code))


class LoginForm(FlaskForm):
    """Username or badge number (警号) and password."""

    login = StringField(_l("Username or badge number"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class PasswordChangeForm(FlaskForm):
    """Change one's own password: the old one, and a new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    new = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(max=128), StrongPassword(lambda form: current_user.username)])
    repeat = PasswordField(_l("Repeat new password"), validators=[DataRequired(), Length(max=128)])

    def validate_repeat(self, field):
        if field.data != self.new.data:
            raise ValidationError(_l("The two new passwords differ."))
