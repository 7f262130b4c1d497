"""The one row of the business clock (see core/clock.py)."""
from django.db import models
from django.db.models import Q


class BusinessClock(models.Model):
    """The simulated business date (one row). Null: the real date."""

    simulated_date = models.DateField(null=True, blank=True)

    class Meta:
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="core_business_clock_single_row")]

    def __str__(self) -> str:
        return f"Business date: {self.simulated_date or 'real date'}"
