#!/usr/bin/env python
"""Execute notebooks in place so that their committed outputs are real.

    python tools/run_nb.py nbs/00_layers.ipynb            # fast cells; `#| slow` cells keep their old outputs
    python tools/run_nb.py --slow nbs/05_conv.ipynb       # every cell, slow ones included
    python tools/run_nb.py --only-slow nbs/05_conv.ipynb  # run everything, but only overwrite the outputs of slow cells
    python tools/run_nb.py --cells 93ef2497 nbs/09_performance.ipynb  # fast cells + these slow cells (by cell id);
                                                          # only those slow cells' outputs are refreshed
    python tools/run_nb.py --cells cl000002 --also 4f5e5913 nbs/13_fast_recipe_parts.ipynb
                                                          # the same, also running slow cells whose definitions the
                                                          # chosen ones use, keeping those cells' committed outputs

A fast cell whose committed output came from CIFAR-10 (it names it) and whose new output does not
has fallen back to its stand-in data because DL_NB_CIFAR10 is not set: the run then fails and the
notebook is left untouched, unless --without-data says that is intended.

Cells run top to bottom in one IPython shell (execnb, the engine behind `nbdev_test`), with the
repository root first on sys.path and the notebook's folder as working directory -- exactly the
environment `nbdev_test` uses. Execution stops at the first error and the notebook is left
untouched. On success the notebook is written with nbdev's cleaner applied, so the file is in its
committed form (`nbdev_clean` changes nothing).
"""
import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_SLOW = re.compile(r"^\s*#\s*\|\s*slow\b", re.M)
_SKIP = re.compile(r"^\s*#\s*\|\s*eval\s*:\s*false", re.M)


def is_slow(cell):
    return cell.cell_type == "code" and bool(_SLOW.search(cell.source))


def _text(outputs) -> str:
    "The printed and displayed text of a cell's outputs."
    return " ".join("".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", "")) for o in outputs or [])


def run(path: Path, slow: bool, only_slow: bool, verbose: bool, cells=(), also=(), without_data=False):
    from execnb.nbio import read_nb, write_nb
    from execnb.shell import CaptureShell
    from nbdev.clean import clean_nb
    from fastcore.xtras import working_directory

    nb = read_nb(path)
    old = [dict(outputs=c.get("outputs"), execution_count=c.get("execution_count")) for c in nb.cells]
    run_slow = slow or only_slow
    missing = (set(cells) | set(also)) - {c.get("id") for c in nb.cells}
    if missing:
        raise ValueError(f"no cell with id {sorted(missing)} in {path.name}")

    def skip(cell):
        if cell.cell_type != "code" or _SKIP.search(cell.source):
            return True
        return is_slow(cell) and not run_slow and cell.get("id") not in cells + also

    def after(cell):
        if verbose:
            print(f"  ran cell {nb.cells.index(cell)} ({time.time() - t0:.1f}s)", flush=True)

    os.environ["DL_NB_EXECUTING"] = "1"
    sys.path.insert(0, str(ROOT))
    shell = CaptureShell(path, mpl_format="png")
    t0 = time.time()
    with working_directory(path.parent):
        shell.run_all(nb, exc_stop=True, preproc=skip, postproc=after)
    def keep_old(cell):  # --only-slow refreshes the slow cells only, --cells the chosen ones only
        return (only_slow and not is_slow(cell)) or ((cells or also) and cell.get("id") not in cells)
    for cell, o in zip(nb.cells, old):
        if cell.cell_type == "code" and keep_old(cell):
            cell.outputs, cell.execution_count = o["outputs"] or [], o["execution_count"]
    lost = [cell.get("id") for cell, o in zip(nb.cells, old) if cell.cell_type == "code" and not skip(cell)
            and "CIFAR-10" in _text(o["outputs"]) and "CIFAR-10" not in _text(cell.outputs)]
    if lost and not without_data:
        raise RuntimeError(f"cells {lost} showed CIFAR-10 and now do not (is DL_NB_CIFAR10 set?); "
                           "pass --without-data to keep their stand-in outputs")
    clean_nb(nb, clear_all=False, clean_ids=True)
    tmp = path.with_suffix(".ipynb.tmp")
    write_nb(nb, tmp)
    os.replace(tmp, path)
    return time.time() - t0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--slow", action="store_true", help="also run (and refresh) `#| slow` cells")
    ap.add_argument("--only-slow", action="store_true", help="run everything, refresh only the slow cells' outputs")
    ap.add_argument("--cells", default="", help="comma-separated cell ids: run the fast cells and these slow cells, "
                                                "and refresh only these cells' outputs")
    ap.add_argument("--also", default="", help="comma-separated cell ids: slow cells to run as well (for what they "
                                               "define), keeping their committed outputs")
    ap.add_argument("--without-data", action="store_true", help="accept cells whose outputs showed CIFAR-10 and now "
                                                                "show their stand-in data")
    ap.add_argument("-v", "--verbose", action="store_true", help="report each cell as it finishes")
    a = ap.parse_args()
    for p in a.notebooks:
        p = p.resolve()
        print(f"running {p.relative_to(ROOT)} ...", flush=True)
        try:
            dt = run(p, a.slow, a.only_slow, a.verbose, tuple(c for c in a.cells.split(",") if c),
                     tuple(c for c in a.also.split(",") if c), a.without_data)
        except Exception as e:  # the shell re-raises the cell's exception
            print(f"FAILED {p.name}: {type(e).__name__}: {e}", file=sys.stderr)
            sys.exit(1)
        print(f"ok {p.name} in {dt:.1f}s", flush=True)


if __name__ == "__main__":
    main()
