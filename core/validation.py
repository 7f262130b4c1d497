"""One model-validation routine for every app's services (each wraps its ValidationError in its own
error type)."""
import datetime

from django.core.exceptions import ValidationError
from django.db import models


def model_validate(obj, *, exclude=None) -> None:
    """Django's full_clean, stricter where bad input would otherwise slip through or crash:

    - text holding a NUL character (PostgreSQL cannot store it) is an error naming the field, and so
      is a required text that is only blanks;
    - the model's cross-field `clean()` runs only once every field has cleaned: comparing a date that
      failed to parse with another raises TypeError, not a message naming the field.
    """
    exclude = set(exclude or ())
    errors: dict[str, list] = {}
    for field in obj._meta.concrete_fields:
        if field.name in exclude:
            continue
        value = getattr(obj, field.attname, None)
        if value is None and not field.null and isinstance(field, (models.CharField, models.TextField)):
            errors[field.name] = ["This field cannot be null."]
        elif isinstance(field, models.DateField) and value is not None and not isinstance(value, (datetime.date, str)):
            errors[field.name] = [f"not a date (YYYY-MM-DD): {value!r}"]  # Django's parser raises TypeError
        elif isinstance(value, str):
            if "\x00" in value:
                errors[field.name] = ["must not contain a NUL character"]
            elif value and not value.strip() and not field.blank:
                errors[field.name] = ["This field cannot be blank."]
    try:
        obj.clean_fields(exclude=exclude | set(errors))
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    try:
        obj.clean()
    except ValidationError as exc:
        errors = exc.update_error_dict(errors)
    for check in (obj.validate_unique, obj.validate_constraints):
        try:
            check(exclude=exclude | set(errors))
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
