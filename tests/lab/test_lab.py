"""Chapter 1 in JupyterLab, started by `make lab` itself and driven in headless Chromium.

Readers of `make lab` must see the book's figures and its ipywidgets explorer. Two past
mistakes broke that without any other test noticing: the Makefile exported MPLBACKEND=Agg,
which made the kernel drop every matplotlib figure (no inline images, an empty explorer),
and as root `jupyter lab` refused to start without allow_root. So this test runs the real
`make lab` (with its exported JUPYTER_*/IPYTHONDIR environment), runs every cell, counts
the rendered figures, and moves a slider of the explorer to see its figure redrawn.
"""

from __future__ import annotations

import contextlib
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
SCREENSHOT = ROOT / "_build" / "screenshots" / f"lab__{NAME.removesuffix('.ipynb')}.png"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
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
    """`make lab` serving a copy of chapter 1 (autosave must not write outputs into chapters/)."""
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "chapters" / NAME, folder)
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
def page(lab):
    """Chromium on the notebook; requests beyond 127.0.0.1 are refused and recorded."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium not found: install Debian's `chromium` (apt-get install -y chromium)")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
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
        page.goto(f"{lab}/lab/tree/{NAME}")
        yield page
        _screenshot(page)
        browser.close()


def _screenshot(page) -> None:
    """The whole notebook, pass or fail: the lab scrolls inside a panel, so grow the viewport to fit it."""
    with contextlib.suppress(Exception):
        height = page.evaluate("() => document.querySelector('.jp-WindowedPanel-outer').scrollHeight")
        page.set_viewport_size({"width": 1280, "height": min(height + 200, 16_000)})
        page.evaluate("() => { document.querySelector('.jp-WindowedPanel-outer').scrollTop = 0; }")
        page.wait_for_timeout(1000)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_chapter_1_figures_and_explorer_render(page):
    page.wait_for_function(
        f"""() => {{ const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                    return w && w.context && w.context.path.endsWith({NAME!r})
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
        timeout=180_000,
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
