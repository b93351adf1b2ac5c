"""Build script for dl_nb.

Package metadata is read from settings.ini (nbdev's single source of truth), and the
hand-written Cython sources in dl_nb/fast/*.pyx are compiled into extension modules.
The build requirements (setuptools, Cython, NumPy) are declared in pyproject.toml, so
`pip install .`, `pip install -e .` and installing from an sdist all compile the kernels.
"""
import os
import shlex
import sys
from configparser import ConfigParser
from glob import glob
from pathlib import Path

import setuptools

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


def _openmp_flags():
    """OpenMP for the `prange` loops: on by default with GCC on Linux, off with DL_NB_NO_OPENMP=1."""
    if os.environ.get("DL_NB_NO_OPENMP") or not sys.platform.startswith("linux"):
        return [], []
    return ["-fopenmp"], ["-fopenmp"]


def _extensions():
    from Cython.Build import cythonize
    import numpy as np

    cflags, lflags = _openmp_flags()
    exts = []
    for pyx in sorted(glob(os.path.join("dl_nb", "fast", "*.pyx"))):
        name = os.path.splitext(pyx)[0].replace(os.sep, ".")
        exts.append(
            setuptools.Extension(
                name,
                [pyx],
                include_dirs=[np.get_include()],
                define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
                extra_compile_args=["-O3", *cflags] if os.name != "nt" else ["/O2"],
                extra_link_args=lflags,
            )
        )
    return cythonize(
        exts,
        language_level=3,
        compiler_directives={"boundscheck": False, "wraparound": False, "cdivision": True,
                             "initializedcheck": False, "nonecheck": False},
    )


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
    package_data={"dl_nb.fast": ["*.pyx", "*.pxd"]},
    include_package_data=True,
    install_requires=_split("requirements"),
    extras_require=extras,
    python_requires=">=" + min_python,
    long_description=(HERE / "README.md").read_text(encoding="utf-8") if (HERE / "README.md").exists() else "",
    long_description_content_type="text/markdown",
    zip_safe=False,
    ext_modules=_extensions(),
    entry_points={
        "console_scripts": _split("console_scripts"),
        "nbdev": [f"{cfg['lib_path']}={cfg['lib_path']}._modidx:d"],
    },
)
