"""Scenario files (SCENARIOS.md): validate, build the world, play the events, report, compare.

Everything here goes through the same services the web UI and the workers use; this module only
translates a file into calls. The whole run is one transaction, rolled back unless `keep`.
"""
import datetime
import json
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml
from django.core.exceptions import ValidationError
from django.db import transaction

from config import clock
from config.money import MONEY_LIMIT
from funding import services as funding
from funding.selectors import money_report
from parties import services as party_services
from parties.models import Provider
from parties.validators import npi_is_valid
from plans import services as plan_services

from . import services as claim_services
from .engine import EXAMINER_DENIAL_CODES
from .models import Claim
from .selectors import accumulators_report_for

RUN_KINDS = ("adjudication", "payment_cycle", "reimbursement_billing", "stop_loss", "fee_billing")


class ScenarioInvalid(Exception):
    """The file is not a valid scenario: `path` names where inside it."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --- Reading and checking the file ------------------------------------------------------------

def _check_keys(obj, path: str, allowed: set, required: tuple = ()) -> dict:
    if not isinstance(obj, dict):
        raise ScenarioInvalid(path or "(file)", "must be a mapping")
    for key in obj:
        if key not in allowed:
            raise ScenarioInvalid(f"{path}.{key}" if path else str(key), "unknown key")
    for key in required:
        if key not in obj or obj[key] is None:
            raise ScenarioInvalid(f"{path}.{key}" if path else key, "required key is missing")
    return obj


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _date(value, path: str) -> datetime.date:
    if isinstance(value, datetime.datetime):
        raise ScenarioInvalid(path, f"not a date (YYYY-MM-DD): {value!r}")
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str) and _ISO_DATE.fullmatch(value):  # fromisoformat alone takes 20260101, 2026-W02-6
        try:
            return datetime.date.fromisoformat(value)
        except ValueError:
            pass
    raise ScenarioInvalid(path, f"not a date (YYYY-MM-DD): {value!r}")


def _decimal(value, path: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ScenarioInvalid(path, f"not a number: {value!r}")
    try:
        d = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ScenarioInvalid(path, f"not a number: {value!r}") from None
    if not d.is_finite():
        raise ScenarioInvalid(path, f"not a number: {value!r}")
    return d


def _money(value, path: str) -> Decimal:
    d = _decimal(value, path)
    if abs(d) >= MONEY_LIMIT:
        raise ScenarioInvalid(path, f"too large: amounts stay under {MONEY_LIMIT:,}")
    if d != d.quantize(Decimal("0.01")):
        raise ScenarioInvalid(path, f"money has at most two decimals: {value!r}")
    if d < 0:
        raise ScenarioInvalid(path, f"must not be negative: {value!r}")
    return d.quantize(Decimal("0.01"))


def _rate(value, path: str) -> Decimal:
    d = _decimal(value, path)
    if not (Decimal(0) <= d <= Decimal(1)):
        raise ScenarioInvalid(path, f"must be between 0 and 1: {value!r}")
    return d


def _str(value, path: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ScenarioInvalid(path, f"must be a non-empty (quoted) string: {value!r}")
    return value.strip()


def _int(value, path: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ScenarioInvalid(path, f"must be a whole number of at least {minimum}: {value!r}")
    return value


@dataclass
class Scenario:
    name: str
    start: datetime.date
    world: dict
    events: list
    expect: dict
    description: str = ""
    # filled while checking: key -> spec
    carriers: dict = field(default_factory=dict)
    employers: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    providers: dict = field(default_factory=dict)
    fee_schedule: dict = field(default_factory=dict)


def _unique_key(spec, path, seen: dict, kind: str) -> str:
    key = _str(spec.get("key"), f"{path}.key")
    if key in seen:
        raise ScenarioInvalid(f"{path}.key", f"{kind} key {key!r} is used twice")
    return key


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses a mapping key written twice (PyYAML keeps the last one silently)."""

    def construct_mapping(self, node, deep=False):
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                mark = key_node.start_mark
                raise ScenarioInvalid(f"(line {mark.line + 1})", f"key {key!r} is written twice in the same mapping")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def scenario_load(*, text: str) -> Scenario:
    """Parse and check a scenario file; raise ScenarioInvalid naming the path. Writes nothing."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except ScenarioInvalid:
        raise
    except yaml.YAMLError as exc:
        raise ScenarioInvalid("(file)", f"not valid YAML: {exc}") from None
    _check_keys(data, "", {"name", "description", "start", "world", "events", "expect"}, ("name", "start", "world"))
    events, expect = data.get("events"), data.get("expect")
    if events is not None and not isinstance(events, list):
        raise ScenarioInvalid("events", "must be a list of dated events")
    if expect is not None and not isinstance(expect, dict):
        raise ScenarioInvalid("expect", "must be a mapping")
    sc = Scenario(name=_str(data["name"], "name"), start=_date(data["start"], "start"), world=data["world"],
                  events=events or [], expect=expect or {}, description=str(data.get("description") or ""))
    world = _check_keys(sc.world, "world", {"carriers", "employers", "members", "providers", "fee_schedule"})
    for section in ("carriers", "employers", "members", "providers"):
        if world.get(section) is not None and not isinstance(world[section], list):
            raise ScenarioInvalid(f"world.{section}", "must be a list")

    for i, spec in enumerate(world.get("carriers") or []):
        path = f"world.carriers[{i}]"
        _check_keys(spec, path, {"key", "name"}, ("key",))
        key = _unique_key(spec, path, sc.carriers, "carrier")
        sc.carriers[key] = {"name": str(spec.get("name") or key), "path": path}

    fee_schedule = world.get("fee_schedule") or {}
    if not isinstance(fee_schedule, dict):
        raise ScenarioInvalid("world.fee_schedule", "must be a mapping of procedure code to category and fee")
    for code, spec in fee_schedule.items():
        path = f"world.fee_schedule.{code}"
        if not isinstance(code, str):
            raise ScenarioInvalid(path, "a procedure code is a quoted string")
        _check_keys(spec, path, {"category", "fee"}, ("category", "fee"))
        sc.fee_schedule[code] = {"category": _str(spec["category"], f"{path}.category"),
                                 "fee": _money(spec["fee"], f"{path}.fee")}

    for i, spec in enumerate(world.get("employers") or []):
        path = f"world.employers[{i}]"
        _check_keys(spec, path, {"key", "name", "funding", "carrier", "plan", "stop_loss"}, ("key", "funding", "plan"))
        key = _unique_key(spec, path, sc.employers, "employer")
        funding = spec["funding"]
        if funding not in ("ASO", "ASC", "FULLY_INSURED"):
            raise ScenarioInvalid(f"{path}.funding", f"must be ASO, ASC or FULLY_INSURED, got {funding!r}")
        carrier = spec.get("carrier")
        if carrier is not None and carrier not in sc.carriers:
            raise ScenarioInvalid(f"{path}.carrier", f"unknown carrier {carrier!r}")
        if funding != "ASO" and carrier is None:
            raise ScenarioInvalid(f"{path}.carrier", f"a {funding} employer needs the carrier that pays its claims")
        sc.employers[key] = {"name": str(spec.get("name") or key),
                             "funding": funding, "carrier": carrier,
                             "plan": _check_plan(spec["plan"], f"{path}.plan", funding),
                             "stop_loss_raw": spec.get("stop_loss"), "path": path}

    members = world.get("members") or []
    for i, spec in enumerate(members):
        path = f"world.members[{i}]"
        _check_keys(spec, path, {"key", "employer", "subscriber", "relationship", "name", "born",
                                 "coverage_start", "coverage_end"}, ("key", "name", "born"))
        key = _unique_key(spec, path, sc.members, "member")
        subscriber = spec.get("subscriber")
        entry = {"name": _str(spec["name"], f"{path}.name"), "born": _date(spec["born"], f"{path}.born"),
                 "coverage_start": _date(spec["coverage_start"], f"{path}.coverage_start") if spec.get("coverage_start") is not None else None,
                 "coverage_end": _date(spec["coverage_end"], f"{path}.coverage_end") if spec.get("coverage_end") is not None else None,
                 "subscriber": subscriber, "path": path}
        if subscriber is not None:
            if subscriber not in sc.members:
                raise ScenarioInvalid(f"{path}.subscriber", f"unknown member {subscriber!r}")
            if sc.members[subscriber]["subscriber"] is not None:
                raise ScenarioInvalid(f"{path}.subscriber", f"{subscriber!r} is a dependent, not a subscriber")
            relationship = spec.get("relationship")
            if relationship not in ("spouse", "child", "other"):
                raise ScenarioInvalid(f"{path}.relationship", "a dependent's relationship is spouse, child or other")
            entry["relationship"] = relationship
            employer = spec.get("employer", sc.members[subscriber]["employer"])
            if employer != sc.members[subscriber]["employer"]:
                raise ScenarioInvalid(f"{path}.employer", "a dependent is enrolled under its subscriber's employer")
        else:
            if spec.get("relationship") not in (None, "subscriber"):
                raise ScenarioInvalid(f"{path}.relationship", "a dependent needs its subscriber")
            employer = spec.get("employer")
            if employer is None:
                raise ScenarioInvalid(f"{path}.employer", "required key is missing")
            if entry["coverage_start"] is None:
                raise ScenarioInvalid(f"{path}.coverage_start", "required key is missing")
        if employer not in sc.employers:
            raise ScenarioInvalid(f"{path}.employer", f"unknown employer {employer!r}")
        entry["employer"] = employer
        start, end = entry["coverage_start"], entry["coverage_end"]
        if start and end and end < start:
            raise ScenarioInvalid(f"{path}.coverage_end", "coverage cannot end before it starts")
        sc.members[key] = entry

    for i, spec in enumerate(world.get("providers") or []):
        path = f"world.providers[{i}]"
        _check_keys(spec, path, {"key", "name", "npi", "network"}, ("key", "npi"))
        key = _unique_key(spec, path, sc.providers, "provider")
        npi = spec["npi"]
        if not isinstance(npi, str) or not npi_is_valid(npi):
            raise ScenarioInvalid(f"{path}.npi", f"NPI {npi!r} fails its check digit (10 digits, Luhn over 80840)")
        network = spec.get("network", "in")
        if network not in ("in", "out"):
            raise ScenarioInvalid(f"{path}.network", f"must be in or out, got {network!r}")
        sc.providers[key] = {"name": str(spec.get("name") or key), "npi": npi, "network": network, "path": path}

    for emp_key, emp in sc.employers.items():
        raw = emp.pop("stop_loss_raw")
        emp["stop_loss"] = _check_stop_loss(raw, f"{emp['path']}.stop_loss", emp["funding"], sc) if raw is not None else None
        for member in (emp["stop_loss"] or {}).get("lasers", {}):
            if sc.members[member]["employer"] != emp_key:
                raise ScenarioInvalid(f"{emp['path']}.stop_loss.lasers.{member}",
                                      f"{member!r} is not a member of {emp_key!r}: a laser is for the sponsor's own")

    _check_events(sc)
    if not isinstance(sc.expect, dict):
        raise ScenarioInvalid("expect", "must be a mapping")
    return sc


def _check_plan(spec, path: str, funding: str) -> dict:
    _check_keys(spec, path, {"name", "year_start", "deductible", "out_of_pocket_max", "coinsurance", "copays",
                             "covered_in_full", "excluded", "out_of_network", "timely_filing_days",
                             "review_threshold", "admin_fee_pepm", "premium_pepm"},
                ("year_start", "deductible", "out_of_pocket_max", "coinsurance"))
    year_start = _date(spec["year_start"], f"{path}.year_start")
    if (year_start.month, year_start.day) == (2, 29):
        raise ScenarioInvalid(f"{path}.year_start", "a plan year cannot start on February 29")
    pair = {}
    for name in ("deductible", "out_of_pocket_max"):
        sub = _check_keys(spec[name], f"{path}.{name}", {"individual", "family"}, ("individual", "family"))
        pair[name] = (_money(sub["individual"], f"{path}.{name}.individual"),
                      _money(sub["family"], f"{path}.{name}.family"))
    copays = spec.get("copays") or {}
    if not isinstance(copays, dict):
        raise ScenarioInvalid(f"{path}.copays", "must be a mapping of category to copay")
    oon = _check_keys(spec.get("out_of_network") or {"covered": False}, f"{path}.out_of_network", {"covered", "coinsurance"})
    oon_covered = oon.get("covered", False)
    if not isinstance(oon_covered, bool):
        raise ScenarioInvalid(f"{path}.out_of_network.covered", "must be true or false")
    if oon_covered and oon.get("coinsurance") is None:
        raise ScenarioInvalid(f"{path}.out_of_network.coinsurance", "out-of-network cover needs a coinsurance")
    for name in ("covered_in_full", "excluded"):
        if spec.get(name) is not None and not isinstance(spec.get(name), list):
            raise ScenarioInvalid(f"{path}.{name}", "must be a list of categories")
    return {
        "name": str(spec.get("name") or "Plan"),
        "year_start": year_start,
        "deductible_individual": pair["deductible"][0], "deductible_family": pair["deductible"][1],
        "oop_max_individual": pair["out_of_pocket_max"][0], "oop_max_family": pair["out_of_pocket_max"][1],
        "coinsurance": _rate(spec["coinsurance"], f"{path}.coinsurance"),
        "copays": {str(c): _money(v, f"{path}.copays.{c}") for c, v in copays.items()},
        "covered_in_full": ([_str(c, f"{path}.covered_in_full[{i}]") for i, c in enumerate(spec["covered_in_full"])]
                            if spec.get("covered_in_full") is not None else None),
        "excluded": [_str(c, f"{path}.excluded[{i}]") for i, c in enumerate(spec.get("excluded") or [])],
        "oon_covered": oon_covered,
        "oon_coinsurance": _rate(oon["coinsurance"], f"{path}.out_of_network.coinsurance") if oon_covered else None,
        "timely_filing_days": _int(spec.get("timely_filing_days", 365), f"{path}.timely_filing_days"),
        "review_threshold": _money(spec.get("review_threshold", 25000), f"{path}.review_threshold"),
        "admin_fee_pepm": _money(spec.get("admin_fee_pepm", 0), f"{path}.admin_fee_pepm"),
        "premium_pepm": _money(spec.get("premium_pepm", 0), f"{path}.premium_pepm"),
    }


def _check_stop_loss(spec, path: str, funding: str, sc: Scenario) -> dict:
    _check_keys(spec, path, {"carrier", "start", "contract", "specific_attachment", "lasers",
                             "aggregate_attachment", "expected_claims", "aggregate_factor"},
                ("carrier", "start", "contract", "specific_attachment"))
    if funding == "FULLY_INSURED":
        raise ScenarioInvalid(path, "stop-loss cover exists only for self-funded (ASO, ASC) employers")
    if spec["carrier"] not in sc.carriers:
        raise ScenarioInvalid(f"{path}.carrier", f"unknown carrier {spec['carrier']!r}")
    if spec["contract"] not in ("12/12", "12/15"):
        raise ScenarioInvalid(f"{path}.contract", f"must be \"12/12\" or \"12/15\", got {spec['contract']!r}")
    if spec.get("aggregate_attachment") is not None and spec.get("expected_claims") is not None:
        raise ScenarioInvalid(f"{path}.aggregate_attachment", "give aggregate_attachment or expected_claims, not both")
    if (spec.get("expected_claims") is None) != (spec.get("aggregate_factor") is None):
        raise ScenarioInvalid(f"{path}.aggregate_factor", "expected_claims and aggregate_factor go together")
    lasers = spec.get("lasers") or {}
    if not isinstance(lasers, dict):
        raise ScenarioInvalid(f"{path}.lasers", "must be a mapping of member key to attachment")
    for member in lasers:
        if member not in sc.members:
            raise ScenarioInvalid(f"{path}.lasers.{member}", f"unknown member {member!r}")
    return {
        "carrier": spec["carrier"], "start": _date(spec["start"], f"{path}.start"), "contract": spec["contract"],
        "specific_attachment": _money(spec["specific_attachment"], f"{path}.specific_attachment"),
        "lasers": {m: _money(v, f"{path}.lasers.{m}") for m, v in lasers.items()},
        "aggregate_attachment": (_money(spec["aggregate_attachment"], f"{path}.aggregate_attachment")
                                 if spec.get("aggregate_attachment") is not None else None),
        "expected_claims": (_money(spec["expected_claims"], f"{path}.expected_claims")
                            if spec.get("expected_claims") is not None else None),
        "aggregate_factor": (_decimal(spec["aggregate_factor"], f"{path}.aggregate_factor")
                             if spec.get("aggregate_factor") is not None else None),
    }


EVENT_KINDS = ("submit_claim", "run", "review", "appeal", "fund", "pay_invoice", "change_coverage")


def _check_events(sc: Scenario) -> None:
    if not isinstance(sc.events, list):
        raise ScenarioInvalid("events", "must be a list")
    day = sc.start
    claim_keys: set = set()
    for i, event in enumerate(sc.events):
        path = f"events[{i}]"
        _check_keys(event, path, {"date", *EVENT_KINDS})
        kinds = [k for k in EVENT_KINDS if k in event]
        if len(kinds) != 1:
            raise ScenarioInvalid(path, f"needs exactly one of {', '.join(EVENT_KINDS)}")
        if "date" in event:
            new_day = _date(event["date"], f"{path}.date")
            if new_day < day:
                raise ScenarioInvalid(f"{path}.date", f"moves the clock backwards from {day} to {new_day}")
            day = new_day
        kind = kinds[0]
        body = event[kind]
        bpath = f"{path}.{kind}"
        if kind == "submit_claim":
            _check_keys(body, bpath, {"key", "provider", "member", "service_date", "lines"},
                        ("key", "provider", "member", "service_date"))
            key = _str(body["key"], f"{bpath}.key")
            if key in claim_keys:
                raise ScenarioInvalid(f"{bpath}.key", f"claim key {key!r} is used twice")
            claim_keys.add(key)
            if body["provider"] not in sc.providers:
                raise ScenarioInvalid(f"{bpath}.provider", f"unknown provider {body['provider']!r}")
            if body["member"] not in sc.members:
                raise ScenarioInvalid(f"{bpath}.member", f"unknown member {body['member']!r}")
            _date(body["service_date"], f"{bpath}.service_date")
            lines = body.get("lines") or []
            if not isinstance(lines, list):
                raise ScenarioInvalid(f"{bpath}.lines", "must be a list")
            for j, line in enumerate(lines):
                lpath = f"{bpath}.lines[{j}]"
                _check_keys(line, lpath, {"code", "billed", "units"}, ("code", "billed"))
                if not isinstance(line["code"], str):
                    raise ScenarioInvalid(f"{lpath}.code", "a procedure code is a quoted string")
                d = _decimal(line["billed"], f"{lpath}.billed")
                if abs(d) >= MONEY_LIMIT:  # (0 or less is not invalid: intake rejects the claim)
                    raise ScenarioInvalid(f"{lpath}.billed", f"too large: amounts stay under {MONEY_LIMIT:,}")
                if d != d.quantize(Decimal("0.01")):
                    raise ScenarioInvalid(f"{lpath}.billed", "money has at most two decimals")
                _int(line.get("units", 1), f"{lpath}.units", 1)
        elif kind == "run":
            if body not in RUN_KINDS:
                raise ScenarioInvalid(bpath, f"must be one of {', '.join(RUN_KINDS)}, got {body!r}")
        elif kind == "review":
            _check_keys(body, bpath, {"claim", "decision", "reason_code"}, ("claim", "decision"))
            if body["claim"] not in claim_keys:
                raise ScenarioInvalid(f"{bpath}.claim", f"unknown claim {body['claim']!r}")
            if body["decision"] not in ("approve", "deny"):
                raise ScenarioInvalid(f"{bpath}.decision", "must be approve or deny")
            if "reason_code" in body:
                if body["decision"] != "deny":
                    raise ScenarioInvalid(f"{bpath}.reason_code", "only a denial has a reason code")
                if str(body["reason_code"]) not in EXAMINER_DENIAL_CODES:
                    raise ScenarioInvalid(f"{bpath}.reason_code",
                                          f"must be one of {', '.join(EXAMINER_DENIAL_CODES)}, got {body['reason_code']!r}")
        elif kind == "appeal":
            _check_keys(body, bpath, {"claim"}, ("claim",))
            if body["claim"] not in claim_keys:
                raise ScenarioInvalid(f"{bpath}.claim", f"unknown claim {body['claim']!r}")
        elif kind in ("fund", "pay_invoice"):
            _check_keys(body, bpath, {"employer", "amount"}, ("employer", "amount"))
            emp = body["employer"]
            if emp not in sc.employers:
                raise ScenarioInvalid(f"{bpath}.employer", f"unknown employer {emp!r}")
            need = "ASO" if kind == "fund" else "ASC"
            if sc.employers[emp]["funding"] != need:
                raise ScenarioInvalid(f"{bpath}.employer", f"{kind} is for an {need} employer; {emp!r} is "
                                      f"{sc.employers[emp]['funding']}")
            if body["amount"] != "requested":
                amount = _money(body["amount"], f"{bpath}.amount")
                if amount <= 0:
                    raise ScenarioInvalid(f"{bpath}.amount", "must be greater than 0")
        elif kind == "change_coverage":
            _check_keys(body, bpath, {"member", "coverage_start", "coverage_end"}, ("member",))
            if body["member"] not in sc.members:
                raise ScenarioInvalid(f"{bpath}.member", f"unknown member {body['member']!r}")
            for k in ("coverage_start", "coverage_end"):
                if body.get(k) is not None:
                    _date(body[k], f"{bpath}.{k}")


# --- Playing it ---------------------------------------------------------------------------

@dataclass
class World:
    carriers: dict = field(default_factory=dict)
    employers: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    providers: dict = field(default_factory=dict)
    claims: dict = field(default_factory=dict)


# A service's field name -> the key the scenario file writes it under, so that a refusal names the
# path inside the file (SCENARIOS.md).
_MEMBER_KEYS = {"date_of_birth": "born", "start": "coverage_start", "end": "coverage_end"}
_PLAN_KEYS = {"deductible_individual": "deductible.individual", "deductible_family": "deductible.family",
              "oop_max_individual": "out_of_pocket_max.individual", "oop_max_family": "out_of_pocket_max.family",
              "oon_covered": "out_of_network.covered", "oon_coinsurance": "out_of_network.coinsurance"}


def _validation_path(exc: ValidationError, prefix: str, file_keys: dict | None = None) -> ScenarioInvalid:
    if hasattr(exc, "message_dict"):
        k, msgs = next(iter(exc.message_dict.items()))
        if k == "__all__":
            return ScenarioInvalid(prefix, "; ".join(msgs))
        return ScenarioInvalid(f"{prefix}.{(file_keys or {}).get(k, k)}", "; ".join(msgs))
    return ScenarioInvalid(prefix, "; ".join(exc.messages))


def world_build(*, sc: Scenario) -> World:
    w = World()
    for key, spec in sc.carriers.items():
        try:
            w.carriers[key] = party_services.carrier_create(name=spec["name"])
        except ValidationError as exc:
            raise _validation_path(exc, spec["path"]) from None
    try:
        schedule = plan_services.fee_schedule_create(
            name=f"{sc.name[:100]} fee schedule ({clock.now().isoformat()})", entries=sc.fee_schedule)
    except ValidationError as exc:
        keys = {f"entries.{code}.{f}": f"fee_schedule.{code}.{f}" for code in sc.fee_schedule for f in ("category", "fee")}
        keys.update({f"entries.{code}.code": f"fee_schedule.{code}" for code in sc.fee_schedule})
        raise _validation_path(exc, "world", keys) from None
    for key, spec in sc.employers.items():
        try:
            employer = party_services.employer_create(name=spec["name"])
        except ValidationError as exc:
            raise _validation_path(exc, spec["path"]) from None
        try:
            w.plans[key] = plan_services.plan_create(
                sponsor=employer, funding=spec["funding"], fee_schedule=schedule,
                carrier=w.carriers.get(spec["carrier"]), **spec["plan"],
            )
        except ValidationError as exc:
            raise _validation_path(exc, f"{spec['path']}.plan", _PLAN_KEYS) from None
        w.employers[key] = employer
    for key, spec in sc.providers.items():
        try:
            existing = Provider.objects.filter(npi=spec["npi"]).first()
            if existing is None:
                w.providers[key] = party_services.provider_register(name=spec["name"], npi=spec["npi"],
                                                                    network=spec["network"])
            elif (existing.name, existing.network) != (spec["name"], spec["network"]):
                # One provider per NPI, kept from an earlier --keep run: the file says what it is now.
                w.providers[key] = party_services.provider_update(provider=existing, name=spec["name"],
                                                                  network=spec["network"])
            else:
                w.providers[key] = existing
        except ValidationError as exc:
            raise _validation_path(exc, spec["path"]) from None
    for key, spec in sc.members.items():
        plan = w.plans[spec["employer"]]
        try:
            if spec["subscriber"] is None:
                member = party_services.member_create(employer=w.employers[spec["employer"]], name=spec["name"],
                                                      date_of_birth=spec["born"])
            else:
                member = party_services.member_create(
                    employer=w.employers[spec["employer"]], name=spec["name"], date_of_birth=spec["born"],
                    subscriber=w.members[spec["subscriber"]], relationship=spec["relationship"],
                )
            plan_services.coverage_enroll(member=member, plan=plan, start=spec["coverage_start"], end=spec["coverage_end"])
        except ValidationError as exc:
            raise _validation_path(exc, spec["path"], _MEMBER_KEYS) from None
        w.members[key] = member
    for key, spec in sc.employers.items():
        sl = spec["stop_loss"]
        if sl is None:
            continue
        try:
            plan_services.stop_loss_policy_create(
                plan=w.plans[key], carrier=w.carriers[sl["carrier"]], start=sl["start"], contract=sl["contract"],
                specific_attachment=sl["specific_attachment"],
                lasers={w.members[m]: v for m, v in sl["lasers"].items()},
                aggregate_attachment=sl["aggregate_attachment"], expected_claims=sl["expected_claims"],
                aggregate_factor=sl["aggregate_factor"],
            )
        except ValidationError as exc:
            raise _validation_path(exc, f"{spec['path']}.stop_loss") from None
    return w


def _play_event(*, w: World, event: dict, path: str) -> None:
    today = clock.today()
    if "submit_claim" in event:
        body = event["submit_claim"]
        member = w.members[body["member"]]
        provider = w.providers[body["provider"]]
        try:
            claim = claim_services.claim_submit(
                member_id=member.member_id, npi=provider.npi, service_date=body["service_date"],
                lines=[{"code": ln["code"], "billed": _decimal(ln["billed"], f"{path}.submit_claim.billed"),
                        "units": ln.get("units", 1)} for ln in (body.get("lines") or [])],
            )
        except ValidationError as exc:
            raise _validation_path(exc, f"{path}.submit_claim") from None
        w.claims[body["key"]] = claim
    elif "run" in event:
        kind = event["run"]
        if kind == "adjudication":
            claim_services.claims_adjudicate_pending(today=today)
            return
        {
            "payment_cycle": lambda: funding.payment_cycle_run(today=today),
            "reimbursement_billing": lambda: funding.reimbursement_billing_run(today=today),
            "stop_loss": lambda: funding.stop_loss_evaluate(today=today),
            "fee_billing": lambda: funding.fee_billing_run(today=today),
        }[kind]()
    elif "review" in event:
        body = event["review"]
        claim = w.claims[body["claim"]]
        try:
            claim_services.claim_review(claim_id=claim.pk, decision=body["decision"],
                                        reason_code=str(body.get("reason_code", "50")), today=today)
        except claim_services.ClaimConflict:
            state = Claim.objects.filter(pk=claim.pk).values_list("state", flat=True).first()
            raise ScenarioInvalid(f"{path}.review.claim", f"claim {body['claim']!r} is {state}, not pended") from None
    elif "appeal" in event:
        claim = w.claims[event["appeal"]["claim"]]
        try:
            claim_services.claim_appeal(claim_id=claim.pk, reason="scenario appeal")
        except claim_services.ClaimConflict:
            state = Claim.objects.filter(pk=claim.pk).values_list("state", flat=True).first()
            raise ScenarioInvalid(f"{path}.appeal.claim",
                                  f"claim {event['appeal']['claim']!r} is {state}, not denied") from None
    elif "fund" in event or "pay_invoice" in event:
        kind = "fund" if "fund" in event else "pay_invoice"
        body = event[kind]
        employer = w.employers[body["employer"]]
        if kind == "fund":
            open_amount = funding.funding_request_open_amount(employer=employer)
        else:
            open_amount = funding.reimbursement_open_amount(employer=employer)
        amount = open_amount if body["amount"] == "requested" else _money(body["amount"], f"{path}.{kind}.amount")
        if kind == "pay_invoice" and amount > open_amount:
            raise ScenarioInvalid(f"{path}.pay_invoice.amount", f"pays {amount} but only {open_amount} is open")
        try:
            if kind == "fund":
                funding.sponsor_deposit(employer=employer, amount=amount, today=today)
            else:
                funding.sponsor_reimbursement_pay(employer=employer, amount=amount, today=today)
        except ValidationError as exc:
            raise _validation_path(exc, f"{path}.{kind}") from None
    elif "change_coverage" in event:
        body = event["change_coverage"]
        try:
            plan_services.coverage_change(
                member=w.members[body["member"]],
                start=_date(body["coverage_start"], "") if body.get("coverage_start") is not None else None,
                end=_date(body["coverage_end"], "") if body.get("coverage_end") is not None else None,
                set_start="coverage_start" in body, set_end="coverage_end" in body,
            )
        except ValidationError as exc:
            raise _validation_path(exc, f"{path}.change_coverage", _MEMBER_KEYS) from None


def _m(d: Decimal | None) -> str:
    return f"{(d or Decimal('0')):.2f}"


def scenario_report(*, sc: Scenario, w: World) -> dict:
    as_of = clock.today()
    claims = {c.pk: c for c in Claim.objects.filter(pk__in=[c.pk for c in w.claims.values()])}
    report: dict = {"scenario": sc.name, "as_of": as_of.isoformat(), "claims": {}}
    for key, submitted in w.claims.items():
        c = claims[submitted.pk]
        report["claims"][key] = {
            "state": c.state, "billed": _m(c.billed), "allowed": _m(c.allowed), "deductible": _m(c.deductible),
            "copay": _m(c.copay), "coinsurance": _m(c.coinsurance), "not_covered": _m(c.not_covered),
            "balance_billed": _m(c.balance_billed), "plan_paid": _m(c.plan_paid),
            "member_responsibility": _m(c.member_responsibility), "provider_write_off": _m(c.provider_write_off),
            "reason_codes": c.reason_code_list, "paid_from": None, "paid_on": None,
        }
    acc = accumulators_report_for(members=list(w.members.values()), as_of=as_of)
    report["accumulators"] = {key: acc[m.pk] for key, m in w.members.items()}
    # Money figures, and who paid each claim, come from the ledger (funding.selectors).
    money = money_report(employers=w.employers, carriers=w.carriers, providers=w.providers,
                         members=w.members, claims=w.claims)
    for key, paid in money.pop("claims", {}).items():
        report["claims"][key].update(paid)
    report.update(money)
    return report


def scenario_run(*, sc: Scenario, keep: bool = False) -> dict:
    """Build the world, play the events on the simulated clock, return the report.

    One transaction: rolled back unless `keep`, and always when the file turns out invalid.
    """
    with transaction.atomic():
        clock.clock_set(day=sc.start)
        w = world_build(sc=sc)
        for i, event in enumerate(sc.events):
            if "date" in event:
                clock.clock_set(day=_date(event["date"], f"events[{i}].date"))
            _play_event(w=w, event=event, path=f"events[{i}]")
        report = scenario_report(sc=sc, w=w)
        if not keep:
            transaction.set_rollback(True)
    return report


# --- Comparing with `expect` -------------------------------------------------------------

_MONEY_TEXT = re.compile(r"-?\d+\.\d{2}")


def _equal(expected, actual) -> bool:
    """A money figure of the report ("90.00") equals any spelling of the same amount, to the cent;
    anything else (states, reason codes, dates, keys) must be the same value."""
    if isinstance(actual, str) and _MONEY_TEXT.fullmatch(actual):
        if isinstance(expected, bool) or not isinstance(expected, (int, float, Decimal, str)):
            return False
        try:
            amount = Decimal(repr(expected) if isinstance(expected, float) else str(expected).strip())
        except InvalidOperation:
            return False
        return amount.is_finite() and amount.quantize(Decimal("0.01")) == Decimal(actual)
    if isinstance(expected, datetime.date):
        expected = expected.isoformat()
    elif isinstance(expected, int) and not isinstance(expected, bool) and isinstance(actual, str):
        expected = str(expected)  # reason_codes: [3, 45] written without quotes
    return expected == actual


def expectations_compare(*, expected, actual, path: str = "") -> list[str]:
    """Mismatches as 'path: expected X, got Y'. Mappings by key; lists whole, in order."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected a mapping, got {json.dumps(actual)}"]
        out = []
        for k, v in expected.items():
            sub = f"{path}.{k}" if path else str(k)
            if k not in actual:
                out.append(f"{sub}: expected {_show(v)}, got nothing")
            else:
                out.extend(expectations_compare(expected=v, actual=actual[k], path=sub))
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected) or any(
            expectations_compare(expected=e, actual=a) for e, a in zip(expected, actual)
        ):
            return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
        return []
    if not _equal(expected, actual):
        return [f"{path}: expected {_show(expected)}, got {_show(actual)}"]
    return []


def _show(value) -> str:
    if isinstance(value, (datetime.date, Decimal)):
        return str(value)
    try:
        return json.dumps(value)
    except TypeError:
        return str(value)


def scenario_file_load(*, path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ScenarioInvalid("(file)", f"cannot read {path}: {exc.strerror}") from None
    return scenario_load(text=text)
