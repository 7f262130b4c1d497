"""A training class in a real browser (Chromium through Playwright, the live server, a real Celery worker):
the trainer starts a session from the library, a trainee joins as the examiner and approves the pended claim,
the checklist ticks; the trainer moves the clock a week and the payment cycle pays it; the trainer resets and
the claim is pended again. Screenshots are written as test artifacts; the Training pages are checked by axe."""
import pytest

from tests.portal import browser
from tests.portal.browser import CeleryWorker, axe_violations, login, screenshot, violations_text, wait_until
from training.models import TrainingSession

from .sessions import session_start, trainer_login

pytestmark = [pytest.mark.browser, pytest.mark.worker, pytest.mark.postgres]
chromium, new_page = browser.chromium, browser.new_page
LIBRARY_FILE = "examiner_pend_and_deny.yaml"


@pytest.fixture
def worker(live_server, transactional_db, tmp_path):
    from config.celery import app

    app.control.purge()
    running = CeleryWorker(tmp_path / "worker.log")
    yield running
    running.stop()
    app.control.purge()


def _step_done(page, number: int) -> bool:
    return page.get_by_test_id(f"step-{number}").get_attribute("data-done") == "yes"


def test_a_class_in_the_browser(live_server, worker, new_page, settings):
    trainer_user = trainer_login()
    # The scenario's template, built once beforehand (as the first class of the day would have done).
    session_start(by=trainer_user, text=(settings.BASE_DIR / "scenarios" / LIBRARY_FILE).read_text())
    found = {}

    def check(page, where):
        violations = axe_violations(page)
        if violations:
            found[where] = violations
        screenshot(page, f"training-{where}")

    trainer = new_page()
    login(trainer, live_server, "trainer")
    assert trainer.url == live_server.url + "/training/"
    check(trainer, "1-library")
    with trainer.expect_navigation():
        trainer.get_by_test_id(f"start-{LIBRARY_FILE}").click()
    code = trainer.get_by_test_id("session-code").inner_text()
    assert trainer.get_by_test_id("session-state").inner_text() == "Ready"
    assert not _step_done(trainer, 1) and not _step_done(trainer, 2)
    join_url = trainer.get_by_test_id("join-url").inner_text()
    assert join_url.endswith(f"/training/join/{code}/")
    check(trainer, "2-session")

    trainee = new_page()
    trainee.goto(join_url)
    check(trainee, "3-join")
    with trainee.expect_navigation():
        trainee.get_by_test_id("join-examiner").click()
    assert trainee.url == live_server.url + "/examiner/"
    assert code in trainee.get_by_test_id("training-banner").inner_text()
    status = _status(code)
    k3 = status["report"]["claims"]["k3"]
    assert k3["state"] == "pended"
    trainee.goto(live_server.url + f"/examiner/claims/{_claim_pk(code, 'k3')}/")
    with trainee.expect_navigation():
        trainee.get_by_role("button", name="Take this claim").click()
    with trainee.expect_navigation():
        trainee.get_by_role("button", name="Approve", exact=True).click()
    assert "Approved claim" in trainee.locator(".messages").inner_text()
    check(trainee, "4-examiner-approved")

    trainer.reload()
    assert _step_done(trainer, 1) and not _step_done(trainer, 2)
    with trainer.expect_navigation():
        trainer.get_by_test_id("advance-week").click()
    wait_until(lambda: trainer.get_by_test_id("session-status").get_attribute("data-state") == "ready",
               timeout=90, what="the week's jobs", worker=worker)
    assert _step_done(trainer, 1) and _step_done(trainer, 2)
    assert trainer.get_by_test_id("claim-k3-state").inner_text() == "paid"
    assert trainer.get_by_test_id("session-date").inner_text() == "2026-03-11"
    check(trainer, "5-after-a-week")

    with trainer.expect_navigation():
        trainer.get_by_test_id("reset").click()
    assert trainer.get_by_test_id("claim-k3-state").inner_text() == "pended"
    assert not _step_done(trainer, 1) and not _step_done(trainer, 2)
    assert trainer.get_by_test_id("session-date").inner_text() == "2026-03-04"
    check(trainer, "6-reset")
    # The trainee's browser is still in the session, now its new generation: the claim waits again.
    trainee.goto(live_server.url + f"/examiner/claims/{_claim_pk(code, 'k3')}/")
    assert trainee.get_by_role("button", name="Take this claim").count() == 1
    assert not found, violations_text(found)


def _status(code: str) -> dict:
    from training.selectors import session_status

    return session_status(session=TrainingSession.objects.get(code=code))


def _claim_pk(code: str, key: str) -> int:
    from training.models import SandboxWorld

    from .sessions import inside

    with inside(TrainingSession.objects.get(code=code)):
        return SandboxWorld.objects.get(pk=1).keys["claims"][key]
