"""What the dashboards keep of their own: the figures of the summary pages, computed in the background.

A supervisor's turnaround percentiles or an employer's spend by month read every claim of the TPA or
of the sponsor: at a million claims that is seconds, not the 100 ms a page may take. Such figures are
computed by a job (`portal.tasks.dashboard_figures_refresh`, every few minutes, and whenever a page
finds none) and the page shows them with the time they were computed, as reporting screens do.
"""
from django.conf import settings
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


class JobRun(models.Model):
    """A long job a person started from a page (a payment cycle), run by a Celery worker: its page shows
    the run's progress from this row. At most one run of a kind is queued or running at a time (a
    constraint, so a double click or two supervisors at once start one run, not two)."""

    class Kind(models.TextChoices):
        PAYMENT_CYCLE = "payment_cycle", "Payment cycle"

    class State(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        DONE = "done"
        FAILED = "failed"

    ACTIVE = (State.QUEUED, State.RUNNING)

    kind = models.CharField(max_length=30, choices=Kind.choices)
    state = models.CharField(max_length=10, choices=State.choices, default=State.QUEUED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    requested_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    result = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)  # the job's figures
    message = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["kind"], condition=models.Q(state__in=["queued", "running"]),
                                    name="job_run_one_active_per_kind"),
            models.CheckConstraint(condition=models.Q(state__in=["queued", "running", "done", "failed"]),
                                   name="job_run_state_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk} ({self.state})"

    @property
    def is_active(self) -> bool:
        return self.state in self.ACTIVE


class ClaimSubmissionToken(models.Model):
    """The one-time token of a claim form a login opened: a second POST of the same form (a double click,
    a reload, a retry after a timeout) finds the claim the first one made instead of making another.

    A row, not the session or the cache: the unique constraint holds under two requests at once (the
    second waits for the first's transaction and then finds its claim), and the cache may forget."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    token = models.UUIDField()
    claim = models.ForeignKey("claims.Claim", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "token"], name="claim_submission_token_once")]

    def __str__(self) -> str:
        return f"{self.token} -> claim {self.claim_id}"
