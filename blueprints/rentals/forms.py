"""Field forms of the rentals ledger: registration and inspection (online and offline, one class each).

A synced item is one flat dict, so repeated parts are WTForms FieldLists of FormFields whose inputs
are named `tenants-0-name`, `tenants-0-doc_number`, ... — a MultiDict of the flat dict fills them the
same way as the online POST does.
"""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, HiddenField, IntegerField, SelectField,
                     StringField, TextAreaField)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from blueprints.residents import people
from blueprints.residents.forms import AddressFieldsMixin
from blueprints.sync.records import FieldRecordMixin

MAX_TENANTS = 30  # a large group rental; more is a data-entry mistake
MAX_HAZARDS = 10


def use_choices():
    return [("residential", _l("Residential (住宅)")), ("group", _l("Group rental (群租)")),
            ("mixed", _l("Residential and business (商住)")), ("commercial", _l("Business (商用)")),
            ("other", _l("Other"))]


def _not_in_future(form, field):
    if field.data and field.data > people.today_local():
        raise ValidationError(_l("This date is in the future."))


class BlankRowMixin:
    """A repeated row left completely empty is skipped, not refused (phones show spare rows)."""

    ignored_when_blank = ("doc_type",)  # a select always sends its default

    def is_blank(self) -> bool:
        for name, f in self._fields.items():
            if name in self.ignored_when_blank:
                continue
            values = f.raw_data if f.raw_data is not None else [f.data]
            if any(v is not None and str(v).strip() for v in values):
                return False
        return True

    def validate(self, extra_validators=None):
        if self.is_blank():
            return True
        return super().validate(extra_validators)


