#!/usr/bin/env python
"""Build the offline edition of the book: the Quarto site, readable without a network.

    python tools/offline_site.py              # nbdev_docs, then the offline copy in _offline/
    python tools/offline_site.py --serve      # ... and serve it on http://127.0.0.1:8000 (search needs a server)
    python tools/offline_site.py --no-build   # reuse the site already in _docs/

The site that `nbdev_docs` builds into `_docs/` loads MathJax from a CDN and links every API name to the
published address. This copies it to `_offline/` and makes it self-contained:

- MathJax 3 comes from the npm package `mathjax@3`, installed once with `npm` into a cache folder
  (`$DL_NB_MATHJAX_CACHE`, default `~/.cache/dl_nb/mathjax`; `--mathjax DIR` takes an existing `es5/` folder
  instead) and copied to `_offline/site_libs/mathjax/`;
- links to the published site become relative links, so they stay inside the copy;
- the CDN polyfill script and the web-font import of the theme are dropped (the browsers that MathJax 3
  supports need neither; text falls back to the system sans-serif font).

It fails if any page still loads a script, stylesheet or image from the network. Open the pages through a
local server (`--serve`, or `python -m http.server -d _offline`): the search box reads `search.json`, which
browsers do not fetch from `file://` pages; everything else also works from the folder itself.
"""
import argparse
import functools
import http.server
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MATHJAX_CDN = re.compile(r'src="https://cdn\.jsdelivr\.net/npm/mathjax@3/es5/([^"]+)"')
POLYFILL = re.compile(r'[ \t]*<script src="https://cdnjs\.cloudflare\.com/polyfill/[^"]*"></script>\n?')
FONT_IMPORT = re.compile(r'@import\s*(?:url\()?["\']?https://fonts\.googleapis\.com/[^"\')]*["\']?\)?;?')
CSS_REMOTE = re.compile(r'@import\s*(?:url\()?["\']?(https?://[^"\')]+)')
REMOTE_LOAD = re.compile(r'<(?:script|img|iframe|source)\b[^>]*\ssrc="(https?://[^"]+)"|<link\b[^>]*\shref="(https?://[^"]+)"[^>]*>')


def fail(msg):
    print(f"offline_site: {msg}", file=sys.stderr)
    sys.exit(1)


def site_url():
    "The published address nbdev writes into symbol links (settings.ini: doc_host + doc_baseurl), with a final /."
    from nbdev.config import get_config
    cfg = get_config(path=ROOT)
    return cfg.doc_host.rstrip('/') + '/' + cfg.doc_baseurl.strip('/') + '/'


def mathjax_es5(explicit=None):
    "Folder holding MathJax 3's es5/ build (tex-chtml-full.js and its fonts), installing it with npm if needed."
    if explicit:
        es5 = Path(explicit)
        if not (es5 / 'tex-chtml-full.js').exists(): fail(f"{es5} has no tex-chtml-full.js (give the es5/ folder of mathjax@3)")
        return es5
    cache = Path(os.environ.get('DL_NB_MATHJAX_CACHE', Path.home() / '.cache' / 'dl_nb' / 'mathjax'))
    es5 = cache / 'node_modules' / 'mathjax' / 'es5'
    if not (es5 / 'tex-chtml-full.js').exists():
        npm = shutil.which('npm')
        if not npm: fail("npm not found: install Node.js and npm, or pass --mathjax DIR (the es5/ folder of mathjax@3)")
        cache.mkdir(parents=True, exist_ok=True)
        print(f"installing mathjax@3 into {cache}")
        r = subprocess.run([npm, 'install', '--prefix', str(cache), '--no-audit', '--no-fund', '--no-save', 'mathjax@3'])
        if r.returncode or not (es5 / 'tex-chtml-full.js').exists(): fail("npm install mathjax@3 failed")
    return es5


def rewrite_page(text, rel_root, url):
    "One HTML page: local MathJax, no polyfill, links to the published site made relative."
    prefix = rel_root or './'
    text = MATHJAX_CDN.sub(lambda m: f'src="{rel_root}site_libs/mathjax/{m.group(1)}"', text)
    text = POLYFILL.sub('', text)
    text = text.replace(f'href="{url}', f'href="{prefix}')
    return text


def make_offline(docs: Path, out: Path, es5: Path):
    url = site_url()
    tmp = out.with_name(out.name + '.tmp')
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(docs, tmp)
    shutil.copytree(es5, tmp / 'site_libs' / 'mathjax')
    remote = []
    pages = sorted(tmp.rglob('*.html'))
    for page in pages:
        if page.is_relative_to(tmp / 'site_libs'): continue
        rel = page.relative_to(tmp)
        rel_root = '../' * (len(rel.parts) - 1)
        text = rewrite_page(page.read_text(encoding='utf-8'), rel_root, url)
        page.write_text(text, encoding='utf-8')
        remote += [f"{rel}: {a or b}" for a, b in REMOTE_LOAD.findall(text)]
    for css in (tmp / 'site_libs').rglob('*.css'):
        if css.is_relative_to(tmp / 'site_libs' / 'mathjax'): continue
        text = css.read_text(encoding='utf-8')
        new = FONT_IMPORT.sub('', text)
        if new != text: css.write_text(new, encoding='utf-8')
        remote += [f"{css.relative_to(tmp)}: {u}" for u in CSS_REMOTE.findall(new)]
    if remote: fail("pages still load from the network:\n  " + "\n  ".join(remote))
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)
    n = sum(1 for p in out.glob('*.html'))
    print(f"offline edition: {n} pages in {out} (MathJax {es5})")


def serve(folder: Path, port: int):
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    with http.server.ThreadingHTTPServer(('127.0.0.1', port), handler) as httpd:
        print(f"serving {folder} at http://127.0.0.1:{httpd.server_address[1]}/ (Ctrl-C stops)")
        try: httpd.serve_forever()
        except KeyboardInterrupt: pass


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--out', default=str(ROOT / '_offline'), help="output folder (default: _offline/)")
    ap.add_argument('--no-build', action='store_true', help="do not run nbdev_docs; use the site in _docs/")
    ap.add_argument('--mathjax', help="an existing es5/ folder of mathjax@3 (default: npm install into a cache)")
    ap.add_argument('--serve', action='store_true', help="serve the result on 127.0.0.1 afterwards")
    ap.add_argument('--port', type=int, default=8000)
    a = ap.parse_args()
    from nbdev.config import get_config
    docs = get_config(path=ROOT).doc_path
    es5 = mathjax_es5(a.mathjax)
    if not a.no_build:
        if not shutil.which('quarto'): fail("quarto not found: install it from https://quarto.org (or use --no-build)")
        r = subprocess.run(['nbdev_docs'], cwd=ROOT)
        if r.returncode: fail("nbdev_docs failed")
    if not (docs / 'index.html').exists(): fail(f"no site in {docs}: run nbdev_docs first")
    out = Path(a.out).resolve()
    make_offline(docs, out, es5)
    if a.serve: serve(out, a.port)


if __name__ == '__main__':
    main()
