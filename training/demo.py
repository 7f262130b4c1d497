"""The demo world: one TPA, two carriers, three sponsors (ASO, ASC, fully insured) with their
plans, a shared fee schedule, 43 members in families, 10 providers, one login per role (and a second
provider, sponsor and family login for the cross-party rules), and a few
claims in every state an examiner meets.

Idempotent: every party is looked up by its natural key (names, EINs, NPIs, usernames) before it is
created, so a second run changes nothing. Everything is created through the services.
"""
import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from claims.models import Claim
from claims.services import claim_submit, claims_adjudicate_pending
from core import clock
from core.dates import date_parse
from parties.models import Carrier, Employer, Member, PartyLink, Provider, Tpa
from parties.services import (
    carrier_create,
    employer_create,
    member_create,
    provider_register,
    tpa_create,
    user_create_with_role,
)
from parties.validators import npi_with_check_digit
from plans.models import Coverage, FeeSchedule, FundingArrangement, Plan, StopLossPolicy
from plans.services import coverage_enroll, fee_schedule_create, plan_create, stop_loss_policy_create

D = Decimal
DEMO_PASSWORD = "demo"
YEAR_START = datetime.date(2026, 1, 1)
FEE_SCHEDULE_NAME = "TPA Network Fee Schedule 2026"

TPA = {"name": "Summit Benefit Administrators, LLC", "ein": "84-2917365"}

CARRIERS = {
    "keystone": {"name": "Keystone Mutual Health Insurance Co.", "naic_code": "61247"},
    "greatlakes": {"name": "Great Lakes Casualty & Life Co.", "naic_code": "73288"},
}

# code -> (category, fee per unit, description)
FEE_SCHEDULE = {
    "99202": ("office_visit", "80.00", "Office visit, new patient, straightforward decision making"),
    "99203": ("office_visit", "120.00", "Office visit, new patient, low decision making"),
    "99204": ("office_visit", "185.00", "Office visit, new patient, moderate decision making"),
    "99212": ("office_visit", "60.00", "Office visit, established patient, straightforward decision making"),
    "99213": ("office_visit", "95.00", "Office visit, established patient, low decision making"),
    "99214": ("office_visit", "135.00", "Office visit, established patient, moderate decision making"),
    "99215": ("office_visit", "190.00", "Office visit, established patient, high decision making"),
    "99385": ("preventive", "175.00", "Preventive visit, new patient, 18-39 years"),
    "99386": ("preventive", "200.00", "Preventive visit, new patient, 40-64 years"),
    "99391": ("preventive", "130.00", "Preventive visit, established patient, under 1 year"),
    "99393": ("preventive", "135.00", "Preventive visit, established patient, 5-11 years"),
    "99395": ("preventive", "150.00", "Preventive visit, established patient, 18-39 years"),
    "99396": ("preventive", "165.00", "Preventive visit, established patient, 40-64 years"),
    "G0438": ("preventive", "170.00", "Annual wellness visit, initial"),
    "90686": ("preventive", "25.00", "Influenza vaccine, quadrivalent, preservative free, IM"),
    "90471": ("preventive", "22.00", "Immunization administration, first vaccine"),
    "77067": ("preventive", "140.00", "Screening mammography, bilateral, with CAD"),
    "80053": ("lab", "15.00", "Comprehensive metabolic panel"),
    "80061": ("lab", "17.00", "Lipid panel"),
    "81002": ("lab", "4.00", "Urinalysis, non-automated, without microscopy"),
    "83036": ("lab", "13.00", "Hemoglobin A1c"),
    "84443": ("lab", "22.00", "Thyroid stimulating hormone (TSH)"),
    "85025": ("lab", "11.00", "Complete blood count with automated differential"),
    "87880": ("lab", "17.00", "Strep A antigen test, rapid"),
    "70551": ("imaging", "420.00", "MRI brain without contrast"),
    "71046": ("imaging", "45.00", "Chest X-ray, 2 views"),
    "72148": ("imaging", "410.00", "MRI lumbar spine without contrast"),
    "73721": ("imaging", "400.00", "MRI lower extremity joint without contrast"),
    "74177": ("imaging", "380.00", "CT abdomen and pelvis with contrast"),
    "76700": ("imaging", "130.00", "Ultrasound, abdomen, complete"),
    "99283": ("emergency", "160.00", "Emergency department visit, low decision making"),
    "99284": ("emergency", "290.00", "Emergency department visit, moderate decision making"),
    "99285": ("emergency", "420.00", "Emergency department visit, high decision making"),
    "27447": ("surgery", "14500.00", "Total knee arthroplasty"),
    "29881": ("surgery", "1650.00", "Knee arthroscopy with meniscectomy"),
    "45378": ("surgery", "780.00", "Colonoscopy, diagnostic"),
    "47562": ("surgery", "2300.00", "Laparoscopic cholecystectomy"),
    "66984": ("surgery", "1900.00", "Cataract removal with intraocular lens"),
    "99221": ("inpatient", "150.00", "Initial hospital inpatient care, straightforward or low decision making"),
    "99222": ("inpatient", "205.00", "Initial hospital inpatient care, moderate decision making"),
    "99223": ("inpatient", "290.00", "Initial hospital inpatient care, high decision making"),
    "99231": ("inpatient", "85.00", "Subsequent hospital inpatient care, straightforward or low"),
    "99232": ("inpatient", "120.00", "Subsequent hospital inpatient care, moderate"),
    "99238": ("inpatient", "110.00", "Hospital discharge day management, 30 minutes or less"),
    "15780": ("cosmetic", "900.00", "Dermabrasion, total face"),
    "15823": ("cosmetic", "950.00", "Blepharoplasty, upper eyelid, with excessive skin"),
    "15830": ("cosmetic", "2800.00", "Abdominoplasty, excision of excessive skin and tissue"),
    "30400": ("cosmetic", "2400.00", "Rhinoplasty, primary"),
    "J0585": ("cosmetic", "6.50", "Injection, onabotulinumtoxinA, 1 unit"),
}


