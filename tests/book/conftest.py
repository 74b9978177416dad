"""Fixtures for tests of the built HTML book (run after `make build-strict`, see the Makefile)."""

from __future__ import annotations

import functools
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


NOTEBOOKS = sorted((ROOT / "chapters").glob("*.ipynb"))


CACHE = ROOT / "_build" / ".jupyter_cache"


@functools.cache
def build_execution(path: Path) -> dict:
    """The chapter as the strict build executed it (outputs from the build's execution cache).

    ``make notebooks`` runs it once more under nbval and requires the same outputs, so its
    figures are also those a fresh kernel makes.
    """
    from helpers.execution import executed_notebook

    return executed_notebook(path, CACHE)


def built_pages() -> list[Path]:
    """Every page the table of contents produces (search and genindex left out)."""
    if not (HTML / "intro.html").exists():
        raise RuntimeError("no built book in _build/html: run `make build-strict` (or `make book`) first")
    pages = [HTML / "intro.html", *sorted((HTML / "chapters").glob("*.html"))]
    pages += [
        p
        for p in sorted(HTML.glob("*.html"))
        if p.name not in {"intro.html", "index.html", "search.html", "genindex.html"}
    ]
    return pages


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        raise RuntimeError("Chromium not found: install Debian's `chromium` (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


class LoadedPage:
    """A page opened from disk with every network request refused and recorded."""

    def __init__(self, browser, path: Path) -> None:
        self.console_errors: list[str] = []
        self.failed: list[str] = []
        self.external: list[str] = []
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.console_errors.append(m.text))
        self.page.on("pageerror", lambda e: self.console_errors.append(str(e)))
        self.page.on("requestfailed", lambda r: self.failed.append(f"{r.url} ({r.failure})"))
        self.context.route("**/*", self._route)
        self.page.goto(path.as_uri(), wait_until="load")
        self.page.wait_for_function(
            "() => !window.MathJax || (window.MathJax.startup && window.MathJax.startup.promise)"
        )
        self.page.evaluate(
            "() => window.MathJax && window.MathJax.startup ? window.MathJax.startup.promise : null"
        )

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(("file:", "data:", "about:", "blob:")):
            route.continue_()
        else:
            self.external.append(url)
            route.abort()

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_page(browser):
    opened: list[LoadedPage] = []

    def _open(path: Path) -> LoadedPage:
        loaded = LoadedPage(browser, path)
        opened.append(loaded)
        return loaded

    yield _open
    for loaded in opened:
        loaded.close()
