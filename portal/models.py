"""What the dashboards keep of their own: the figures of the summary pages, computed in the background.

A supervisor's turnaround percentiles or an employer's spend by month read every claim of the TPA or
of the sponsor: at a million claims that is seconds, not the 100 ms a page may take. Such figures are
computed by a job (`portal.tasks.dashboard_figures_refresh`, every few minutes, and whenever a page
finds none) and the page shows them with the time they were computed, as reporting screens do.
"""
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class DashboardFigures(models.Model):
    """One summary's figures: `key` names the summary and whose it is ("supervisor", "employer:12")."""

    key = models.CharField(max_length=80, unique=True)
    business_date = models.DateField(help_text="The business date the figures were computed on.")
    computed_at = models.DateTimeField()
    data = models.JSONField(encoder=DjangoJSONEncoder)  # Decimals become strings: read back with Decimal()

    class Meta:
        verbose_name_plural = "dashboard figures"

    def __str__(self) -> str:
        return f"{self.key} @ {self.computed_at:%Y-%m-%d %H:%M}"
