"""The provider's forms: a claim with its lines, the eligibility question, the claim and remittance
lists' filters, an appeal.

A claim's own rules (widths, NUL characters, amounts, units, known codes) are the intake service's
(`claims.services.claim_submit`): this module only reads the rows a person filled in and puts the
service's refusals back next to the fields they name (`lines[2].code` is row 3's procedure code).
"""
import datetime
import re
import uuid
from dataclasses import dataclass, field

from django import forms

from claims.models import ClaimState
from claims.services import MAX_LINES

START_ROWS = 5  # empty line rows a new form shows: enough for most visits without JavaScript
# The most line rows the form takes: three fields a row must stay under the 1,000 fields Django reads
# of one request (DATA_UPLOAD_MAX_NUMBER_FIELDS). An 837P carries at most 50 lines; a longer claim
# (an 837I has up to 999) comes as a file.
FORM_MAX_ROWS = min(MAX_LINES, 300)
LINE_KEY = re.compile(r"^line-(\d{1,3})-(code|units|billed)$")
LINE_SERVICE_KEY = re.compile(r"^lines\[(\d+)\](?:\.(code|units|billed))?$")
LINE_LABELS = {"code": "procedure code", "units": "units", "billed": "billed"}
EARLIEST_DATE = datetime.date(1900, 1, 1)  # before it, plan-year arithmetic leaves the calendar
LATEST_DATE = datetime.date(9998, 12, 31)  # a plan year holding it still ends inside the calendar
ID_WIDTH = 40  # the widest member ID a claim keeps as submitted (Claim.submitted_member_id)


def date_input(**attrs) -> forms.DateInput:
    return forms.DateInput(attrs={"type": "date", **attrs}, format="%Y-%m-%d")


def token_parse(value) -> uuid.UUID | None:
    """The claim form's one-time token, or None when it is missing or is no UUID."""
    try:
        return uuid.UUID(str(value or "")[:40])
    except ValueError:
        return None


