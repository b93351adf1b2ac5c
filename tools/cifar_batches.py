#!/usr/bin/env python
"""Write a CIFAR-10 image folder (train/<class>/, test/<class>/) as the official python version.

    python tools/cifar_batches.py IMAGES DEST            # DEST/cifar-10-batches-py: data_batch_1..5, test_batch, batches.meta
    python tools/cifar_batches.py IMAGES DEST --seed none  # keep the folder's order instead of get_CIFAR10_data's shuffle

The files have the layout of the real ones (Python 2 protocol-2 pickles of dicts with byte-string keys b'data',
b'labels', b'batch_label', b'filenames'), so the official-files path of the book can be tested from an image folder,
for example with DL_NB_DATA=DEST and no DL_NB_CIFAR10. See dl_nb.data.write_CIFAR10_batches.
"""
import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("images", type=Path, help="folder with train/<class>/ and test/<class>/ images")
    ap.add_argument("dest", type=Path, help="folder in which to create cifar-10-batches-py")
    ap.add_argument("--seed", default="0", help="shuffle seed, as get_CIFAR10_data(seed=...) (default 0); 'none': folder order")
    a = ap.parse_args()
    from dl_nb.data import write_CIFAR10_batches
    seed = None if a.seed.lower() == "none" else int(a.seed)
    t0 = time.perf_counter()
    try:
        out = write_CIFAR10_batches(a.images, a.dest, seed=seed)
    except (FileNotFoundError, ValueError) as e:
        print(f"cifar_batches: error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {out} in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
