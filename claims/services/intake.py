"""Receiving a claim: the shape of what was sent, then the intake edits of DOMAIN.md §3.

Malformed input (a line that is not a mapping, units that are no number, text wider than its column
or that no column can hold, more lines than a claim may have) raises ClaimError naming the field, and
nothing is written. A well-formed claim that fails an intake edit is stored `rejected`, with the field
and the reason (cut to the width of its columns).
"""
import datetime
import hashlib
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction

from core import clock
from core.bulk import bulk_insert, objects_insert
from core.dates import date_parse
from core.errors import Forbidden
from core.money import MONEY_LIMIT, to_money
from core.text import shown
from parties.models import Member, PartyLink, Provider
from parties.roles import Action, action_check, role_of
from parties.validators import npi_is_valid
from plans.models import FeeScheduleEntry, Plan
from plans.selectors import plan_for_member

from ..errors import ClaimError
from ..fsm_log import buffered_transition_log, transition_log_flush
from ..models import Claim, ClaimLine

ZERO = Decimal("0.00")
MAX_UNITS = 9_999
# An 837I carries at most 999 service lines (an 837P 50): more is not a claim, and line numbers stay small.
MAX_LINES = 999
EARLIEST_SERVICE_DATE = datetime.date(1900, 1, 1)  # before it, plan-year arithmetic leaves the calendar
SUBMITTED_ID_WIDTH = Claim._meta.get_field("submitted_member_id").max_length
CODE_WIDTH = ClaimLine._meta.get_field("procedure_code").max_length
REJECTION_FIELD_WIDTH = Claim._meta.get_field("rejection_field").max_length
REJECTION_MESSAGE_WIDTH = Claim._meta.get_field("rejection_message").max_length


@dataclass(frozen=True, slots=True)
class SubmittedLine:
    code: str
    units: int
    billed: Decimal


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def text_clean(value, *, field: str, width: int) -> str:
    """Text a person or a file gave, stripped: no wider than the column that keeps it, no NUL, no lone surrogate
    (what a JSON "\\ud800" decodes to: no database encoding can store it)."""
    try:
        text = str(value if value is not None else "").strip()
    except ValueError:  # an int of more than 4,300 digits: far wider than any column
        raise ClaimError({field: [f"at most {width} characters, got {shown(value)}"]}) from None
    if len(text) > width:  # first: the checks below then look at a few characters, not 10 MB
        raise ClaimError({field: [f"at most {width} characters, got {len(text):,}"]})
    if "\x00" in text:
        raise ClaimError({field: ["must not contain a NUL character"]})
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ClaimError({field: ["must be valid Unicode text (it holds a lone surrogate)"]}) from None
    return text


def claim_lines_parse(lines) -> list[SubmittedLine]:
    """Check the shape of submitted lines; a malformed one is an error naming it (nothing is written)."""
    if lines is None:
        lines = []
    if not isinstance(lines, (list, tuple)):
        raise ClaimError({"lines": ["must be a list of lines"]})
    if len(lines) > MAX_LINES:
        raise ClaimError({"lines": [f"a claim has at most {MAX_LINES} lines, got {len(lines):,}"]})
    out = []
    for i, line in enumerate(lines):
        if not isinstance(line, dict):
            raise ClaimError({f"lines[{i}]": ["must be a mapping with code, billed and units"]})
        code = line.get("code", line.get("procedure_code"))
        if code is None or (isinstance(code, str) and not code.strip()):
            raise ClaimError({f"lines[{i}].code": ["a procedure code is required"]})
        code = text_clean(code, field=f"lines[{i}].code", width=CODE_WIDTH)
        units = line.get("units", 1)
        if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= MAX_UNITS:
            raise ClaimError({f"lines[{i}].units": [f"must be a whole number from 1 to {MAX_UNITS:,}, got {shown(units)}"]})
        if "billed" not in line:
            raise ClaimError({f"lines[{i}].billed": ["a billed amount is required"]})
        try:
            billed = to_money(line["billed"])
        except ValueError as exc:
            raise ClaimError({f"lines[{i}].billed": [f"{exc}"[:200]]}) from None
        out.append(SubmittedLine(code=code, units=units, billed=billed))
    if sum((ln.billed for ln in out), ZERO) >= MONEY_LIMIT:
        raise ClaimError({"lines": [f"the claim's total billed must stay under {MONEY_LIMIT:,}"]})
    return out


