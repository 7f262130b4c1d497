"""On every page of a browser inside a training session: the session and its logins (the role switcher)."""
from core import clock

from .models import SandboxWorld


def training_banner(request) -> dict:
    session = getattr(request, "training_session", None)
    if session is None:
        match = request.resolver_match
        return {"business_date": clock.today()} if match and match.namespace == "training" else {}
    row = SandboxWorld.objects.filter(pk=1).values_list("logins", flat=True).first()
    return {"training_session": session, "training_logins": row or []}
