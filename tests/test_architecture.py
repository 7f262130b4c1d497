"""The shape of the code: floors held (import-linter, `make lint`), no import circles, no bare threads
in domain code, a repository that stands alone."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("config", "core", "parties", "plans", "claims", "funding", "training")
DOMAIN = ("core", "parties", "plans", "claims", "funding")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, cache_dir=None)


def test_the_import_contracts_hold():
    """The layers contract (floors) and the plain-data engine contract of pyproject.toml."""
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint), "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_no_module_imports_itself_round_a_circle(graph):
    """No two modules of the project import each other, directly or through others (imports inside
    functions count): every module can be read, and replaced, above the ones it uses."""
    circles = []
    for importer in sorted(graph.modules):
        for imported in sorted(graph.find_modules_directly_imported_by(importer)):
            if imported.split(".")[0] not in PACKAGES or imported.startswith(importer + "."):
                continue
            if importer.startswith(imported + "."):
                continue  # a module importing its own package's __init__ (re-exports): not a circle of code
            back = graph.find_shortest_chain(importer=imported, imported=importer)
            if back is not None:
                circles.append(f"{importer} -> {imported} -> ... -> {' -> '.join(back[1:])}")
    assert circles == []


def test_the_engine_imports_nothing_of_django_at_run_time():
    code = ("import sys, claims.engine, claims.carc, plans.periods, core.money, core.dates; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('django', 'celery')))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def _python_files(*packages):
    for package in packages:
        yield from (p for p in (ROOT / package).rglob("*.py") if "migrations" not in p.parts)


def test_domain_code_starts_threads_only_in_the_callers_context():
    """A new thread starts with empty context variables (which name a training session's database):
    a thread in domain code must run in `contextvars.copy_context()`."""
    bare = []
    for path in _python_files(*DOMAIN):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "Thread":
                target = next((kw.value for kw in node.keywords if kw.arg == "target"), None)
                if not (isinstance(target, ast.Attribute) and target.attr == "run"
                        and "copy_context" in ast.unparse(target)):
                    bare.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bare == []


def test_nothing_reads_outside_the_repository():
    """A clone of the project alone passes its tests: no code or test reads the sibling shared folder."""
    pattern = re.compile(r"\.\./shared|parent\s*/\s*[\"']shared[\"']|parents\[\d\]\s*/\s*[\"']shared")
    found = [str(p.relative_to(ROOT)) for p in _python_files(*PACKAGES, "tests") if pattern.search(p.read_text())]
    assert found == []


def test_the_contract_pages_are_in_the_repository():
    for name in ("docs/domain.md", "docs/scenarios.md"):
        text = (ROOT / name).read_text()
        assert text.startswith("# "), name
    assert "## 3. Claim lifecycle" in (ROOT / "docs/domain.md").read_text()
    assert "checklist" in (ROOT / "docs/scenarios.md").read_text()
