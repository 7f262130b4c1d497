"""Helpers of the training-session tests: a trainer login, starting a session, working inside its sandbox."""
import contextlib
from pathlib import Path

from parties.models import PartyLink, Tpa
from parties.services import tpa_create, user_create_with_role
from training import services
from training.sandbox.connections import alias_register, sandbox_active

FILES = Path(__file__).resolve().parent / "files"
PENDED = (FILES / "pended_claim.yaml").read_text()


def trainer_login(username: str = "trainer"):
    tpa = Tpa.objects.first() or tpa_create(name="Test TPA")
    return user_create_with_role(username=username, password="demo", role=PartyLink.Role.TRAINER, party=tpa).user


def session_start(*, by, text: str = PENDED):
    return services.training_session_start(scenario_text=text, source="test", by=by, build_now=True)


@contextlib.contextmanager
def inside(session):
    """The block runs in the session's sandbox, as a request of a joined browser does."""
    session.refresh_from_db()
    with sandbox_active(alias_register(database_name=session.database), header=session.header):
        yield
