"""The Training area's pages (Django's test client): who may open them, starting a session from the library
and from an uploaded file, joining a session as one of its logins and working in its sandbox, the role
switcher, leaving, and an ended session's browsers turned away."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from claims.models import Claim
from parties.models import PartyLink
from tests.factories import ProviderFactory
from training.models import SandboxWorld, TrainingSession
from training.sandbox.middleware import SESSION_KEY

from .sessions import PENDED, inside, session_start, trainer_login

pytestmark = pytest.mark.django_db
LIBRARY_FILE = "examiner_pend_and_deny.yaml"


@pytest.fixture
def trainer_client():
    trainer = trainer_login()
    client = Client()
    client.force_login(trainer)
    return client, trainer


def _join(client: Client, session, username: str):
    return client.post(f"/training/join/{session.code}/", {"username": username})


def test_the_library_and_the_running_sessions_are_listed(trainer_client):
    client, trainer = trainer_client
    running = session_start(by=trainer)
    page = client.get("/training/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "An examiner&#x27;s review, approve and deny" in text and LIBRARY_FILE in text
    assert len(re.findall(r'name="library_file" value="[^"]+\.yaml"', text)) >= 12
    assert running.code in text


def test_starting_from_the_library_clones_the_built_template(trainer_client, settings):
    client, trainer = trainer_client
    text = (settings.BASE_DIR / "scenarios" / LIBRARY_FILE).read_text()
    session_start(by=trainer, text=text)  # the template, built once
    response = client.post("/training/", {"library_file": LIBRARY_FILE})
    session = TrainingSession.objects.order_by("-pk").first()
    assert response.status_code == 302 and response["Location"] == f"/training/sessions/{session.code}/"
    assert session.state == TrainingSession.S.READY and session.scenario_source == LIBRARY_FILE
    page = client.get(response["Location"]).content.decode()
    assert f"/training/join/{session.code}/" in page and "provider:gotham" in page
    assert 'data-testid="step-1"' in page and 'data-done="no"' in page


def test_a_scenario_not_built_yet_is_preparing_until_its_template_is(trainer_client):
    client, _ = trainer_client
    response = client.post("/training/", {"scenario_text": PENDED + "# never built\n"})
    session = TrainingSession.objects.get()
    assert response.status_code == 302 and session.state == TrainingSession.S.PREPARING
    page = client.get(f"/training/sessions/{session.code}/").content.decode()
    assert "Building the scenario" in page and 'hx-trigger="every 1s"' in page


@pytest.mark.parametrize(("posted", "message"), [
    ({"scenario_text": PENDED.replace("member: alice, service_date", "member: zed, service_date")},
     "events[0].submit_claim.member: unknown member &#x27;zed&#x27;"),
    ({"scenario_text": "name: [unclosed"}, "scenario: invalid scenario"),
    ({"library_file": "../../etc/passwd"}, "library_file: choose a scenario of the library"),
    ({}, "library_file: choose a scenario of the library"),
    ({"scenario_text": "name: x\x00"}, "NUL"),
])
def test_a_bad_upload_is_refused_with_the_runner_message_and_nothing_started(trainer_client, posted, message):
    client, _ = trainer_client
    response = client.post("/training/", posted)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert TrainingSession.objects.count() == 0


def test_an_uploaded_file_is_read_like_the_pasted_text(trainer_client):
    client, trainer = trainer_client
    session_start(by=trainer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post("/training/", {"scenario_file": SimpleUploadedFile("mine.yaml", PENDED.encode())})
    assert response.status_code == 302
    assert TrainingSession.objects.filter(scenario_source="uploaded").count() == 1
    bad = client.post("/training/", {"scenario_file": SimpleUploadedFile("x.yaml", b"\xff\xfe")})
    assert bad.status_code == 400 and "not UTF-8" in bad.content.decode()


def test_who_may_open_the_training_area():
    provider_staff = get_user_model().objects.create(username="front-desk")
    PartyLink.objects.create(user=provider_staff, role=PartyLink.Role.PROVIDER_STAFF, provider=ProviderFactory())
    session = session_start(by=trainer_login())
    anonymous = Client()
    assert anonymous.get("/training/").status_code == 302
    staff = Client()
    staff.force_login(provider_staff)
    for url in ("/training/", f"/training/sessions/{session.code}/"):
        assert staff.get(url).status_code == 403
    for url in (f"/training/sessions/{session.code}/advance/", f"/training/sessions/{session.code}/reset/",
                f"/training/sessions/{session.code}/end/"):
        assert staff.post(url, {"days": 1}).status_code == 403
    session.refresh_from_db()
    assert session.state == TrainingSession.S.READY and session.generation == 1
    supervisor = get_user_model().objects.create(username="boss")
    PartyLink.objects.create(user=supervisor, role=PartyLink.Role.SUPERVISOR, tpa=session_tpa())
    boss = Client()
    boss.force_login(supervisor)
    assert boss.get("/training/").status_code == 200
    assert boss.get("/training/sessions/NOSUCH/").status_code == 404


def session_tpa():
    from parties.models import Tpa

    return Tpa.objects.first()


def test_joining_works_in_the_sandbox_as_the_chosen_login(trainer_client):
    client, trainer = trainer_client
    session = session_start(by=trainer)
    trainee = Client()
    page = trainee.get(f"/training/join/{session.code.lower()}/")
    assert page.status_code == 200 and 'data-testid="join-examiner"' in page.content.decode()
    response = _join(trainee, session, "examiner")
    assert response.status_code == 302 and trainee.session[SESSION_KEY] == session.pk
    with inside(session):
        claim_id = SandboxWorld.objects.get(pk=1).keys["claims"]["c1"]
        number = Claim.objects.get(pk=claim_id).claim_number
    queue = trainee.get("/examiner/").content.decode()
    assert number in queue and 'data-testid="training-banner"' in queue
    # The examiner takes the pended claim and approves it, through the dashboard.
    assert trainee.post(f"/examiner/claims/{claim_id}/take/").status_code in (200, 302)
    approved = trainee.post(f"/examiner/claims/{claim_id}/review/", {"decision": "approve", "note": "ok"})
    assert approved.status_code in (200, 302)
    with inside(session):
        assert Claim.objects.get(pk=claim_id).state == "approved"
    assert Claim.objects.count() == 0  # the control database holds no claim
    status = client.get(f"/training/sessions/{session.code}/").content.decode()
    assert re.search(r'data-done="yes" data-testid="step-1"', status)
    # The console is not for a browser inside a sandbox; the role switcher and leaving are.
    assert trainee.get("/training/").status_code == 409
    switched = trainee.post("/training/switch/", {"username": "member:alice"})
    assert switched.status_code == 302 and trainee.session[SESSION_KEY] == session.pk
    assert trainee.get("/member/").status_code == 200
    assert trainee.post("/training/switch/", {"username": "admin"}).status_code == 404
    trainee.post("/training/leave/")
    assert SESSION_KEY not in trainee.session and trainee.get("/member/").status_code == 302


def test_an_ended_session_turns_its_browsers_away(trainer_client):
    client, trainer = trainer_client
    session = session_start(by=trainer)
    trainee = Client()
    _join(trainee, session, "provider:mercy")
    assert trainee.get("/provider/").status_code == 200
    assert client.post(f"/training/sessions/{session.code}/end/").status_code == 302
    assert trainee.get("/provider/").status_code == 404
    assert SESSION_KEY not in trainee.session
    assert trainee.get(f"/training/join/{session.code}/").status_code == 404
    assert Client().post(f"/training/join/{session.code}/", {"username": "examiner"}).status_code == 404


def test_a_login_of_another_session_or_none_cannot_be_joined(trainer_client):
    _, trainer = trainer_client
    session = session_start(by=trainer)
    trainee = Client()
    assert _join(trainee, session, "nobody").status_code == 404
    assert _join(trainee, session, "trainer").status_code == 404  # the control database's login: not in the sandbox
    assert SESSION_KEY not in trainee.session
