"""Fixtures: one lapor-local and one headless Debian Chromium (driven by Playwright) per run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))

from lapor import PHONE, LaporLocal, chromium_path, lapor_local_binary  # noqa: E402

# Retrying assertions (`expect(...)`) wait as long as the pages' own actions do (15 s, below),
# not Playwright's 5 s: a slow, loaded CI machine must not fail a page that is merely late.
expect.set_options(timeout=15_000)


@pytest.fixture(scope="session")
def lapor():
    server = LaporLocal(lapor_local_binary())
    yield server
    server.stop()


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as p:
        # Debian's Chromium: Playwright's own browser download cannot reach its host here.
        chromium = p.chromium.launch(
            executable_path=chromium_path(),
            args=["--disable-dev-shm-usage"],
        )
        yield chromium
        chromium.close()


def _context(browser, viewport=PHONE, **options):
    # A phone in Indonesia unless told otherwise.
    options.setdefault("locale", "id-ID")
    context = browser.new_context(viewport=viewport, device_scale_factor=1, **options)
    context.set_default_timeout(15_000)
    return context


@pytest.fixture
def new_context(browser):
    """Makes browser contexts (phone size unless told) closed at the end of the test."""
    made = []

    def make(**options):
        context = _context(browser, **options)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def phone(new_context):
    return new_context().new_page()
