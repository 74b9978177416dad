"""Chapters 1 and 5 in JupyterLab, started by `make lab` itself and driven in headless Chromium.

Readers of `make lab` must see the book's figures and its ipywidgets explorer. Two past
mistakes broke that without any other test noticing: the Makefile exported MPLBACKEND=Agg,
which made the kernel drop every matplotlib figure (no inline images, an empty explorer),
and as root `jupyter lab` refused to start without allow_root. So this test runs the real
`make lab` (with its exported JUPYTER_*/IPYTHONDIR environment), runs every cell, counts
the rendered figures, and moves a slider of the explorer to see its figure redrawn.

Chapter 5, which trains networks, is read as prose: jupyterlab-myst renders its Markdown
(terms and citations as links, admonitions, `{eval}` numbers from the reader's own kernel),
and no rendered cell shows raw MyST syntax or an expression it could not evaluate.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
NAME = "01_shifts_and_invariance.ipynb"
TRAINING = "05_padding_and_position.ipynb"
SCREENSHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Chapter 4's live figure, built from untrained networks (training them is chapter 4's work, which
# the book's tests check in the HTML build): its scripts must run in a notebook's output too.
LIVE = "live_figure.ipynb"
LIVE_CODE = """import torch
from helpers.data import digits_on_canvas
from helpers.models import anti_aliased_cnn
from helpers.page_network import live_shift_figure

torch.manual_seed(0)
build = {"baseline": ("baseline", 1), "BlurPool-4": ("blurpool", 4), "APS": ("aps", 1)}
networks = {pad: {name: anti_aliased_cnn(method, k, pad_type="circular" if pad == "circular" else "zero",
                                         widths=(8, 8, 16), padding="circular" if pad == "circular" else "zeros",
                                         head="gap", init="kaiming").eval()
                  for name, (method, k) in build.items()} for pad in ("circular", "zero")}
scenes = digits_on_canvas("test", canvas_size=24, digit_size=8, positions="center")
live_shift_figure(networks, scenes.images[:5], scenes.labels[:5], margin=4, digit_size=8)"""
LIVE_NOTEBOOK = {
    "cells": [{"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": LIVE_CODE}],
    "metadata": {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"}},
    "nbformat": 4,
    "nbformat_minor": 5,
}
# Static figures in chapter 1's outputs outside the explorer: plot_signals twice, show_images
# once, and the frame slider's <img> (its frames are closed, so they add nothing more).
# With MPLBACKEND=Agg only the frame slider's <img> is left.
STATIC_IMAGES = 4


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, start time) of every process, from /proc."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            table[int(stat.parent.name)] = (int(fields[1]), fields[19])
    return table


def _descendants(pid: int) -> dict[int, str]:
    """pid -> start time of every process below `pid` (kernels have their own session: killpg misses them)."""
    table, found, todo = _processes(), {}, [pid]
    while todo:
        parent = todo.pop()
        kids = [p for p, (ppid, _) in table.items() if ppid == parent]
        found.update({k: table[k][1] for k in kids})
        todo += kids
    return found


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """`make lab` serving copies of chapters 1 and 5 (autosave must not write outputs into chapters/)."""
    folder = tmp_path_factory.mktemp("lab")
    for name in (NAME, TRAINING):
        shutil.copy(ROOT / "chapters" / name, folder)
    (folder / LIVE).write_text(json.dumps(LIVE_NOTEBOOK))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    args = (
        f"--no-browser --port={port} --ServerApp.port_retries=0 --ServerApp.ip=127.0.0.1 "
        "--ServerApp.token= --ServerApp.password= --LabApp.expose_app_in_browser=True"
    )
    log = (folder / "lab.log").open("w")
    proc = subprocess.Popen(
        ["make", "lab", f"LAB_DIR={folder}", f"LAB_ARGS={args}"],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status", timeout=2):
                    break
            except OSError:
                log.flush()
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"`make lab` did not answer on port {port}:\n{(folder / 'lab.log').read_text()}"
                    )
                time.sleep(1)
        yield f"http://127.0.0.1:{port}"
    finally:
        procs = _descendants(proc.pid)
        with contextlib.suppress(ProcessLookupError):  # the server shuts its kernels down on SIGTERM
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        time.sleep(1)
        alive = _processes()
        for pid, started in procs.items():  # whatever is still alive (the same process, not a reused pid)
            if pid in alive and alive[pid][1] == started:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium not found: install Debian's `chromium` (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


@contextlib.contextmanager
def _notebook_page(browser, lab, name):
    """Chromium on one notebook; requests beyond 127.0.0.1 are refused and recorded."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.outside, context.errors = [], []

    def route(r):
        url = r.request.url
        if urlsplit(url).hostname == "127.0.0.1" or url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            context.outside.append(url)
            r.abort()

    context.route("**/*", route)
    page = context.new_page()
    page.on("pageerror", lambda e: context.errors.append(f"{e.message}\n{e.stack}"))
    page.goto(f"{lab}/lab/tree/{name}")
    yield page
    _screenshot(page, SCREENSHOTS / f"lab__{name.removesuffix('.ipynb')}.png")
    context.close()


