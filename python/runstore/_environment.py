"""What only Python knows about a run's provenance: its version and executable, the installed
packages with their versions (``pip freeze``), and the command line. The native side adds the
OS, host, CPU, memory, GPUs and git state."""

from __future__ import annotations

import datetime
import os
import platform
import shlex
import sys
from functools import lru_cache
from typing import Any


@lru_cache(maxsize=1)
def packages() -> dict[str, str]:
    """Installed distributions: ``{name: version}``, sorted by name."""
    from importlib import metadata

    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata.get("Name") if dist.metadata else None
        if name and name not in found:
            found[name] = dist.version
    return dict(sorted(found.items(), key=lambda kv: kv[0].lower()))


def runtimes() -> dict[str, Any]:
    """The Python runtime: version, implementation, executable, virtualenv."""
    return {
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "python_executable": sys.executable,
        "python_prefix": sys.prefix,
        "virtualenv": sys.prefix if sys.prefix != sys.base_prefix else None,
    }


def command_line() -> str:
    """The command that started this process: ``python train.py --lr 0.1``."""
    argv = list(sys.argv) if sys.argv and sys.argv != [""] else ["-c"]
    return shlex.join([os.path.basename(sys.executable or "python")] + argv)


def provenance(*, environment: bool, code: bool) -> dict[str, Any]:
    """The provenance dict the native recorder takes."""
    return {
        "environment": environment,
        "code": code,
        "runtimes": runtimes() if environment else None,
        "packages": packages() if environment else None,
        "command": command_line() if code else None,
    }


def default_run_name() -> str:
    """``train-20261202-153012``: the script's name and the local start time."""
    script = os.path.splitext(os.path.basename(sys.argv[0]))[0] if sys.argv and sys.argv[0] else ""
    if script.startswith("-"):  # python -c / python -m
        script = ""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    return f"{script or 'run'}-{stamp}"
