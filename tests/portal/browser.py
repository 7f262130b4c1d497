"""What the browser tests share: Chromium through Playwright (Debian's /usr/bin/chromium, never a
downloaded one), a demo world the live server serves, logging in through the real form, axe-core over
a page, screenshots as test artifacts, and the crawl of a role's pages from its menu.

Playwright's sync API runs an event loop in the test's thread; Django refuses database access from a
thread with a running loop (SynchronousOnlyOperation) unless told the use is safe. It is here: the
loop only drives the browser, and the test's own queries run between its calls, never inside it.
"""
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from playwright.sync_api import Page, sync_playwright

CHROMIUM = "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[2]
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.14.1.min.js"
SCREENSHOTS = ROOT / "var" / "test-artifacts" / "screenshots"
PASSWORD = "demo"
BLOCKING = ("serious", "critical")  # the impacts that fail a page
TIMEOUT_MS = 15_000
ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"

# The role of each demo login and the prefix of its pages.
ROLE_PREFIX = {"provider": "/provider/", "examiner": "/examiner/", "supervisor": "/supervisor/",
               "employer": "/employer/", "carrier": "/carrier/", "member": "/member/"}
# The pages a login works in: its role's; a supervisor also works the examiner's queue.
ROLE_PAGES = {**{u: (p,) for u, p in ROLE_PREFIX.items()}, "supervisor": ("/supervisor/", "/examiner/")}


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the module's tests (each test opens its own context: cookies, storage). While it
    runs, Django allows database access beside Playwright's loop (see the module's docstring); the
    setting is put back afterwards, so the tests run after these keep Django's check."""
    before = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            try:
                yield browser
            finally:
                browser.close()
    finally:
        if before is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = before


@pytest.fixture
def new_page(chromium):
    """new_page() -> a page in a fresh browser context (a login of its own); all closed after the test."""
    contexts = []

    def make() -> Page:
        context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()
    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def demo_live(live_server, transactional_db):
    """The demo world, committed, on the tests' business date, for the live server's thread (and any
    worker process) to read; the transactional test empties the tables afterwards."""
    from core import clock
    from tests.portal.helpers import DEMO_DATE
    from training.demo import seed_demo

    clock.clock_set(day=DEMO_DATE)
    return seed_demo()


def login(page: Page, live_server, username: str, password: str = PASSWORD) -> None:
    """Log in through the real login form at `/`, and wait for the role's home."""
    page.goto(live_server.url + "/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    with page.expect_navigation():
        page.get_by_role("button", name="Log in").click()
    if urlsplit(page.url).path in ("/", "/login/"):
        errors = page.locator(".errors").all_inner_texts()
        raise AssertionError(f"{username} could not log in: {errors}")


def axe_violations(page: Page) -> list[dict]:
    """axe-core's serious and critical violations on the page as it is now: id, impact, help and the
    offending nodes (their CSS targets and axe's summary of what fails)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE))
    return page.evaluate("""async (blocking) => {
        const result = await axe.run(document, {resultTypes: ['violations']});
        return result.violations.filter(v => blocking.includes(v.impact)).map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => ({target: n.target.join(' '), summary: n.failureSummary})),
        }));
    }""", list(BLOCKING))


def violations_text(found: dict[str, list[dict]]) -> str:
    """Violations by page, one line per node, for an assertion message."""
    lines = []
    for where, violations in found.items():
        for v in violations:
            lines.append(f"{where}: {v['id']} ({v['impact']}): {v['help']}")
            lines.extend(f"    {n['target']}: {' '.join(n['summary'].split())}" for n in v["nodes"])
    return "\n".join(lines)


def screenshot(page: Page, name: str) -> Path:
    """A full-page screenshot at var/test-artifacts/screenshots/<name>.png (var/ is git-ignored)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def menu_links(page: Page, live_server) -> list[str]:
    """The paths of the page's main menu (`nav.menu`), as the page lists them."""
    hrefs = page.eval_on_selector_all("nav.menu a[href]", "links => links.map(a => a.getAttribute('href'))")
    return [_path(live_server, h) for h in hrefs]


def main_links(page: Page, live_server, prefix: tuple[str, ...]) -> list[str]:
    """The paths of the links inside <main> that stay on the role's pages (paths starting with `prefix`)."""
    hrefs = page.eval_on_selector_all("main a[href]", "links => links.map(a => a.getAttribute('href'))")
    paths = [_path(live_server, h) for h in hrefs if not h.startswith("#")]
    return [p for p in paths if p and p.startswith(prefix)]


