"""A scenario file (docs/scenarios.md) read and checked: `scenario_load` gives a `Scenario` whose every
key, reference, amount and date is valid, or raises `ScenarioInvalid` naming the path inside the file.
Nothing here touches the database.
"""
import datetime
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

import yaml

from claims.carc import EXAMINER_DENIAL_CODES
from core.dates import date_parse
from core.money import to_money
from parties.validators import npi_is_valid

RUN_KINDS = ("adjudication", "payment_cycle", "reimbursement_billing", "stop_loss", "fee_billing")
EVENT_KINDS = ("submit_claim", "run", "review", "appeal", "fund", "pay_invoice", "change_coverage")
CHECKLIST_ROLES = ("examiner", "supervisor")
CHECKLIST_PARTIES = {"provider": "providers", "employer": "employers", "carrier": "carriers", "member": "members"}


class ScenarioInvalid(Exception):
    """The file is not a valid scenario: `path` names where inside it."""

    def __init__(self, path: str, message: str):
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --- Reading and checking values -----------------------------------------------------------------

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


def _date(value, path: str) -> datetime.date:
    try:
        return date_parse(value)
    except ValueError as exc:
        raise ScenarioInvalid(path, str(exc)) from None


def _decimal(value, path: str) -> Decimal:
    """A number that is not money (a rate, a factor): a YAML number or a numeric string."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ScenarioInvalid(path, f"not a number: {value!r}")
    try:
        d = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        raise ScenarioInvalid(path, f"not a number: {value!r}") from None
    if not d.is_finite():
        raise ScenarioInvalid(path, f"not a number: {value!r}")
    return d


def _amount(value, path: str) -> Decimal:
    """Money as the file writes it (a YAML number or a string, at most two decimals), any sign."""
    try:
        return to_money(value, allow_float=True)
    except ValueError as exc:
        raise ScenarioInvalid(path, str(exc)) from None


def _money(value, path: str) -> Decimal:
    """Money that cannot be negative (plan terms, fees, attachments)."""
    d = _amount(value, path)
    if d < 0:
        raise ScenarioInvalid(path, f"must not be negative: {value!r}")
    return d


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
    checklist: list = field(default_factory=list)  # [{"as", "do", "done_when"}], played by people, not here
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


TOP_KEYS = {"name", "description", "start", "world", "events", "expect", "checklist"}
WORLD_KEYS = {"carriers", "employers", "members", "providers", "fee_schedule"}


def scenario_load(*, text: str) -> Scenario:
    """Parse and check a scenario file; raise ScenarioInvalid naming the path. Writes nothing."""
    try:
        data = yaml.load(text, Loader=_StrictLoader)  # noqa: S506 (a SafeLoader subclass)
    except ScenarioInvalid:
        raise
    except yaml.YAMLError as exc:
        raise ScenarioInvalid("(file)", f"not valid YAML: {exc}") from None
    _check_keys(data, "", TOP_KEYS, ("name", "start", "world"))
    events, expect, checklist = data.get("events"), data.get("expect"), data.get("checklist")
    if events is not None and not isinstance(events, list):
        raise ScenarioInvalid("events", "must be a list of dated events")
    if expect is not None and not isinstance(expect, dict):
        raise ScenarioInvalid("expect", "must be a mapping")
    if checklist is not None and not isinstance(checklist, list):
        raise ScenarioInvalid("checklist", "must be a list of steps")
    sc = Scenario(name=_str(data["name"], "name"), start=_date(data["start"], "start"), world=data["world"],
                  events=events or [], expect=expect or {}, description=str(data.get("description") or ""))
    world = _check_keys(sc.world, "world", WORLD_KEYS)
    for section in ("carriers", "employers", "members", "providers"):
        if world.get(section) is not None and not isinstance(world[section], list):
            raise ScenarioInvalid(f"world.{section}", "must be a list")
    _check_carriers(sc, world.get("carriers") or [])
    _check_fee_schedule(sc, world.get("fee_schedule") or {})
    _check_employers(sc, world.get("employers") or [])
    _check_members(sc, world.get("members") or [])
    _check_providers(sc, world.get("providers") or [])
    _check_stop_loss_policies(sc)
    coverage = _CoverageDates(sc)
    coverage.check_all()
    _check_events(sc, coverage)
    sc.checklist = _check_checklist(sc, checklist or [])
    return sc


def _check_carriers(sc: Scenario, specs: list) -> None:
    for i, spec in enumerate(specs):
        path = f"world.carriers[{i}]"
        _check_keys(spec, path, {"key", "name"}, ("key",))
        key = _unique_key(spec, path, sc.carriers, "carrier")
        sc.carriers[key] = {"name": str(spec.get("name") or key), "path": path}


def _check_fee_schedule(sc: Scenario, fee_schedule) -> None:
    if not isinstance(fee_schedule, dict):
        raise ScenarioInvalid("world.fee_schedule", "must be a mapping of procedure code to category and fee")
    for code, spec in fee_schedule.items():
        path = f"world.fee_schedule.{code}"
        if not isinstance(code, str):
            raise ScenarioInvalid(path, "a procedure code is a quoted string")
        _check_keys(spec, path, {"category", "fee"}, ("category", "fee"))
        sc.fee_schedule[code] = {"category": _str(spec["category"], f"{path}.category"),
                                 "fee": _money(spec["fee"], f"{path}.fee")}


def _check_employers(sc: Scenario, specs: list) -> None:
    for i, spec in enumerate(specs):
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


def _optional_date(spec: dict, key: str, path: str) -> datetime.date | None:
    return _date(spec[key], f"{path}.{key}") if spec.get(key) is not None else None


def _check_members(sc: Scenario, specs: list) -> None:
    for i, spec in enumerate(specs):
        path = f"world.members[{i}]"
        _check_keys(spec, path, {"key", "employer", "subscriber", "relationship", "name", "born",
                                 "coverage_start", "coverage_end"}, ("key", "name", "born"))
        key = _unique_key(spec, path, sc.members, "member")
        subscriber = spec.get("subscriber")
        entry = {"name": _str(spec["name"], f"{path}.name"), "born": _date(spec["born"], f"{path}.born"),
                 "coverage_start": _optional_date(spec, "coverage_start", path),
                 "coverage_end": _optional_date(spec, "coverage_end", path),
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
        sc.members[key] = entry


def _check_providers(sc: Scenario, specs: list) -> None:
    for i, spec in enumerate(specs):
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


def _check_stop_loss_policies(sc: Scenario) -> None:
    for emp_key, emp in sc.employers.items():
        raw = emp.pop("stop_loss_raw")
        emp["stop_loss"] = _check_stop_loss(raw, f"{emp['path']}.stop_loss", emp["funding"], sc) if raw is not None else None
        for member in (emp["stop_loss"] or {}).get("lasers", {}):
            if sc.members[member]["employer"] != emp_key:
                raise ScenarioInvalid(f"{emp['path']}.stop_loss.lasers.{member}",
                                      f"{member!r} is not a member of {emp_key!r}: a laser is for the sponsor's own")


class _CoverageDates:
    """Every member's coverage dates as the file sets them, followed through the `change_coverage`
    events, so that a coverage that would end before it starts is found before anything is written.
    A dependent's dates that it does not state are its subscriber's current ones (DOMAIN.md §1)."""

    def __init__(self, sc: Scenario):
        self.sc = sc
        self.own = {key: [m["coverage_start"], m["coverage_end"]] for key, m in sc.members.items()}

    def effective(self, key: str) -> tuple:
        start, end = self.own[key]
        subscriber = self.sc.members[key]["subscriber"]
        if subscriber is not None:
            start = start or self.own[subscriber][0]
            end = end or self.own[subscriber][1]
        return start, end

    def _broken(self, keys) -> tuple[str, tuple] | None:
        for key in keys:
            start, end = self.effective(key)
            if start is not None and end is not None and end < start:
                return key, (start, end)
        return None

    def check_all(self) -> None:
        found = self._broken(self.sc.members)
        if found is not None:
            key, (start, end) = found
            own_start, own_end = self.own[key]
            which = "coverage_end" if own_end is not None or own_start is None else "coverage_start"
            raise ScenarioInvalid(f"{self.sc.members[key]['path']}.{which}",
                                  f"coverage of {key!r} would end ({end}) before it starts ({start})")

    def change(self, *, member: str, body: dict, path: str) -> None:
        """Apply a change_coverage event (a key given as null clears that date) and check the family."""
        for i, key in enumerate(("coverage_start", "coverage_end")):
            if key in body:
                self.own[member][i] = _date(body[key], f"{path}.{key}") if body[key] is not None else None
        family = [member] + [k for k, m in self.sc.members.items() if m["subscriber"] == member]
        found = self._broken(family)
        if found is not None:
            key, (start, end) = found
            which = "coverage_end" if "coverage_end" in body else "coverage_start"
            whose = "its" if key == member else f"its dependent {key!r}'s"
            raise ScenarioInvalid(f"{path}.{which}", f"{whose} coverage would end ({end}) before it starts ({start})")


def _check_checklist(sc: Scenario, steps: list) -> list[dict]:
    """Each step names who acts (a staff role or a party's login), what to do, and when it is done."""
    out = []
    for i, step in enumerate(steps):
        path = f"checklist[{i}]"
        _check_keys(step, path, {"as", "do", "done_when"}, ("as", "do", "done_when"))
        who = step["as"]
        if not isinstance(who, str):
            raise ScenarioInvalid(f"{path}.as", f"must name a role or a party's login, got {who!r}")
        if who not in CHECKLIST_ROLES:
            kind, _, key = who.partition(":")
            section = CHECKLIST_PARTIES.get(kind)
            if section is None or not key:
                raise ScenarioInvalid(f"{path}.as", f"must be examiner, supervisor, provider:KEY, employer:KEY, "
                                                    f"carrier:KEY or member:KEY, got {who!r}")
            if key not in getattr(sc, section):
                raise ScenarioInvalid(f"{path}.as", f"unknown {kind} {key!r}")
        if not isinstance(step["done_when"], dict):
            raise ScenarioInvalid(f"{path}.done_when", "must be a mapping (a part of the report)")
        out.append({"as": who, "do": _str(step["do"], f"{path}.do"), "done_when": step["done_when"]})
    return out


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


def _check_events(sc: Scenario, coverage: _CoverageDates) -> None:
    """Each event: a date (the clock moves, never backwards) and at most one thing that happens."""
    day = sc.start
    claim_keys: set = set()
    for i, event in enumerate(sc.events):
        path = f"events[{i}]"
        _check_keys(event, path, {"date", *EVENT_KINDS})
        kinds = [k for k in EVENT_KINDS if k in event]
        if len(kinds) > 1 or (not kinds and "date" not in event):
            raise ScenarioInvalid(path, f"needs a date or exactly one of {', '.join(EVENT_KINDS)}")
        if "date" in event:
            new_day = _date(event["date"], f"{path}.date")
            if new_day < day:
                raise ScenarioInvalid(f"{path}.date", f"moves the clock backwards from {day} to {new_day}")
            day = new_day
        if not kinds:
            continue  # a date alone: the clock moves, nothing else happens
        kind = kinds[0]
        body, bpath = event[kind], f"{path}.{kind}"
        if kind == "submit_claim":
            _check_submit_claim(sc, body, bpath, claim_keys)
        elif kind == "run":
            if body not in RUN_KINDS:
                raise ScenarioInvalid(bpath, f"must be one of {', '.join(RUN_KINDS)}, got {body!r}")
        elif kind == "review":
            _check_review(body, bpath, claim_keys)
        elif kind == "appeal":
            _check_keys(body, bpath, {"claim"}, ("claim",))
            if body["claim"] not in claim_keys:
                raise ScenarioInvalid(f"{bpath}.claim", f"unknown claim {body['claim']!r}")
        elif kind in ("fund", "pay_invoice"):
            _check_money_event(sc, kind, body, bpath)
        else:  # change_coverage
            _check_keys(body, bpath, {"member", "coverage_start", "coverage_end"}, ("member",))
            if body["member"] not in sc.members:
                raise ScenarioInvalid(f"{bpath}.member", f"unknown member {body['member']!r}")
            coverage.change(member=body["member"], body=body, path=bpath)


def _check_submit_claim(sc: Scenario, body, bpath: str, claim_keys: set) -> None:
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
        _amount(line["billed"], f"{lpath}.billed")  # (0 or less is not invalid: intake rejects the claim)
        _int(line.get("units", 1), f"{lpath}.units", 1)


def _check_review(body, bpath: str, claim_keys: set) -> None:
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


def _check_money_event(sc: Scenario, kind: str, body, bpath: str) -> None:
    _check_keys(body, bpath, {"employer", "amount"}, ("employer", "amount"))
    emp = body["employer"]
    if emp not in sc.employers:
        raise ScenarioInvalid(f"{bpath}.employer", f"unknown employer {emp!r}")
    need = "ASO" if kind == "fund" else "ASC"
    if sc.employers[emp]["funding"] != need:
        raise ScenarioInvalid(f"{bpath}.employer", f"{kind} is for an {need} employer; {emp!r} is "
                              f"{sc.employers[emp]['funding']}")
    if body["amount"] != "requested" and _amount(body["amount"], f"{bpath}.amount") <= 0:
        raise ScenarioInvalid(f"{bpath}.amount", "must be greater than 0 (or: requested)")


def scenario_file_load(*, path: str | Path) -> Scenario:
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ScenarioInvalid("(file)", f"cannot read {path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise ScenarioInvalid("(file)", f"cannot read {path}: not UTF-8 text") from None
    return scenario_load(text=text)
