"""The Training area at /training/: the scenario library, the running sessions, a session's page (logins,
join link, checklist, clock, reset, end), and the join page and role switcher of a sandbox.

The console pages run on the control database, for the trainer, supervisor and administrator logins
(Action.TRAINING_RUN). A browser that joined a session is inside its sandbox: the console answers it with a
way out, never with the control database's data.
"""
import functools

from django.contrib import messages
from django.contrib.auth import get_user_model, login
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.errors import NotFound
from core.http import refusals_as_http
from parties.roles import Action, user_may

from . import selectors, services, tasks
from .errors import TrainingConflict, TrainingError
from .models import SandboxWorld, TrainingSession
from .sandbox.connections import alias_register, sandbox_active
from .sandbox.middleware import SESSION_KEY

LOGIN_BACKEND = "django.contrib.auth.backends.ModelBackend"
UPLOAD_MAX_BYTES = 200_000


def trainer_page(view):
    """For logins that may run training sessions; a browser inside a sandbox gets the way out instead."""
    @functools.wraps(view)
    @never_cache
    def wrapper(request, *args, **kwargs):
        if getattr(request, "training_session", None) is not None:
            return render(request, "training/inside.html", {"session": request.training_session}, status=409)
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "portal:login")
        if not user_may(user=request.user, action=Action.TRAINING_RUN):
            raise PermissionDenied("The Training area is for trainers and supervisors.")
        with refusals_as_http():
            return view(request, *args, **kwargs)
    return wrapper


@trainer_page
def home(request):
    error = ""
    if request.method == "POST":
        file, text = request.POST.get("library_file", ""), None
        upload = request.FILES.get("scenario_file")
        if upload is not None:
            if upload.size > UPLOAD_MAX_BYTES:
                error = f"scenario: a scenario file is at most {UPLOAD_MAX_BYTES:,} bytes."
            else:
                try:
                    text, file = upload.read().decode("utf-8"), "uploaded"
                except UnicodeDecodeError:
                    error = "scenario: the file is not UTF-8 text."
        elif request.POST.get("scenario_text", "").strip():
            text, file = request.POST["scenario_text"], "uploaded"
        else:
            text = selectors.scenario_library_text(file=file)
            if text is None:
                error = "library_file: choose a scenario of the library."
        if not error:
            try:
                session = tasks.session_start_enqueue(scenario_text=text, source=file, by=request.user)
            except TrainingError as exc:
                error = exc.text()
            else:
                messages.success(request, f"Session {session.code} started.")
                return redirect("training:session", code=session.code)
    return render(request, "training/home.html", {
        "library": selectors.scenario_library(), "sessions": selectors.session_list(), "error": error,
        "posted_text": request.POST.get("scenario_text", "") if error else "",
    }, status=400 if error else 200)


def _session_context(request, code):
    session = services.session_access_by_code(code=code, by=request.user)
    return {"session": session, "status": services.session_status_record(session=session),
            "join_url": request.build_absolute_uri(f"/training/join/{session.code}/")}


@trainer_page
def session_page(request, code):
    context = _session_context(request, code)
    template = "training/_session_status.html" if request.htmx else "training/session.html"
    return render(request, template, context)


@require_POST
@trainer_page
def session_advance(request, code):
    try:
        tasks.session_advance_enqueue(code=code, by=request.user, to=request.POST.get("to") or None,
                                      days=request.POST.get("days") or None)
    except TrainingError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.text())
    return redirect("training:session", code=code)


@require_POST
@trainer_page
def session_reset(request, code):
    try:
        session = tasks.session_reset_enqueue(code=code, by=request.user)
        messages.success(request, f"Session {session.code} is back at the scenario's end state.")
    except TrainingConflict as exc:
        messages.error(request, exc.text())
    return redirect("training:session", code=code)


@require_POST
@trainer_page
def session_end(request, code):
    session = tasks.session_end_enqueue(code=code, by=request.user)
    messages.success(request, f"Session {session.code} ended.")
    return redirect("training:home")


def _open_session(code) -> TrainingSession:
    session = TrainingSession.objects.filter(code=str(code).upper()[:12]).first()
    if session is None or session.state not in (TrainingSession.S.READY, TrainingSession.S.ADVANCING):
        raise Http404("No such training session is running.")
    return session


def _sandbox_logins(session: TrainingSession) -> list[dict]:
    with sandbox_active(alias_register(database_name=session.database), header=session.header):
        return SandboxWorld.objects.get(pk=1).logins


def _join_as(request, session: TrainingSession, username: str):
    """Log the browser in as one of the sandbox's logins (the join code is the class's key: no password)."""
    if username not in {entry["username"] for entry in _sandbox_logins(session)}:
        raise Http404("No such login in this session.")
    request.session.flush()
    request.session[SESSION_KEY] = session.pk
    with sandbox_active(alias_register(database_name=session.database), header=session.header):
        user = get_user_model().objects.get(username=username)
        login(request, user, backend=LOGIN_BACKEND)
    request.session[SESSION_KEY] = session.pk
    return redirect("portal:home")


@never_cache
def join(request, code):
    """`/training/join/<code>/`: the session's logins; choosing one enters the sandbox as it."""
    session = _open_session(code)
    if request.method == "POST":
        return _join_as(request, session, str(request.POST.get("username", ""))[:150])
    return render(request, "training/join.html", {"session": session, "logins": _sandbox_logins(session)})


@require_POST
def switch(request):
    """The role switcher of a browser inside a sandbox: the same session as another of its logins."""
    current = getattr(request, "training_session", None)
    if current is None:
        raise Http404("Not in a training session.")
    return _join_as(request, current, str(request.POST.get("username", ""))[:150])


@require_POST
def leave(request):
    request.session.flush()
    return redirect("portal:home")
