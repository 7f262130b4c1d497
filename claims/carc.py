"""The claim adjustment reason codes (CARCs) this system uses, in one table (DOMAIN.md §4).

For each code: what it means (screens, traces, remittances), its claim adjustment group on an 835
(PR patient responsibility, CO contractual obligation, OA other), and for a denial code who owes the
line ("member": `not_covered`; "provider": written off; None: nobody). Plain data, no Django.
"""
from typing import NamedTuple


class Carc(NamedTuple):
    meaning: str
    group: str
    owed_by: str | None = None  # denial codes only
    denial: bool = False


CARCS: dict[str, Carc] = {
    "1": Carc("deductible amount", "PR"),
    "2": Carc("coinsurance amount", "PR"),
    "3": Carc("copay amount", "PR"),
    "18": Carc("exact duplicate of an earlier claim", "CO", None, True),
    "26": Carc("service date before the coverage start", "PR", "member", True),
    "27": Carc("service date after the coverage end", "PR", "member", True),
    "29": Carc("filed after the timely-filing limit", "CO", "provider", True),
    "45": Carc("charge exceeds the fee schedule; provider write-off", "CO"),
    "50": Carc("not medically necessary (examiner)", "CO", "provider", True),
    "96": Carc("non-covered service (excluded category)", "PR", "member", True),
    "242": Carc("out of network, not covered by the plan", "PR", "member", True),
    # Not a DOMAIN.md code: an 835 must give the out-of-network balance billed to the member a reason
    # (PR); 243 ("services not authorized by network/primary care providers") is the nearest standard one.
    "243": Carc("out of network: the charge above the allowed amount, billed to the member", "PR"),
}
# The CARC that carries a line's `balance_billed` on an 835.
BALANCE_BILLED_CARC = "243"

CARC_MEANING: dict[str, str] = {code: c.meaning for code, c in CARCS.items()}
DENIAL_CODES: tuple[str, ...] = tuple(code for code, c in CARCS.items() if c.denial)
DENIAL_MEANING: dict[str, str] = {code: CARCS[code].meaning for code in DENIAL_CODES}
DENIAL_OWED_BY: dict[str, str | None] = {code: CARCS[code].owed_by for code in DENIAL_CODES}
# The codes an examiner may deny a pended claim with (DOMAIN.md §3 step 4); 50 unless another is given.
EXAMINER_DENIAL_CODES: tuple[str, ...] = ("26", "27", "29", "50", "96", "242")
EXAMINER_DEFAULT_DENIAL = "50"


def carc_text(code: str) -> str:
    """ "96 (non-covered service (excluded category))", or the code alone when it is not ours."""
    meaning = CARC_MEANING.get(code, "")
    return f"{code} ({meaning})" if meaning else code
