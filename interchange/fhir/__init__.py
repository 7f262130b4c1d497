"""FHIR R4 resources for claims and coverage (fhir.resources' R4B models, element for element R4's):
ExplanationOfBenefit in CARIN Blue Button's shape, its searchset Bundle, and Coverage."""
from .eob import eob_bundle, eob_resource
from .parties import coverage_resource

__all__ = ["coverage_resource", "eob_bundle", "eob_resource"]
