"""The built website, as a reader's browser shows it: maths typeset by the site's own MathJax, every image loaded.

Needs the book built into _build/html (``make book``; ``make test`` builds it first) and Chromium
(``/usr/bin/chromium``, installed by ``.ci/run``). The browser may only reach the local test server: any other
request is blocked and recorded, so a page that needs a CDN fails here.
"""

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "_build" / "html"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.book, pytest.mark.xdist_group("browser")]


def _toc_pages():
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    return [f"{toc['root']}.html"] + [f"{ch['file']}.html" for part in toc["parts"] for ch in part["chapters"]]


# Pages whose maths and figures are checked: every numbered chapter of the table of contents, and the notation.
CHAPTER_PAGES = [page for page in _toc_pages() if page.split("/")[-1][:2].isdigit()]
PAGES_WITH_MATH = ["book/notation.html", *CHAPTER_PAGES]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site_url():
    if not (SITE / "index.html").is_file():
        pytest.fail("the website is not built: run `make book` first (make test does)")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


@pytest.fixture(scope="module")
def browser():
    if CHROMIUM is None:
        pytest.fail("Chromium is missing: install the Debian package `chromium` (.ci/run does)")
    playwright_api = pytest.importorskip("playwright.sync_api")
    with playwright_api.sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield browser
        browser.close()


