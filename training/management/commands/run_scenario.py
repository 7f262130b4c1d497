"""python manage.py run_scenario FILE.yaml [--json] [--keep]  (SCENARIOS.md)."""
import json
import sys

from django.core.management.base import BaseCommand

from core.schema import schema_migrate_if_needed
from training.scenarios import ScenarioInvalid, expectations_compare, scenario_file_load, scenario_run

EXIT_OK, EXIT_MISMATCH, EXIT_INVALID = 0, 1, 2


def report_as_text(report: dict) -> str:
    out = [f"Scenario: {report['scenario']}", f"As of:    {report['as_of']}", "", "Claims"]
    cols = ("state", "billed", "allowed", "deductible", "copay", "coinsurance", "not_covered", "balance_billed",
            "plan_paid", "member_responsibility", "provider_write_off")
    out.append("  " + "key".ljust(10) + "".join(c[:12].rjust(13) for c in cols) + "  codes      paid")
    for key, c in report["claims"].items():
        paid = f"{c.get('paid_on') or ''} {c.get('paid_from') or ''}".strip()
        out.append("  " + key.ljust(10) + "".join(str(c[k]).rjust(13) for k in cols)
                   + "  " + ",".join(c["reason_codes"]).ljust(10) + " " + paid)
    out += ["", "Accumulators (plan year holding as-of)"]
    for key, a in report["accumulators"].items():
        out.append(f"  {key:<10} year {a['plan_year']}  deductible {a['deductible_met']:>10}  OOP {a['out_of_pocket_met']:>10}"
                   f"  family deductible {a['family_deductible_met']:>10}  family OOP {a['family_out_of_pocket_met']:>10}")
    for section in ("employers", "carriers", "providers"):
        if section in report:
            out += ["", section.capitalize()]
            for key, figures in report[section].items():
                out.append(f"  {key:<10} " + "  ".join(f"{k} {v}" for k, v in figures.items()))
    if "stop_loss" in report:
        out += ["", "Stop-loss"]
        for key, sl in report["stop_loss"].items():
            specific = ", ".join(f"{m} {v}" for m, v in sl["specific"].items()) or "none"
            out.append(f"  {key:<10} specific: {specific}; aggregate {sl['aggregate']}")
    return "\n".join(out)


class Command(BaseCommand):
    help = "Build a scenario's world, play its events on the simulated clock, print the report, check `expect`."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--json", action="store_true", help="print the report as JSON, alone on stdout")
        parser.add_argument("--keep", action="store_true", help="keep the world and its history in the database")

    def handle(self, *args, **options):
        try:
            scenario = scenario_file_load(path=options["file"])
            schema_migrate_if_needed()
            report = scenario_run(sc=scenario, keep=options["keep"])
        except ScenarioInvalid as exc:
            sys.stderr.write(f"{options['file']}: invalid scenario: {exc}\n")
            sys.exit(EXIT_INVALID)
        if options["json"]:
            sys.stdout.write(json.dumps(report, indent=2) + "\n")
        else:
            sys.stdout.write(report_as_text(report) + "\n")
        mismatches = expectations_compare(expected=scenario.expect, actual=report)
        for line in mismatches:
            sys.stderr.write(line + "\n")
        if mismatches:
            sys.exit(EXIT_MISMATCH)
        if not options["json"]:
            sys.stdout.write("\nAll expectations hold.\n" if scenario.expect else "\n(no expectations)\n")
