"""The demo fee schedule: real CPT/HCPCS codes with illustrative network fees (2026).

Used by the benchmarks (seed_demo has its own, with 2026 network fees).
"""
from decimal import Decimal as D

DEMO_FEE_SCHEDULE: dict[str, dict] = {
    # office visits
    "99202": {"category": "office_visit", "fee": D("95.00"), "description": "New patient office visit, 15-29 min"},
    "99203": {"category": "office_visit", "fee": D("135.00"), "description": "New patient office visit, 30-44 min"},
    "99212": {"category": "office_visit", "fee": D("75.00"), "description": "Established patient visit, 10-19 min"},
    "99213": {"category": "office_visit", "fee": D("120.00"), "description": "Established patient visit, 20-29 min"},
    "99214": {"category": "office_visit", "fee": D("165.00"), "description": "Established patient visit, 30-39 min"},
    "99215": {"category": "office_visit", "fee": D("225.00"), "description": "Established patient visit, 40-54 min"},
    # preventive
    "99385": {"category": "preventive", "fee": D("190.00"), "description": "Preventive visit, new patient 18-39"},
    "99395": {"category": "preventive", "fee": D("210.00"), "description": "Preventive visit, established 18-39"},
    "99396": {"category": "preventive", "fee": D("225.00"), "description": "Preventive visit, established 40-64"},
    "G0121": {"category": "preventive", "fee": D("650.00"), "description": "Screening colonoscopy, not high risk"},
    "77067": {"category": "preventive", "fee": D("180.00"), "description": "Screening mammography, bilateral"},
    "90686": {"category": "preventive", "fee": D("25.00"), "description": "Influenza vaccine, quadrivalent"},
    # lab
    "80053": {"category": "lab", "fee": D("18.00"), "description": "Comprehensive metabolic panel"},
    "85025": {"category": "lab", "fee": D("11.00"), "description": "Complete blood count with differential"},
    "80061": {"category": "lab", "fee": D("21.00"), "description": "Lipid panel"},
    "83036": {"category": "lab", "fee": D("14.00"), "description": "Hemoglobin A1c"},
    "84443": {"category": "lab", "fee": D("23.00"), "description": "Thyroid stimulating hormone"},
    "81001": {"category": "lab", "fee": D("5.00"), "description": "Urinalysis with microscopy"},
    # imaging
    "71046": {"category": "imaging", "fee": D("45.00"), "description": "Chest X-ray, 2 views"},
    "70551": {"category": "imaging", "fee": D("1500.00"), "description": "MRI brain without contrast"},
    "73721": {"category": "imaging", "fee": D("950.00"), "description": "MRI knee without contrast"},
    "74177": {"category": "imaging", "fee": D("1100.00"), "description": "CT abdomen and pelvis with contrast"},
    "76700": {"category": "imaging", "fee": D("260.00"), "description": "Ultrasound, abdomen complete"},
    # emergency
    "99283": {"category": "emergency", "fee": D("350.00"), "description": "Emergency department visit, moderate"},
    "99284": {"category": "emergency", "fee": D("620.00"), "description": "Emergency department visit, high"},
    "99285": {"category": "emergency", "fee": D("910.00"), "description": "Emergency department visit, highest"},
    # surgery
    "29881": {"category": "surgery", "fee": D("5200.00"), "description": "Knee arthroscopy with meniscectomy"},
    "47562": {"category": "surgery", "fee": D("8900.00"), "description": "Laparoscopic cholecystectomy"},
    "27447": {"category": "surgery", "fee": D("20000.00"), "description": "Total knee arthroplasty"},
    "33533": {"category": "surgery", "fee": D("60000.00"), "description": "Coronary artery bypass, arterial, single"},
    # inpatient
    "99221": {"category": "inpatient", "fee": D("2400.00"), "description": "Initial hospital inpatient care, per day"},
    "99231": {"category": "inpatient", "fee": D("1600.00"), "description": "Subsequent hospital care, per day"},
    "99238": {"category": "inpatient", "fee": D("900.00"), "description": "Hospital discharge day management"},
    # cosmetic (excluded by most plans)
    "15830": {"category": "cosmetic", "fee": D("7500.00"), "description": "Abdominoplasty (panniculectomy)"},
    "30400": {"category": "cosmetic", "fee": D("6800.00"), "description": "Rhinoplasty, primary"},
    "15823": {"category": "cosmetic", "fee": D("3200.00"), "description": "Blepharoplasty, upper eyelid"},
}
