"""Provider staff's X12 pages: upload an 837P (its claims through intake, its 999 to download, each
claim's outcome) and download a remittance's 835.

An uploaded file is read as it streams (`interchange.x12.services.inbound_837_import`); a file that is
not X12 is refused with a message and nothing is written. Files and remittances are read through
their visibility selectors: another provider's is a 404.
"""
import io

from django.contrib import messages
from django.http import HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render

from core.errors import DomainError, NotFound
from funding.selectors import remittance_list_visible_to
from interchange.x12 import remittance_835
from interchange.x12.selectors import inbound_file_list_visible_to
from interchange.x12.services import inbound_837_import
from portal.access import R, role_page

ROLES = (R.PROVIDER_STAFF,)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
FILES_SHOWN = 20
OUTCOMES_SHOWN = 200


def _id(text: str | None) -> int | None:
    text = (text or "").strip()
    return int(text) if text.isdecimal() and len(text) < 19 else None


def _page(request, *, error: str = "", status: int = 200):
    files = inbound_file_list_visible_to(user=request.user)
    chosen = None
    wanted = request.GET.get("file")
    if wanted is not None:
        chosen = files.filter(pk=_id(wanted)).first() if _id(wanted) is not None else None
        if chosen is None:
            raise NotFound({"file": [f"no imported file {wanted[:20]}"]})
    return render(request, "portal/provider/upload_837.html", {
        "active": "upload", "error": error, "files": list(files[:FILES_SHOWN]), "chosen": chosen,
        "outcomes": list(chosen.claims.select_related("claim").order_by("position")[:OUTCOMES_SHOWN]) if chosen else [],
        "max_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    }, status=status)


@role_page(*ROLES)
def upload_837(request):
    """GET: the upload form and the office's imported files (`?file=ID` one file's claims, `?ack=ID` its
    999 as a download). POST: import the file under the office's NPI."""
    if request.method in ("GET", "HEAD"):
        ack = request.GET.get("ack")
        if ack is not None:
            inbound = inbound_file_list_visible_to(user=request.user).filter(pk=_id(ack) or 0).first()
            if inbound is None:
                raise NotFound({"file": [f"no imported file {ack[:20]}"]})
            response = HttpResponse(inbound.ack_999, content_type="text/plain; charset=ascii")
            response["Content-Disposition"] = f'attachment; filename="inbound-{inbound.pk}.999"'
            return response
        return _page(request)
    if request.method != "POST":
        return HttpResponseNotAllowed(["GET", "POST"])
    upload = request.FILES.get("file")
    if upload is None:
        return _page(request, error="Choose an 837 file to upload.", status=400)
    if upload.size > MAX_UPLOAD_BYTES:
        return _page(request, error=f"The file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: "
                                    "split it into smaller files.", status=400)
    src = io.TextIOWrapper(upload.file, encoding="ascii", errors="replace", newline="")
    try:
        inbound = inbound_837_import(src=src, name=upload.name or "upload.837", size=upload.size,
                                     uploaded_by=request.user)
    except DomainError as exc:
        text = "; ".join(m for ms in exc.message_dict.values() for m in ms)
        return _page(request, error=f"{text}. Nothing was imported.", status=400)
    summary = (f"{inbound.name}: {inbound.claims_accepted} of {inbound.claims_found} claims taken in, "
               f"{inbound.claims_refused} refused. Download the 999 for the details.")
    (messages.success if inbound.status == "accepted" else messages.warning)(request, summary)
    return redirect(f"{request.path}?file={inbound.pk}")


@role_page(*ROLES)
def remittance_835_download(request, remittance_id: int):
    """The remittance's 835 (005010X221A1) as a download."""
    remittance = remittance_list_visible_to(user=request.user).filter(pk=remittance_id).first()
    if remittance is None:
        raise NotFound({"remittance": [f"no remittance {remittance_id}"]})
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    response = HttpResponse(remittance_835(remittance=remittance), content_type="text/plain; charset=ascii")
    response["Content-Disposition"] = f'attachment; filename="remittance-{remittance.pk}.835"'
    return response
