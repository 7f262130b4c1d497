"""Summary figures: computed once when none are kept, read in one query while fresh, and when stale shown as
they are with one refresh queued (not one per page view)."""
import datetime

import pytest
from django.core.cache import cache
from django.utils import timezone

from portal import figures, tasks
from portal.models import DashboardFigures

pytestmark = pytest.mark.django_db


@pytest.fixture
def counted(monkeypatch):
    calls = {"computed": 0, "queued": []}

    def compute_for(rest):
        def compute():
            calls["computed"] += 1
            return {"claims": calls["computed"], "who": rest}
        return compute
    monkeypatch.setitem(figures._COMPUTERS, "test", compute_for)
    monkeypatch.setattr(tasks.dashboard_figures_refresh, "delay", lambda **kw: calls["queued"].append(kw))
    cache.clear()
    return calls


def test_figures_are_computed_once_then_read(counted, django_assert_num_queries):
    first = figures.figures_get(key="test:7")
    assert first.data == {"claims": 1, "who": "7"} and counted["computed"] == 1
    with django_assert_num_queries(2):  # the kept row, and the business clock
        again = figures.figures_get(key="test:7")
    assert again.data == first.data and counted["computed"] == 1 and counted["queued"] == []


def test_stale_figures_are_shown_and_one_refresh_is_queued(counted, django_capture_on_commit_callbacks):
    figures.figures_get(key="test:7")
    DashboardFigures.objects.filter(key="test:7").update(computed_at=timezone.now() - datetime.timedelta(minutes=6))
    with django_capture_on_commit_callbacks(execute=True):
        for _ in range(5):  # five page views of the stale summary
            shown = figures.figures_get(key="test:7")
    assert shown.data == {"claims": 1, "who": "7"}  # the page is not held up
    assert counted["queued"] == [{"keys": ["test:7"]}]  # one refresh, not five
    assert figures.figures_refresh(keys=["test:7"]) == 1
    assert DashboardFigures.objects.get(key="test:7").data == {"claims": 2, "who": "7"}


def test_refresh_drops_figures_whose_summary_is_gone(counted):
    DashboardFigures.objects.create(key="retired:1", business_date=datetime.date(2026, 6, 15),
                                    computed_at=timezone.now(), data={})
    figures.figures_get(key="test:1")
    assert figures.figures_refresh() == 1
    assert list(DashboardFigures.objects.values_list("key", flat=True)) == ["test:1"]
