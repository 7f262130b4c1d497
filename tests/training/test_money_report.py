"""The money part of the scenario report (SCENARIOS.md "The report"): the four shared scenarios'
money figures, reproduced with approved claims of the same plan_paid, and equal to the ledger's sums."""
import pytest

from funding import services
from funding.models import Account
from plans.services import stop_loss_policy_create
from tests.factories import CarrierFactory, CoverageFactory, DependentFactory
from tests.funding.helpers import D, F, approved_claim, balance, day, make_provider, make_sponsor
from training.scenarios.report import money_report

pytestmark = pytest.mark.django_db
K = Account.Kind
ZEROS = {"deposits": "0.00", "balance": "0.00", "funding_requested": "0.00", "claims_paid": "0.00",
         "reimbursements_invoiced": "0.00", "reimbursements_paid": "0.00", "admin_fees": "0.00", "premiums": "0.00",
         "stop_loss_received": "0.00", "net_cost": "0.00"}


def test_aso_cost_sharing_scenario():
    s = make_sponsor(F.ASO, admin_fee_pepm=D("45.00"))
    mercy = make_provider()
    claims = {k: approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=v, received=r)
              for k, v, r in (("a", "90.00", "2026-01-15"), ("b", "400.00", "2026-01-15"),
                              ("c", "17130.00", "2026-01-15"), ("d", "120.00", "2026-01-18"))}
    services.payment_cycle_run(today=day("2026-01-20"))
    services.sponsor_deposit(employer=s.employer, amount=services.funding_request_open_amount(employer=s.employer),
                             today=day("2026-01-22"))
    services.fee_billing_run(today=day("2026-02-01"))

    report = money_report(employers={"globex": s.employer}, carriers={}, providers={"mercy": mercy}, claims=claims)

    assert report["employers"] == {"globex": {**ZEROS, "funding": "ASO", "funding_requested": "17740.00",
                                              "deposits": "17740.00", "balance": "0.00", "claims_paid": "17740.00",
                                              "admin_fees": "45.00", "net_cost": "17785.00"}}
    assert report["providers"] == {"mercy": {"paid": "17740.00"}}
    assert report["claims"]["a"] == {"paid_from": "employer:globex", "paid_on": "2026-01-22"}
    assert set(report["claims"]) == {"a", "b", "c", "d"}
    assert report["stop_loss"] == {}


def test_asc_reimbursement_scenario():
    acme = CarrierFactory()
    s = make_sponsor(F.ASC, carrier=acme, admin_fee_pepm=D("40.00"))
    carol = DependentFactory(subscriber=s.member(), relationship="spouse")
    CoverageFactory(member=carol, plan=s.plan, start=None)
    lakeside, citymri = make_provider(), make_provider()
    c1 = approved_claim(plan=s.plan, member=s.member(), provider=lakeside, plan_paid="95.00", received="2026-03-02")
    c2 = approved_claim(plan=s.plan, member=carol, provider=citymri, plan_paid="900.00", received="2026-03-02")
    services.payment_cycle_run(today=day("2026-03-03"))
    services.reimbursement_billing_run(today=day("2026-03-09"))
    services.sponsor_reimbursement_pay(employer=s.employer,
                                       amount=services.reimbursement_open_amount(employer=s.employer),
                                       today=day("2026-03-16"))
    services.fee_billing_run(today=day("2026-04-01"))

    report = money_report(employers={"initech": s.employer}, carriers={"acme": acme},
                          providers={"lakeside": lakeside, "citymri": citymri}, claims={"c1": c1, "c2": c2})

    assert report["employers"]["initech"] == {**ZEROS, "funding": "ASC", "claims_paid": "995.00",
                                              "reimbursements_invoiced": "995.00", "reimbursements_paid": "995.00",
                                              "admin_fees": "40.00", "net_cost": "1035.00"}
    assert report["carriers"] == {"acme": {"claims_paid": "995.00", "receivable": "0.00", "premiums": "0.00",
                                           "stop_loss_paid": "0.00"}}
    assert report["claims"] == {"c1": {"paid_from": "carrier:acme", "paid_on": "2026-03-03"},
                                "c2": {"paid_from": "carrier:acme", "paid_on": "2026-03-03"}}
    assert report["providers"] == {"lakeside": {"paid": "95.00"}, "citymri": {"paid": "900.00"}}