def _family(subscriber: tuple[str, str], *dependents: tuple[str, str, str]) -> dict:
    return {"subscriber": subscriber, "dependents": list(dependents)}


SPONSORS = {
    "aso": {
        "name": "Northwind Logistics, Inc.", "ein": "41-7283956",
        "plan": {
            "name": "Northwind PPO 1000", "funding": FundingArrangement.ASO, "carrier": None,
            "deductible_individual": D("1000.00"), "deductible_family": D("2000.00"),
            "oop_max_individual": D("4000.00"), "oop_max_family": D("8000.00"), "coinsurance": D("0.20"),
            "copays": {"office_visit": D("30.00"), "emergency": D("250.00")}, "excluded": ["cosmetic"],
            "oon_covered": True, "oon_coinsurance": D("0.40"), "admin_fee_pepm": D("45.00"),
        },
        "stop_loss": {
            "carrier": "greatlakes", "start": YEAR_START, "contract": StopLossPolicy.Contract.TWELVE_FIFTEEN,
            "specific_attachment": D("75000.00"), "expected_claims": D("420000.00"), "aggregate_factor": D("1.25"),
        },
        "families": [
            _family(("Daniel Okafor", "1984-03-12"), ("Grace Okafor", "1986-07-25", "spouse"),
                    ("Emma Okafor", "2014-05-02", "child"), ("Liam Okafor", "2017-10-19", "child")),
            _family(("Priya Raman", "1979-01-30"), ("Arjun Raman", "1978-11-08", "spouse"),
                    ("Maya Raman", "2011-04-14", "child")),
            _family(("Michael Brennan", "1991-06-03")),
            _family(("Sofia Alvarez", "1988-09-21"), ("Mateo Alvarez", "2019-02-11", "child")),
            _family(("James Whitfield", "1966-12-01"), ("Laura Whitfield", "1968-03-17", "spouse")),
            _family(("Hannah Schultz", "1995-08-29")),
            _family(("Robert Chen", "1975-04-05"), ("Mei Chen", "1977-06-22", "spouse"),
                    ("Olivia Chen", "2005-01-09", "child"), ("Ethan Chen", "2008-07-30", "child"),
                    ("Lucas Chen", "2012-11-15", "child")),
            _family(("Aisha Bello", "1990-02-26")),
        ],
    },
    "asc": {
        "name": "Bayshore Retail Group", "ein": "52-4418730",
        "plan": {
            "name": "Bayshore Choice PPO 1500", "funding": FundingArrangement.ASC, "carrier": "keystone",
            "deductible_individual": D("1500.00"), "deductible_family": D("3000.00"),
            "oop_max_individual": D("5000.00"), "oop_max_family": D("10000.00"), "coinsurance": D("0.25"),
            "copays": {"office_visit": D("35.00"), "emergency": D("300.00")}, "excluded": ["cosmetic"],
            "oon_covered": True, "oon_coinsurance": D("0.50"), "admin_fee_pepm": D("38.50"),
            "timely_filing_days": 180,
        },
        "stop_loss": {
            "carrier": "keystone", "start": YEAR_START, "contract": StopLossPolicy.Contract.TWELVE_TWELVE,
            "specific_attachment": D("50000.00"), "aggregate_attachment": D("600000.00"),
            "lasers": {("Thomas Novak", "1972-10-04"): D("125000.00")},
        },
        "families": [
            _family(("Thomas Novak", "1972-10-04"), ("Eva Novak", "1974-05-13", "spouse"),
                    ("Adam Novak", "2009-08-08", "child")),
            _family(("Keisha Washington", "1987-12-19"), ("Jordan Washington", "2016-03-27", "child")),
            _family(("Marco Rossi", "1993-04-11")),
            _family(("Linda Park", "1982-02-07"), ("David Park", "1980-09-30", "spouse")),
            _family(("Samuel Adeyemi", "1998-06-16")),
            _family(("Natalie Dubois", "1985-11-02"), ("Pierre Dubois", "1983-01-24", "spouse"),
                    ("Chloe Dubois", "2013-06-05", "child"), ("Louis Dubois", "2018-12-12", "child")),
        ],
    },
    "fi": {
        "name": "Fabrikam Precision Tooling", "ein": "36-8061254",
        "plan": {
            "name": "Fabrikam HMO 500", "funding": FundingArrangement.FULLY_INSURED, "carrier": "greatlakes",
            "deductible_individual": D("500.00"), "deductible_family": D("1000.00"),
            "oop_max_individual": D("3000.00"), "oop_max_family": D("6000.00"), "coinsurance": D("0.10"),
            "copays": {"office_visit": D("20.00"), "emergency": D("150.00")}, "excluded": ["cosmetic"],
            "premium_pepm": D("612.00"), "timely_filing_days": 90, "review_threshold": D("20000.00"),
        },
        "stop_loss": None,
        "families": [
            _family(("Kevin O'Brien", "1976-03-03"), ("Siobhan O'Brien", "1978-08-18", "spouse"),
                    ("Aidan O'Brien", "2010-10-10", "child")),
            _family(("Yuki Tanaka", "1992-07-07")),
            _family(("Carlos Mendoza", "1981-05-20"), ("Rosa Mendoza", "1983-02-14", "spouse"),
                    ("Isabel Mendoza", "2012-09-01", "child"), ("Diego Mendoza", "2015-12-24", "child")),
            _family(("Fatima Haddad", "1989-10-31")),
            _family(("Ben Carter", "1986-01-17"), ("Ava Carter", "2017-04-29", "child")),
        ],
    },
}

