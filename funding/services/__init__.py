"""Writes for the money (DOMAIN.md §5–6): the ledger (`ledger`), payment cycles and releases
(`payments`), ASO deposits (`deposits`), ASC reimbursement (`reimbursement`), fee and premium
billing (`fees`), stop-loss (`stop_loss`). See `ledger` for the rules every one of them keeps."""
from ..errors import FundingError
from .deposits import REQUESTED, funding_request_open_amount, sponsor_deposit
from .fees import fee_billing_run
from .ledger import (
    ADMIN_FEES_SPEC,
    FUNDING_LOCK_ID,
    AccountSpec,
    Posting,
    _post,
    accounts_ensure,
    carrier_spec,
    premiums_spec,
    provider_spec,
    receivable_spec,
    sponsor_claims_spec,
    sponsor_spec,
    stop_loss_spec,
)
from .payments import PlanMoney, _PaymentRun, payment_cycle_run
from .reimbursement import reimbursement_billing_run, reimbursement_open_amount, sponsor_reimbursement_pay
from .stop_loss import (
    add_months,
    stop_loss_aggregate_point,
    stop_loss_counted_by_member,
    stop_loss_evaluate,
    stop_loss_window,
)

__all__ = [
    "ADMIN_FEES_SPEC", "FUNDING_LOCK_ID", "REQUESTED", "AccountSpec", "FundingError", "PlanMoney", "Posting",
    "_PaymentRun", "_post", "accounts_ensure", "add_months", "carrier_spec", "fee_billing_run",
    "funding_request_open_amount", "payment_cycle_run", "premiums_spec", "provider_spec", "receivable_spec",
    "reimbursement_billing_run", "reimbursement_open_amount", "sponsor_claims_spec", "sponsor_deposit",
    "sponsor_reimbursement_pay", "sponsor_spec", "stop_loss_aggregate_point", "stop_loss_counted_by_member",
    "stop_loss_evaluate", "stop_loss_spec", "stop_loss_window",
]
