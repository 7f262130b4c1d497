"""The 835 health care claim payment/advice (005010X221A1) of one remittance.

Built from the readers the provider's remittance screen uses (`funding.selectors.remittance_advice_for`
for the payment and payee, `remittance_claims_for` a bounded page of claims at a time), the segments
sent through pyx12's writer, which counts them. The figures balance as an 835 requires: per line
SVC02 − its CAS amounts = SVC03, per claim CLP03 − its lines' CAS = CLP04, CLP05 = the claim's PR
adjustments, BPR02 = the sum of CLP04 (no provider-level adjustments).

CAS groups and reason codes come from `claims.carc` (the one table): PR-1/2/3 deductible, coinsurance,
copay; CO-45 write-off; a denied line's code with its group (PR 26, 27, 96, 242; CO 18, 29, 50); the
out-of-network balance billed to the member PR-243.
"""
from decimal import Decimal

from claims.carc import CARCS
from funding.models import Payment
from funding.selectors import remittance_advice_for, remittance_claims_for

from ..models import InboundClaim
from .envelope import ELE_TERM, SUBELE_TERM, control_number, gs, isa, x12_clean, x12_write

VERSION = "005010X221A1"
PAGE = 500
ZERO = Decimal("0.00")


def _m(value) -> str:
    """An X12 amount (R): 150, 150.5 or 150.25; never a float."""
    text = f"{Decimal(value):.2f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def _d(day) -> str:
    return day.strftime("%Y%m%d")


def _digits(text: str) -> str:
    return "".join(ch for ch in text or "" if ch.isdigit())


def line_adjustments(line: dict) -> list[tuple[str, str, Decimal]]:
    """(group, CARC, amount) of one line as the remittance reader gives them (funding.selectors.line_adjustments,
    the balance billed among them)."""
    return [(a["group"], a["carc"], Decimal(a["amount"])) for a in line["adjustments"] if Decimal(a["amount"]) != 0]


def _cas(adjustments: list[tuple[str, str, Decimal]]) -> list[str]:
    """One CAS per group, up to six reasons each (CAS02…CAS19), in the order given."""
    out = []
    groups: dict[str, list] = {}
    for group, carc, amount in adjustments:
        groups.setdefault(group, []).append((carc, amount))
    for group, reasons in groups.items():
        for at in range(0, len(reasons), 6):
            parts = ["CAS", group]
            for carc, amount in reasons[at:at + 6]:
                parts += [carc, _m(amount), ""]
            out.append(ELE_TERM.join(parts).rstrip(ELE_TERM))
    return out


def _patient_name(name: str) -> tuple[str, str]:
    parts = x12_clean(name, 60).split()
    if not parts:
        return "UNKNOWN", ""
    return parts[-1][:60], " ".join(parts[:-1])[:35]


def remittance_835(*, remittance) -> str:
    """The 835 of one remittance advice, as text (one segment a line)."""
    advice = remittance_advice_for(remittance=remittance)
    payer_name = x12_clean(advice["payer"]["name"], 60) or "TPA"
    payee = advice["payee"]
    issued = remittance.issued_on
    total = Decimal(advice["total_paid"])
    control = control_number(remittance.pk)
    segs = [
        isa(sender="TPA", receiver=payee["npi"], control=control),
        gs(functional_id="HP", sender="TPA", receiver=payee["npi"], control=remittance.pk, version=VERSION),
        ELE_TERM.join(["ST", "835", "0001"]),  # ST03 is not used in 005010X221A1
        # A zero payment carries no money: a notification (H, NON); else the remittance with its payment (check).
        (ELE_TERM.join(["BPR", "I", _m(total), "C", "CHK"] + [""] * 11 + [_d(issued)]) if total > 0 else
         ELE_TERM.join(["BPR", "H", "0", "C", "NON"] + [""] * 11 + [_d(issued)])),
        ELE_TERM.join(["TRN", "1", f"R{remittance.pk}", "1" + (_digits(payee["tin"])[:9] or "000000000")]),
        ELE_TERM.join(["DTM", "405", _d(issued)]),
        ELE_TERM.join(["N1", "PR", payer_name]),
        ELE_TERM.join(["N3", "CLAIMS ADMINISTRATION"]),
        ELE_TERM.join(["N4", "SPRINGFIELD", "IL", "62701"]),
        ELE_TERM.join(["PER", "BL", "PROVIDER SERVICES", "TE", "8005550100"]),
        ELE_TERM.join(["N1", "PE", x12_clean(payee["name"], 60) or "PROVIDER", "XX", payee["npi"]]),
    ]
    if _digits(payee["tin"]):
        segs.append(ELE_TERM.join(["REF", "TJ", _digits(payee["tin"])[:9]]))
    payments = list(Payment.objects.filter(remittance=remittance).order_by("claim__received_date", "claim_id"))
    if payments:
        segs.append(ELE_TERM.join(["LX", "1"]))
    for at in range(0, len(payments), PAGE):
        page = payments[at:at + PAGE]
        pcn = dict(InboundClaim.objects.filter(claim_id__in=[p.claim_id for p in page])
                   .values_list("claim_id", "patient_control_number"))
        for c in remittance_claims_for(payments=page):
            segs.extend(_claim_segments(c, pcn.get(c["claim_id"]) or c["claim_number"]))
    return x12_write(segs)


def _claim_segments(c: dict, patient_control_number: str) -> list[str]:
    lines = c["lines"]
    adjustments = [line_adjustments(ln) for ln in lines]
    patient_resp = sum((amount for adj in adjustments for group, _, amount in adj if group == "PR"), ZERO)
    every_line_denied = bool(lines) and all(ln["paid"] == 0 and any(a["carc"] in CARCS and CARCS[a["carc"]].denial
                                                                    for a in ln["adjustments"]) for ln in lines)
    last, first = _patient_name(c["patient_name"])
    out = [
        ELE_TERM.join(["CLP", x12_clean(patient_control_number, 38), "4" if every_line_denied else "1",
                       _m(c["billed"]), _m(c["paid"]), _m(patient_resp), "12", c["claim_number"]]),
        ELE_TERM.join(["NM1", "QC", "1", last, first, "", "", "", "MI", x12_clean(c["patient_member_id"], 80)]),
        ELE_TERM.join(["DTM", "050", _d(c["received_date"])]),
    ]
    for line, adj in zip(lines, adjustments):
        out.append(ELE_TERM.join(["SVC", f"HC{SUBELE_TERM}{x12_clean(line['procedure_code'], 48)}", _m(line["billed"]),
                                  _m(line["paid"]), "", str(line["units"])]))
        out.append(ELE_TERM.join(["DTM", "472", _d(c["service_date"])]))
        out.extend(_cas(adj))
        out.append(ELE_TERM.join(["REF", "6R", str(line["line_number"])]))
        if line["allowed"] > 0:
            out.append(ELE_TERM.join(["AMT", "B6", _m(line["allowed"])]))
    return out
