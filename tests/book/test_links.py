"""Internal links and anchors of the built HTML all resolve."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote, urlparse

from bs4 import BeautifulSoup
from conftest import built_pages


def _ids(path: Path, cache: dict) -> set[str]:
    if path not in cache:
        soup = BeautifulSoup(path.read_text(), "html.parser")
        cache[path] = {tag["id"] for tag in soup.find_all(id=True)} | {
            a["name"] for a in soup.find_all("a", attrs={"name": True})
        }
    return cache[path]


def test_internal_links_and_anchors_resolve():
    cache: dict = {}
    broken = []
    for page in built_pages():
        soup = BeautifulSoup(page.read_text(), "html.parser")
        for a in soup.find_all("a", href=True):
            href = a["href"]
            parsed = urlparse(href)
            if parsed.scheme or href.startswith(("mailto:", "javascript:")):
                continue
            target = (page.parent / unquote(parsed.path)).resolve() if parsed.path else page
            if not target.exists():
                broken.append(f"{page.name}: {href}")
            elif parsed.fragment and target.suffix == ".html" and parsed.fragment not in _ids(target, cache):
                broken.append(f"{page.name}: {href} (no such anchor)")
    assert not broken, broken[:20]
