"""Explanations that teach: the claim lifecycle drawn from its django-fsm definition, the money flow
from the ledger, and the glossary read from docs/domain.md (§7)."""
