#!/usr/bin/env python
"""Write a pip constraints file that pins every declared dependency to its floor.

    python tools/floors.py                 # print the constraints
    python tools/floors.py -o floors.txt   # write them to a file
    python tools/floors.py --check         # exit 1 unless the running environment has exactly these versions

The floors are read from the project's own declarations, so they cannot drift from what is tested:
  - `requirements` in settings.ini (the runtime dependencies: `numpy>=1.23.2` -> `numpy==1.23.2`),
  - `[build-system] requires` in pyproject.toml (setuptools, Cython and the NumPy the extension is compiled against).
A requirement without a `>=` floor (e.g. `wheel`) is left free. .ci/run installs these floors into a fresh
virtual environment, compiles the extension with them (no build isolation) and runs the tests there.
"""
import argparse
import re
import shlex
import sys
from configparser import ConfigParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_REQ = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(.*?)\s*(;.*)?$")


def _floor(spec: str):
    "`(name, floor)` of one requirement string, floor None if it declares no `>=` bound."
    m = _REQ.match(spec)
    if not m:
        raise ValueError(f"cannot parse requirement {spec!r}")
    name, _, bounds, marker = m.groups()
    if marker:
        raise ValueError(f"{spec!r}: environment markers are not supported here, declare one floor per package")
    floors = [b.strip()[2:].strip() for b in bounds.split(",") if b.strip().startswith(">=")]
    return name.lower().replace("_", "-"), (floors[0] if floors else None)


def declared():
    "Every declared requirement string: settings.ini `requirements`, then pyproject's build requirements."
    cfg = ConfigParser(delimiters=["="])
    cfg.read(ROOT / "settings.ini", encoding="utf-8")
    reqs = shlex.split(cfg["DEFAULT"].get("requirements", ""))
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        import tomli as tomllib
    with open(ROOT / "pyproject.toml", "rb") as f:
        reqs += tomllib.load(f)["build-system"]["requires"]
    return reqs


def floors():
    "`{name: floor}` for every declared requirement with a floor; a package declared twice must agree."
    out = {}
    for spec in declared():
        name, floor = _floor(spec)
        if floor is None:
            continue
        if out.get(name, floor) != floor:
            raise ValueError(f"{name} is declared with two floors: {out[name]} and {floor}")
        out[name] = floor
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", help="write the constraints here (default: print them)")
    p.add_argument("--check", action="store_true", help="check the installed versions equal the floors")
    args = p.parse_args(argv)
    if args.check:
        from importlib.metadata import version, PackageNotFoundError

        def Version(v):  # "3.1" == "3.1.0" (no dependency on `packaging`)
            parts = [int(x) if x.isdigit() else x for x in v.split(".")]
            while len(parts) > 1 and parts[-1] == 0:
                parts.pop()
            return parts

        bad = []
        for name, floor in sorted(floors().items()):
            try:
                have = version(name)
            except PackageNotFoundError:
                have = "missing"
            if have == "missing" or Version(have) != Version(floor):
                bad.append(f"{name} {have} (floor {floor})")
            print(f"{name}=={have}")
        if bad:
            sys.exit("not at the declared floors: " + ", ".join(bad))
        return
    text = "".join(f"{name}=={v}\n" for name, v in sorted(floors().items()))
    if args.output:
        Path(args.output).write_text(text)
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
