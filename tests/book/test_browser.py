"""The built book in a real browser (headless Chromium), opened from disk with the network off."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from conftest import HTML, NOTEBOOKS, ROOT, SCREENSHOTS, build_execution, built_pages

from helpers.execution import shown_figures

PAGES = built_pages()
IDS = [p.relative_to(HTML).as_posix() for p in PAGES]

# Violations that come from the sphinx-book-theme's own markup, not from our content.
THEME_ALLOWED = {
    # The theme's collapsed sidebar toggles are labels without text on some versions.
    "label": "theme: the hidden sidebar/search toggles are <label>s the theme leaves unnamed",
}
# Raw TeX that MathJax did not typeset, or a Markdown table that was not rendered.
RAW_SOURCE = re.compile(r"\|---\||\$\$|\\frac|\\begin\{|\\lVert|\\mathrm|\\sum_|\\bmod")
# A tqdm progress bar as it prints: "  0%|          | 0/6 [00:00<?, ?it/s]", "100%|#####| 6/6 ...".
PROGRESS_BAR = re.compile(r"\d+%\|[^|\n]*\|\s*\d+/\d+|\d+(\.\d+)?(it/s|s/it)\]")
# A Python repr that a cell printed by accident (a helper's return value, an object address).
STRAY_REPR = re.compile(
    r"object at 0x[0-9a-f]+|\bInterval\(mean=|<Figure size|<matplotlib\.|^Text\(-?\d|^\(-?\d+(\.\d+)?, -?\d+(\.\d+)?\)$",
    re.M,
)
LONGEST_OUTPUT_LINES = 40  # a text output longer than this is a wall, not a result
# Images in the cells' output areas that the browser decoded (a figure, or a slider's frame).
SHOWN_FIGURES = """() => Array.from(document.querySelectorAll('main .cell_output img'))
                         .filter(i => i.complete && i.naturalWidth > 0).length"""


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_page_loads_cleanly_offline(open_page, path):
    loaded = open_page(path)
    page = loaded.page
    assert not loaded.external, f"requests leaving the site: {loaded.external}"
    assert not loaded.failed, f"failed requests: {loaded.failed}"
    assert not loaded.console_errors, f"console errors: {loaded.console_errors}"
    broken = page.evaluate(
        "() => Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src.slice(0, 80))"
    )
    assert not broken, f"images that did not load: {broken}"
    text = page.evaluate(  # the prose only: code cells may legitimately hold TeX or Markdown strings
        """() => { const m = document.querySelector('main').cloneNode(true);
                   m.querySelectorAll('pre, code, .highlight, script, style').forEach(e => e.remove());
                   return m.textContent; }"""
    )
    assert not RAW_SOURCE.search(text), f"raw TeX or Markdown visible: {RAW_SOURCE.search(text).group(0)!r}"
    everything = page.evaluate("() => document.querySelector('main').textContent")  # outputs included
    bar = PROGRESS_BAR.search(everything)
    assert bar is None, f"a progress bar reached the page: {bar.group(0)!r}"
    outputs = page.evaluate(
        "() => Array.from(document.querySelectorAll('main .cell_output pre')).map(p => p.textContent)"
    )
    stray = [m.group(0) for text in outputs if (m := STRAY_REPR.search(text))]
    assert not stray, f"stray Python reprs in the outputs: {stray}"
    longest = max((text.count("\n") + 1 for text in outputs), default=0)
    assert longest <= LONGEST_OUTPUT_LINES, f"an output of {longest} lines: a wall of raw output"
    if page.evaluate("() => document.querySelectorAll('.math').length") > 0:
        assert page.evaluate("() => document.querySelectorAll('mjx-container').length") > 0, (
            "math not typeset"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(
        path=str(SCREENSHOTS / (path.relative_to(HTML).as_posix().replace("/", "__") + ".png")),
        full_page=True,
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.name)
def test_every_figure_is_on_its_page(open_page, notebook):
    """The chapter's page shows every figure its notebook makes, and it makes some.

    Counted in the build's execution (inline backend), which nbval's run in a fresh kernel
    matched output for output (``make notebooks``)."""
    made = shown_figures(build_execution(notebook))
    page = open_page(HTML / "chapters" / f"{notebook.stem}.html").page
    shown = page.evaluate(SHOWN_FIGURES)
    counts = SCREENSHOTS / "figure_counts.json"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    recorded = json.loads(counts.read_text()) if counts.exists() else {}
    counts.write_text(json.dumps({**recorded, notebook.stem: {"made": made, "shown": shown}}, indent=1))
    assert made >= 1, f"{notebook.name} made no figure in a fresh kernel"
    assert shown >= made, f"{notebook.name}: the notebook makes {made} figures, its page shows {shown}"


def test_navigation_reaches_every_chapter(open_page):
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [c["file"] for part in toc["parts"] for c in part["chapters"]]
    page = open_page(HTML / "intro.html").page
    links = page.evaluate("() => Array.from(document.querySelectorAll('nav.bd-links a')).map(a => a.href)")
    for file in files:
        assert any(link.split("#")[0].endswith(f"{file}.html") for link in links), (
            f"{file} not in the navigation"
        )
    for link in links:  # and every navigation link opens a page
        target = HTML / link.split("/_build/html/", 1)[1].split("#")[0]
        assert target.exists(), link


def test_kernel_free_figures_change_when_driven(open_page):
    sliders_seen = 0
    for path in PAGES:
        page = open_page(path).page
        for root in page.query_selector_all("figure.frame-slider"):
            sliders_seen += 1
            img, rng, out = (
                root.query_selector("img"),
                root.query_selector("input[type=range]"),
                root.query_selector("output"),
            )
            before, label_before = img.get_attribute("src"), out.inner_text()
            rng.evaluate("(el) => { el.value = el.max; el.dispatchEvent(new Event('input')); }")
            assert img.get_attribute("src") != before, f"{path.name}: slider did not change the figure"
            assert out.inner_text() != label_before
    assert sliders_seen >= 1, "the book has no kernel-free interactive figure"


@pytest.mark.parametrize("path", PAGES, ids=IDS)
def test_accessibility(open_page, path):
    from axe_playwright_python.sync_playwright import Axe

    page = open_page(path).page
    results = Axe().run(page)
    serious = [
        v
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious") and v["id"] not in THEME_ALLOWED
    ]
    detail = [(v["id"], [n["target"] for n in v["nodes"]][:3]) for v in serious]
    assert not serious, f"accessibility violations: {detail}"
