"""Compiled (Cython) kernels for dl_nb. Hand-written: nbdev does not generate this package.

The sources are the `.pyx` files beside this file, with their C in the `.h` headers (each kernel written
once, for float32 and float64 alike); `setup.py` compiles them when the package is installed. Importing this package without the compiled extension raises an ImportError that says
how to build it -- dl_nb never falls back silently to slow code.

The fused convolution kernels run the images of a batch on all OpenMP threads, and each thread calls
BLAS on its own small matrices. A multi-threaded BLAS would then start threads of its own inside
every call (oversubscribing the cores), so while such a kernel runs on more than one thread, BLAS is
limited to one thread (threadpoolctl); with one OpenMP thread, nothing is changed.
"""
import importlib


def _load(name):
    "Import the compiled extension `dl_nb.fast.<name>`, or fail loudly with how to build it (never a silent fallback)."
    try:
        return importlib.import_module(f"{__name__}.{name}")
    except ImportError as e:  # the extension was not compiled, or was compiled for another Python/NumPy
        raise ImportError(
            f"dl_nb's compiled kernels ({__name__}.{name}) could not be imported: {e}. Build them with "
            "`pip install -e .` (or `python setup.py build_ext --inplace`) from the dl_nb checkout; after editing "
            "a .pyx file, run that command again.") from e


_kernels = _load("im2col")       # im2col/col2im, fused im2col + GEMM convolution, max pooling (chapter 05)
_winograd = _load("winograd")    # Winograd F(2x2)/F(4x4, 3x3) convolution (chapter 05)
fused = _load("fused")           # fused batch norm + ReLU (chapter 08) or + GELU (chapter 13), crop-and-flip augmentation
_direct = _load("direct")        # direct convolution in AVX-512 registers, float32, stride 1 (chapter 05)
has_avx512 = _direct.has_avx512()  # can this CPU run the direct kernel? (dl_nb.conv's rule asks; nothing falls back silently)
transformer = _load("transformer")  # GELU, masked softmax, layer norm passes of the Transformer (chapters 11, 12)
_common = _load("_common")       # what the kernels share: BLAS products, transposes, the OpenMP team size
im2col, col2im, openmp_threads = _kernels.im2col, _kernels.col2im, _common.openmp_threads
max_pool_forward, max_pool_backward = _kernels.max_pool_forward, _kernels.max_pool_backward
# tuning knobs, each a context manager that restores the previous value on exit: `with tile_target(64): ...`
band_bytes, tile_target, scratch_limit = _kernels.band_bytes, _winograd.tile_target, _winograd.scratch_limit
scratch_bytes = _winograd.scratch_bytes

_blas = None


def _single_threaded_blas():
    "Context manager limiting every loaded BLAS to one thread (created once, on first use)."
    global _blas
    if _blas is None:
        from threadpoolctl import ThreadpoolController
        _blas = ThreadpoolController().select(user_api="blas")
    return _blas.limit(limits=1)


def _run(kernel, *args):
    "Call a batch-parallel kernel (its first argument holds the batch), with BLAS on one thread while the OpenMP threads share the images."
    if args[0].shape[0] > 1 and openmp_threads() > 1:
        with _single_threaded_blas():
            return kernel(*args)
    return kernel(*args)


def conv_forward(x, w, b, pad, stride):
    """Fused im2col + GEMM convolution forward (see `im2col.pyx`): out (N, F, Ho, Wo) in the dtype of x."""
    return _run(_kernels.conv_forward, x, w, b, pad, stride)


def conv_backward(dout, x, w, pad, stride, need_dx=True):
    """Fused convolution backward (see `im2col.pyx`): dx (None unless need_dx), dw, db in the dtype of x."""
    return _run(_kernels.conv_backward, dout, x, w, pad, stride, need_dx)


def winograd_forward(x, w, b, pad, m=4):
    """Winograd F(m x m, 3x3) convolution forward, stride 1 (see `winograd.pyx`): out (N, F, Ho, Wo) in the dtype of x."""
    return _run(_winograd.conv_forward, x, w, b, pad, m)


def winograd_backward(dout, x, w, pad, m=4, need_dx=True):
    """Backward pass of `winograd_forward` (see `winograd.pyx`): dx (None unless need_dx), dw, db in the dtype of x."""
    return _run(_winograd.conv_backward, dout, x, w, pad, m, need_dx)


def winograd_filter_transform(w, m=4):
    """U = G w G^T of every 3x3 filter of w (F, C, 3, 3), as the (m+2)**2 matrices of Winograd's products (see
    `winograd.pyx`): shape ((m+2)**2, C, F), in the dtype of w."""
    return _winograd.filter_transform(w, m)


def direct_forward(x, w, b, pad):
    """Direct convolution forward, float32, stride 1, on AVX-512 (see `direct.pyx`): out (N, F, Ho, Wo) float32.
    Raises RuntimeError on a CPU without AVX-512 (check `has_avx512` first)."""
    return _direct.conv_forward(x, w, b, pad)


def blas_info():
    "threadpoolctl's description of the BLAS libraries loaded in this process (which kernels, how many threads)."
    from threadpoolctl import threadpool_info
    return [i for i in threadpool_info() if i.get("user_api") == "blas"]


__all__ = ["blas_info", "im2col", "col2im", "openmp_threads", "conv_forward", "conv_backward", "max_pool_forward",
           "max_pool_backward", "winograd_forward", "winograd_backward", "direct_forward", "has_avx512", "winograd_filter_transform", "band_bytes",
           "tile_target", "scratch_limit", "scratch_bytes"]
