"""Forms for managing accounts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.auth.forms import StrongPassword
from models.users import ROLES


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (big enough to tap, unlike a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_choices():
    from web import role_label

    return [(r, role_label(r)) for r in ROLES]


class UserForm(FlaskForm):
    """Create or edit an account; the password is only asked for on create."""

    username = StringField(
        _l("Username"),
        validators=[DataRequired(), Length(min=3, max=40),
                    Regexp(r"^[A-Za-z0-9._-]+$", message=_l("Letters, digits, dot, dash and underscore only."))],
    )
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=40)])
    badge_no = StringField(
        _l("Badge number"),
        validators=[Optional(), Length(max=20), Regexp(r"^[A-Za-z0-9]+$", message=_l("Letters and digits only."))],
    )
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=20)])
    role = SelectField(_l("Role"), choices=[], validators=[DataRequired()])
    is_auxiliary = BooleanField(_l("Auxiliary officer (辅警)"))
    grids = MultiCheckboxField(_l("Grids"), coerce=int, choices=[])
    password = PasswordField(_l("Initial password"), validators=[
        Optional(), Length(max=128), StrongPassword(lambda form: form.username.data)])

    def __init__(self, *args, grid_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.grids.choices = list(grid_choices)


class ResetPasswordForm(FlaskForm):
    """A leader sets a new password for someone who forgot theirs (`username`: that account's)."""

    password = PasswordField(_l("New password"), validators=[
        DataRequired(), Length(max=128), StrongPassword(lambda form: form.account_username)])

    def __init__(self, *args, username: str | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.account_username = username


class UnlockForm(FlaskForm):
    """Unlock an account locked by failed logins (the CSRF token only)."""


class AuditFilterForm(FlaskForm):
    """Filters of the audit log (GET parameters, so no CSRF token)."""

    class Meta:
        csrf = False

    action = SelectField(_l("Action"), choices=[], validators=[Optional()])
    user = SelectField(_l("User"), choices=[], validators=[Optional()])
    object_type = SelectField(_l("Record type"), choices=[], validators=[Optional()])
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def __init__(self, *args, actions=(), users=(), object_types=(), **kwargs):
        super().__init__(*args, **kwargs)
        from flask_babel import gettext as _

        self.action.choices = [("", _("All"))] + [(a, a) for a in actions]
        self.user.choices = [("", _("All"))] + [(str(u.id), f"{u.name} ({u.username})") for u in users]
        self.object_type.choices = [("", _("All"))] + [(t, t) for t in object_types]

    def validate_end(self, field):
        from wtforms.validators import ValidationError

        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError(_l("The end is before the start."))
