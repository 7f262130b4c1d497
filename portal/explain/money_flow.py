"""Money-flow pictures from the ledger: per claim, the transactions that moved its money; per sponsor,
its plan year's money summed by kind. Boxes are accounts with their owner, arrows are transactions
(or sums of them) with their amount, date and reason, and a table beside each gives the same rows.

Every amount is a ledger entry's (or a database sum of entries, `funding.reports.sponsor_money_flows`):
the arrows come from `funding.reports.ledger_legs_as_flows`, which puts every leg on an arrow. Which
parts a login sees follows the funding records' visibility selectors (another party's money is never
shown): the payment to anyone who sees the claim but a member (whose explanation of benefits says what
was paid); the deposit and funding requests to TPA staff and the sponsor; the invoice and its payments
to whoever sees that invoice; the stop-loss filings to whoever sees them.
"""
import datetime
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from funding.models import Account, LedgerTransaction
from funding.reports import (
    FLOW_ROUTES,
    claim_money_records,
    ledger_legs_as_flows,
    sponsor_money_flows,
    sponsor_plan_year,
)
from funding.selectors import reimbursement_invoice_list_visible_to, stop_loss_filing_list_visible_to
from parties.models import PartyLink
from parties.roles import role_of, user_is_tpa_staff

K = Account.Kind
T = LedgerTransaction.Kind
ZERO = Decimal("0.00")
PROVIDERS = "providers"  # the sponsor picture's one node for all its providers' accounts

# Columns, left to right, the way money runs: the sponsor's funds and the stop-loss carrier, the
# accounts claims are paid from or owed to and the fees' income, the carriers, the providers.
COLUMN = {K.SPONSOR: 0, K.STOP_LOSS: 0, K.SPONSOR_CLAIMS: 1, K.ASC_RECEIVABLE: 1, K.ADMIN_FEES: 1, K.PREMIUMS: 1,
          K.CARRIER: 2, K.PROVIDER: 3}
KIND_ORDER = list(K.values)
BOX_W, BOX_H, COL_GAP, ROW_GAP, MARGIN = 200, 58, 180, 60, 20
TITLE = {K.SPONSOR: "Sponsor's own funds", K.SPONSOR_CLAIMS: "Sponsor claims account",
         K.ASC_RECEIVABLE: "Owed to the carrier (ASC)", K.CARRIER: "Carrier claims account", K.PROVIDER: "Provider",
         K.ADMIN_FEES: "Admin fee income", K.PREMIUMS: "Premium income", K.STOP_LOSS: "Stop-loss carrier"}
REASON = {
    T.DEPOSIT: "Funding deposit", T.CLAIM_PAYMENT: "Claim payment", T.REIMBURSEMENT: "ASC reimbursement",
    T.ADMIN_FEE: "Admin fee", T.PREMIUM: "Premium", T.STOP_LOSS: "Stop-loss reimbursement",
}
ASC_OWED = "Owed back for ASC claims"  # the carrier paid them: the sponsor owes it


@dataclass
class Node:
    key: object
    kind: str
    title: str
    owner: str
    detail: str = ""
    column: int = 0
    row: int = 0
    x: int = 0
    y: int = 0

    @property
    def cx(self) -> float:
        return self.x + BOX_W / 2


@dataclass
class Arrow:
    source: object
    target: object
    amount: Decimal
    kind: str
    reason: str
    date: object = None
    transaction_id: int | None = None
    transactions: int = 1
    note: str = ""
    share: Decimal | None = None  # this claim's part of the amount, when the ledger carries one
    path: str = ""
    label_x: float = 0
    label_y: float = 0
    source_node: Node | None = None
    target_node: Node | None = None
    extra: dict = field(default_factory=dict)


def account_node(account: Account) -> Node:
    return node_of(key=account.pk, kind=account.kind, sponsor=str(account.employer or ""),
                   carrier=str(account.carrier or ""), provider=account.provider)


def node_of(*, key, kind: str, sponsor: str = "", carrier: str = "", provider=None) -> Node:
    """A box: what the account is, whose it is, and (where it helps) who holds it or whom it is owed."""
    title = TITLE.get(kind, K(kind).label.split(" (")[0])
    owner, detail = sponsor or carrier or (provider.name if provider else ""), ""
    if kind == K.ASC_RECEIVABLE:
        owner, detail = sponsor, f"to {carrier}"
    elif kind == K.SPONSOR_CLAIMS:
        detail = "held by the TPA"
    elif kind == K.ADMIN_FEES:
        owner = "the TPA"
    elif kind == K.PROVIDER and provider is not None:
        detail = f"NPI {provider.npi}"
    return Node(key=key, kind=kind, title=title, owner=owner, detail=detail)


