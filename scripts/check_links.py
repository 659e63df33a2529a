"""Check the internal links of a built HTML site, offline: every relative href and src of every page
must name a file of the site (and, with a fragment, an id of that page). External links (with a
scheme or a host) are not followed.

Usage: python scripts/check_links.py docs/_build/html
Exit status 1 lists each broken link as PAGE: TARGET.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value is None:
                continue
            if name in ("href", "src"):
                self.links.append(value)
            elif name in ("id", "name"):
                self.ids.add(value)


def parse(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    root = Path(argv[1]).resolve()
    if not (root / "index.html").is_file():
        print(f"check_links: no index.html in {root}", file=sys.stderr)
        return 2
    # the site's pages; _static/ holds the theme's files, among them Jinja templates named .html
    paths = [path for path in sorted(root.rglob("*.html")) if "_static" not in path.relative_to(root).parts]
    pages = {path: parse(path) for path in paths}
    broken, checked = [], 0
    for path, page in pages.items():
        for link in page.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("#", "mailto:", "data:", "javascript:")):
                if link.startswith("#") and len(link) > 1 and unquote(link[1:]) not in page.ids:
                    broken.append((path, link))
                checked += link.startswith("#")
                continue  # external: not checked offline
            checked += 1
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if parts.path.endswith("/") or target.is_dir():
                target = target / "index.html"
            if root not in target.parents and target != root or not target.is_file():
                broken.append((path, link))
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parse(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append((path, link))
    for path, link in broken:
        print(f"{path.relative_to(root)}: {link}")
    print(f"check_links: {checked} internal links in {len(pages)} pages, {len(broken)} broken")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
