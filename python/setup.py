# SPDX-License-Identifier: Apache-2.0
"""Builds merutable._merutable for the interpreter running this file.

There is one build description of the module: CMake's (python/CMakeLists.txt).
build_ext configures the repository around this folder (../CMakeLists.txt)
in its build_temp, with that interpreter as MERU_PYTHON_EXECUTABLE, builds
the one target merutable_python (the engine's sources are compiled into a
static library and linked in, so nothing else is installed), and copies
the module to where setuptools packs it. Needs cmake, a C compiler and the
engine's Debian -dev libraries (scripts/install-deps.sh installs them).
"""
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        if not (ROOT / "CMakeLists.txt").is_file() or not (ROOT / "src").is_dir():
            raise RuntimeError(
                "merutable's python/ must be built inside the source tree "
                "(no ../CMakeLists.txt next to %s)" % HERE)
        if shutil.which("cmake") is None:
            raise RuntimeError("cmake not found (scripts/install-deps.sh "
                               "installs it)")
        build = Path(self.build_temp).resolve() / "cmake"
        subprocess.check_call([
            "cmake", "-S", str(ROOT), "-B", str(build),
            "-DCMAKE_BUILD_TYPE=Release", "-DBUILD_TESTING=OFF",
            "-DMERU_PYTHON_EXECUTABLE=" + sys.executable,
        ])
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(
            self.parallel or os.cpu_count() or 2)
        subprocess.check_call(["cmake", "--build", str(build), "--target",
                               "merutable_python", "-j", jobs])
        built = (build / "python" / "merutable" /
                 ("_merutable" + sysconfig.get_config_var("EXT_SUFFIX")))
        dest = Path(self.get_ext_fullpath(ext.name))
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built, dest)


setup(
    ext_modules=[Extension("merutable._merutable", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
)