def test_fully_insured_scenario():
    acme = CarrierFactory()
    s = make_sponsor(F.FULLY_INSURED, carrier=acme, members=2, premium_pepm=D("600.00"))
    lakeside = make_provider()
    services.fee_billing_run(today=day("2026-01-01"))
    v1 = approved_claim(plan=s.plan, member=s.member(), provider=lakeside, plan_paid="310.00", received="2026-01-20")
    services.payment_cycle_run(today=day("2026-01-21"))
    services.fee_billing_run(today=day("2026-02-01"))
    services.fee_billing_run(today=day("2026-02-15"))

    report = money_report(employers={"umbrella": s.employer}, carriers={"acme": acme},
                          providers={"lakeside": lakeside}, claims={"v1": v1})

    assert report["employers"]["umbrella"] == {**ZEROS, "funding": "FULLY_INSURED", "premiums": "2400.00",
                                               "claims_paid": "310.00", "net_cost": "2400.00"}
    assert report["carriers"]["acme"] == {"claims_paid": "310.00", "receivable": "0.00", "premiums": "2400.00",
                                          "stop_loss_paid": "0.00"}
    assert report["claims"]["v1"] == {"paid_from": "carrier:acme", "paid_on": "2026-01-21"}


def test_specific_stop_loss_scenario():
    acme = CarrierFactory()
    s = make_sponsor(F.ASO)
    dana = s.member()
    stop_loss_policy_create(plan=s.plan, carrier=acme, start=day("2026-01-01"), contract="12/12",
                            specific_attachment=D("100000"))
    stjude = make_provider()
    s1 = approved_claim(plan=s.plan, member=dana, provider=stjude, plan_paid="55000.00", received="2026-02-10")
    services.payment_cycle_run(today=day("2026-02-12"))
    services.sponsor_deposit(employer=s.employer, amount=services.funding_request_open_amount(employer=s.employer),
                             today=day("2026-02-13"))
    s2 = approved_claim(plan=s.plan, member=dana, provider=stjude, plan_paid="47000.00", received="2026-05-05")
    services.sponsor_deposit(employer=s.employer, amount="47000", today=day("2026-05-06"))
    services.payment_cycle_run(today=day("2026-05-06"))
    services.stop_loss_evaluate(today=day("2026-05-07"))

    report = money_report(employers={"hooli": s.employer}, carriers={"acme": acme}, providers={"stjude": stjude},
                          claims={"s1": s1, "s2": s2}, members={"dana": dana})

    assert report["employers"]["hooli"] == {**ZEROS, "funding": "ASO", "deposits": "102000.00",
                                            "funding_requested": "55000.00", "claims_paid": "102000.00",
                                            "stop_loss_received": "2000.00", "balance": "2000.00",
                                            "net_cost": "100000.00"}
    assert report["carriers"]["acme"]["stop_loss_paid"] == "2000.00"
    assert report["stop_loss"] == {"hooli": {"specific": {"dana": "2000.00"}, "aggregate": "0.00"}}
    assert report["claims"] == {"s1": {"paid_from": "employer:hooli", "paid_on": "2026-02-13"},
                                "s2": {"paid_from": "employer:hooli", "paid_on": "2026-05-06"}}


def test_unpaid_claims_have_no_paid_from_and_figures_equal_the_ledger():
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    waiting = approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="10.00")
    services.payment_cycle_run(today=day("2026-01-20"))
    services.sponsor_deposit(employer=s.employer, amount="4.00", today=day("2026-01-21"))

    report = money_report(employers={"e": s.employer}, carriers={}, providers={"mercy": mercy}, claims={"w": waiting})

    assert report["claims"]["w"] == {"paid_from": None, "paid_on": None}
    assert D(report["employers"]["e"]["balance"]) == balance(K.SPONSOR_CLAIMS, employer=s.employer) == D("4.00")
    assert D(report["employers"]["e"]["deposits"]) == -balance(K.SPONSOR, employer=s.employer) == D("4.00")
    assert report["employers"]["e"]["funding_requested"] == "10.00"