# name, first nine NPI digits (the check digit is computed), TIN, network
PROVIDERS = [
    ("Riverside Family Medicine", "146820375", "36-4829173", Provider.Network.IN),
    ("St. Agnes Regional Medical Center", "158302749", "41-2093847", Provider.Network.IN),
    ("Lakeshore Imaging Associates", "172946385", "52-3817264", Provider.Network.IN),
    ("Summit Diagnostic Laboratories", "183920476", "84-1928374", Provider.Network.IN),
    ("Harborview Orthopedic Surgery Center", "190287364", "27-6354812", Provider.Network.IN),
    ("Maple Grove Pediatrics", "161739205", "46-7721093", Provider.Network.IN),
    ("Northgate Emergency Physicians", "175620938", "33-5582016", Provider.Network.IN),
    ("Beverly Aesthetic Surgery Institute", "149275036", "95-4410387", Provider.Network.OUT),
    ("Coastal Spine & Chiropractic", "186403917", "59-3372810", Provider.Network.OUT),
    ("Westside Urgent Care", "193847102", "61-2209475", Provider.Network.OUT),
]

IN_NETWORK_LOGIN_PROVIDER = "Riverside Family Medicine"
MEMBER_LOGIN = ("aso", "Daniel Okafor")
# The second login of a kind, so that a class can try the cross-party rules: another provider,
# the ASC sponsor, another family (under that sponsor).
SECOND_PROVIDER = "St. Agnes Regional Medical Center"
SECOND_MEMBER_LOGIN = ("asc", "Keisha Washington")