def open_page(browser, site_url, path):
    """Open ``path`` with every request outside the local server blocked; return (page, blocked urls)."""
    page = browser.new_page()
    blocked = []

    def only_local(route):
        host = urlparse(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", only_local)
    page.goto(f"{site_url}/{path}", wait_until="load")
    return page, blocked


@pytest.mark.parametrize("path", PAGES_WITH_MATH)
def test_maths_is_typeset_by_local_mathjax(browser, site_url, path):
    page, blocked = open_page(browser, site_url, path)
    page.wait_for_function("window.MathJax && window.MathJax.startup && window.MathJax.startup.promise", timeout=20000)
    page.evaluate("window.MathJax.startup.promise")
    page.wait_for_function("document.querySelectorAll('mjx-container').length > 0", timeout=20000)
    typeset = page.evaluate("document.querySelectorAll('mjx-container').length")
    raw = page.evaluate(
        "Array.from(document.querySelectorAll('.math, span.math, div.math'))"
        ".filter(el => !el.querySelector('mjx-container')).map(el => el.textContent.slice(0, 60))"
    )
    text = page.evaluate("document.querySelector('main').innerText")
    scripts = page.evaluate("Array.from(document.scripts).map(s => s.src).filter(s => s.includes('mathjax'))")
    page.close()
    assert typeset >= 5, f"{path}: only {typeset} formulas typeset"
    assert not raw, f"{path}: maths left untypeset: {raw[:3]}"
    assert "\\(" not in text and "$$" not in text, f"{path}: raw TeX delimiters visible in the page text"
    assert scripts and all(s.startswith(site_url) for s in scripts), f"MathJax not served by the site: {scripts}"
    assert not blocked, f"{path} tried to load from outside the site: {blocked[:3]}"


MAX_SCRIPT_FILES = 20  # a plain Jupyter Book page loads 15 script files
MAX_LOCAL_JS_BYTES = 3_000_000


@pytest.mark.parametrize("path", _toc_pages())
def test_every_page_is_light_and_clean(browser, site_url, path):
    """No uncaught JavaScript error, no request that fails, few scripts, little JavaScript, on every page."""
    page = browser.new_page()
    errors, failed, blocked, js_bytes = [], [], [], {}

    def only_local(route):
        if urlparse(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    def on_response(response):
        if response.status >= 400:
            failed.append(f"{response.status} {response.url}")
        elif response.request.resource_type == "script":
            js_bytes[response.url] = len(response.body())

    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda request: failed.append(f"{request.failure} {request.url}"))
    page.on("response", on_response)
    page.route("**/*", only_local)
    page.goto(f"{site_url}/{path}", wait_until="load")
    if page.evaluate("document.querySelectorAll('.math').length") > 0:
        page.wait_for_function("window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20000)
        page.evaluate("window.MathJax.startup.promise")
        assert page.evaluate("document.querySelectorAll('mjx-container').length") > 0, f"{path}: maths not typeset"
    page.wait_for_timeout(300)  # late errors of deferred scripts
    script_files = page.evaluate("Array.from(document.scripts).filter(s => s.src).map(s => s.src)")
    page.close()
    assert not errors, f"{path}: JavaScript errors: {errors[:3]}"
    failed = [f for f in failed if not any(b in f for b in blocked)]
    assert not failed, f"{path}: requests that failed: {failed[:3]}"
    assert len(script_files) <= MAX_SCRIPT_FILES, f"{path}: {len(script_files)} script files: {script_files}"
    assert sum(js_bytes.values()) <= MAX_LOCAL_JS_BYTES, f"{path}: {sum(js_bytes.values())} bytes of JavaScript"
    assert not blocked, f"{path} tried to load from outside the site: {blocked[:3]}"


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_every_image_loads(browser, site_url, path):
    page, blocked = open_page(browser, site_url, path)
    page.wait_for_function("Array.from(document.images).every(img => img.complete)", timeout=30000)
    images = page.evaluate(
        "Array.from(document.images)"
        ".map(img => ({src: img.getAttribute('src'), ok: img.complete && img.naturalWidth > 0}))"
    )
    page.close()
    figures = [img for img in images if "_images/" in (img["src"] or "")]
    assert figures, f"{path}: expected the chapter's figures, found {images}"
    broken = [img["src"] for img in images if not img["ok"]]
    assert not broken, f"{path}: images that did not load: {broken}"
    assert not blocked, f"{path} tried to load from outside the site: {blocked[:3]}"


def test_every_toc_page_was_built():
    missing = [page for page in _toc_pages() if not (SITE / page).is_file()]
    assert not missing, f"pages in _toc.yml missing from the built site: {missing}"
    assert all(os.path.getsize(SITE / page) > 20_000 for page in CHAPTER_PAGES)


def test_chapters_download_as_executed_notebooks():
    import nbformat

    chapters = [page.removesuffix(".html") for page in CHAPTER_PAGES]
    assert chapters
    for chapter in chapters:
        html = (SITE / f"{chapter}.html").read_text(encoding="utf-8")
        assert f"_sources/{chapter}.ipynb" in html, f"{chapter}: no .ipynb download link"
        nb = nbformat.read(SITE / "_sources" / f"{chapter}.ipynb", as_version=4)
        nbformat.validate(nb)
        images = [
            o
            for c in nb.cells
            if c.cell_type == "code"
            for o in c.get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        assert images, f"{chapter}: the downloadable notebook carries no executed figures"


def test_the_site_ships_the_wheel_its_running_page_links_to():
    import re

    page = SITE / "book" / "running.html"
    links = re.findall(r'href="(\.\./install/[^"]+)"', page.read_text(encoding="utf-8"))
    assert any(link.endswith(".whl") for link in links) and any(link.endswith("constraints.txt") for link in links)
    for link in links:
        assert (page.parent / link).resolve().is_file(), f"running.html links to {link}, which the site does not ship"


SCREENSHOTS = os.environ.get("COURSE_SCREENSHOTS")  # a folder: `make screenshots` saves every chapter there


@pytest.mark.parametrize("path", CHAPTER_PAGES)
def test_figures_are_sharp_described_and_code_fits_the_column(browser, site_url, path):
    """Issue 15, item 4, on a 1280-pixel-wide window: every figure has at least twice the pixels it is shown with,
    alt text that describes it (not its file name), and appears once; no line of code or output runs past the
    column's edge (it wraps)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{site_url}/{path}", wait_until="load")
    page.wait_for_function("Array.from(document.images).every(img => img.complete)", timeout=30000)
    figures = page.evaluate(
        "Array.from(document.querySelectorAll('main img')).filter(img => img.src.includes('/_images/'))"
        ".map(img => ({src: img.getAttribute('src'), natural: img.naturalWidth, shown: img.clientWidth,"
        " alt: img.alt}))"
    )
    overflowing = page.evaluate(
        "Array.from(document.querySelectorAll('main pre')).filter(pre => pre.scrollWidth > pre.clientWidth + 1)"
        ".map(pre => pre.innerText.split('\\n').reduce((a, b) => (b.length > a.length ? b : a), '').slice(0, 80))"
    )
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / (Path(path).stem + ".png")), full_page=True)
    page.close()
    assert figures, f"{path}: no figures found"
    blurry = [(f["src"][-20:], f["natural"], f["shown"]) for f in figures if f["natural"] < 1.9 * f["shown"]]
    assert not blurry, f"{path}: figures with fewer than twice the pixels they are shown with: {blurry}"
    undescribed = [f["src"][-20:] for f in figures if len(f["alt"].split()) < 5 or "_images" in f["alt"]]
    assert not undescribed, (
        f"{path}: figures without alt text that describes them (:alt: of glue:figure): {undescribed}"
    )
    sources = [f["src"] for f in figures]
    assert len(set(sources)) == len(sources), f"{path}: a figure is shown twice (its cell's output and the glue)"
    assert not overflowing, f"{path}: lines cut off at the column's edge: {overflowing[:3]}"
