"""Forms for managing accounts."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional, Regexp
from wtforms.widgets import CheckboxInput, ListWidget

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
    password = PasswordField(_l("Initial password"), validators=[Optional(), Length(min=8, max=128)])

    def __init__(self, *args, grid_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.role.choices = role_choices()
        self.grids.choices = list(grid_choices)


class ResetPasswordForm(FlaskForm):
    """A leader sets a new password for someone who forgot theirs."""

    password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=8, max=128)])
