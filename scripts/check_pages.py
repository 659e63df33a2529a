"""Renders pages of the built documentation site in headless Chromium (Debian's ``chromium``) and
checks that what a reader should see is there: the index, one executed tutorial and the
``InverseMap`` page. For each it takes the DOM after the page's scripts ran (``--dump-dom``) and
a full-width screenshot, left in ``docs/_build/screenshots/`` for a person to look at.

Checks per page: the expected texts are in the rendered DOM, the page has no Sphinx error boxes
(``system-message``), and every image it shows exists and is a PNG of more than a few hundred bytes
(the tutorial's figures are the notebook's executed outputs). Exit status 1 with one line per
failure.

    python scripts/check_pages.py docs/_build/html [--chromium chromium]
"""

from __future__ import annotations

import argparse
import html.parser
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: page name -> (path in the site, texts the rendered page must contain, least number of images)
PAGES = {
    "index": ("index.html", ["fhn_inverse", "Getting started", "Tutorials", "How-to guides", "API reference"], 0),
    "tutorial": ("tutorials/01_forward_model.html", ["The forward model", "FHN_QUICK", "simulate"], 3),
    "InverseMap": ("api/generated/fhn_inverse.InverseMap.html",
                   ["class fhn_inverse.InverseMap", "predict", "interval", "calibrate", "get_params", "Examples"], 0),
}


class _Page(html.parser.HTMLParser):
    """What a rendered page shows: its text (scripts and styles left out), images and error boxes."""

    def __init__(self):
        super().__init__()
        self.sources: list[str] = []
        self.errors = 0
        self.chunks: list[str] = []
        self._skip = 0

    @property
    def text(self) -> str:
        return " ".join("".join(self.chunks).split())

    def handle_data(self, data):
        if not self._skip:
            self.chunks.append(data)

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._skip = max(0, self._skip - 1)

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        attrs = dict(attrs)
        if tag == "img" and attrs.get("src"):
            self.sources.append(attrs["src"])
        if "system-message" in (attrs.get("class") or ""):
            self.errors += 1


def render(chromium: str, url: str, screenshot: Path) -> str:
    """The page's DOM after its scripts ran; the screenshot written beside."""
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,1600",
             "--virtual-time-budget=5000"]
    with tempfile.TemporaryDirectory() as profile:  # a throw-away profile: no state between runs
        flags.append(f"--user-data-dir={profile}")
        dom = subprocess.run([chromium, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120,
                             check=True).stdout
        subprocess.run([chromium, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=120,
                       check=True)
    return dom


def check(site: Path, chromium: str, out: Path) -> list[str]:
    failures = []
    out.mkdir(parents=True, exist_ok=True)
    for name, (path, texts, min_images) in PAGES.items():
        page = site / path
        if not page.is_file():
            failures.append(f"{name}: {page} does not exist")
            continue
        shot = out / f"{name}.png"
        dom = render(chromium, page.resolve().as_uri(), shot)
        parser = _Page()
        parser.feed(dom)
        failures += [f"{name}: {text!r} is not on the rendered page" for text in texts if text not in parser.text]
        if "$" in parser.text.replace("$t", "") or ("\\(" in parser.text and "mjx-container" not in dom):
            failures.append(f"{name}: formulas are not typeset (MathJax did not run)")
        if parser.errors:
            failures.append(f"{name}: {parser.errors} Sphinx error message(s) on the page")
        local = [s for s in parser.sources if not s.startswith(("http:", "https:", "data:"))]
        if len(local) < min_images:
            failures.append(f"{name}: {len(local)} images, expected at least {min_images}")
        for src in local:
            image = (page.parent / src.split("#")[0].split("?")[0]).resolve()
            if not image.is_file() or image.stat().st_size < 500:
                failures.append(f"{name}: image {src} is missing or empty")
            elif image.suffix == ".png" and image.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
                failures.append(f"{name}: image {src} is not a PNG")
        if not shot.is_file() or shot.stat().st_size < 10_000:
            failures.append(f"{name}: the screenshot {shot} is missing or blank")
    return failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", type=Path, help="the built site (docs/_build/html)")
    parser.add_argument("--chromium", default=shutil.which("chromium") or "chromium")
    parser.add_argument("--out", type=Path, default=None, help="screenshots (default: SITE/../screenshots)")
    args = parser.parse_args()
    out = args.out or args.site.parent / "screenshots"
    failures = check(args.site, args.chromium, out)
    for line in failures:
        print(f"check_pages: {line}", file=sys.stderr)
    if not failures:
        print(f"check_pages: {len(PAGES)} pages rendered in Chromium as expected; screenshots in {out}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
