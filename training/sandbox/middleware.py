"""A request of a browser that joined a training session runs in that session's sandbox.

Placed between SessionMiddleware and AuthenticationMiddleware: the browser's Django session (control
database) names the training session; the login is then read from the sandbox's users. An ended session
answers 404 and forgets the browser's session.
"""
from django.http import Http404

from .connections import alias_register, sandbox_active

SESSION_KEY = "training_session_id"


def _streamed_in_sandbox(content, alias: str, header: str):
    """A streamed response (a CSV download) reads the database while it is sent, after the view returned."""
    iterator = iter(content)
    try:
        while True:
            with sandbox_active(alias, header=header, close=False):
                try:
                    chunk = next(iterator)
                except StopIteration:
                    return
            yield chunk
    finally:
        with sandbox_active(alias, header=header):
            close = getattr(iterator, "close", None)
            if close:
                close()


class TrainingSessionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        session_id = request.session.get(SESSION_KEY)
        request.training_session = None
        if session_id is None:
            return self.get_response(request)
        from ..models import TrainingSession

        session = TrainingSession.objects.filter(pk=session_id).first()
        if session is None or not session.database or session.state not in (TrainingSession.S.READY,
                                                                             TrainingSession.S.ADVANCING):
            request.session.flush()
            raise Http404("This training session has ended.")
        request.training_session = session
        alias = alias_register(database_name=session.database)
        with sandbox_active(alias, header=session.header):
            response = self.get_response(request)
        if getattr(response, "streaming", False):
            response.streaming_content = _streamed_in_sandbox(response.streaming_content, alias, session.header)
        return response
