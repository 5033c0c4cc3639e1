"""Build hook: compile the canonical CSV parser (a plain C shared library loaded with ctypes).

Runs for wheels and editable installs. The library lands next to its source in
``src/parley/tracks/readers/`` (gitignored) and, in a wheel, inside the package. It uses no Python
C API, so one build serves every Python version; the wheel is tagged for the platform only.
Without a C compiler the build stops with a message naming the package to install.
"""

import shlex
import shutil
import subprocess
import sysconfig
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/parley/tracks/readers/_canonical_csv.c")
# not ".so": a file ending so is taken for a Python extension module by pkgutil and importlib
LIBRARY = SOURCE.with_name("_canonical_csv.so.1")
IN_PACKAGE = "parley/tracks/readers/_canonical_csv.so.1"
FLAGS = ("-O2", "-shared", "-fPIC")


def compiler() -> list[str]:
    configured = sysconfig.get_config_var("CC") or ""
    command = shlex.split(configured) or ["cc"]
    if shutil.which(command[0]) is None:
        command = ["cc"]
    if shutil.which(command[0]) is None:
        raise RuntimeError(
            "parley: no C compiler found (tried CC from sysconfig and cc) to build the canonical "
            "CSV parser; install one, e.g. the Debian package gcc: apt-get install -y gcc "
            "(tools/system-packages.sh installs it)"
        )
    return command


def compile_library(root: Path) -> Path:
    source, target = root / SOURCE, root / LIBRARY
    command = [*compiler(), *FLAGS, "-o", str(target), str(source), "-lm"]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(
            f"parley: compiling {SOURCE} failed ({shlex.join(command)}):\n{done.stderr.strip()}"
        )
    return target


class CanonicalCsvHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return  # an sdist ships the C source; its wheel build compiles it
        target = compile_library(Path(self.root))
        build_data["pure_python"] = False
        platform = sysconfig.get_platform().replace("-", "_").replace(".", "_")
        build_data["tag"] = f"py3-none-{platform}"
        if version != "editable":
            build_data["force_include"][str(target)] = IN_PACKAGE
