"""core.bulk: the set-wise writes and the `__any` lookup round-trip awkward values exactly,
on whichever database the suite runs (COPY and unnest on PostgreSQL, executemany elsewhere)."""
import datetime
from decimal import Decimal

import pytest

from claims.models import Accumulator
from core.bulk import array_literal, bulk_update, bulk_upsert, insert_prepare, write_prepared
from parties.models import Employer
from plans.models import Coverage
from tests.factories import MemberFactory, PlanFactory

AWKWARD = ["tab\there", "new\nline", "back\\slash", 'quote"d', "comma, {brace}", "NULL", "", "naïve café", "\r"]

pytestmark = pytest.mark.django_db


def test_insert_update_and_any_round_trip_awkward_text():
    start = (Employer.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    rows = [(start + i, name, "") for i, name in enumerate(AWKWARD)]
    prepared = insert_prepare(Employer, ("id", "name", "ein"), rows)
    assert prepared.rows == len(AWKWARD)
    assert write_prepared(prepared) == len(AWKWARD)
    ids = [r[0] for r in rows]
    assert dict(Employer.objects.filter(pk__any=ids).values_list("pk", "name")) == {r[0]: r[1] for r in rows}
    assert sorted(Employer.objects.filter(name__any=AWKWARD).values_list("name", flat=True)) == sorted(AWKWARD)

    assert bulk_update(Employer, "id", ("name",), [(pk, name[::-1] + "\t!") for pk, name, _ in rows]) == len(rows)
    assert dict(Employer.objects.filter(pk__any=ids).values_list("pk", "name")) == {
        pk: name[::-1] + "\t!" for pk, name, _ in rows}


def test_any_with_no_values_matches_nothing_and_dates_compare_as_dates():
    assert list(Employer.objects.filter(pk__any=[]).values_list("pk", flat=True)) == []
    plan = PlanFactory()
    member = MemberFactory(employer=plan.sponsor)
    Coverage.objects.create(member=member, plan=plan, start=datetime.date(2026, 3, 1))
    assert Coverage.objects.filter(start__any={datetime.date(2026, 3, 1), datetime.date(1900, 1, 1)}).count() == 1
    assert Coverage.objects.filter(start__any=[datetime.date(1900, 1, 1)]).count() == 0


def test_array_literal_quotes_text_and_writes_none_as_null():
    assert array_literal([1, 2, None]) == "{1,2,NULL}"
    assert array_literal(['a"b', "c\\d", "NULL"]) == '{"a\\"b","c\\\\d","NULL"}'
    assert array_literal([datetime.date(2026, 1, 2), Decimal("1.50")]) == "{2026-01-02,1.50}"


def test_upsert_inserts_then_sets_the_update_columns_on_a_conflict():
    plan = PlanFactory()
    member = MemberFactory(employer=plan.sponsor)
    key = (plan.pk, member.pk, "individual", datetime.date(2026, 1, 1))
    fields = ("plan_id", "member_id", "scope", "plan_year_start", "deductible_met", "oop_met")
    conflict = ("plan_id", "member_id", "scope", "plan_year_start")
    bulk_upsert(Accumulator, conflict=conflict, fields=fields, update=("deductible_met", "oop_met"),
                rows=[(*key, Decimal("100.00"), Decimal("120.00"))])
    bulk_upsert(Accumulator, conflict=conflict, fields=fields, update=("deductible_met", "oop_met"),
                rows=[(*key, Decimal("250.00"), Decimal("400.00"))])
    assert list(Accumulator.objects.filter(member=member).values_list("deductible_met", "oop_met")) == [
        (Decimal("250.00"), Decimal("400.00"))]
