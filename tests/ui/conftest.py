"""Browser fixtures for page tests: real headless Chromium (the system one) driven by Playwright against
pytest-django's live server, a log of what each page requested, and screenshots in artifacts/ui/. The
small territory and its users (town, alice, bob, charlie, root) come from tests/territory_factories.py.

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def test_something(log_in, alice, browser_log, screenshot):
        page = log_in(alice)
        ...
        screenshot(page, "something")
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

# Playwright's sync API runs an event loop in this thread; Django's ORM must still be usable from the tests.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
# Other test modules load the factories as a plugin; importing them here first must not cost their asserts.
pytest.register_assert_rewrite("tests.territory_factories")

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from tests.territory_factories import PASSWORD, alice, bob, charlie, root, town  # noqa: E402, F401 - fixtures

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "ui"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-gpu",
]
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture(scope="module")
def browser() -> Browser:
    # Module scope: Playwright's sync API refuses to nest, and other test modules may start their own.
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail("no system Chromium: `make test` installs it (scripts/system.sh --browser)")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@dataclass
class BrowserLog:
    """What a page did: every request URL, dialogs it opened, and JavaScript errors."""

    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def watch(self, page: Page) -> Page:
        """Records what `page` does from now on (dialogs are dismissed, as a user closing them)."""
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    def external_requests(self) -> list[str]:
        return [url for url in self.requests if urlsplit(url).scheme not in {"data", "blob"}
                and urlsplit(url).hostname not in LOCAL_HOSTS]


@pytest.fixture
def browser_log() -> BrowserLog:
    return BrowserLog()


@pytest.fixture
def page(browser, browser_log) -> Page:
    """A fresh page in a Chinese-speaking browser (Accept-Language zh-CN) in Shanghai, 1440×900."""
    context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai",
                                  viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield browser_log.watch(page)
    context.close()


@pytest.fixture
def log_in(page, live_server) -> Callable:
    """log_in(user) signs in through the login form (asked for by the home page) and returns the page."""

    def sign_in(user, *, password: str = PASSWORD) -> Page:
        page.goto(f"{live_server.url}/")
        page.fill("input[name=username]", user.get_username())
        page.fill("input[name=password]", password)
        page.click("form.login-form button[type=submit]")
        page.wait_for_url(f"{live_server.url}/")
        return page

    return sign_in


@pytest.fixture
def screenshot() -> Callable:
    """screenshot(page, name) saves artifacts/ui/<name>.png and returns its path."""

    def save(page: Page, name: str) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path))
        return path

    return save


def _restore_categories() -> None:
    from gridgis.cases.categories import load_categories
    from gridgis.cases.models import Category

    if not Category.objects.exists():
        load_categories(Category)


@pytest.fixture(scope="module")
def _categories_after_module(django_db_setup, django_db_blocker):
    yield
    with django_db_blocker.unblock():
        _restore_categories()


@pytest.fixture
def categories(db, _categories_after_module):
    """The data migration's categories, for transactional browser tests: the flush after each such test
    empties every table, so they are put back before each test and after the module's last one (for the
    modules that follow). Use with `pytest.mark.usefixtures("categories")`."""
    _restore_categories()
