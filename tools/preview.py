#!/usr/bin/env python
"""Offline preview of the book, for machines without Quarto.

    python tools/preview.py                      # every notebook -> _preview/*.html, plus PNG pages
    python tools/preview.py 00_layers 05_conv    # only these chapters
    python tools/preview.py --no-png             # HTML only

Steps: (1) nbdev's own notebook processors prepare the notebooks exactly as for the Quarto site
(`nbdev.serve_drv.exec_nb` with `FilterDefaults`, as `nbdev_proc_nbs` runs it -> `_proc/`: hidden cells and directives removed, `show_doc` tables for every
exported function, names linked); (2) nbconvert renders each processed notebook to HTML, with math
typeset by a local MathJax (Debian: `apt-get install libjs-mathjax`) and a navigation bar from
nbs/sidebar.yml; (3) if Chromium is installed (`apt-get install chromium poppler-utils`), each page is
printed to PDF by headless Chromium and split into PNG pages (`_preview/png/<chapter>-<n>.png`) that
you can look at in any image viewer. Nothing here needs the network.
"""
import argparse
import html
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _shown(path):
    "A path relative to the checkout when it lies inside it (--out may point anywhere)."
    path = Path(path).resolve()
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
MATHJAX_DIRS = [Path("/usr/share/javascript/mathjax"), Path("/usr/share/mathjax")]
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars"]


def sidebar_pages():
    "Page stems in the order of nbs/sidebar.yml (sections flattened)."
    import yaml
    sb = yaml.safe_load((ROOT / "nbs" / "sidebar.yml").read_text())
    out = []

    def walk(items):
        for it in items:
            if isinstance(it, str): out.append(Path(it).stem)
            elif isinstance(it, dict):
                if "href" in it: out.append(Path(it["href"]).stem)
                walk(it.get("contents", []))
    walk(sb["website"]["sidebar"]["contents"])
    return out


def process_notebooks(stems=None):
    """Run nbdev's docs processors (the input Quarto would render) on the given notebooks, into _proc/.

    Exactly what `nbdev_docs`/`nbdev_proc_nbs` do per notebook (`nbdev.serve_drv.exec_nb` with
    `FilterDefaults`), minus their Quarto installation step. Stops at the first notebook that fails.
    """
    os.chdir(ROOT)
    from nbdev.processors import FilterDefaults
    from nbdev.serve_drv import exec_nb
    proc = ROOT / "_proc"
    proc.mkdir(exist_ok=True)
    nbs = sorted((ROOT / "nbs").glob("*.ipynb"))
    if stems: nbs = [p for p in nbs if p.stem in stems]
    for src in nbs:
        os.environ["IN_TEST"] = "1"
        try:
            exec_nb(src, proc / src.name, FilterDefaults)
        except Exception as e:
            raise SystemExit(f"docs processing failed for {src.name}: {e}")
        finally:
            os.environ.pop("IN_TEST", None)
        print(f"  processed {src.name}")
    return proc


def _hide_by_directives(nb):
    "Apply the Quarto cell options nbdev leaves in processed notebooks (echo/output false)."
    for c in nb.cells:
        if c.cell_type != "code": continue
        src = c.source
        if re.search(r"^#\|\s*echo:\s*false", src, re.M) or re.match(r"\s*show_doc\(", src):
            c.metadata.setdefault("tags", []).append("remove_input")
        if re.search(r"^#\|\s*output:\s*false", src, re.M): c.outputs = []
        c.source = re.sub(r"^#\|.*\n?", "", src, flags=re.M)