def layout(nodes: dict, arrows: list[Arrow]) -> dict:
    """Boxes in the columns of their account kinds (empty columns dropped), arrows between them; arrows
    between the same two boxes bow apart, so each label stands on its own."""
    used = sorted({COLUMN.get(n.kind, 3) for n in nodes.values()})
    place = {c: i for i, c in enumerate(used)}
    by_col = defaultdict(list)
    for n in nodes.values():
        n.column = place[COLUMN.get(n.kind, 3)]
        by_col[n.column].append(n)
    tallest = max((len(v) for v in by_col.values()), default=1)
    for col, members in by_col.items():
        members.sort(key=lambda n: (KIND_ORDER.index(n.kind) if n.kind in KIND_ORDER else 99, n.owner))
        offset = (tallest - len(members)) * (BOX_H + ROW_GAP) / 2
        for i, n in enumerate(members):
            n.row = i
            n.x = MARGIN + col * (BOX_W + COL_GAP)
            n.y = int(MARGIN + offset + i * (BOX_H + ROW_GAP))
    groups = defaultdict(list)
    for a in arrows:
        groups[(a.source, a.target)].append(a)
    for (s, t), members in groups.items():
        a_node, b_node = nodes[s], nodes[t]
        for i, a in enumerate(members):
            spread = (i - (len(members) - 1) / 2) * 50
            a.source_node, a.target_node = a_node, b_node
            forward = b_node.x >= a_node.x
            x1 = a_node.x + (BOX_W if forward else 0)
            x2 = b_node.x + (0 if forward else BOX_W)
            if a_node.column == b_node.column:  # never by the routes; drawn anyway
                x1 = x2 = a_node.x + BOX_W
            y1, y2 = a_node.y + BOX_H / 2 + spread / 3, b_node.y + BOX_H / 2 + spread / 3
            mx = (x1 + x2) / 2 + (60 if a_node.column == b_node.column else 0)
            my = (y1 + y2) / 2 + spread
            a.path = f"M{x1:.0f},{y1:.0f} Q{mx:.0f},{my + spread:.0f} {x2:.0f},{y2:.0f}"
            a.label_x, a.label_y = mx, my + spread / 2 - 32  # three lines, all above the arrow
    width = MARGIN * 2 + len(used) * BOX_W + max(len(used) - 1, 0) * COL_GAP
    height = MARGIN * 2 + tallest * BOX_H + (tallest - 1) * ROW_GAP + 20
    return {"nodes": sorted(nodes.values(), key=lambda n: (n.column, n.row)), "arrows": arrows,
            "width": width, "height": max(height, 120), "box_w": BOX_W, "box_h": BOX_H}


# --- Per claim -----------------------------------------------------------------------------------

def claim_money_viewer(*, user) -> bool:
    """Whether the login's claim pages show the claim's money: not a member's (its EOB says what was paid)."""
    return user_is_tpa_staff(user=user) or role_of(user=user) not in (None, PartyLink.Role.MEMBER)