STAFF_PERMISSIONS = [
    # codenames in app "claims" besides every view_* permission of claims, parties and plans
    "change_claim", "review_claim",
]
SUPERVISOR_EXTRA = ["appeal_claim"]


def _date(text: str) -> datetime.date:
    return date_parse(text)


def seed_demo() -> dict:
    """Create (or find) the demo world; returns its parties by key."""
    tpa = Tpa.objects.filter(name=TPA["name"]).first() or tpa_create(**TPA)
    carriers = {
        key: Carrier.objects.filter(name=spec["name"]).order_by("pk").first() or carrier_create(**spec)
        for key, spec in CARRIERS.items()
    }
    schedule = FeeSchedule.objects.filter(name=FEE_SCHEDULE_NAME).first() or fee_schedule_create(
        name=FEE_SCHEDULE_NAME,
        entries={code: {"category": cat, "fee": D(fee), "description": desc}
                 for code, (cat, fee, desc) in FEE_SCHEDULE.items()},
    )
    world = {"tpa": tpa, "carriers": carriers, "fee_schedule": schedule, "employers": {}, "plans": {},
             "stop_loss": {}, "members": {}}
    for key, spec in SPONSORS.items():
        _seed_sponsor(world, key, spec)
    world["providers"] = _seed_providers()
    world["logins"] = _seed_logins(world)
    _seed_claims(world)
    return world


def _seed_sponsor(world: dict, key: str, spec: dict) -> None:
    """One sponsor with its plan, its families enrolled, and its stop-loss policy."""
    employer = Employer.objects.filter(ein=spec["ein"]).first() or employer_create(name=spec["name"], ein=spec["ein"])
    world["employers"][key] = employer
    plan_spec = dict(spec["plan"])
    carrier_key = plan_spec.pop("carrier")
    plan = Plan.objects.filter(sponsor=employer, name=plan_spec["name"]).first() or plan_create(
        sponsor=employer, fee_schedule=world["fee_schedule"], year_start=YEAR_START,
        carrier=world["carriers"][carrier_key] if carrier_key else None, **plan_spec,
    )
    world["plans"][key] = plan
    for family in spec["families"]:
        name, born = family["subscriber"]
        subscriber = _member(employer=employer, name=name, born=born, subscriber=None, relationship="subscriber")
        world["members"][(key, name)] = subscriber
        if not Coverage.objects.filter(member=subscriber).exists():
            coverage_enroll(member=subscriber, plan=plan, start=YEAR_START)
        for dep_name, dep_born, relationship in family["dependents"]:
            dependent = _member(employer=employer, name=dep_name, born=dep_born, subscriber=subscriber,
                                relationship=relationship)
            world["members"][(key, dep_name)] = dependent
            if not Coverage.objects.filter(member=dependent).exists():
                coverage_enroll(member=dependent, plan=plan)  # dates follow the subscriber
    sl = spec["stop_loss"]
    if sl is not None:
        sl = dict(sl)
        laser_spec = sl.pop("lasers", {})
        policy = StopLossPolicy.objects.filter(plan=plan, start=sl["start"]).first()
        if policy is None:
            lasers = {
                Member.objects.get(employer=employer, name=name, date_of_birth=_date(born)): attachment
                for (name, born), attachment in laser_spec.items()
            }
            policy = stop_loss_policy_create(plan=plan, carrier=world["carriers"][sl.pop("carrier")], lasers=lasers,
                                             **sl)
        world["stop_loss"][key] = policy


