"""What the API sends and receives, as serializers: they render the answers and describe them in
the OpenAPI schema. Input is checked by the services themselves (claims intake names the field); the
request serializers here document it (and check only what no service sees, e.g. the token form)."""
from rest_framework import serializers

from claims.carc import CARC_MEANING

MONEY = {"max_digits": 14, "decimal_places": 2}


def Money(**kwargs):  # noqa: N802 (a field factory, read like a field class)
    return serializers.DecimalField(**MONEY, **kwargs)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="invalid, not_found, forbidden, conflict, not_authenticated, "
                                           "authentication_failed, throttled, locked_out, parse_error, "
                                           "idempotency_key_reused, method_not_allowed, unsupported_media_type, "
                                           "not_acceptable")
    message = serializers.CharField(help_text="The messages in one line, each after the field it concerns.")
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()),
                                   help_text='field -> messages, e.g. {"lines[0].billed": ["a billed amount is '
                                             'required"]}; empty when no field is concerned.')


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- Tokens ------------------------------------------------------------------------------------

class TokenRequestSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150, trim_whitespace=False)
    password = serializers.CharField(max_length=4096, trim_whitespace=False, style={"input_type": "password"})


class TokenSerializer(serializers.Serializer):
    token = serializers.CharField(help_text='Send it as "Authorization: Token <token>".')


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    role = serializers.CharField(allow_null=True)
    party = serializers.CharField(allow_null=True)


# --- Claims -------------------------------------------------------------------------------------

class ClaimLineInSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=10, help_text="The procedure code (CPT/HCPCS).")
    units = serializers.IntegerField(min_value=1, max_value=9999, required=False, default=1)
    billed = serializers.CharField(help_text='The amount billed, e.g. "150.00" (a JSON number is read exactly: '
                                             '150.00, never as a float).')


class ClaimSubmitSerializer(serializers.Serializer):
    member_id = serializers.CharField(max_length=40, help_text="The member ID on the card.")
    npi = serializers.CharField(max_length=40, help_text="The billing provider's NPI.")
    service_date = serializers.DateField(help_text="YYYY-MM-DD")
    lines = ClaimLineInSerializer(many=True, help_text="1 to 999 service lines.")


class CodeMeaningSerializer(serializers.Serializer):
    code = serializers.CharField()
    meaning = serializers.CharField()


def codes_with_meaning(codes: list[str]) -> list[dict]:
    return [{"code": c, "meaning": CARC_MEANING.get(c, "")} for c in codes]


class PartyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class MemberRefSerializer(serializers.Serializer):
    member_id = serializers.CharField()
    name = serializers.CharField()


class ProviderRefSerializer(serializers.Serializer):
    npi = serializers.CharField()
    name = serializers.CharField()


class ClaimTotalsSerializer(serializers.Serializer):
    billed = Money()
    allowed = Money()
    deductible = Money()
    copay = Money()
    coinsurance = Money()
    not_covered = Money()
    balance_billed = Money()
    plan_paid = Money()
    member_responsibility = Money()
    provider_write_off = Money()


class LineOutcomeSerializer(serializers.Serializer):
    category = serializers.CharField()
    fee = Money(allow_null=True)
    allowed = Money()
    deductible = Money()
    copay = Money()
    coinsurance = Money()
    not_covered = Money()
    balance_billed = Money()
    provider_write_off = Money()
    plan_paid = Money()
    member_owes = Money()
    denied = serializers.BooleanField()
    reason_codes = CodeMeaningSerializer(many=True)
    trace = serializers.ListField(child=serializers.CharField(),
                                  help_text="The steps that produced these figures, in order.")


class ClaimLineSerializer(serializers.Serializer):
    line_number = serializers.IntegerField()
    procedure_code = serializers.CharField()
    units = serializers.IntegerField()
    billed = Money()
    outcome = LineOutcomeSerializer(allow_null=True, help_text="The current adjudication's figures; null "
                                                               "before adjudication (and on a rejected claim).")


class TransitionSerializer(serializers.Serializer):
    source_state = serializers.CharField(allow_null=True)
    state = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField(allow_null=True)
    description = serializers.CharField(allow_blank=True)


class RejectionSerializer(serializers.Serializer):
    field = serializers.CharField()
    message = serializers.CharField()


class ClaimSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    claim_number = serializers.CharField()
    status = serializers.CharField(help_text="submitted, rejected, pended, approved, denied, appealed, "
                                             "awaiting_funds or paid")
    member_id = serializers.CharField(help_text="As submitted.")
    npi = serializers.CharField(help_text="As submitted.")
    service_date = serializers.DateField()
    received_date = serializers.DateField()
    billed = Money()
    plan_paid = Money()
    member_responsibility = Money()


class ClaimDetailSerializer(ClaimSummarySerializer):
    member = MemberRefSerializer(allow_null=True)
    provider = ProviderRefSerializer(allow_null=True)
    plan = PartyRefSerializer(allow_null=True)
    adjudicated_on = serializers.DateField(allow_null=True)
    paid_on = serializers.DateField(allow_null=True)
    duplicate_of = serializers.CharField(allow_null=True, help_text="The claim number this one duplicates.")
    rejection = RejectionSerializer(allow_null=True, help_text="Why intake rejected it (the field and the reason).")
    totals = ClaimTotalsSerializer()
    reason_codes = CodeMeaningSerializer(many=True)
    lines = ClaimLineSerializer(many=True)
    timeline = TransitionSerializer(many=True)


# --- Eligibility ---------------------------------------------------------------------------------

class LimitSerializer(serializers.Serializer):
    limit = Money()
    met = Money()
    remaining = Money()


class BenefitSerializer(serializers.Serializer):
    category = serializers.CharField()
    label = serializers.CharField()
    treatment = serializers.CharField()
    copay = Money(allow_null=True)


class PlanRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    sponsor = serializers.CharField()


class EligibilitySerializer(serializers.Serializer):
    member_id = serializers.CharField()
    on = serializers.DateField()
    status = serializers.ChoiceField(choices=["active", "invalid_id", "not_found", "before_coverage",
                                              "after_coverage"])
    message = serializers.CharField()
    in_force = serializers.BooleanField()
    member = MemberRefSerializer(allow_null=True)
    plan = PlanRefSerializer(allow_null=True)
    coverage_start = serializers.DateField(allow_null=True)
    coverage_end = serializers.DateField(allow_null=True)
    family_coverage = serializers.BooleanField()
    plan_year_start = serializers.DateField(allow_null=True)
    plan_year_end = serializers.DateField(allow_null=True)
    benefits = BenefitSerializer(many=True)
    deductible = LimitSerializer(allow_null=True)
    out_of_pocket = LimitSerializer(allow_null=True)
    family_deductible = LimitSerializer(allow_null=True)
    family_out_of_pocket = LimitSerializer(allow_null=True)


# --- Money ----------------------------------------------------------------------------------------

class RemittanceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    issued_on = serializers.DateField()
    payment_run = serializers.IntegerField()
    payee = ProviderRefSerializer()
    payer = serializers.CharField()
    sponsor = serializers.CharField()
    amount = Money()
    claim_count = serializers.IntegerField()


class AdjustmentSerializer(serializers.Serializer):
    group = serializers.CharField()
    carc = serializers.CharField()
    amount = Money()


class RemittanceLineSerializer(serializers.Serializer):
    line_number = serializers.IntegerField()
    procedure_code = serializers.CharField()
    units = serializers.IntegerField()
    billed = Money()
    allowed = Money()
    paid = Money()
    balance_billed = Money()
    adjustments = AdjustmentSerializer(many=True)


class RemittanceClaimSerializer(serializers.Serializer):
    payment_id = serializers.IntegerField()
    claim_id = serializers.IntegerField()
    claim_number = serializers.CharField()
    patient_member_id = serializers.CharField()
    patient_name = serializers.CharField(allow_blank=True)
    service_date = serializers.DateField()
    received_date = serializers.DateField()
    billed = Money()
    paid = Money()
    patient_responsibility = Money()
    provider_write_off = Money()
    reason_codes = serializers.ListField(child=serializers.CharField())
    lines = RemittanceLineSerializer(many=True)


class FundingRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sponsor = PartyRefSerializer()
    payment_run = serializers.IntegerField()
    requested_on = serializers.DateField()
    amount = Money()
    open_amount = Money()


class ReimbursementInvoiceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sponsor = PartyRefSerializer()
    carrier = PartyRefSerializer()
    issued_on = serializers.DateField()
    amount = Money()
    open_amount = Money()


class FeeBillingSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    sponsor = PartyRefSerializer()
    plan = PartyRefSerializer()
    kind = serializers.ChoiceField(choices=["admin_fee", "premium"])
    month = serializers.DateField()
    billed_on = serializers.DateField()
    subscribers = serializers.IntegerField()
    pepm = Money()
    amount = Money()
