"""Build script for dl_nb.

Package metadata is read from settings.ini (nbdev's single source of truth), and the
hand-written Cython sources in dl_nb/fast/*.pyx are compiled into extension modules.
The build requirements (setuptools, Cython, NumPy) are declared in pyproject.toml, so
`pip install .`, `pip install -e .` and installing from an sdist all compile the kernels.

Compiling starts with two tiny test compiles (a C file, then one including Python.h): if either fails,
the build stops with one message saying what to install, instead of a compiler traceback. A third
probe decides OpenMP (-fopenmp, /openmp on MSVC): without it the `prange` loops run on one core.
Environment: DL_NB_NO_OPENMP=1 builds without OpenMP; CC/CFLAGS are honoured as usual.
"""
import os
import shlex
import sys
from configparser import ConfigParser
from glob import glob
from pathlib import Path

import setuptools
from setuptools.command.build_ext import build_ext as _build_ext

HERE = Path(__file__).resolve().parent

config = ConfigParser(delimiters=["="])
config.read(HERE / "settings.ini", encoding="utf-8")
cfg = config["DEFAULT"]

required = "version description keywords author author_email lib_name user branch license status min_python audience language git_url".split()
missing = [k for k in required if k not in cfg]
if missing:
    raise SystemExit(f"settings.ini is missing: {', '.join(missing)}")

licenses = {"apache2": "Apache-2.0"}  # SPDX expressions
statuses = ["1 - Planning", "2 - Pre-Alpha", "3 - Alpha", "4 - Beta", "5 - Production/Stable", "6 - Mature", "7 - Inactive"]
py_versions = ["3.9", "3.10", "3.11", "3.12", "3.13"]
lic = licenses.get(cfg["license"].lower(), cfg["license"])
min_python = cfg["min_python"]


def _split(key):
    return shlex.split(cfg.get(key, "") or "")


extras = {"dev": _split("dev_requirements")}
for key in cfg:
    # any `<name>_extra_requirements` key in settings.ini becomes the `[name]` extra
    if key.endswith("_extra_requirements"):
        extras[key[: -len("_extra_requirements")]] = _split(key)


NO_TOOLCHAIN = """
dl_nb compiles its Cython kernels when it is installed from source, but
{what} {detail}.
Install a C compiler and the Python headers, then run the same command again:
  Debian/Ubuntu:  sudo apt-get install build-essential python3-dev
  Fedora/RHEL:    sudo dnf install gcc python3-devel
  macOS:          xcode-select --install
  Windows:        Microsoft C++ Build Tools ("Desktop development with C++")
A prebuilt wheel needs no compiler: build one where a compiler exists with
`pip wheel . --no-deps -w dist` and install that file here (`pip install dist/dl_nb-*.whl`).
"""

# Warnings: -Wall -Wextra on GCC and Clang, and the build is clean with them (Cython 3.0.1 to 3.3, GCC 12).
# If a Cython release ever emits a warning from its own generated utility code, silence that one category
# here (and say which) rather than dropping -Wextra; a warning from code generated from our .pyx is fixed in the .pyx.
UNIX_FLAGS = ["-O3", "-Wall", "-Wextra"]
MSVC_FLAGS = ["/O2"]

_PROBE_C = "int main(void) { return 0; }\n"
_PROBE_PY = "#include <Python.h>\nint main(void) { return Py_IsInitialized(); }\n"
_PROBE_OMP = "#include <omp.h>\nint main(void) { return omp_get_max_threads() > 0 ? 0 : 1; }\n"


def _try_compile(cc, code, tmp, name, flags=(), link=False):
    """Compile (and link) `code` with `cc`; returns (ok, what the compiler printed). Nothing reaches the console."""
    src = os.path.join(tmp, name + ".c")
    with open(src, "w") as f:
        f.write(code)
    log = os.path.join(tmp, name + ".log")
    saved = [os.dup(1), os.dup(2)]
    sys.stdout.flush(); sys.stderr.flush()
    with open(log, "w") as f:
        os.dup2(f.fileno(), 1); os.dup2(f.fileno(), 2)
        try:
            objs = cc.compile([src], output_dir=tmp, extra_postargs=list(flags))
            if link:
                cc.link_executable(objs, name, output_dir=tmp, extra_postargs=list(flags))
            ok, err = True, ""
        except Exception as e:  # CompileError, LinkError, DistutilsExecError, DistutilsPlatformError (MSVC missing)...
            ok, err = False, str(e)
        finally:
            sys.stdout.flush(); sys.stderr.flush()
            os.dup2(saved[0], 1); os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)
    with open(log, errors="replace") as f:
        said = [l.strip() for l in f if "error" in l.lower() or "not found" in l.lower()]
    return ok, "\n".join(said[-2:] or [err])