def _seed_providers() -> list[Provider]:
    providers = []
    for name, first_nine, tin, network in PROVIDERS:
        npi = npi_with_check_digit(first_nine)
        providers.append(Provider.objects.filter(npi=npi).first()
                         or provider_register(name=name, npi=npi, tin=tin, network=network))
    return providers


def _seed_logins(world: dict) -> dict:
    """One login per role, password DEMO_PASSWORD; staff get the admin pages they work in."""
    R = PartyLink.Role
    tpa = world["tpa"]
    provider_login = next(p for p in world["providers"] if p.name == IN_NETWORK_LOGIN_PROVIDER)
    logins = {}
    for username, role, party, extra in (
        ("provider", R.PROVIDER_STAFF, provider_login, {"first_name": "Rosa", "last_name": "Delgado"}),
        ("examiner", R.CLAIMS_EXAMINER, tpa, {"first_name": "Ethan", "last_name": "Morales", "is_staff": True}),
        ("supervisor", R.SUPERVISOR, tpa, {"first_name": "Janet", "last_name": "Kowalski", "is_staff": True}),
        ("employer", R.EMPLOYER_ADMIN, world["employers"]["aso"], {"first_name": "Paul", "last_name": "Hendricks"}),
        ("carrier", R.CARRIER_ANALYST, world["carriers"]["keystone"], {"first_name": "Nadia", "last_name": "Farouk"}),
        ("member", R.MEMBER, world["members"][MEMBER_LOGIN], {"first_name": "Daniel", "last_name": "Okafor"}),
        ("provider2", R.PROVIDER_STAFF, next(p for p in world["providers"] if p.name == SECOND_PROVIDER),
         {"first_name": "Omar", "last_name": "Haddad"}),
        ("employer2", R.EMPLOYER_ADMIN, world["employers"]["asc"], {"first_name": "Grace", "last_name": "Liu"}),
        ("member2", R.MEMBER, world["members"][SECOND_MEMBER_LOGIN], {"first_name": "Keisha", "last_name": "Washington"}),
        ("trainer", R.TRAINER, tpa, {"first_name": "Tomas", "last_name": "Brandt"}),
        ("admin", R.SUPERVISOR, tpa, {"first_name": "Demo", "last_name": "Admin", "is_staff": True,
                                      "is_superuser": True}),
    ):
        extra.setdefault("is_staff", False)
        extra["email"] = f"{username}@demo.example"
        logins[username] = user_create_with_role(
            username=username, password=DEMO_PASSWORD, role=role, party=party, **extra,
        )
    _grant_staff_permissions(logins["examiner"].user, supervisor=False)
    _grant_staff_permissions(logins["supervisor"].user, supervisor=True)
    return logins