def _path(live_server, href: str) -> str:
    url = urlsplit(urljoin(live_server.url + "/", href))
    if f"{url.scheme}://{url.netloc}" != live_server.url:
        return ""
    return url.path + (f"?{url.query}" if url.query else "")


def page_shape(path: str) -> str:
    """A path with its numbers replaced (/member/claims/12/ -> /member/claims/N/) and without its query:
    the crawl opens one page of each shape (one claim page stands for all of them)."""
    return re.sub(r"/\d+(?=/|$)", "/N", path.split("?", 1)[0])


def crawl_role(page: Page, live_server, username: str, *, follow_details: bool = True,
               max_pages: int = 40) -> dict[str, dict]:
    """Every GET page the login reaches from its menu (and, with `follow_details`, one page of each shape
    linked from those pages, such as a claim or a remittance), each checked by axe-core: path -> {"status",
    "violations"}. Downloads (CSV) are requested, not opened; pages of other roles are not followed."""
    prefix = ROLE_PAGES[username]
    login(page, live_server, username)
    results: dict[str, dict] = {}
    seen_shapes: set[str] = set()
    queue = [urlsplit(page.url).path, *menu_links(page, live_server)]
    while queue and len(results) < max_pages:
        path = queue.pop(0)
        shape = page_shape(path)
        if not path or path in results or shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        head = page.request.get(live_server.url + path, max_redirects=0)
        kind = head.headers.get("content-type", "")
        if head.status != 200 or not kind.startswith("text/html"):
            results[path] = {"status": head.status, "content_type": kind, "violations": []}
            continue
        response = page.goto(live_server.url + path)
        results[path] = {"status": response.status, "content_type": kind, "violations": axe_violations(page)}
        for link in menu_links(page, live_server):
            if link.startswith(prefix):
                queue.append(link)
        if follow_details:
            queue.extend(main_links(page, live_server, prefix))
    return results


# --- a real Celery worker ------------------------------------------------------------------------

def _database_url() -> str:
    """The test database (the one the live server serves), as DATABASE_URL for another process."""
    from django.db import connection

    s = connection.settings_dict
    auth = s.get("USER") or ""
    if s.get("PASSWORD"):
        auth += f":{s['PASSWORD']}"
    host = s.get("HOST") or "127.0.0.1"
    port = f":{s['PORT']}" if s.get("PORT") else ""
    return f"postgres://{auth}{'@' if auth else ''}{host}{port}/{s['NAME']}"


class CeleryWorker:
    """`celery -A config worker` (prefork, one child) on the test database and the settings' broker, as
    tests/funding/test_funding_worker.py runs it: the jobs a page queues run as in production."""

    def __init__(self, log_path: Path):
        from django.conf import settings

        env = {**os.environ, "DATABASE_URL": _database_url(), "DJANGO_SETTINGS_MODULE": "config.settings.test",
               "CELERY_BROKER_URL": settings.CELERY_BROKER_URL, "PYTHONUNBUFFERED": "1"}
        env.pop(ASYNC_UNSAFE, None)
        self.name = f"portal-browser-{os.getpid()}-{time.monotonic_ns()}@{socket.gethostname()}"
        self.log_path = log_path
        self.log = open(log_path, "w")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=prefork", "--concurrency=1",
             "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "info", "-n", self.name],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for("ready.", timeout=60)

    def text(self) -> str:
        return self.log_path.read_text()

    def wait_for(self, needle: str, *, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            if self.proc.poll() is not None:
                raise AssertionError(f"the worker exited ({self.proc.returncode}):\n{self.text()[-3000:]}")
            if time.monotonic() > deadline:
                raise AssertionError(f"no {needle!r} from the worker in {timeout} s:\n{self.text()[-3000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)
        self.log.close()


def _broker_purge() -> None:
    from config.celery import app

    app.control.purge()


@pytest.fixture
def celery_worker(demo_live, tmp_path):
    """A real worker for the test (started after the demo world is committed, stopped before the tables
    are emptied); the broker's queue emptied before and after."""
    _broker_purge()
    worker = CeleryWorker(tmp_path / "worker.log")
    yield worker
    worker.stop()
    _broker_purge()


def wait_until(check, *, timeout: float = 30, what: str = "", worker: CeleryWorker | None = None):
    """Poll `check` until it returns something true; fail naming `what` (with the worker's log) after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            log = worker.text()[-3000:] if worker else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{log}")
        time.sleep(0.25)
