"""Offline, clean HTML: MathJax served from the site itself, no duplicated inline scripts,
and bibliography entries with valid ARIA roles.

MathJax 3 comes from the PyPI package ``django-static-mathjax`` (plain static files, no
Django needed at run time). At the end of a build the parts the book uses are copied to
``_static/mathjax``; ``mathjax_path`` in ``_config.yml`` points there.
"""

from __future__ import annotations

import shutil
from pathlib import Path

PARTS = ["tex-mml-chtml.js", "input/tex/extensions", "output/chtml/fonts", "ui", "a11y", "sre", "adaptors"]


def _mathjax_root() -> Path:
    import mathjax  # the package django-static-mathjax installs

    root = Path(mathjax.__file__).parent / "static" / "mathjax" / "es5"
    if not (root / "tex-mml-chtml.js").exists():
        raise FileNotFoundError(f"MathJax not found under {root}: reinstall django-static-mathjax")
    return root


def copy_mathjax(app, exception) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source, target = _mathjax_root(), Path(app.outdir) / "_static" / "mathjax"
    for part in PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, target / part, dirs_exist_ok=True)
        elif src.exists():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, target / part)


def fix_citation_roles(app, exception) -> None:
    """docutils marks each bibliography entry ``role="doc-biblioentry"`` inside a
    ``role="list"`` container, which ARIA rejects (a list needs ``listitem`` children and
    doc-biblioentry is deprecated); give the entries the role their container expects."""
    if exception is not None or app.builder.format != "html":
        return
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if 'role="doc-biblioentry"' in text:
            page.write_text(text.replace('role="doc-biblioentry"', 'role="listitem"'), encoding="utf-8")


def drop_duplicate_scripts(app, pagename, templatename, context, doctree) -> None:
    """sphinx-thebe's inline configuration script reaches some pages twice, which makes the
    browser report "THEBE_JS_URL has already been declared"; keep the first copy only."""
    scripts = context.get("script_files")
    if not scripts:
        return
    seen, unique = set(), []
    for script in scripts:
        key = (
            str(getattr(script, "filename", script) or ""),
            repr(sorted(getattr(script, "attributes", {}).items())),
        )
        if key not in seen:
            seen.add(key)
            unique.append(script)
    scripts[:] = unique  # in place: later handlers (MathJax) append to this same list


def setup(app):
    _mathjax_root()  # fail early, with a clear message, if the package is missing
    app.connect("build-finished", copy_mathjax)
    app.connect("build-finished", fix_citation_roles)
    app.connect(
        "html-page-context", drop_duplicate_scripts, priority=100
    )  # before any handler that returns a template
    return {"parallel_read_safe": True, "parallel_write_safe": True}