class ClaimHeaderForm(forms.Form):
    """The claim's member and service date: passed to the intake service as typed (it checks them)."""

    member_id = forms.CharField(label="Member ID", widget=forms.TextInput(attrs={
        "maxlength": ID_WIDTH, "autocomplete": "off", "spellcheck": "false", "required": True}))
    service_date = forms.CharField(label="Service date", widget=date_input(required=True))

    def __init__(self, *args, business_date: datetime.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["service_date"].widget.attrs["max"] = business_date.isoformat()

    def clean_member_id(self) -> str:
        return self.cleaned_data["member_id"].upper()  # IDs are printed in capitals on the member's card


@dataclass
class LineRow:
    """One row of the claim form's lines, as typed, with the errors the intake service found in it."""

    index: int  # 0-based position on the page
    code: str = ""
    units: str = ""
    billed: str = ""
    errors: dict[str, list[str]] = field(default_factory=dict)  # "code" / "units" / "billed" / "line"

    @property
    def number(self) -> int:
        return self.index + 1

    @property
    def blank(self) -> bool:
        return not (self.code.strip() or self.units.strip() or self.billed.strip())

    def as_submitted(self) -> dict:
        """The line for `claim_submit`: units as a number when they are digits (anything else is passed on
        for the service to refuse by name), a blank billed amount left out (the service asks for it)."""
        line = {"code": self.code.strip().upper()}
        units = self.units.strip()
        if units:
            line["units"] = int(units) if units.isdecimal() and len(units) <= 6 else units
        billed = self.billed.strip().removeprefix("$").strip()
        if billed:
            line["billed"] = billed
        return line


def line_rows_blank(count: int = START_ROWS) -> list[LineRow]:
    return [LineRow(index=i) for i in range(count)]


def line_rows_read(data, *, at_least: int = START_ROWS) -> list[LineRow]:
    """The line rows of a posted claim form, in their order on the page (line-0-code, line-0-units, ...),
    padded with empty rows to `at_least`. Rows past the most the form takes are not read."""
    found: dict[int, dict[str, str]] = {}
    for key in data:
        match = LINE_KEY.match(key)
        if match and int(match[1]) < FORM_MAX_ROWS:
            found.setdefault(int(match[1]), {})[match[2]] = str(data.get(key, ""))
    rows = [LineRow(index=i, **found[k]) for i, k in enumerate(sorted(found))]
    return rows + [LineRow(index=i) for i in range(len(rows), at_least)]


def lines_for_service(rows: list[LineRow]) -> tuple[list[dict], list[LineRow]]:
    """The lines to submit (blank rows ignored) and the row each came from, in the same order."""
    filled = [row for row in rows if not row.blank]
    return [row.as_submitted() for row in filled], filled


def refusal_place(*, message_dict: dict, form: ClaimHeaderForm, filled: list[LineRow]) -> list[dict]:
    """Put the intake service's refusal next to its fields: `member_id` and `service_date` on the form,
    `lines[i].x` on the i-th filled row. Returns the summary shown above the form: label, message and
    the id of the field it names (for a link to it)."""
    summary = []
    for name, messages in message_dict.items():
        match = LINE_SERVICE_KEY.match(name)
        if match and int(match[1]) < len(filled):
            row, part = filled[int(match[1])], match[2] or "line"
            row.errors.setdefault(part, []).extend(messages)
            label = f"Line {row.number} {LINE_LABELS.get(part, '')}".strip()
            target = f"id_line-{row.index}-{part if part != 'line' else 'code'}"
            summary.extend({"label": label, "message": m, "target": target} for m in messages)
        elif name in form.fields:  # listed in the summary with the form's own errors
            form.add_error(name, messages)
        else:  # "lines" (too many, or a total out of range) or anything else: about the claim as a whole
            form.add_error(None, [f"{'Lines' if name == 'lines' else name}: {m}" for m in messages])
    return summary


def form_error_summary(form: forms.Form) -> list[dict]:
    """The header form's field errors for the summary above the form (its errors about the whole claim
    are shown at the top of the form itself)."""
    out = []
    for name, errors in form.errors.items():
        if name != "__all__":
            out.extend({"label": form.fields[name].label, "message": m, "target": f"id_{name}"} for m in errors)
    return out


class EligibilityForm(forms.Form):
    """A 270 question: a member ID on a date."""

    member_id = forms.CharField(label="Member ID", max_length=ID_WIDTH, widget=forms.TextInput(attrs={
        "autocomplete": "off", "spellcheck": "false"}))
    on = forms.DateField(label="Date of service", input_formats=["%Y-%m-%d"], widget=date_input())

    def clean_on(self) -> datetime.date:
        day = self.cleaned_data["on"]
        if not EARLIEST_DATE <= day <= LATEST_DATE:
            raise forms.ValidationError(f"Give a date from {EARLIEST_DATE} to {LATEST_DATE}.")
        return day


class ClaimSearchForm(forms.Form):
    """A list's search box (GET): a bad value (too long, a NUL character) is named and ignored."""

    q = forms.CharField(label="Claim number or member ID", required=False, max_length=60,
                        widget=forms.TextInput(attrs={"type": "search"}))


class ClaimFilterForm(ClaimSearchForm):
    """The claim list's filters (GET): a field with a bad value is named and ignored; the rest apply."""

    state = forms.ChoiceField(label="State", required=False, choices=[("", "Any state"), *ClaimState.choices])
    field_order = ["state", "q"]


class RemittanceFilterForm(forms.Form):
    """The remittance list's filters (GET): issued between two dates."""

    issued_from = forms.DateField(label="Issued on or after", required=False, input_formats=["%Y-%m-%d"],
                                  widget=date_input())
    issued_to = forms.DateField(label="Issued on or before", required=False, input_formats=["%Y-%m-%d"],
                                widget=date_input())


class AppealForm(forms.Form):
    reason = forms.CharField(label="Reason for the appeal", max_length=500, widget=forms.Textarea(attrs={"rows": 3}))
