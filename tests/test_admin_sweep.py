"""Every changelist and every autocomplete of the admin answers hostile query strings without a
server error (the project's admins and the libraries': auth, axes, django-celery-beat).

For each ModelAdmin registered on `django.contrib.admin.site`, its changelist is opened as a superuser
with a set of hostile query strings built from its model's fields: a NUL in the search term and in a
filter value, the code-only `__any` lookup, `pk__in=abc`, integers beyond a bigint, years the calendar
(or the database) cannot hold on every date field and on the date hierarchy, amounts beyond any
numeric column, unknown fields, bad ordering and page numbers. The answer must be the page (200),
the admin's "incorrect lookup" redirect (302 to ?e=1) or a 400; never a 500. Every autocomplete field
of every admin is then asked for a term holding a NUL (and bad pages).

The world is seed_demo's, plus funding rows (a deposit, a payment cycle, billing runs) and a row in
each library table, built once for the module inside a transaction that is rolled back at its end.
"""
import datetime
from urllib.parse import urlencode

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import models, transaction
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db

BIG = "99999999999999999999"  # beyond a bigint (and beyond what SQLite binds)
REGISTRY = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)
ADMIN_IDS = [model._meta.label for model, _ in REGISTRY]


def _seed() -> None:
    from axes.models import AccessAttempt, AccessFailureLog, AccessLog
    from django_celery_beat.models import ClockedSchedule, SolarSchedule

    from core import clock
    from funding import services as funding_services
    from parties.models import Employer
    from plans.models import FundingArrangement

    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    today = clock.today()
    aso = Employer.objects.filter(plans__funding=FundingArrangement.ASO).first()
    funding_services.sponsor_deposit(employer=aso, amount="250000", reference="SWEEP-1", today=today)
    funding_services.payment_cycle_run(today=today)
    funding_services.reimbursement_billing_run(today=today)
    funding_services.fee_billing_run(today=today)
    clock.clock_set(day=today)  # a BusinessClock row
    get_user_model().objects.first().groups.create(name="sweepers")
    now = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.UTC)
    AccessAttempt.objects.create(username="x", ip_address="10.0.0.1", user_agent="ua", path_info="/admin/login/",
                                 get_data="", post_data="", http_accept="*/*", failures_since_start=6,
                                 attempt_time=now)
    AccessLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="ua", path_info="/admin/",
                             http_accept="*/*", attempt_time=now)
    AccessFailureLog.objects.create(username="x", ip_address="10.0.0.1", user_agent="ua", path_info="/admin/",
                                    http_accept="*/*", attempt_time=now, locked_out=True)
    ClockedSchedule.objects.create(clocked_time=now)
    SolarSchedule.objects.create(event="sunrise", latitude="40.712800", longitude="-74.006000")


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker):
    """seed_demo's world and more, once for the module; rolled back after its last test."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            _seed()
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    yield
    with django_db_blocker.unblock():
        transaction.set_rollback(True)
        outer.__exit__(None, None, None)


@pytest.fixture
def root(seeded, monkeypatch) -> Client:
    monkeypatch.setattr(admin.site, "enable_nav_sidebar", False)  # the same app list on every page: not swept
    user = get_user_model().objects.create_superuser(username="sweep-root", password="pw", email="s@example.com")
    client = Client(raise_request_exception=False)  # a crash is a 500 here, reported with the others
    client.force_login(user)
    return client


def _filter_paths(model_admin) -> list[str]:
    """The query-string names of the admin's field list filters ("state", "plan__sponsor")."""
    paths = []
    for entry in model_admin.list_filter:
        if isinstance(entry, (tuple, list)):
            entry = entry[0]
        if isinstance(entry, str):
            paths.append(entry)
    return paths


def _first(fields, kind):
    return [f for f in fields if isinstance(f, kind)][:1]