def claim_money_flow(*, claim, user) -> dict | None:
    """The claim's money as a picture and a table, the parts the login may see; None for a member."""
    if not claim_money_viewer(user=user):
        return None
    records = claim_money_records(claim=claim)
    staff = user_is_tpa_staff(user=user)
    sponsor_side = staff or role_of(user=user) == PartyLink.Role.EMPLOYER_ADMIN  # funding_request_list_visible_to's
    shown_txns: dict[int, dict] = {}
    notes: list[str] = []
    payment = records["payment"]
    if payment is not None:
        r = payment.remittance
        if r.transaction_id:
            shown_txns[r.transaction_id] = {"share": payment.amount, "note": (
                f"Remittance {r.pk} to {r.provider.name}: {r.claim_count} claim{'s' if r.claim_count != 1 else ''} "
                f"in one payment; this claim's part is {payment.amount:,.2f}")}
        else:
            notes.append(f"Paid {payment.amount:,.2f} on {payment.paid_on:%b %-d, %Y}: nothing moved (plan paid 0.00).")
    deposit = records["deposit"] if sponsor_side else None
    if deposit is not None:
        asked = ", ".join(f"funding request {s.funding_request_id} ({s.amount:,.2f} of {s.funding_request.amount:,.2f})"
                          for s in records["settlements"])
        shown_txns[deposit.transaction_id] = {"share": None, "note": (
            "The deposit that released this claim (it was waiting for funds)"
            + (f"; it settled {asked}" if asked else ""))}
    item = records["invoice_item"]
    if item is not None and reimbursement_invoice_list_visible_to(user=user).filter(pk=item.invoice_id).exists():
        notes.append(f"On reimbursement invoice {item.invoice_id} of {item.invoice.issued_on:%b %-d, %Y}: "
                     f"{item.amount:,.2f} of its {item.invoice.amount:,.2f} (open {item.invoice.open_amount:,.2f}).")
        for a in records["allocations"]:
            shown_txns[a.payment.transaction_id] = {"share": None, "note": (
                f"Sponsor payment {a.payment_id}{' ' + a.payment.reference if a.payment.reference else ''}: "
                f"{a.amount:,.2f} of it applied to invoice {item.invoice_id}")}
    elif item is not None:
        item = None
    filings = records["stop_loss_filings"]
    if filings:
        visible = set(stop_loss_filing_list_visible_to(user=user).filter(pk__in=[f.pk for f in filings])
                      .values_list("pk", flat=True))
        for f in filings:
            if f.pk in visible:
                shown_txns[f.transaction_id] = {"share": None, "note": (
                    f"{f.get_kind_display()} stop-loss, policy {f.policy_id} ({f.policy.carrier}): this claim's "
                    f"plan paid counted toward it (counted {f.counted_claims:,.2f} over the attachment "
                    f"{f.attachment:,.2f})")}
    nodes: dict = {}
    arrows: list[Arrow] = []
    for txn_id, shown in shown_txns.items():
        entries = records["entries"].get(txn_id, [])
        if not entries:
            continue
        txn = entries[0].transaction
        for e in entries:
            nodes.setdefault(e.account_id, account_node(e.account))
        legs = [(e.account_id, e.account.kind, e.account.carrier_id, e.amount) for e in entries]
        for source, target, amount in ledger_legs_as_flows(kind=txn.kind, legs=legs):
            asc_leg = nodes[target].kind == K.ASC_RECEIVABLE
            arrows.append(Arrow(
                source=source, target=target, amount=amount, kind=txn.kind, date=txn.date, transaction_id=txn.pk,
                reason=ASC_OWED if asc_leg else REASON.get(txn.kind, txn.get_kind_display()),
                note=txn.memo if asc_leg else shown["note"],
                share=shown["share"] if shown["share"] is not None and txn.kind == T.CLAIM_PAYMENT else None))
    arrows.sort(key=lambda a: (a.date, a.transaction_id, str(a.source)))
    return {"claim": claim, "payment": payment, "notes": notes, "invoice_item": item,
            "sponsor_id": claim.plan.sponsor_id if claim.plan_id else None, "staff": staff,
            **layout(nodes, arrows)}


# --- Per sponsor ---------------------------------------------------------------------------------

def sponsor_money_flow(*, employer, today, plan_year: tuple | None = None) -> dict | None:
    """The sponsor's plan year to `today`: the flows between its accounts, the TPA, the carriers and the
    providers, summed by kind in the database (one query, and one more for the plan year when
    `plan_year` (start, end exclusive) is not given). None without a plan."""
    year = plan_year or sponsor_plan_year(employer=employer, today=today)
    if year is None:
        return None
    start, end = year
    sums = sponsor_money_flows(employer=employer, start=start, end=end, today=today)
    nodes: dict = {}
    by_kind = defaultdict(list)
    providers = 0
    for kind, node, account_kind, carrier_id, sponsor, carrier, total, transactions, n_providers in sums["legs"]:
        key = PROVIDERS if node is None else node
        if key not in nodes:
            nodes[key] = node_of(key=key, kind=account_kind, sponsor=sponsor, carrier=carrier)
        if node is None:
            providers = max(providers, n_providers)
        by_kind[kind].append((key, account_kind, carrier_id, total, transactions))
    if PROVIDERS in nodes:
        nodes[PROVIDERS].title = "Providers"
        nodes[PROVIDERS].owner = f"{providers} provider{'s' if providers != 1 else ''} paid"
    arrows, totals = [], []
    for kind in T.values:
        legs = by_kind.get(kind)
        if not legs:
            continue
        count = {leg[0]: leg[4] for leg in legs}
        flows = ledger_legs_as_flows(kind=kind, legs=[(k, ak, c, amt) for k, ak, c, amt, _ in legs])
        moved = sum((amt for *_, amt, _ in legs if amt > 0), ZERO)
        # Each transaction has one leg from its first route's payer side (one payer per posting).
        payers = FLOW_ROUTES[kind][0][0] if kind in FLOW_ROUTES else frozenset()
        transactions = sum(n for _, ak, _, amt, n in legs if ak in payers and amt < 0) or max(count.values())
        totals.append({"kind": kind, "reason": REASON.get(kind, kind), "amount": moved, "transactions": transactions})
        for source, target, amount in flows:
            asc_leg = nodes[target].kind == K.ASC_RECEIVABLE
            arrows.append(Arrow(source=source, target=target, amount=amount, kind=kind,
                                reason=ASC_OWED if asc_leg else REASON.get(kind, kind),
                                transactions=count.get(source, 0)))
    return {"employer": employer, "start": start, "last": min(today, end - datetime.timedelta(days=1)),
            "totals": totals, **layout(nodes, arrows)}
