"""Provider staff's X12 pages: the 837 upload (a bad file is a clear message, never a 500), its 999,
another provider's claims refused; the remittance's 835."""
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from claims.models import Claim
from funding.models import RemittanceAdvice
from interchange.models import InboundFile
from interchange.x12.stream import segments_checked
from interchange.x12.write_837 import Claim837, text_837
from parties.models import Member, Provider
from tests.portal.helpers import DEMO_DATE

pytestmark = pytest.mark.django_db
URL = "portal:provider-upload-837"


def _file(demo, *, npi=None, pcn="UP1"):
    return text_837([Claim837(npi=npi, member_id=Member.objects.filter(subscriber__isnull=True).first().member_id,
                              patient_control_number=pcn, service_date=DEMO_DATE, lines=(("99213", 150, 1),))])


def _own_provider():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username="provider").party_link.provider


def test_upload_page_answers_and_links_from_home(client_for):
    c = client_for("provider")
    assert reverse(URL) in c.get(reverse("portal:provider-home")).content.decode()
    assert c.get(reverse(URL)).status_code == 200


def test_a_file_that_is_not_x12_is_a_clear_message(client_for):
    before = Claim.objects.count()
    got = client_for("provider").post(reverse(URL), {"file": SimpleUploadedFile("notes.txt", b"\x00\xffhello")})
    assert got.status_code == 400
    assert "notes.txt is not an X12 837 file" in got.content.decode() and "Nothing was imported" in got.content.decode()
    assert Claim.objects.count() == before and not InboundFile.objects.exists()
    assert client_for("provider").post(reverse(URL), {}).status_code == 400


def test_upload_takes_own_claims_refuses_another_providers_and_gives_the_999(client_for, demo):
    own = _own_provider()
    other = Provider.objects.exclude(pk=own.pk).first()
    text = _file(demo, npi=own.npi, pcn="MINE") + ""
    both = text_837([
        Claim837(npi=own.npi, member_id=Member.objects.first().member_id, patient_control_number="MINE",
                 service_date=DEMO_DATE, lines=(("99213", 150, 1),)),
        Claim837(npi=other.npi, member_id=Member.objects.first().member_id, patient_control_number="THEIRS",
                 service_date=DEMO_DATE, lines=(("99213", 150, 1),)),
    ])
    assert text
    c = client_for("provider")
    before = Claim.objects.count()
    got = c.post(reverse(URL), {"file": SimpleUploadedFile("batch.837", both.encode())}, follow=True)
    assert got.status_code == 200
    page = got.content.decode()
    assert "1 of 2 claims taken in, 1 refused" in page and "THEIRS" in page and own.npi in page
    assert Claim.objects.count() == before + 1
    assert not Claim.objects.filter(provider=other, received_date=DEMO_DATE, submitted_by__username="provider").exists()
    inbound = InboundFile.objects.get()
    ack = c.get(reverse(URL) + f"?ack={inbound.pk}")
    assert ack.status_code == 200 and ack.content.decode() == inbound.ack_999
    assert "AK9*E*1*1*1" in inbound.ack_999
    # Another provider's staff see neither the file nor its 999.
    assert client_for("provider2").get(reverse(URL) + f"?ack={inbound.pk}").status_code == 404
    assert client_for("provider2").get(reverse(URL) + f"?file={inbound.pk}").status_code == 404


def test_the_remittance_835_downloads_and_validates(client_for, demo):
    import io

    from claims.services import claims_adjudicate_pending
    from funding.services import payment_cycle_run
    from parties.models import PartyLink

    claims_adjudicate_pending(today=DEMO_DATE)
    payment_cycle_run(today=DEMO_DATE)
    staff = PartyLink.objects.filter(role="provider_staff", provider__remittances__isnull=False).select_related(
        "user").first()
    assert staff is not None
    remittance = RemittanceAdvice.objects.filter(provider_id=staff.provider_id).order_by("-pk").first()
    stranger = PartyLink.objects.filter(role="provider_staff").exclude(provider_id=staff.provider_id).first()
    url = reverse("portal:provider-remittance-835", kwargs={"remittance_id": remittance.pk})
    got = client_for(staff.user.username).get(url)
    assert got.status_code == 200
    text = got.content.decode()
    assert [e.text() for c in segments_checked(io.StringIO(text)) for e in (*c.walk, *c.own)] == []
    assert f"BPR*{'I' if remittance.amount else 'H'}*" in text
    assert url in client_for(staff.user.username).get(
        reverse("portal:provider-remittance", kwargs={"remittance_id": remittance.pk})).content.decode()
    assert client_for(stranger.user.username).get(url).status_code == 404
