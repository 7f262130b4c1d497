"""Every money job run twice changes nothing the second time; the Celery tasks are thin and safe to
redeliver; the beat schedule is installed once and idempotently; the benchmark command runs."""
import re

import pytest
from django.core.management import call_command
from django_celery_beat.models import PeriodicTask

from funding import services, tasks
from funding.schedule import SCHEDULE, beat_schedule_install
from plans.services import stop_loss_policy_create
from tests.factories import CarrierFactory
from tests.funding.helpers import D, F, approved_claim, day, make_provider, make_sponsor, snapshot


@pytest.mark.django_db
def test_every_job_run_twice_changes_nothing_the_second_time():
    aso = make_sponsor(F.ASO, admin_fee_pepm=D("45.00"))
    asc = make_sponsor(F.ASC, admin_fee_pepm=D("40.00"))
    fi = make_sponsor(F.FULLY_INSURED, premium_pepm=D("600.00"))
    stop_loss_policy_create(plan=aso.plan, carrier=CarrierFactory(), start=day("2025-01-01"), contract="12/12",
                            specific_attachment=D("100.00"), aggregate_attachment=D("50.00"))
    mercy = make_provider()
    services.sponsor_deposit(employer=aso.employer, amount="300.00", today=day("2026-01-02"), reference="D1")
    for s, amount in ((aso, "250.00"), (aso, "90.00"), (asc, "70.00"), (fi, "60.00"), (aso, "0.00")):
        approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid=amount, received="2025-12-20",
                       service="2025-12-20")
    today = day("2026-01-20")
    jobs = [
        lambda: services.payment_cycle_run(today=today),
        lambda: services.reimbursement_billing_run(today=today),
        lambda: services.fee_billing_run(today=today),
        lambda: services.stop_loss_evaluate(today=today),
        lambda: services.sponsor_deposit(employer=aso.employer, amount="40.00", today=today, reference="D2"),
        lambda: services.sponsor_reimbursement_pay(employer=asc.employer, amount="30.00", today=today, reference="R1"),
    ]
    for job in jobs:
        job()
        once = snapshot()
        job()
        assert snapshot() == once
    assert services.stop_loss_evaluate(today=today) == []
    # The world moved as expected: every claim paid (stop-loss money and the deposit released the waiting
    # one); the deposit of 40.00 settled 40.00 of the 90.00 request.
    from claims.models import Claim

    assert set(Claim.objects.values_list("state", flat=True)) == {"paid"}
    assert services.funding_request_open_amount(employer=aso.employer) == D("50.00")


@pytest.mark.django_db
def test_tasks_call_the_services_and_return_ids(monkeypatch):
    s = make_sponsor(F.ASO)
    mercy = make_provider()
    approved_claim(plan=s.plan, member=s.member(), provider=mercy, plan_paid="10.00")
    followups = []
    monkeypatch.setattr(tasks.stop_loss_evaluation, "delay_on_commit", lambda *a, **k: followups.append((a, k)))

    deposit_id = tasks.sponsor_deposit_record(s.employer.pk, "25.00", "T1")
    assert tasks.sponsor_deposit_record(s.employer.pk, "25.00", "T1") == deposit_id
    result = tasks.payment_cycle()
    assert (result["paid"], result["awaiting_funds"]) == (1, 0)
    assert followups == [((), {})]
    assert tasks.payment_cycle() == {"cycle": None, "paid": 0, "awaiting_funds": 0}
    assert followups == [((), {})]  # nothing paid: no follow-up
    assert tasks.fee_billing() != [] and tasks.fee_billing() == []
    assert tasks.reimbursement_billing() == []
    assert tasks.stop_loss_evaluation() == []


def test_tasks_acknowledge_late_and_are_named_as_the_schedule_says():
    from config.celery import app

    for name in ("payment_cycle", "sponsor_deposit_record", "sponsor_reimbursement_record", "reimbursement_billing",
                 "fee_billing", "stop_loss_evaluation"):
        task = getattr(tasks, name)
        assert task.acks_late and task.reject_on_worker_lost
        assert task.name == f"funding.tasks.{name}"
    app.loader.import_default_modules()
    for task_name, _ in SCHEDULE.values():
        if task_name.startswith("funding."):
            assert task_name in app.tasks


@pytest.mark.django_db
def test_beat_schedule_is_installed_by_the_migration_and_idempotently():
    def rows():
        return {p.name: (p.task, str(p.crontab) if p.crontab else f"every {p.interval.every} {p.interval.period}",
                         p.enabled) for p in PeriodicTask.objects.select_related("crontab", "interval")
                if p.name in SCHEDULE}

    installed = rows()  # by migration 0003
    assert installed["payment cycle (daily 18:00)"][0] == "funding.tasks.payment_cycle"
    assert installed["payment cycle (daily 18:00)"][1].startswith("0 18 * * *")
    assert installed["reimbursement billing (Mondays 06:00)"][1].startswith("0 6 * * 1")
    assert installed["fee billing (1st of the month 02:00)"][1].startswith("0 2 1 * *")
    assert installed["stop-loss evaluation (daily 03:00)"][1].startswith("0 3 * * *")
    assert installed["auto-adjudication"] == ("claims.tasks.adjudicate_pending_claims", "every 300 seconds", True)

    PeriodicTask.objects.filter(name="payment cycle (daily 18:00)").update(enabled=False, task="wrong")
    count = PeriodicTask.objects.count()
    assert beat_schedule_install() == list(SCHEDULE)
    assert beat_schedule_install() == list(SCHEDULE)
    assert PeriodicTask.objects.count() == count
    assert rows() == installed


@pytest.mark.django_db
def test_bench_payments_pays_what_it_builds_and_reports_a_balanced_ledger(capsys):
    call_command("bench_payments", claims=300, here=True)
    last = capsys.readouterr().out.strip().splitlines()[-1]
    match = re.fullmatch(r"paid (\d+) claims in [\d.]+ s: [\d,]+ claims/s, ledger balanced: yes", last)
    assert match, last
    # 300 claims over 10 sponsors; the short ASO sponsor's later claims wait for funds.
    assert 270 <= int(match.group(1)) < 300


@pytest.mark.django_db
def test_money_tasks_asked_for_what_is_requested_when_nothing_is_open_record_nothing():
    aso, asc = make_sponsor(F.ASO), make_sponsor(F.ASC)
    before = snapshot()
    assert tasks.sponsor_deposit_record.apply(args=[aso.employer.pk, "requested"]).get() is None
    assert tasks.sponsor_reimbursement_record.apply(args=[asc.employer.pk, "requested"]).get() is None
    assert snapshot() == before