# (sponsor, member, provider, days before today, [(code, billed)]): what a class finds in the queues.
DEMO_CLAIMS = [
    ("aso", "Daniel Okafor", "Riverside Family Medicine", 21, [("99213", "150.00")]),  # copay
    ("aso", "Daniel Okafor", "Lakeshore Imaging Associates", 18, [("72148", "1100.00")]),  # deductible, coinsurance
    ("aso", "Daniel Okafor", "Harborview Orthopedic Surgery Center", 15, [("27447", "31000.00"), ("99223", "400.00")]),
    ("aso", "Daniel Okafor", "Beverly Aesthetic Surgery Institute", 12, [("15780", "1200.00")]),  # excluded: 96
    ("aso", "Daniel Okafor", "Riverside Family Medicine", 21, [("99213", "150.00")]),  # the first, again: 18
    ("aso", "Daniel Okafor", "Riverside Family Medicine", 9, [("99999", "80.00")]),  # unknown code: rejected
    ("asc", None, "St. Agnes Regional Medical Center", 14, [("99214", "210.00"), ("85025", "35.00")]),
    ("fi", None, "Northgate Emergency Physicians", 10, [("99284", "640.00")]),
]
# Submitted after the run, so that "Run auto-adjudication" has work to show.
DEMO_WAITING_CLAIM = ("aso", "Daniel Okafor", "Summit Diagnostic Laboratories", 3, [("80053", "48.00")])
# The second family's claims at the second provider (logins member2, provider2, employer2).
SECOND_FAMILY_CLAIMS = [
    ("asc", "Keisha Washington", SECOND_PROVIDER, 20, [("99213", "160.00"), ("80061", "40.00")]),
    ("asc", "Jordan Washington", SECOND_PROVIDER, 16, [("99393", "180.00")]),
    ("asc", "Keisha Washington", SECOND_PROVIDER, 11, [("47562", "26500.00")]),  # over the review threshold: pended
    ("asc", "Jordan Washington", "Beverly Aesthetic Surgery Institute", 8, [("15823", "1400.00")]),  # excluded: 96
]


def _seed_claims(world: dict) -> None:
    """Demo claims in every state an examiner meets (approved, pended, denied, rejected, a duplicate,
    one still submitted), through the same services as everything else; once, while the demo
    sponsors have no claims (so a second seed changes nothing)."""
    providers = {p.name: p for p in world["providers"]}
    today = clock.today()

    def submit(sponsor, member_name, provider_name, days_ago, lines):
        if member_name is None:  # the sponsor's first subscriber
            member_name = SPONSORS[sponsor]["families"][0]["subscriber"][0]
        claim_submit(member_id=world["members"][(sponsor, member_name)].member_id,
                     npi=providers[provider_name].npi, service_date=today - datetime.timedelta(days=days_ago),
                     lines=[{"code": code, "billed": billed} for code, billed in lines])

    first_seed = not Claim.objects.filter(plan__sponsor__in=world["employers"].values()).exists()
    second_family = world["members"][SECOND_MEMBER_LOGIN]
    if first_seed:
        for spec in DEMO_CLAIMS:
            submit(*spec)
    if first_seed or not Claim.objects.filter(member__in=[second_family, *second_family.dependents.all()]).exists():
        for spec in SECOND_FAMILY_CLAIMS:
            submit(*spec)
        claims_adjudicate_pending(today=today)
    if first_seed:
        submit(*DEMO_WAITING_CLAIM)


def _member(*, employer: Employer, name: str, born: str, subscriber: Member | None, relationship: str) -> Member:
    date_of_birth = _date(born)
    existing = Member.objects.filter(
        employer=employer, name=name, date_of_birth=date_of_birth, subscriber=subscriber,
    ).first()
    return existing or member_create(
        employer=employer, name=name, date_of_birth=date_of_birth, subscriber=subscriber, relationship=relationship,
    )


def staff_permissions(*, supervisor: bool) -> list[Permission]:
    """What an examiner (or supervisor) may do in the admin: view claims and the parties and plans
    behind them, change claims and review pended ones; a supervisor also records appeals."""
    codenames = STAFF_PERMISSIONS + (SUPERVISOR_EXTRA if supervisor else [])
    perms = list(Permission.objects.filter(content_type__app_label="claims", codename__in=codenames))
    missing = set(codenames) - {p.codename for p in perms}
    if missing:
        raise RuntimeError(f"Missing claims permissions {sorted(missing)}: run migrate first.")
    perms += Permission.objects.filter(
        content_type__app_label__in=["claims", "parties", "plans"], codename__startswith="view_",
    )
    return perms


def _grant_staff_permissions(user, *, supervisor: bool) -> None:
    wanted = staff_permissions(supervisor=supervisor)
    have = set(user.user_permissions.values_list("pk", flat=True))
    to_add = [p for p in wanted if p.pk not in have]
    if to_add:
        user.user_permissions.add(*to_add)
    if not user.is_staff:
        get_user_model().objects.filter(pk=user.pk).update(is_staff=True)
