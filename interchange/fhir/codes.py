"""The code systems and codes the FHIR resources use (FHIR R4, CARIN Blue Button STU2 shape). Plain data."""

# HL7 terminology
ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
PAYEE_TYPE = "http://terminology.hl7.org/CodeSystem/payeetype"
PAYMENT_TYPE = "http://terminology.hl7.org/CodeSystem/ex-paymenttype"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
ORGANIZATION_TYPE = "http://terminology.hl7.org/CodeSystem/organization-type"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
# CARIN Blue Button
C4BB_ADJUDICATION = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudication"
C4BB_DISCRIMINATOR = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"
C4BB_PAYER_STATUS = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBPayerAdjudicationStatus"
C4BB_IDENTIFIER_TYPE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType"
C4BB_SUPPORTING_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
# External code systems and identifier namespaces
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"
CPT = "http://www.ama-assn.org/go/cpt"
NPI = "http://hl7.org/fhir/sid/us-npi"
US_TIN = "urn:oid:2.16.840.1.113883.4.4"  # the IRS's TIN/EIN namespace
NAIC = "urn:oid:2.16.840.1.113883.6.300"
# Our own identifiers (no public namespace exists for them)
MEMBER_ID = "urn:tpa:member-id"
CLAIM_NUMBER = "urn:tpa:claim-number"
GROUP_NUMBER = "urn:tpa:group-number"

# Adjudication amount categories, in the order an item lists them: code -> (system, display).
AMOUNT_CATEGORIES: dict[str, tuple[str, str]] = {
    "submitted": (ADJUDICATION, "Submitted Amount"),
    "eligible": (ADJUDICATION, "Eligible Amount"),
    "deductible": (ADJUDICATION, "Deductible"),
    "copay": (ADJUDICATION, "CoPay"),
    "coinsurance": (C4BB_ADJUDICATION, "Coinsurance"),
    "noncovered": (C4BB_ADJUDICATION, "Noncovered"),
    "benefit": (ADJUDICATION, "Benefit Amount"),
    "memberliability": (C4BB_ADJUDICATION, "Member liability"),
    "paidtoprovider": (C4BB_ADJUDICATION, "Paid to provider"),
}
ADJUSTMENT_REASON = "adjustmentreason"  # C4BB_DISCRIMINATOR: an item adjudication carrying a CARC
BENEFIT_PAYMENT_STATUS = "benefitpaymentstatus"  # C4BB_DISCRIMINATOR: in or out of network

RELATIONSHIP = {"subscriber": "self", "spouse": "spouse", "child": "child", "other": "other"}
