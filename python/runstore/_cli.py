"""The ``runstore`` command installed with the package: the same command-line tool as the
Rust binary (the wheel carries it)."""

from __future__ import annotations

import signal
import sys


def main() -> None:
    """Runs ``runstore`` with this process's arguments and exits with its status."""
    from ._runstore import _cli_main

    # The tool handles Ctrl-C and broken pipes as a native program does.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(_cli_main(["runstore"] + sys.argv[1:]))
