#!/usr/bin/env python
"""Test the offline edition of the book in a real browser (Chromium through Selenium).

    python tools/site_test.py                            # tests _offline/ (build it: tools/offline_site.py)
    python tools/site_test.py DIR --shots /tmp/shots     # another folder; screenshots go to /tmp/shots

Serves the folder over HTTP on 127.0.0.1, loads every page in headless Chromium (Debian's `chromium` and
`chromium-driver`: `/usr/bin/chromium`, `/usr/bin/chromedriver`; nothing is downloaded) and checks that

- the browser console shows no errors;
- every image loaded (`naturalWidth > 0`);
- MathJax typeset every formula: each `.math` element holds MathJax output, and no `$$`, `\\(` or `\\[` is left
  in the text outside code;
- every link inside the site leads to an existing file, and every `#anchor` to an element of its page; no link
  points to the published site (an offline copy must not leave itself);
- the sidebar of every page lists every chapter of nbs/sidebar.yml;
- a search for "softmax" typed into the search box returns results, and the first one opens its page.

Screenshots of three pages are saved to --shots (default: dl_nb_site_shots in the temporary folder), never
into the repository. Prints one line per problem and a summary; exits non-zero on any problem.
"""
import argparse
import functools
import http.server
import re
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urlparse, unquote

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--window-size=1280,1000"]
SHOT_PAGES = {"index.html": None, "softmax.html": None, "conv.html": "img"}   # page: element to scroll to

# run in the page: everything the checks need, in one round trip
PAGE_STATE_JS = r"""
const strip = document.body.cloneNode(true);
strip.querySelectorAll('pre, code, script, style, mjx-container, .sourceCode, textarea').forEach(e => e.remove());
const text = strip.textContent;
const raw = [];
for (const pat of ['$$', '\\(', '\\[']) {
  let i = text.indexOf(pat);
  if (i >= 0) raw.push(text.slice(Math.max(0, i - 40), i + 40).replace(/\s+/g, ' '));
}
const maths = [...document.querySelectorAll('.math')];
return {
  ids: [...document.querySelectorAll('[id]')].map(e => e.id).concat([...document.querySelectorAll('a[name]')].map(e => e.name)),
  links: [...document.querySelectorAll('a[href]')].map(a => a.href),
  badImages: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src),
  images: document.images.length,
  maths: maths.length,
  untypeset: maths.filter(m => !m.querySelector('mjx-container')).map(m => m.textContent.slice(0, 60)),
  raw: raw,
  sidebar: [...document.querySelectorAll('#quarto-sidebar a[href]')].map(a => a.href),
  title: document.title,
};
"""

# MathJax is loaded asynchronously and typesets after the page's load event: wait (up to 30 s) until every formula
# holds MathJax's output, and say whether that happened. (Reading window.MathJax or its startup promise once the page
# had loaded raced with the script on a busy machine: pages whose formulas were all typeset were reported as lacking
# MathJax.)
WAIT_MATHJAX_JS = r"""
const done = arguments[arguments.length - 1];
const imgs = Promise.all([...document.images].map(i => i.complete ? null : new Promise(r => { i.onload = i.onerror = r; })));
const t0 = Date.now();
const typeset = new Promise(resolve => (function poll() {
  if ([...document.querySelectorAll('.math')].every(m => m.querySelector('mjx-container'))) return resolve(true);
  if (Date.now() - t0 > 30000) return resolve(false);
  setTimeout(poll, 50);
})());
Promise.all([imgs, typeset]).then(([_, ok]) => done(ok), e => done('error: ' + e));
"""


def chapter_pages():
    "Output page of every notebook in nbs/sidebar.yml (nbdev drops the number prefix: 00_layers.ipynb -> layers.html, 02a_solver.ipynb -> solver.html)."
    import yaml
    sb = yaml.safe_load((ROOT / 'nbs' / 'sidebar.yml').read_text())
    out = []

    def walk(items):
        for it in items:
            if isinstance(it, str): out.append(it)
            elif isinstance(it, dict):
                if 'href' in it: out.append(it['href'])
                walk(it.get('contents', []))
    walk(sb['website']['sidebar']['contents'])
    return [re.sub(r'^\d+[a-z]?_', '', Path(p).stem) + '.html' for p in out]


def published_url():
    try:
        from nbdev.config import get_config
        cfg = get_config(path=ROOT)
        return cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'
    except Exception:
        return None


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass


class Server(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError): super().handle_error(request, client_address)