class TenantForm(BlankRowMixin, Form):
    """One tenant of the household: who, and when they moved in (and out)."""

    name = StringField(_l("Tenant name"), validators=[DataRequired(message=_l("Enter the name.")), Length(max=40)])
    doc_type = SelectField(_l("Document type"), choices=people.doc_type_choices(), default="resident")
    doc_number = StringField(_l("Document number"), validators=[DataRequired(message=_l("Enter the number."))],
                             render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    phone = StringField(_l("Phone"), validators=[Optional(), Length(max=30)],
                        render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off"})
    move_in = DateField(_l("Moved in"), validators=[InputRequired(message=_l("Enter the move-in date.")),
                                                    _not_in_future])
    move_out = DateField(_l("Moved out"), validators=[Optional()])

    def validate_doc_number(self, field):
        try:
            people.validate_document(self.doc_type.data, field.data)
        except people.LedgerError as error:
            raise ValidationError(error.message) from None

    def validate_phone(self, field):
        try:
            people.validate_phone(field.data)
        except people.LedgerError as error:
            raise ValidationError(error.message) from None

    def validate_move_out(self, field):
        if field.data and self.move_in.data and field.data < self.move_in.data:
            raise ValidationError(_l("Move-out is before move-in."))


class RentalForm(FieldRecordMixin, AddressFieldsMixin, FlaskForm):
    """Register a rental household: address, landlord, rooms, use, lease, tenants, notes, photo."""

    landlord_name = StringField(_l("Landlord name"), validators=[DataRequired(message=_l("Enter the name.")),
                                                                 Length(max=40)])
    landlord_doc_type = SelectField(_l("Document type"), choices=people.doc_type_choices(), default="resident")
    landlord_doc_number = StringField(_l("Landlord document number"),
                                      validators=[DataRequired(message=_l("Enter the number."))],
                                      render_kw={"autocomplete": "off", "autocapitalize": "characters"})
    landlord_phone = StringField(_l("Landlord phone"), validators=[Optional(), Length(max=30)],
                                 render_kw={"type": "tel", "inputmode": "tel", "autocomplete": "off"})
    rooms = IntegerField(_l("Rooms let"), validators=[
        InputRequired(message=_l("Enter the number of rooms.")),
        NumberRange(min=1, max=200, message=_l("Between 1 and 200 rooms."))])
    use = SelectField(_l("Use"), choices=use_choices(), default="residential")
    lease_start = DateField(_l("Lease start"), validators=[InputRequired(message=_l("Enter the lease start."))])
    lease_end = DateField(_l("Lease end"), validators=[Optional()])
    tenants = FieldList(FormField(TenantForm), min_entries=1, max_entries=MAX_TENANTS)
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=1000)])
    photo = FileField(_l("Photo"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.init_grids()
        self.community.validators = [DataRequired(message=_l("Enter the community.")), Length(max=60)]
        self.street.validators = [DataRequired(message=_l("Enter the street.")), Length(max=80)]

    def validate_landlord_doc_number(self, field):
        try:
            people.validate_document(self.landlord_doc_type.data, field.data)
        except people.LedgerError as error:
            raise ValidationError(error.message) from None

    def validate_landlord_phone(self, field):
        try:
            people.validate_phone(field.data)
        except people.LedgerError as error:
            raise ValidationError(error.message) from None

    def validate_lease_end(self, field):
        if field.data and self.lease_start.data and field.data < self.lease_start.data:
            raise ValidationError(_l("The lease ends before it starts."))

    def validate_tenants(self, field):
        seen = set()
        for entry in field.entries:
            tenant = entry.form
            if tenant.is_blank() or not tenant.doc_number.data:
                continue
            key = (tenant.doc_type.data, people.normalise_number(tenant.doc_number.data))
            if key in seen:
                tenant.doc_number.errors = list(tenant.doc_number.errors) + [
                    str(_l("This tenant is listed twice."))]
                raise ValidationError(_l("A tenant is listed twice."))
            seen.add(key)

    def filled_tenants(self):
        """The tenant rows that were filled in."""
        return [entry.form for entry in self.tenants.entries if not entry.form.is_blank()]


class TenancyForm(TenantForm):
    """Add one tenant to a household already on file (CSRF-protected page form)."""


class TenancyPageForm(FlaskForm):
    """The page version of TenancyForm (a FlaskForm for CSRF)."""

    tenant = FormField(TenancyForm)


class MoveOutForm(FlaskForm):
    move_out = DateField(_l("Moved out"), validators=[InputRequired(message=_l("Enter the move-out date.")),
                                                      _not_in_future])


class HazardForm(BlankRowMixin, Form):
    """A hazard found: what, and by when it must be put right."""

    description = StringField(_l("Hazard"), validators=[DataRequired(message=_l("Describe the hazard.")),
                                                        Length(max=200)])
    due_on = DateField(_l("Rectify by"), validators=[InputRequired(message=_l("Enter the due date."))])


class InspectionForm(FieldRecordMixin, FlaskForm):
    """A safety inspection of a household: checklist, findings, hazards with due dates, photo."""

    household_id = HiddenField("Household Id", validators=[DataRequired(message=_l("Choose the household."))])
    inspected_on = DateField(_l("Date"), validators=[InputRequired(message=_l("Enter the date.")), _not_in_future])
    fire_extinguisher = BooleanField(_l("Fire extinguisher present and charged"))
    escape_route = BooleanField(_l("Escape route clear"))
    wiring_ok = BooleanField(_l("Wiring safe"))
    ebikes_indoors = BooleanField(_l("E-bikes charged indoors"))
    tenants_registered = BooleanField(_l("Tenant registration up to date"))
    findings = TextAreaField(_l("Findings"), validators=[Optional(), Length(max=1000)])
    hazards = FieldList(FormField(HazardForm), min_entries=1, max_entries=MAX_HAZARDS)
    photo = FileField(_l("Photo"))

    def validate_household_id(self, field):
        if not str(field.data or "").isdigit():
            raise ValidationError(_l("Choose the household."))

    def validate_hazards(self, field):
        for entry in field.entries:
            hazard = entry.form
            if not hazard.is_blank() and hazard.due_on.data and self.inspected_on.data \
                    and hazard.due_on.data < self.inspected_on.data:
                hazard.due_on.errors = list(hazard.due_on.errors) + [
                    str(_l("The due date is before the inspection."))]
                raise ValidationError(_l("Check the hazards."))

    def filled_hazards(self):
        return [entry.form for entry in self.hazards.entries if not entry.form.is_blank()]