@pytest.fixture(scope="module")
def page(browser, lab):
    with _notebook_page(browser, lab, NAME) as page:
        yield page


@pytest.fixture(scope="module")
def live_page(browser, lab):
    with _notebook_page(browser, lab, LIVE) as page:
        yield page


@pytest.fixture(scope="module")
def training_page(browser, lab):
    with _notebook_page(browser, lab, TRAINING) as page:
        yield page


def _screenshot(page, path: Path) -> None:
    """The whole notebook, pass or fail: the lab scrolls inside a panel, so grow the viewport to fit it."""
    outer = "window.jupyterapp.shell.currentWidget.content.node.querySelector('.jp-WindowedPanel-outer')"
    with contextlib.suppress(Exception):
        height = page.evaluate(f"() => {outer}.scrollHeight")
        page.set_viewport_size({"width": 1280, "height": min(height + 200, 16_000)})
        page.evaluate(f"() => {{ {outer}.scrollTop = 0; }}")
        page.wait_for_timeout(1000)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)


def _run_all(page, name: str, timeout_s: int) -> None:
    """Open ``name``, wait for an idle kernel, run every cell and wait until all have run without error."""
    page.wait_for_function(
        f"""() => {{ const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                    return w && w.context && w.context.path.endsWith({name!r})
                        && w.sessionContext.session?.kernel?.status === 'idle'; }}""",
        timeout=90_000,
    )
    page.evaluate(
        """() => { window.__ranAll = null;
                   window.jupyterapp.commands.execute('notebook:run-all-cells')
                       .then(ok => { window.__ranAll = ok; }, e => { window.__ranAll = String(e); }); }"""
    )
    page.wait_for_function(
        """() => window.__ranAll !== null
                 && window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.status === 'idle'
                 && ![...document.querySelectorAll('.jp-InputPrompt')].some(p => p.textContent.includes('*'))""",
        timeout=timeout_s * 1000,
    )
    errors = page.evaluate(
        """() => [...document.querySelectorAll(
                    '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
                 .map(o => o.textContent).filter(t => /Traceback|Error/.test(t))"""
    )
    assert not errors, "expected no errors in the outputs, saw:\n" + "\n---\n".join(e[:2000] for e in errors)
    assert page.evaluate("() => window.__ranAll") is True, (
        f"expected run-all-cells to succeed, it gave {page.evaluate('() => window.__ranAll')!r}"
    )


def test_chapter_1_figures_and_explorer_render(page):
    _run_all(page, NAME, timeout_s=180)

    images = page.evaluate(
        """() => [...document.querySelectorAll('.jp-Notebook .jp-OutputArea-output img')]
                 .filter(i => !i.closest('.jupyter-widgets'))
                 .map(i => ({w: i.naturalWidth, src: i.src.slice(0, 30)}))"""
    )
    rendered = [i for i in images if i["w"] > 0]
    assert len(rendered) >= STATIC_IMAGES, (
        f"expected at least {STATIC_IMAGES} rendered figures in the outputs, saw {len(rendered)}: {images}"
    )

    cell = page.locator(".jp-CodeCell").filter(has_text="shift_explorer(framed, max_offset=margin)")
    assert cell.count() == 1, f"expected one cell calling shift_explorer, saw {cell.count()}"
    explorer = cell.locator(".jp-OutputArea-output .jupyter-widgets.widget-vbox").first
    explorer.wait_for(timeout=30_000)
    sliders = explorer.locator(".widget-slider")
    assert sliders.count() == 2, f"expected the dy and dx sliders, saw {sliders.count()} sliders"
    figure = explorer.locator(".widget-output img")
    figure.wait_for(timeout=30_000)
    assert figure.evaluate("i => i.naturalWidth") > 0, "expected the explorer's figure to be loaded"
    before = figure.get_attribute("src")

    dx = sliders.filter(has_text="dx")
    dx.locator(".noUi-handle").focus()
    for _ in range(3):
        dx.locator(".noUi-handle").press("ArrowRight")
    readout = dx.locator(".widget-readout").text_content()
    assert readout.strip() == "3", (
        f"expected the dx readout to show 3 after three ArrowRight, saw {readout!r}"
    )
    page.wait_for_function(
        """([cell, before]) => { const i = cell.querySelector('.widget-output img');
                                return i && i.naturalWidth > 0 && i.src !== before; }""",
        arg=[cell.element_handle(), before],
        timeout=30_000,
    )

    # Uncaught errors from JupyterLab's own bundles are only reported; the rest come from output scripts.
    ours = [e for e in page.context.errors if not re.search(r"/static/|/lab/extensions/", e)]
    print(f"figures: {len(rendered)}; outside requests refused: {page.context.outside}")
    print(f"page errors: {page.context.errors}")
    assert not ours, "expected no uncaught errors from the notebook's outputs, saw:\n" + "\n".join(ours)


