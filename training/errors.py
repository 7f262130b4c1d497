from core.errors import Conflict, DomainError, NotFound


class TrainingError(DomainError):
    """A training request refused, with the field it concerns."""


class TrainingNotFound(TrainingError, NotFound):
    pass


class TrainingConflict(TrainingError, Conflict):
    pass
