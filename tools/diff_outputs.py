#!/usr/bin/env python
"""Compare the text outputs of the same notebooks executed in two environments.

    python tools/diff_outputs.py nbs /tmp/floors/src/nbs            # every notebook in both folders
    python tools/diff_outputs.py nbs /tmp/floors/src/nbs 05_conv.ipynb

Typical use: copy the repository, execute its notebooks there with `python tools/run_nb.py` under another
virtual environment (e.g. the declared floors), and list the cells whose printed text differs from the committed
outputs. Images are ignored; lines that only report timings still show up, so read the list rather than count it.
"""
import argparse
import difflib
import json
from pathlib import Path


def texts(path: Path):
    "`{cell id: printed text}` of the code cells of one notebook."
    out = {}
    for c in json.loads(path.read_text())["cells"]:
        if c["cell_type"] != "code":
            continue
        parts = []
        for o in c.get("outputs", []):
            if o.get("output_type") == "stream":
                parts.append("".join(o["text"]))
            elif "data" in o and "text/plain" in o["data"]:
                parts.append("".join(o["data"]["text/plain"]))
        out[c.get("id")] = "".join(parts)
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("a", type=Path)
    p.add_argument("b", type=Path)
    p.add_argument("names", nargs="*")
    args = p.parse_args(argv)
    names = args.names or sorted(f.name for f in args.a.glob("*.ipynb") if (args.b / f.name).exists())
    for name in names:
        ta, tb = texts(args.a / name), texts(args.b / name)
        for cid, t in ta.items():
            if tb.get(cid, t) != t:
                print(f"== {name} cell {cid}")
                for line in difflib.unified_diff(t.splitlines(), tb[cid].splitlines(), lineterm="", n=0):
                    if not line.startswith(("---", "+++", "@@")):
                        print("  " + line)


if __name__ == "__main__":
    main()