def render_html(proc_dir: Path, out: Path, pages, stems):
    import nbformat
    import yaml
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    cfg = Config()
    cfg.HTMLExporter.mathjax_url = "mathjax/MathJax.js?config=TeX-AMS_CHTML"
    cfg.TagRemovePreprocessor.enabled = True
    cfg.TagRemovePreprocessor.remove_input_tags = {"remove_input"}
    exporter = HTMLExporter(config=cfg, template_name="lab")
    exporter.exclude_input_prompt = True
    exporter.exclude_output_prompt = True

    titles = {}
    for stem in pages:
        nbp = proc_dir / f"{stem}.ipynb"
        if nbp.exists():
            nb = nbformat.read(nbp, as_version=4)
            fm = next((c for c in nb.cells if c.cell_type == "raw" and c.source.startswith("---")), None)
            titles[stem] = (yaml.safe_load(fm.source.strip().strip("-")) or {}).get("title", stem) if fm else stem

    def nav(current):
        links = " ".join(
            f'<a href="{s}.html" style="margin-right:14px;{"font-weight:bold;" if s == current else ""}">{html.escape(str(titles.get(s, s)))}</a>'
            for s in pages if s in titles)
        return ('<div style="background:#2c3e50;padding:8px 16px;font-family:sans-serif;font-size:13px;line-height:1.9">'
                f'<span style="color:#fff;margin-right:18px;font-weight:bold">dl_nb (offline preview)</span>'
                f'<span style="filter:invert(1) hue-rotate(180deg)">{links}</span></div>')

    written = []
    for stem in stems:
        nbp = proc_dir / f"{stem}.ipynb"
        if not nbp.exists():
            print(f"  skip {stem}: not found in {proc_dir}")
            continue
        nb = nbformat.read(nbp, as_version=4)
        header = ""
        cells = []
        for c in nb.cells:
            if c.cell_type == "raw" and c.source.startswith("---"):
                fm = yaml.safe_load(c.source.strip().strip("-")) or {}
                header = f'<h1 style="margin-top:10px">{html.escape(str(fm.get("title", stem)))}</h1>'
                if fm.get("description"):
                    header += f'<p style="font-size:1.15em;color:#555">{html.escape(str(fm["description"]))}</p>'
                continue
            cells.append(c)
        nb.cells = cells
        _hide_by_directives(nb)
        for c in nb.cells:  # Quarto-only attribute syntax that plain Markdown would print verbatim
            for o in c.get("outputs", []):
                md = o.get("data", {}).get("text/markdown")
                if md: o["data"]["text/markdown"] = re.sub(r"\{target=[^}]*\}", "", md)
        body, _ = exporter.from_notebook_node(nb)
        body = body.replace("</head>", "<style>pre { white-space: pre-wrap; word-break: break-word; }</style></head>", 1)
        body = re.sub(r"(<body[^>]*>)", lambda m: m.group(1) + nav(stem) +
                      f'<div style="max-width:1100px;margin:auto;padding:0 16px">{header}</div>', body, count=1)
        body = body.replace("<title>Notebook</title>", f"<title>{html.escape(str(titles.get(stem, stem)))} - dl_nb</title>")
        dest = out / f"{stem}.html"
        dest.write_text(body, encoding="utf-8")
        written.append(dest)
        print(f"  wrote {_shown(dest)}")
    return written


def screenshots(pages, out: Path, dpi: int, budget_ms: int):
    chromium = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if not chromium or not shutil.which("pdftoppm"):
        print("  no PNGs: install chromium and poppler-utils (pdftoppm) for page images")
        return
    pngdir = out / "png"
    pngdir.mkdir(exist_ok=True)
    for page in pages:
        pdf = pngdir / f"{page.stem}.pdf"
        for old in pngdir.glob(f"{page.stem}-*.png"): old.unlink()
        cmd = [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={out / '.chromium'}", f"--virtual-time-budget={budget_ms}",
               "--no-pdf-header-footer", f"--print-to-pdf={pdf}", page.resolve().as_uri()]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300)
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(pngdir / page.stem)], check=True)
        pdf.unlink()
        n = len(list(pngdir.glob(f"{page.stem}-*.png")))
        print(f"  {n} page image(s): {_shown(pngdir / page.stem)}-*.png")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("chapters", nargs="*", help="notebook stems to render (default: all in nbs/sidebar.yml)")
    ap.add_argument("--out", default="_preview", help="output folder (default _preview/)")
    ap.add_argument("--no-png", action="store_true", help="skip the Chromium page images")
    ap.add_argument("--dpi", type=int, default=70, help="resolution of the page images")
    ap.add_argument("--budget", type=int, default=20000, help="Chromium virtual time budget in ms (lets MathJax finish)")
    ap.add_argument("--check", action="store_true",
                    help="only run nbdev's docs processing over every notebook (what nbdev_docs does before Quarto) and exit")
    a = ap.parse_args()

    if a.check:
        print("processing notebooks with nbdev (docs build check) ...")
        process_notebooks()
        print("docs processing ok")
        return
    out = (ROOT / a.out)
    out.mkdir(exist_ok=True)
    mj = next((d for d in MATHJAX_DIRS if (d / "MathJax.js").exists()), None)
    if mj is None:
        sys.exit("MathJax 2 not found: install it with `apt-get install libjs-mathjax` (Debian/Ubuntu)")
    link = out / "mathjax"
    if not link.exists(): link.symlink_to(mj, target_is_directory=True)

    print("processing notebooks with nbdev ...")
    pages = sidebar_pages()
    stems = [c.replace(".ipynb", "") for c in a.chapters] or pages
    proc = process_notebooks(stems)
    print("rendering HTML ...")
    written = render_html(proc, out, pages, stems)
    if not a.no_png:
        print("printing pages with headless Chromium ...")
        screenshots(written, out, a.dpi, a.budget)
    print(f"open {_shown(out / (stems[0] + '.html'))} in a browser")


if __name__ == "__main__":
    main()