def hostile_queries(model_admin) -> list[dict]:
    """The query strings for one changelist: the issue's list, on this model's own fields."""
    model = model_admin.model
    pk = model._meta.pk.name
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    queries = [
        {"q": "a\x00b"}, {"q": BIG}, {"q": "%_\\'\""},
        {pk: "1\x00"}, {f"{pk}__in": "1,\x00"},
        {"id__any": "abc"}, {f"{pk}__any": "1,2"}, {"pk__in": "abc"}, {f"{pk}__in": f"1,{BIG}"},
        {"id": BIG}, {f"{pk}__gte": BIG}, {f"{pk}__lt": f"-{BIG}"}, {f"{pk}__range": "1,2"}, {pk: ""},
        {"no_such_field": "1"}, {"o": "999"}, {"o": "-999.abc.1"}, {"p": "-1"}, {"p": "99999999"}, {"p": BIG},
        {"_facets": "True", f"{pk}__in": BIG},
    ]
    for path in _filter_paths(model_admin):
        queries += [{path: "a\x00b"}, {f"{path}__id__exact": BIG}, {f"{path}__exact": BIG}]
    for field in fields:
        name = field.name
        if isinstance(field, (models.DateField, models.DateTimeField)):  # DateTimeField is a DateField
            queries += [{f"{name}__year": "99999"}, {f"{name}__year": "0"}, {f"{name}__gte": "notadate"},
                        {f"{name}__gte": "9999-12-31 23:59:59"}]
        elif isinstance(field, models.ForeignKey):
            queries += [{f"{name}__id__exact": BIG}, {f"{name}__in": BIG}, {name: "abc"}]
    for field in _first(fields, (models.DateField, models.DateTimeField)):
        name = field.name
        queries += [{f"{name}__year": "9999"}, {f"{name}__year__gte": "99999"}, {f"{name}__month": BIG},
                    {f"{name}__lt": "2026-02-30"}, {name: "9999-12-31"}, {f"{name}__lte": "0001-01-01"}]
    for field in _first(fields, models.DecimalField):
        queries += [{field.name: "1e999999"}, {f"{field.name}__gte": "1E+400"}, {field.name: "NaN"}]
    for field in _first(fields, (models.IntegerField, models.FloatField)):
        queries += [{field.name: BIG}, {f"{field.name}__in": BIG}, {field.name: "1e999"}]
    for field in _first(fields, (models.CharField, models.TextField)):
        queries += [{field.name: "a\x00b"}, {f"{field.name}__regex": "("}, {f"{field.name}__iregex": "[z-a]"}]
    hierarchy = model_admin.date_hierarchy
    if hierarchy:
        queries += [
            {f"{hierarchy}__year": "9999"},
            {f"{hierarchy}__year": "9999", f"{hierarchy}__month": "12"},
            {f"{hierarchy}__year": "9999", f"{hierarchy}__month": "12", f"{hierarchy}__day": "31"},
            {f"{hierarchy}__year": "99999"}, {f"{hierarchy}__year": "0"},
            {f"{hierarchy}__year": "2026", f"{hierarchy}__month": "2", f"{hierarchy}__day": "30"},
        ]
    return queries


def paging_queries(model_admin) -> list[dict]:
    """For a list of several pages: pages and orderings that do not exist."""
    pk = model_admin.model._meta.pk.name
    return [{"p": "-1"}, {"p": "0"}, {"p": "99999999"}, {"p": "abc"}, {"p": BIG}, {"o": "999"},
            {"_facets": "True", "p": "99999999"}, {"e": "1", f"{pk}__in": "abc"}, {"all": "", "p": "3"}]


def _refusal_problem(response) -> str | None:
    """None for a clear answer (the page, the admin's ?e=1 redirect, a 400), else what was wrong."""
    if response.status_code in (200, 400):
        return None
    if response.status_code == 302 and response["Location"].endswith("?e=1"):
        return None
    where = f" to {response['Location']}" if response.status_code == 302 else ""
    return f"status {response.status_code}{where}"


def test_the_sweep_covers_the_project_and_the_libraries():
    apps = {model._meta.app_label for model, _ in REGISTRY}
    assert {"auth", "axes", "django_celery_beat", "funding", "claims", "plans", "parties", "core"} <= apps, apps
    assert len(REGISTRY) >= 35


def _sweep(client, model, queries) -> list[str]:
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert client.get(url).status_code == 200
    problems = []
    for query in queries:
        problem = _refusal_problem(client.get(f"{url}?{urlencode(query)}"))
        if problem:
            problems.append(f"{query!r}: {problem}")
    return problems


@pytest.mark.parametrize("model, model_admin", REGISTRY, ids=ADMIN_IDS)
def test_changelist_answers_hostile_query_strings(root, model, model_admin):
    problems = _sweep(root, model, hostile_queries(model_admin))
    assert not problems, f"{len(problems)} hostile query strings were not refused cleanly:\n" + "\n".join(problems)


@pytest.mark.parametrize("model, model_admin", REGISTRY, ids=ADMIN_IDS)
def test_changelist_of_several_pages_answers_bad_pages(root, model, model_admin, monkeypatch):
    monkeypatch.setattr(model_admin, "list_per_page", 1)  # every table with two rows or more is several pages
    problems = _sweep(root, model, paging_queries(model_admin))
    assert not problems, "\n".join(problems)


AUTOCOMPLETES = [
    (model, field_name) for model, model_admin in REGISTRY for field_name in model_admin.autocomplete_fields
]


def test_there_are_autocomplete_fields_to_sweep():
    assert len(AUTOCOMPLETES) >= 10


@pytest.mark.parametrize("model, field_name", AUTOCOMPLETES,
                         ids=[f"{m._meta.label}.{f}" for m, f in AUTOCOMPLETES])
def test_autocomplete_answers_a_nul_in_the_term(root, model, field_name):
    url = reverse("admin:autocomplete")
    base = {"app_label": model._meta.app_label, "model_name": model._meta.model_name, "field_name": field_name}
    assert root.get(url, {**base, "term": ""}).status_code == 200
    response = root.get(url, {**base, "term": "a\x00b"})
    assert response.status_code == 200, response.content[:300]
    assert response.json()["results"] == []
    problems = []
    for extra in ({"term": "\x00"}, {"term": "\x00", "page": "2"}, {"term": "a", "page": "abc"},
                  {"term": "a", "page": "-1"}, {"term": "a", "page": BIG}, {"term": BIG},
                  {"term": "x" * 5000}, {"term": "%_\\"}, {"term": "a", "field_name": "a\x00b"},
                  {"term": "a", "model_name": "\x00"}, {"term": "a", "app_label": "\x00"}):
        response = root.get(url, {**base, **extra})
        if response.status_code not in (200, 403, 404):
            problems.append(f"{extra!r}: status {response.status_code}")
    assert not problems, "\n".join(problems)