def start_server(folder):
    handler = functools.partial(QuietHandler, directory=str(folder))
    httpd = Server(('127.0.0.1', 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


def make_driver(chromium, chromedriver, profile):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for f in CHROMIUM_FLAGS + [f"--user-data-dir={profile}"]: opts.add_argument(f)
    opts.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    return webdriver.Chrome(service=Service(executable_path=chromedriver), options=opts)


def console_errors(driver):
    return [e['message'] for e in driver.get_log('browser') if e['level'] == 'SEVERE']


def search_softmax(driver, base, problems):
    "Type 'softmax' into the navbar search, expect results, open the first one."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(base + 'index.html')
    wait = WebDriverWait(driver, 20)
    buttons = driver.find_elements(By.CSS_SELECTOR, '#quarto-search .aa-DetachedSearchButton')
    if buttons: buttons[0].click()
    box = wait.until(lambda d: next((e for e in d.find_elements(By.CSS_SELECTOR, '.aa-Input') if e.is_displayed()), None))
    box.send_keys('softmax')
    try:
        items = wait.until(lambda d: [e for e in d.find_elements(By.CSS_SELECTOR, '.aa-Item a[href], a.search-result-link')
                                      if e.is_displayed()] or None)
    except Exception:
        problems.append("search: no results for 'softmax'")
        return 0
    before = driver.current_url
    first = items[0].get_attribute('href')
    box.send_keys(Keys.ENTER)   # opens the highlighted (first) result, as a reader would
    try:
        wait.until(lambda d: d.current_url != before and d.execute_script('return document.readyState') == 'complete')
    except Exception:
        problems.append(f"search: opening the first result ({first}) did not leave {before}")
        return len(items)
    if not driver.current_url.startswith(base):
        problems.append(f"search: the first result opened {driver.current_url}, outside the site")
    if 'softmax' not in driver.find_element(By.TAG_NAME, 'body').text.lower():
        problems.append(f"search: the page opened from the results ({driver.current_url}) does not mention softmax")
    errs = console_errors(driver)
    if errs: problems.append(f"search: console errors: {errs[:3]}")
    print(f"search 'softmax': {len(items)} results shown, first opened {urlparse(driver.current_url).path}")
    return len(items)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('site', nargs='?', default=str(ROOT / '_offline'), help="the offline edition (default: _offline/)")
    ap.add_argument('--shots', default=str(Path(tempfile.gettempdir()) / 'dl_nb_site_shots'),
                    help="folder for the screenshots (outside the repository)")
    ap.add_argument('--chromium', default='/usr/bin/chromium')
    ap.add_argument('--chromedriver', default='/usr/bin/chromedriver')
    a = ap.parse_args()
    site = Path(a.site).resolve()
    if not (site / 'index.html').exists():
        sys.exit(f"site_test: no index.html in {site}: build it with python tools/offline_site.py")
    for exe in (a.chromium, a.chromedriver):
        if not Path(exe).exists(): sys.exit(f"site_test: {exe} missing: apt-get install chromium chromium-driver")
    shots = Path(a.shots).resolve()
    if shots.is_relative_to(ROOT): sys.exit("site_test: --shots must lie outside the repository")
    shots.mkdir(parents=True, exist_ok=True)

    t0 = time.time()
    httpd, base = start_server(site)
    pages = sorted(p.name for p in site.glob('*.html'))
    chapters = chapter_pages()
    problems, ids, links = [], {}, {}
    n_images = n_maths = 0
    with tempfile.TemporaryDirectory(prefix='dl_nb_chromium_') as profile:
        driver = make_driver(a.chromium, a.chromedriver, profile)
        try:
            driver.set_page_load_timeout(60)
            driver.set_script_timeout(60)
            for name in pages:
                driver.get(base + name)
                mj = driver.execute_async_script(WAIT_MATHJAX_JS)
                st = driver.execute_script(PAGE_STATE_JS)
                ids[name] = set(st['ids'])
                links[name] = st['links']
                n_images += st['images']; n_maths += st['maths']
                for err in console_errors(driver): problems.append(f"{name}: console error: {err}")
                for src in st['badImages']: problems.append(f"{name}: image not loaded: {src}")
                if st['maths'] and mj is not True: problems.append(f"{name}: {st['maths']} formulas, not all typeset by MathJax within 30 s ({mj})")
                for m in st['untypeset']: problems.append(f"{name}: formula not typeset: {m!r}")
                for r in st['raw']: problems.append(f"{name}: raw TeX left in the text: ...{r}...")
                in_sidebar = {Path(urlparse(h).path).name or 'index.html' for h in st['sidebar']}
                missing = [c for c in chapters if c not in in_sidebar]
                if missing: problems.append(f"{name}: sidebar lacks {missing}")
                if name in SHOT_PAGES:
                    if SHOT_PAGES[name]:
                        driver.execute_script("const e = document.querySelector(arguments[0]); if (e) e.scrollIntoView();", SHOT_PAGES[name])
                        time.sleep(0.5)
                    driver.save_screenshot(str(shots / name.replace('.html', '.png')))
                print(f"{name:22s} {st['images']:3d} images {st['maths']:4d} formulas {len(st['links']):4d} links")
            n_results = search_softmax(driver, base, problems)
        finally:
            driver.quit()

        # links: files served, anchors present, nothing pointing to the published site
        published = published_url()
        status, n_links, n_anchors = {}, 0, 0
        for name, hrefs in links.items():
            for h in hrefs:
                if published and h.startswith(published):
                    problems.append(f"{name}: link leaves the offline copy: {h}"); continue
                if not h.startswith(base): continue
                url, frag = urldefrag(h)
                target = unquote(urlparse(url).path.lstrip('/')) or 'index.html'
                if target.endswith('/'): target += 'index.html'
                n_links += 1
                if url not in status:
                    try:
                        with urllib.request.urlopen(url, timeout=10) as r: status[url] = r.status
                    except urllib.error.HTTPError as e: status[url] = e.code
                if status[url] != 200:
                    problems.append(f"{name}: broken link {h} (HTTP {status[url]})"); continue
                if frag and target.endswith('.html'):
                    n_anchors += 1
                    if target not in ids: problems.append(f"{name}: link {h} to a page the test did not load")
                    elif unquote(frag) not in ids[target]: problems.append(f"{name}: missing anchor {h}")
    httpd.shutdown()
    shots_list = ', '.join(str(shots / p.replace('.html', '.png')) for p in SHOT_PAGES if p in pages)
    for p in problems: print("problem:", p)
    print(f"{len(pages)} pages, {n_images} images, {n_maths} formulas, {n_links} internal links "
          f"({n_anchors} with anchors, {len(status)} distinct files), {n_results} search results; "
          f"{len(problems)} problems; {time.time() - t0:.0f} s; screenshots: {shots_list}")
    sys.exit(1 if problems else 0)


if __name__ == '__main__':
    main()
