"""The training registry (in the control database) and the one row a sandbox knows itself by.

`ScenarioTemplate`: a database migrated and played from one scenario file with one code version, cloned
for every session of it. `TrainingSession`: a class's sandbox (its database generation, clock progress,
trainer). Both are routed to the control database (training.sandbox.connections.TrainingRouter).
`SandboxWorld`: inside a sandbox, the scenario's file keys -> rows and the role logins, so the sandbox's
report and checklist can be read at any time.
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django_fsm import FSMField, FSMModelMixin, transition
from django_fsm_log.decorators import fsm_log_by, fsm_log_description


class ScenarioTemplate(FSMModelMixin, models.Model):
    class State(models.TextChoices):
        BUILDING = "building", "Building"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    S = State
    key = models.CharField(max_length=64, unique=True, help_text="hash of the scenario file and the code version")
    scenario_name = models.CharField(max_length=200)
    database = models.CharField(max_length=500)
    state = FSMField(default=S.BUILDING, choices=S.choices, protected=True)
    progress = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When a worker took the build: a build taken long ago and never finished (its worker died) is taken again.
    claimed_at = models.DateTimeField(null=True, blank=True)
    built_seconds = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.scenario_name} ({self.key[:10]}, {self.state})"

    @fsm_log_description
    @transition(field=state, source=S.BUILDING, target=S.READY)
    def built(self, *, description=None):
        pass

    @fsm_log_description
    @transition(field=state, source=S.BUILDING, target=S.FAILED)
    def fail(self, *, description=None):
        pass

    @fsm_log_description
    @transition(field=state, source=S.FAILED, target=S.BUILDING)
    def retry(self, *, description=None):
        pass


class TrainingSession(FSMModelMixin, models.Model):
    class State(models.TextChoices):
        PREPARING = "preparing", "Preparing (the scenario's template is being built)"
        READY = "ready", "Ready"
        ADVANCING = "advancing", "Advancing the clock"
        FAILED = "failed", "Failed"
        ENDED = "ended", "Ended"

    S = State
    code = models.CharField(max_length=12, unique=True)
    scenario_name = models.CharField(max_length=200)
    scenario_source = models.CharField(max_length=200, help_text="the library file, or 'uploaded'")
    scenario_text = models.TextField()
    template = models.ForeignKey(ScenarioTemplate, on_delete=models.PROTECT, related_name="sessions")
    generation = models.PositiveIntegerField(default=0, help_text="0 until the first clone; a reset adds one")
    database = models.CharField(max_length=500, blank=True)
    state = FSMField(default=S.PREPARING, choices=S.choices, protected=True)
    trainer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                db_constraint=False, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    ended_at = models.DateTimeField(null=True, blank=True)
    # The clock's progress while it moves (the sandbox's clock itself is the sandbox's BusinessClock row).
    advance_to = models.DateField(null=True, blank=True)
    advance_day = models.DateField(null=True, blank=True)
    advance_jobs_run = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    # The checklist's steps (numbers) seen done in this generation: a step stays ticked once its `done_when`
    # matched (the claim approved in step 1 is paid by step 2 and no longer "approved").
    checklist_done = models.JSONField(default=list, blank=True)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=~Q(state="ready") | (Q(generation__gte=1) & ~Q(database="")),
                                   name="training_session_ready_has_database"),
        ]
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.code}: {self.scenario_name} ({self.state})"

    @property
    def header(self) -> str:
        """What a Celery message of this session carries: `<id>:<generation>`."""
        return f"{self.pk}:{self.generation}"

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.PREPARING, target=S.READY)
    def open(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.PREPARING, target=S.FAILED)
    def fail(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.READY, target=S.ADVANCING)
    def advance_begin(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=S.ADVANCING, target=S.READY)
    def advance_end(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[S.READY, S.ADVANCING], target=S.READY)
    def reset(self, *, by=None, description=None):
        pass

    @fsm_log_by
    @fsm_log_description
    @transition(field=state, source=[S.PREPARING, S.READY, S.ADVANCING, S.FAILED], target=S.ENDED)
    def end(self, *, by=None, description=None):
        pass


class SandboxWorld(models.Model):
    """One row in each sandbox (and its template): what the scenario made, by the file's keys."""

    scenario_name = models.CharField(max_length=200)
    scenario_text = models.TextField()
    keys = models.JSONField(help_text="{'carriers': {key: pk}, 'employers': …, 'members': …, 'providers': …, 'claims': …}")
    logins = models.JSONField(help_text="[{'role': 'provider:mercy', 'username': …, 'label': …}]")

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="training_sandbox_world_single_row")]

    def __str__(self) -> str:
        return self.scenario_name
