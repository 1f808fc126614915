"""Forms for signing in."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


class LoginForm(FlaskForm):
    """Username or badge number (警号) and password."""

    login = StringField(_l("Username or badge number"), validators=[DataRequired(), Length(max=40)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=128)])


class PasswordChangeForm(FlaskForm):
    """Change one's own password: the old one, and a new one twice."""

    current = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=128)])
    new = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=128)])
    repeat = PasswordField(_l("Repeat new password"), validators=[DataRequired(), Length(max=128)])

    def validate_repeat(self, field):
        from wtforms.validators import ValidationError

        if field.data != self.new.data:
            raise ValidationError(_l("The two new passwords differ."))