def _probe_toolchain(cc):
    """Check the C compiler and Python.h with two tiny compiles; exit with one readable message if either fails.
    Returns the OpenMP flag to use ("" if the compiler has no OpenMP or DL_NB_NO_OPENMP is set)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        ok, said = _try_compile(cc, _PROBE_C, tmp, "probe_c")
        if not ok:
            raise SystemExit(NO_TOOLCHAIN.format(what="no working C compiler was found", detail=f"(the compiler said: {said})"))
        ok, said = _try_compile(cc, _PROBE_PY, tmp, "probe_py")
        if not ok:
            raise SystemExit(NO_TOOLCHAIN.format(
                what="the C compiler cannot find the Python development headers (Python.h)",
                detail=f"(the compiler said: {said})"))
        if os.environ.get("DL_NB_NO_OPENMP"):
            return ""
        flag = "/openmp" if cc.compiler_type == "msvc" else "-fopenmp"
        ok, _ = _try_compile(cc, _PROBE_OMP, tmp, "probe_omp", flags=[flag], link=cc.compiler_type != "msvc")
        if not ok:
            print("dl_nb: this compiler has no OpenMP: the kernels' parallel loops (prange) will run on one core",
                  file=sys.stderr)
            return ""
        return flag


class build_ext(_build_ext):
    """Probe the toolchain, then cythonize, then compile: a missing compiler or Python.h is one message, not a traceback."""

    def run(self):
        from distutils.ccompiler import new_compiler
        from distutils.sysconfig import customize_compiler

        cc = new_compiler(compiler=self.compiler, force=self.force)
        customize_compiler(cc)
        cc.set_include_dirs(self.include_dirs)  # the Python include directories, set by finalize_options
        omp = _probe_toolchain(cc)
        msvc = cc.compiler_type == "msvc"
        _cythonize(self.extensions, omp, msvc)
        super().run()


def _cythonize(exts, omp, msvc):
    """Generate the C sources of `exts` in place (their .pyx sources become .c) and set their compile flags."""
    from Cython.Build import cythonize
    import numpy as np

    for ext in exts:
        ext.include_dirs.append(np.get_include())
        ext.extra_compile_args = (MSVC_FLAGS if msvc else UNIX_FLAGS) + ([omp] if omp else [])
        ext.extra_link_args = [omp] if omp and not msvc else []
    generated = cythonize(
        [setuptools.Extension(e.name, list(e.sources), depends=list(e.depends)) for e in exts],
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True,
                             "initializedcheck": False, "nonecheck": False},
    )
    sources = {g.name: g.sources for g in generated}
    for ext in exts:
        ext.sources = sources[ext.name]


def _extensions():
    """One extension per dl_nb/fast/*.pyx (their C in dl_nb/fast/*.h); Cython and NumPy are needed only when build_ext runs."""
    exts = []
    for pyx in sorted(glob(os.path.join("dl_nb", "fast", "*.pyx"))):
        name = os.path.splitext(pyx)[0].replace(os.sep, ".")
        exts.append(setuptools.Extension(
            name, [pyx], define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
            depends=sorted(glob(os.path.join("dl_nb", "fast", "*.h")))))
    return exts


setuptools.setup(
    name=cfg["lib_name"],
    version=cfg["version"],
    description=cfg["description"],
    keywords=cfg["keywords"],
    author=cfg["author"],
    author_email=cfg["author_email"],
    license=lic,
    classifiers=[
        "Development Status :: " + statuses[int(cfg["status"])],
        "Intended Audience :: " + cfg["audience"].title(),
        "Natural Language :: " + cfg["language"].title(),
        "Programming Language :: Cython",
    ]
    + [f"Programming Language :: Python :: {v}" for v in py_versions[py_versions.index(min_python):]],
    url=cfg["git_url"],
    packages=setuptools.find_packages(include=["dl_nb", "dl_nb.*"]),
    package_data={"dl_nb.fast": ["*.pyx", "*.pxd", "*.h"]},
    include_package_data=True,
    install_requires=_split("requirements"),
    extras_require=extras,
    python_requires=">=" + min_python,
    long_description=(HERE / "README.md").read_text(encoding="utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    zip_safe=False,
    ext_modules=_extensions(),
    cmdclass={"build_ext": build_ext},
    entry_points={
        "console_scripts": _split("console_scripts"),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
