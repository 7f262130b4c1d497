"""Reads of the imported files: who may see which (a provider's staff their own uploads, TPA staff all)."""
from parties.roles import role_of, user_is_tpa_staff

from ..models import InboundFile


def inbound_file_list_visible_to(*, user):
    """The inbound files a login may see: TPA staff all, provider staff their provider's, anyone else
    none (another party's file is a 404)."""
    qs = InboundFile.objects.select_related("provider", "uploaded_by")
    if user_is_tpa_staff(user=user):
        return qs
    if role_of(user=user) == "provider_staff":
        return qs.filter(provider_id=user.party_link.provider_id)
    return qs.none()
