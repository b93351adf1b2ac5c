"""Compiled (Cython) kernels for dl_nb. Hand-written: nbdev does not generate this package.

The sources are the `.pyx` files beside this file; `setup.py` compiles them when the package is
installed. Importing this package without the compiled extension raises an ImportError that says
how to build it -- dl_nb never falls back silently to slow code.
"""
try:
    from .im2col import (im2col, col2im, openmp_threads, conv_forward, conv_backward,
                         max_pool_forward, max_pool_backward)
except ImportError as e:  # the extension was not compiled, or was compiled for another Python/NumPy
    raise ImportError(
        "dl_nb's compiled kernels (dl_nb.fast.im2col) could not be imported: "
        f"{e}. Build them with `pip install -e .` (or `python setup.py build_ext --inplace`) "
        "from the dl_nb checkout; after editing a .pyx file, run that command again."
    ) from e

__all__ = ["im2col", "col2im", "openmp_threads", "conv_forward", "conv_backward", "max_pool_forward",
           "max_pool_backward"]
