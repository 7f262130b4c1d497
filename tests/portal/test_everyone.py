"""Everyone's pages: `/` is the login page, then the role's home; logout; the header; password change."""
import pytest
from django.test import Client

from tests.portal.helpers import DEMO_DATE, ROLE_LOGINS

HOME = {"provider": "/provider/", "examiner": "/examiner/", "supervisor": "/supervisor/",
        "employer": "/employer/", "carrier": "/carrier/", "member": "/member/"}


@pytest.mark.django_db
def test_slash_is_the_login_page_for_anyone_not_logged_in(demo):
    response = Client().get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in html and 'name="csrfmiddlewaretoken"' in html


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLE_LOGINS)
def test_a_login_lands_on_its_role_home_with_the_business_date_and_its_party(demo, username):
    client = Client()
    response = client.post("/login/", {"username": username, "password": "demo"})
    assert response.status_code == 302 and response.url == "/"
    home = client.get("/")
    assert home.status_code == 302 and home.url == HOME[username]
    page = client.get(home.url)
    html = page.content.decode()
    assert page.status_code == 200
    assert f'datetime="{DEMO_DATE:%Y-%m-%d}"' in html
    party = page.wsgi_request.user.party_link.party
    assert str(party) in html.replace("&#x27;", "'").replace("&amp;", "&")


@pytest.mark.django_db
def test_a_wrong_password_is_refused_on_the_page(demo):
    response = Client().post("/login/", {"username": "provider", "password": "nope"})
    assert response.status_code == 200 and "Please enter a correct username and password" in response.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("username", ROLE_LOGINS)
def test_another_roles_home_is_forbidden(client_for, username):
    client = client_for(username)
    for role, url in HOME.items():
        status = client.get(url).status_code
        if role == username or (username == "supervisor" and role == "examiner"):
            assert status == 200, (username, url)
        else:
            assert status == 403, (username, url)


@pytest.mark.django_db
def test_an_anonymous_request_for_a_page_goes_to_the_login_page(demo):
    response = Client().get("/provider/")
    assert response.status_code == 302 and response.url == "/login/?next=/provider/"


@pytest.mark.django_db
def test_logout_is_a_post_and_ends_the_session(client_for):
    client = client_for("member")
    assert client.get("/logout/").status_code == 405
    assert client.post("/logout/").status_code == 302
    assert client.get("/member/").status_code == 302


@pytest.mark.django_db
def test_password_change_checks_the_policy_and_then_changes_it(client_for):
    client = client_for("employer")
    weak = client.post("/password/", {"old_password": "demo", "new_password1": "12345678", "new_password2": "12345678"})
    assert weak.status_code == 200 and "This password is too short" in weak.content.decode()
    good = "Harbor-lights-2026"
    done = client.post("/password/", {"old_password": "demo", "new_password1": good, "new_password2": good})
    assert done.status_code == 302 and done.url == "/password/done/"
    assert Client().login(username="employer", password=good)
