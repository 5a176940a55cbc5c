"""Builds or locates libloom.so and bundles it inside the package (pyproject.toml has the metadata).

Order: $LOOM_LIBRARY; else, inside the Loom repository, scripts/build-libloom (incremental: a few
seconds when `swift build -c release` has run); else the package installs without the library and
finds it at import time through $LOOM_LIBRARY.
"""
import os
import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent


def locate_library():
    if os.environ.get("LOOM_LIBRARY"):
        return Path(os.environ["LOOM_LIBRARY"])
    script = REPO / "scripts" / "build-libloom"
    if script.is_file() and shutil.which("swift"):
        subprocess.run([str(script)], check=True, cwd=REPO)
        bin_path = subprocess.run(["swift", "build", "-c", "release", "--show-bin-path"], check=True, cwd=REPO,
                                  capture_output=True, text=True).stdout.strip()
        return Path(bin_path) / "libloom.so"
    return None


class BuildWithLibrary(build_py):
    def run(self):
        super().run()
        lib = locate_library()
        if lib is not None and lib.is_file():
            target = Path(self.build_lib) / "loom" / "libloom.so"
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(lib, target)
        else:
            print("warning: libloom.so not found or built; set LOOM_LIBRARY at run time")


setup(cmdclass={"build_py": BuildWithLibrary})
