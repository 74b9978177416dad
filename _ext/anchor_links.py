"""Ordinary Markdown links to a glossary term or a bibliography entry, checked by the build.

Chapters link a term as ``[shifts](../glossary.md#term-Shift)`` and a paper as
``[Zhang (2019)](../bibliography.md#cite-zhang2019)``: plain Markdown, which
JupyterLab and Colab show as linked prose, where ``{term}`` and ``{cite}`` roles would show
their raw syntax (Colab) or their bare keys (JupyterLab). MyST resolves a link's ``#anchor``
only against a page's heading anchors, so this extension registers the glossary's term ids
and the bibliography's entry ids (``bibtex_cite_id = "cite-{key}"``, one per key of the
bibliography files) as anchors of those two pages: a link to a term or key that does not
exist is then a build warning (an error under ``-W``), like any broken link.
"""

from __future__ import annotations

from pathlib import Path

from docutils import nodes

GLOSSARY, BIBLIOGRAPHY = "glossary", "bibliography"


def _anchors(app, doctree) -> dict[str, tuple[int, str, str]]:
    if app.env.docname == GLOSSARY:
        return {i: (0, i, term.astext()) for term in doctree.findall(nodes.term) for i in term["ids"]}
    if app.env.docname == BIBLIOGRAPHY:
        from pybtex.database import parse_file

        keys = [k for f in app.config.bibtex_bibfiles for k in parse_file(str(Path(app.srcdir) / f)).entries]
        return {f"cite-{k}": (0, f"cite-{k}", k) for k in keys}
    return {}


def register_anchors(app, doctree) -> None:
    anchors = _anchors(app, doctree)
    if anchors:
        app.env.metadata[app.env.docname].setdefault("myst_slugs", {}).update(anchors)


def setup(app):
    app.connect("doctree-read", register_anchors)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
