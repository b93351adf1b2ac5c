#!/usr/bin/env python
"""Check an installed dl_nb (run it from outside the repository, with the interpreter of the venv to check):

    cd /tmp && /path/to/venv/bin/python /path/to/dl_nb/tools/check_install.py

It fails unless dl_nb is imported from site-packages (not from a source tree), its compiled kernels import,
and a fast convolution (forward and backward) matches the naive one on a small float64 problem.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path = [p for p in sys.path if Path(p or ".").resolve() != ROOT]  # never the source tree

import numpy as np
import dl_nb
import dl_nb.fast
from dl_nb.conv import conv_backward_fast, conv_backward_naive, conv_forward_fast, conv_forward_naive

if Path(dl_nb.__file__).resolve().is_relative_to(ROOT):
    sys.exit(f"dl_nb was imported from the source tree ({dl_nb.__file__}), not from an install")
rng = np.random.default_rng(0)
x, w, b = rng.standard_normal((2, 3, 8, 8)), rng.standard_normal((4, 3, 3, 3)), rng.standard_normal(4)
p = {"stride": 1, "pad": 1}
out, cache = conv_forward_fast(x, w, b, p)
ref, ref_cache = conv_forward_naive(x, w, b, p)
dout = rng.standard_normal(out.shape)
errs = [np.abs(out - ref).max()] + [np.abs(g - r).max() for g, r in
                                      zip(conv_backward_fast(dout, cache), conv_backward_naive(dout, ref_cache))]
assert max(errs) < 1e-10, errs
print(f"dl_nb {dl_nb.__version__} from {Path(dl_nb.fast.__file__).parent}: fast conv matches naive "
      f"(max error {max(errs):.1e}), numpy {np.__version__}")
