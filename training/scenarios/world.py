"""Building a scenario's world through the services: carriers, a fee schedule, sponsors with their plans,
providers, members with their coverage, stop-loss policies. A refusal by a service names the path
inside the file (docs/scenarios.md)."""
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from core import clock
from parties import services as party_services
from parties.models import Provider
from plans import services as plan_services

from .schema import Scenario, ScenarioInvalid


@dataclass
class World:
    """The file's keys -> the rows made for them."""

    carriers: dict = field(default_factory=dict)
    employers: dict = field(default_factory=dict)
    plans: dict = field(default_factory=dict)
    members: dict = field(default_factory=dict)
    providers: dict = field(default_factory=dict)
    claims: dict = field(default_factory=dict)


# A service's field name -> the key the scenario file writes it under, so that a refusal names the
# path inside the file.
MEMBER_KEYS = {"date_of_birth": "born", "start": "coverage_start", "end": "coverage_end"}
PLAN_KEYS = {"deductible_individual": "deductible.individual", "deductible_family": "deductible.family",
             "oop_max_individual": "out_of_pocket_max.individual", "oop_max_family": "out_of_pocket_max.family",
             "oon_covered": "out_of_network.covered", "oon_coinsurance": "out_of_network.coinsurance"}


def validation_path(exc: ValidationError, prefix: str, file_keys: dict | None = None) -> ScenarioInvalid:
    """A service's refusal as a refusal of the file, at `prefix` and the field it names."""
    if hasattr(exc, "message_dict"):
        k, msgs = next(iter(exc.message_dict.items()))
        if k == "__all__":
            return ScenarioInvalid(prefix, "; ".join(msgs))
        return ScenarioInvalid(f"{prefix}.{(file_keys or {}).get(k, k)}", "; ".join(msgs))
    return ScenarioInvalid(prefix, "; ".join(exc.messages))


def world_build(*, sc: Scenario) -> World:
    w = World()
    _build_carriers(sc, w)
    schedule = _build_fee_schedule(sc)
    _build_sponsors(sc, w, schedule)
    _build_providers(sc, w)
    _build_members(sc, w)
    _build_stop_loss(sc, w)
    return w


def _build_carriers(sc: Scenario, w: World) -> None:
    for key, spec in sc.carriers.items():
        try:
            w.carriers[key] = party_services.carrier_create(name=spec["name"])
        except ValidationError as exc:
            raise validation_path(exc, spec["path"]) from None


def _build_fee_schedule(sc: Scenario):
    try:
        return plan_services.fee_schedule_create(
            name=f"{sc.name[:100]} fee schedule ({clock.now().isoformat()})", entries=sc.fee_schedule)
    except ValidationError as exc:
        keys = {f"entries.{code}.{f}": f"fee_schedule.{code}.{f}" for code in sc.fee_schedule for f in ("category", "fee")}
        keys.update({f"entries.{code}.code": f"fee_schedule.{code}" for code in sc.fee_schedule})
        raise validation_path(exc, "world", keys) from None


def _build_sponsors(sc: Scenario, w: World, schedule) -> None:
    for key, spec in sc.employers.items():
        try:
            employer = party_services.employer_create(name=spec["name"])
        except ValidationError as exc:
            raise validation_path(exc, spec["path"]) from None
        try:
            w.plans[key] = plan_services.plan_create(
                sponsor=employer, funding=spec["funding"], fee_schedule=schedule,
                carrier=w.carriers.get(spec["carrier"]), **spec["plan"],
            )
        except ValidationError as exc:
            raise validation_path(exc, f"{spec['path']}.plan", PLAN_KEYS) from None
        w.employers[key] = employer


def _build_providers(sc: Scenario, w: World) -> None:
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
            raise validation_path(exc, spec["path"]) from None


def _build_members(sc: Scenario, w: World) -> None:
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
            plan_services.coverage_enroll(member=member, plan=plan, start=spec["coverage_start"],
                                          end=spec["coverage_end"])
        except ValidationError as exc:
            raise validation_path(exc, spec["path"], MEMBER_KEYS) from None
        w.members[key] = member


def _build_stop_loss(sc: Scenario, w: World) -> None:
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
            raise validation_path(exc, f"{spec['path']}.stop_loss") from None
