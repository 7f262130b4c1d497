"""The supervisor's payment cycle on a REAL Celery worker (the house pattern of
tests/funding/test_funding_worker.py): started from the jobs page, sent to the broker when the request's
transaction commits, run by another process, and followed on the page until it is done."""
import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from core import clock
from funding.models import PaymentCycle
from portal.models import JobRun
from tests.funding.test_funding_worker import start_worker, wait_until  # noqa: F401  (a fixture)
from tests.portal.helpers import DEMO_DATE
from training.demo import seed_demo

pytestmark = [pytest.mark.worker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_payment_cycle_started_from_the_page_runs_on_a_real_worker(start_worker):  # noqa: F811
    clock.clock_set(day=DEMO_DATE)
    seed_demo()
    client = Client()
    client.force_login(get_user_model().objects.get(username="supervisor"))
    worker = start_worker()
    assert client.post("/supervisor/jobs/payment-cycle/").status_code == 302
    run = JobRun.objects.get()
    assert client.post("/supervisor/jobs/payment-cycle/").status_code == 409  # a double click: one run
    wait_until(lambda: JobRun.objects.filter(pk=run.pk, state="done").exists(), what="the run to be done",
               worker=worker)
    # the cycle paid money: its stop-loss follow-up runs after it, as the scheduled cycle's does
    wait_until(lambda: worker.count("succeeded") >= 2, what="the run and its stop-loss follow-up", worker=worker)
    run.refresh_from_db()
    cycle = PaymentCycle.objects.get()
    assert run.result["cycle"] == cycle.pk and run.result["claims_paid"] == 5 and run.result["amount_paid"] == "435.00"
    fragment = client.get(f"/supervisor/jobs/{run.pk}/", headers={"HX-Request": "true"}).content.decode()
    assert 'data-state="done"' in fragment and "hx-trigger" not in fragment
    assert JobRun.objects.count() == 1 and "Traceback" not in worker.text()