# What only the HTML build turns into prose: roles, directive fences and targets.
RAW_MYST = re.compile(r"\{glue|\{eval\}|\{term\}|\{cite|\{ref\}|:::\{|```\{|\([\w-]+\)=")


def _quoted_numbers(name: str) -> list[tuple[str, str]]:
    """(plain words just before it, expression) for every ``{eval}`` in the notebook's Markdown."""
    cells = json.loads((ROOT / "chapters" / name).read_text())["cells"]
    found = []
    for cell in cells:
        if cell["cell_type"] == "markdown":
            text = " ".join("".join(cell["source"]).split())
            for m in re.finditer(r"\{eval\}`([^`]+)`", text):
                before = re.search(r"[A-Za-z ,]{12,}$", text[: m.start()])
                found.append((before.group(0) if before else "", m.group(1)))
    return found


def test_a_training_chapter_reads_as_prose_with_the_readers_numbers(training_page):
    page = training_page
    _run_all(page, TRAINING, timeout_s=600)
    quoted = _quoted_numbers(TRAINING)
    expressions = sorted({e for _, e in quoted})
    assert len(expressions) >= 20, f"expected chapter 5 to quote its numbers through {{eval}}, saw {expressions}"
    # jupyterlab-myst shows an expression as <code> until the kernel has answered it
    unevaluated_js = """(expressions) => [...window.jupyterapp.shell.currentWidget.content.node
                            .querySelectorAll('.jp-MarkdownCell code')]
                          .map(c => c.textContent).filter(c => expressions.includes(c))"""
    deadline = time.monotonic() + 60
    while (unevaluated := page.evaluate(unevaluated_js, expressions)) and time.monotonic() < deadline:
        page.wait_for_timeout(1000)
    assert not unevaluated, f"expected every expression evaluated in the kernel, still shown as code: {unevaluated}"
    cells = page.evaluate(
        """() => [...window.jupyterapp.shell.currentWidget.content.node.querySelectorAll('.jp-MarkdownCell')]
                 .map(cell => { const c = cell.cloneNode(true);
                                c.querySelectorAll('.jp-Editor, .lm-mod-hidden').forEach(e => e.remove());
                                return {text: c.textContent.replace(/\\s+/g, ' '),
                                        errors: c.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"]').length}; })"""
    )
    assert len(cells) >= 10 and all(c["text"].strip() for c in cells), f"expected rendered Markdown cells, saw {cells[:3]}"
    raw = [m.group(0) for c in cells for m in RAW_MYST.finditer(c["text"])]
    assert not raw, f"expected no raw MyST syntax in the rendered prose, saw {raw[:10]}"
    assert not sum(c["errors"] for c in cells), "expected every {eval} expression to evaluate in the kernel"

    # the sentence shows the value the reader's kernel gives for its expression
    words, expression = next((w, e) for w, e in quoted if e.startswith('f"') and len(w) >= 12)
    result = page.evaluate(
        """async (expression) => {
              const kernel = window.jupyterapp.shell.currentWidget.sessionContext.session.kernel;
              const reply = await kernel.requestExecute({code: '', silent: true, store_history: false,
                                                         user_expressions: {value: expression}}).done;
              return reply.content.user_expressions.value; }""",
        expression,
    )
    assert result["status"] == "ok", result
    value = re.sub(r"""^(["'])(.*)\1$""", r"\2", result["data"]["text/plain"])
    assert re.search(r"\d", value), f"expected a number for {expression}, the kernel gave {value!r}"
    sentence = f"{words}{value}"
    assert any(sentence in c["text"] for c in cells), f"expected {sentence!r} in the rendered prose"
    print(f"{len(expressions)} expressions; e.g. ...{sentence!r}; page errors: {page.context.errors}")


def test_the_live_figure_runs_in_a_notebook_output(live_page):
    """JupyterLab runs the figure's scripts in a trusted output: the networks answer, a key press moves the digit."""
    page = live_page
    _run_all(page, LIVE, timeout_s=120)
    root = page.locator(".jp-OutputArea-output figure.live-shift")
    assert root.count() == 1, f"expected the live figure in the cell's output, saw {root.count()}"
    page.wait_for_function("() => document.querySelector('figure.live-shift')?.dataset.ready === 'true'",
                           timeout=30_000)
    panels = root.locator(".ls-network")
    assert panels.count() == 3, f"expected three networks' answers, saw {panels.count()}"
    before = panels.first.get_attribute("data-probabilities")
    root.locator("canvas.ls-digit").focus()
    page.keyboard.press("ArrowRight")
    assert root.get_attribute("data-offset") == "0,1", "expected the arrow key to move the digit one pixel"
    assert panels.first.get_attribute("data-probabilities") != before, "expected the answer to be recomputed"
    ours = [e for e in page.context.errors if not re.search(r"/static/|/lab/extensions/", e)]
    assert not ours, "expected no uncaught errors from the figure's scripts, saw:\n" + "\n".join(ours)