def claim_id_parse(value) -> int:
    """A claim's id as given to an action: an int, or its digits ("123"); anything else names the claim."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ClaimError({"claim": [f"not a claim id: {shown(value)}"]})
    if isinstance(value, str):
        text = value.strip()
        if not text.isdecimal():
            raise ClaimError({"claim": [f"not a claim id: {shown(value)}"]})
        digits = text.lstrip("0") or "0"
        if len(digits) > 19:  # beyond any bigint (and int() refuses more than 4,300 digits)
            raise ClaimError({"claim": [f"no claim {_clip(text, 40)}"]})
        value = int(digits)
    if value < 0:
        raise ClaimError({"claim": [f"not a claim id: {shown(value)}"]})
    if value >= 2**63:  # beyond the id column: no such claim, and no query to overflow
        raise ClaimError({"claim": [f"no claim {shown(value)}"]})
    return value


def duplicate_key_for(*, provider_id: int, member_id: int, service_date: datetime.date,
                      lines: list[SubmittedLine]) -> str:
    """Same provider, member, service date and multiset of (code, units, billed) -> same key."""
    multiset = sorted(f"{ln.code}x{ln.units}@{ln.billed}" for ln in lines)
    raw = f"{provider_id}|{member_id}|{service_date.isoformat()}|{'|'.join(multiset)}"
    return hashlib.sha1(raw.encode()).hexdigest()


def _intake_edits(*, member, provider, npi: str, service_date, received_date, lines, codes_known,
                  claim_charge=None):
    """DOMAIN.md §3 intake edits, in order: (field, message) of the first that fails, else None.
    `claim_charge`: the total the sender stated (an 837's CLM02), when it stated one."""
    if member is None:
        return "member_id", "unknown member ID"
    if not npi_is_valid(npi):
        return "npi", f"NPI {shown(npi, 60)} fails its check digit"
    if provider is None:
        return "npi", f"unknown provider NPI {shown(npi, 60)}"
    if not lines:
        return "lines", "the claim has no lines"
    if claim_charge is not None:
        total = sum((ln.billed for ln in lines), ZERO)
        if claim_charge != total:
            return "claim_charge", f"the claim's charge {claim_charge} is not the sum of its lines' charges {total}"
    for i, line in enumerate(lines):
        if line.billed <= 0:
            return f"lines[{i}].billed", f"billed amount must be greater than 0, got {line.billed}"
    for i, line in enumerate(lines):
        if line.code not in codes_known:
            return f"lines[{i}].code", f"procedure code {line.code!r} is not in the fee schedule"
    if service_date > received_date:
        return "service_date", f"service date {service_date} is after the received date {received_date}"
    return None


def _submitter_check(*, user, npi: str) -> None:
    """A login submits only what its role may, and provider staff only for their own provider."""
    action_check(user=user, action=Action.CLAIM_SUBMIT)
    if role_of(user=user) == PartyLink.Role.PROVIDER_STAFF:
        own = user.party_link.provider
        if npi != own.npi:
            raise Forbidden({"npi": [f"{own.name} submits claims under its own NPI ({own.npi}) only"]})


def _claim_shape(*, member_id, npi, service_date, lines, submitted_by, claim_charge=None):
    """The checks of what was sent, before any lookup: malformed input raises ClaimError (or the role's
    refusal, Forbidden); returns the cleaned (member_id, npi, service_date, lines, claim_charge)."""
    member_id = text_clean(member_id, field="member_id", width=SUBMITTED_ID_WIDTH)
    npi = text_clean(npi, field="npi", width=SUBMITTED_ID_WIDTH)
    if submitted_by is not None:
        _submitter_check(user=submitted_by, npi=npi)
    try:
        service_date = date_parse(service_date)
    except ValueError as exc:
        raise ClaimError({"service_date": [str(exc)[:200]]}) from None
    if not EARLIEST_SERVICE_DATE <= service_date:
        raise ClaimError({"service_date": [f"must be on or after {EARLIEST_SERVICE_DATE}, got {service_date}"]})
    parsed = claim_lines_parse(lines)
    if claim_charge is not None:
        try:
            claim_charge = to_money(claim_charge)
        except ValueError as exc:
            raise ClaimError({"claim_charge": [f"{exc}"[:200]]}) from None
    return member_id, npi, service_date, parsed, claim_charge


def _claim_build(*, member_id, npi, member, provider, plan, service_date, received_date, submitted_by, parsed,
                 failed) -> Claim:
    """The claim row as intake leaves it (not saved): `submitted`, or `rejected` with the field and reason."""
    claim = Claim(
        submitted_member_id=member_id, submitted_npi=npi, member=member, provider=provider, plan=plan,
        service_date=service_date, received_date=received_date, submitted_by=submitted_by,
        billed=sum((ln.billed for ln in parsed), ZERO),
    )
    if failed is None:
        claim.duplicate_key = duplicate_key_for(provider_id=provider.pk, member_id=member.pk,
                                                service_date=service_date, lines=parsed)
    else:
        # Rejected before the first save: the row never holds a state its figures contradict.
        field, message = _clip(failed[0], REJECTION_FIELD_WIDTH), _clip(failed[1], REJECTION_MESSAGE_WIDTH)
        claim.rejection_field, claim.rejection_message = field, message
        claim.reject(by=submitted_by, description=f"intake edit failed on {field}: {message}")
    return claim


def _claim_lines_rows(claim: Claim, parsed: list[SubmittedLine]) -> list[ClaimLine]:
    return [ClaimLine(claim=claim, line_number=i + 1, procedure_code=ln.code, units=ln.units, billed=ln.billed)
            for i, ln in enumerate(parsed)]


LINE_FIELDS = ("claim_id", "line_number", "procedure_code", "units", "billed")


def _claim_lines_values(claim: Claim, parsed: list[SubmittedLine]) -> list[tuple]:
    """`_claim_lines_rows` as tuples in LINE_FIELDS order, for a set-wise insert."""
    return [(claim.pk, i + 1, ln.code, ln.units, ln.billed) for i, ln in enumerate(parsed)]


def claim_submit(*, member_id: str, npi: str, service_date, lines, submitted_by=None) -> Claim:
    """Receive a claim. Malformed input raises ClaimError (nothing written); a claim that fails an
    intake edit is stored and `rejected`, with the field and the reason. `submitted_by`: the login
    acting (None: the system, e.g. a file import), checked against the role policy."""
    member_id, npi, service_date, parsed, _ = _claim_shape(
        member_id=member_id, npi=npi, service_date=service_date, lines=lines, submitted_by=submitted_by)
    received_date = clock.today()

    member = Member.objects.filter(member_id=member_id).first() if member_id else None
    provider = Provider.objects.filter(npi=npi).first() if npi else None
    plan = plan_for_member(member=member, on=service_date) if member else None  # the plan adjudication will use
    codes = FeeScheduleEntry.objects.filter(code__in=[ln.code for ln in parsed])
    if plan is not None:
        codes = codes.filter(schedule_id=plan.fee_schedule_id)
    codes_known = set(codes.values_list("code", flat=True))
    failed = _intake_edits(member=member, provider=provider, npi=npi, service_date=service_date,
                           received_date=received_date, lines=parsed, codes_known=codes_known)
    with transaction.atomic(), buffered_transition_log() as log_rows:
        claim = _claim_build(member_id=member_id, npi=npi, member=member, provider=provider, plan=plan,
                             service_date=service_date, received_date=received_date, submitted_by=submitted_by,
                             parsed=parsed, failed=failed)
        claim.save()
        ClaimLine.objects.bulk_create(_claim_lines_rows(claim, parsed))
        transition_log_flush(log_rows)
    return claim


@dataclass(frozen=True, slots=True)
class SubmittedClaim:
    """One claim of a batch, as `claim_submit` takes it, with the total the sender stated (or None)."""
    member_id: str
    npi: str
    service_date: object
    lines: list
    claim_charge: object = None


def claims_submit_batch(*, claims: list[SubmittedClaim], submitted_by=None) -> list[Claim | ClaimError | Forbidden]:
    """Receive many claims (a file's chunk) as `claim_submit` receives each: the same shape checks,
    role check and intake edits (the same helpers), plus the stated charge's check when given; the
    lookups in a few queries for the chunk and the rows written in bulk, in one transaction.

    Returns, per claim in order, the Claim stored (submitted or rejected) or the refusal (ClaimError,
    Forbidden) of a claim that was not stored: one claim's refusal never costs another its place.
    """
    from plans.periods import coverage_on
    from plans.selectors import coverage_periods_for_members

    received_date = clock.today()
    shaped: list = []
    for c in claims:
        try:
            shaped.append(_claim_shape(member_id=c.member_id, npi=c.npi, service_date=c.service_date, lines=c.lines,
                                       submitted_by=submitted_by, claim_charge=c.claim_charge))
        except (ClaimError, Forbidden) as exc:
            shaped.append(exc)
    ok = [s for s in shaped if isinstance(s, tuple)]
    members = {m.member_id: m for m in Member.objects.filter(member_id__any={s[0] for s in ok if s[0]})}
    providers = {p.npi: p for p in Provider.objects.filter(npi__any={s[1] for s in ok if s[1]})}
    periods = coverage_periods_for_members(member_ids=[m.pk for m in members.values()])
    plan_of: dict = {}  # (member pk, service date) -> plan id or the Plan
    for member_id, _, service_date, _, _ in ok:
        member = members.get(member_id)
        if member is not None and (member.pk, service_date) not in plan_of:
            _, period = coverage_on(periods=periods.get(member.pk, []), day=service_date)
            # No period on that day: the plan claim_submit would find (its fallback, one member at a time).
            plan_of[(member.pk, service_date)] = (period[0] if period is not None
                                                  else plan_for_member(member=member, on=service_date))
    plan_ids = {v for v in plan_of.values() if isinstance(v, int)}
    plans = {p.pk: p for p in Plan.objects.filter(pk__in=plan_ids)} if plan_ids else {}
    codes_wanted = {ln.code for s in ok for ln in s[3]}
    schedule_codes: dict = {}
    for schedule_id, code in FeeScheduleEntry.objects.filter(code__any=codes_wanted).values_list("schedule_id", "code"):
        schedule_codes.setdefault(schedule_id, set()).add(code)
    every_code = set().union(*schedule_codes.values()) if schedule_codes else set()

    out: list = []
    rows: list[tuple[Claim, list]] = []
    with transaction.atomic(), buffered_transition_log() as log_rows:
        for s in shaped:
            if not isinstance(s, tuple):
                out.append(s)
                continue
            member_id, npi, service_date, parsed, claim_charge = s
            member = members.get(member_id) if member_id else None
            provider = providers.get(npi) if npi else None
            plan = plan_of.get((member.pk, service_date)) if member is not None else None
            if isinstance(plan, int):
                plan = plans[plan]
            codes_known = schedule_codes.get(plan.fee_schedule_id, set()) if plan is not None else every_code
            failed = _intake_edits(member=member, provider=provider, npi=npi, service_date=service_date,
                                   received_date=received_date, lines=parsed, codes_known=codes_known,
                                   claim_charge=claim_charge)
            claim = _claim_build(member_id=member_id, npi=npi, member=member, provider=provider, plan=plan,
                                 service_date=service_date, received_date=received_date,
                                 submitted_by=submitted_by, parsed=parsed, failed=failed)
            rows.append((claim, parsed))
            out.append(claim)
        # Ids reserved and rows sent with COPY on PostgreSQL (bulk_create's SQL building cost more
        # than the import's database time); lines and the transition log need no ids back.
        objects_insert(Claim, [c for c, _ in rows])
        bulk_insert(ClaimLine, LINE_FIELDS, [v for c, parsed in rows for v in _claim_lines_values(c, parsed)])
        transition_log_flush(log_rows)
    return out
