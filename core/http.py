"""The one mapping of domain refusals to HTTP, for every screen (admin, dashboards) and the API:
NotFound -> 404, Forbidden -> 403. Other domain errors are shown on the form or page that caused them."""
import contextlib

from django.core.exceptions import PermissionDenied
from django.http import Http404

from .errors import Forbidden, NotFound


@contextlib.contextmanager
def refusals_as_http():
    """Run a service for a request: an object the user may not see is a 404, an action it may not take a 403."""
    try:
        yield
    except NotFound as exc:
        raise Http404(exc.text()) from None
    except Forbidden as exc:
        raise PermissionDenied(exc.text()) from None
