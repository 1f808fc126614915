"""Forms of the residents ledger: a resident, the reason to reveal a number, an Excel import."""
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from blueprints.residents import people


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as checkboxes (big enough to tap, unlike a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def grid_choices(user) -> list[tuple[int, str]]:
    """Grids the user may file records under: their own, or the station's for station-wide roles."""
    from sqlalchemy import select

    from extensions import db
    from models import Grid

    if people.sees_station(user):
        grids = db.session.scalars(select(Grid).where(Grid.station_id == user.station_id).order_by(Grid.code))
    else:
        grids = user.grids
    return [(g.id, g.name) for g in grids]


class AddressFieldsMixin:
    """The parts of a standard address; an address already on file is reused, never duplicated."""

    community = StringField(_l("Community"), validators=[Optional(), Length(max=60)])
    street = StringField(_l("Street and number"), validators=[Optional(), Length(max=80)])
    building = StringField(_l("Building"), validators=[Optional(), Length(max=20)])
    unit = StringField(_l("Unit"), validators=[Optional(), Length(max=20)])
    room = StringField(_l("Room"), validators=[Optional(), Length(max=20)])
    grid_id = SelectField(_l("Grid"), coerce=int, choices=[], validate_choice=False)

    def init_grids(self):
        choices = grid_choices(current_user) if current_user and current_user.is_authenticated else []
        self.grid_id.choices = choices

    def validate_grid_id(self, field):
        from wtforms.validators import ValidationError

        if field.data not in {c[0] for c in field.choices}:
            raise ValidationError(_l("Choose one of your grids."))


class ResidentForm(AddressFieldsMixin, FlaskForm):
    """A resident: identity, contact, address, category and tags."""

    name = StringField(_l("Name"), validators=[DataRequired(message=_l("Enter the name.")), Length(max=40)])
    doc_type = SelectField(_l("Document type"), choices=people.doc_type_choices(), default="resident")
    doc_number = StringField(_l("Document number"), validators=[DataRequired(message=_l("Enter the number."))],
                             render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)],
                        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off"})
    category = SelectField(_l("Category"), choices=people.category_choices(), default="permanent")
    tags = MultiCheckboxField(_l("Tags"), choices=people.tag_choices())
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=500)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_grids()


class RevealForm(FlaskForm):
    """Why the full number is needed: kept in the audit log."""

    reason = StringField(_l("Reason"), validators=[
        DataRequired(message=_l("Say why you need the full number.")),
        Length(min=4, max=200, message=_l("Give a reason of 4 to 200 characters."))],
        render_kw={"autocomplete": "off"})


class ImportForm(FlaskForm):
    """An Excel file made from the template; by default nothing is imported until every row is clean."""

    file = FileField(_l("Excel file (.xlsx)"))
    mode = SelectField(_l("When some rows have errors"), choices=[
        ("all", _l("Import nothing; show me the errors")),
        ("clean", _l("Import the clean rows only"))], default="all")
